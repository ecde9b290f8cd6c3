// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_TRIP_POLICY_FAILURE_RATE_HPP
#define MEND_TRIP_POLICY_FAILURE_RATE_HPP

#include <mend/clock.hpp>
#include <mend/config_error.hpp>
#include <mend/version.hpp>

#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

MEND_BEGIN_NAMESPACE

// Trip policy: opens the circuit when, among the last `window_size` calls, the
// share of failures reaches `threshold` (0.5 = 50 %), once at least
// `minimum_calls` calls were seen since the circuit last closed.
//
// The window is a ring of outcome slots written with atomics, without a lock.
// A success that overwrites a success costs one fetch_add and one load. The
// failure path counts the ring under the breaker's lock, so there are no
// counters that a success racing a reset could leave out of step.
struct failure_rate {
  static constexpr std::uint32_t max_window_size = 1'000'000;

  double threshold = 0.5;
  std::uint32_t window_size = 20;
  std::uint32_t minimum_calls = 10;

  void validate(std::string_view component) const {
    detail::require(std::isfinite(threshold) && threshold > 0.0 && threshold <= 1.0, component, "trip.threshold",
                    threshold, "must be in (0, 1]");
    // The window costs one byte per call it remembers, allocated up front.
    detail::require(window_size >= 1 && window_size <= max_window_size, component, "trip.window_size", window_size,
                    "must be between 1 and 1000000");
    detail::require(minimum_calls >= 1 && minimum_calls <= window_size, component, "trip.minimum_calls",
                    minimum_calls, "must be between 1 and window_size");
  }

  class tracker {
   public:
    static constexpr bool needs_time = false;

    explicit tracker(const failure_rate& policy)
        : threshold_(policy.threshold),
          size_(policy.window_size),
          minimum_calls_(policy.minimum_calls),
          slots_(std::make_unique<std::atomic<std::uint8_t>[]>(policy.window_size)) {
      reset();
    }

    void on_success(time_point) noexcept { put(success); }

    // Records a failure and returns true when the failure rate over the
    // window reaches the threshold.
    bool on_failure(time_point) noexcept {
      put(failure);
      const auto [calls, failures] = count();
      return calls >= minimum_calls_ &&
             static_cast<double>(failures) >= threshold_ * static_cast<double>(calls) - 1e-9;
    }

    void reset() noexcept {
      for (std::uint32_t i = 0; i < size_; ++i) slots_[i].store(empty, std::memory_order_relaxed);
      next_.store(0, std::memory_order_relaxed);
    }

    std::string trip_reason() const {
      const auto [calls, failures] = count();
      return fmt::format("failure rate {:.0f}% over the last {} calls (threshold {:.0f}%)",
                         calls == 0 ? 0.0 : 100.0 * failures / calls, calls, 100.0 * threshold_);
    }

   private:
    static constexpr std::uint8_t empty = 0;
    static constexpr std::uint8_t success = 1;
    static constexpr std::uint8_t failure = 2;

    void put(std::uint8_t outcome) noexcept {
      auto& slot = slots_[next_.fetch_add(1, std::memory_order_relaxed) % size_];
      if (slot.load(std::memory_order_relaxed) != outcome) slot.store(outcome, std::memory_order_relaxed);
    }

    struct counts {
      std::uint32_t calls = 0;
      std::uint32_t failures = 0;
    };

    counts count() const noexcept {
      counts out;
      for (std::uint32_t i = 0; i < size_; ++i) {
        const auto outcome = slots_[i].load(std::memory_order_relaxed);
        out.calls += outcome != empty;
        out.failures += outcome == failure;
      }
      return out;
    }

    const double threshold_;
    const std::uint32_t size_;
    const std::uint32_t minimum_calls_;
    std::unique_ptr<std::atomic<std::uint8_t>[]> slots_;
    std::atomic<std::uint64_t> next_{0};
  };
};

MEND_END_NAMESPACE

#endif  // MEND_TRIP_POLICY_FAILURE_RATE_HPP
