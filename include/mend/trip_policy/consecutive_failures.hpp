// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_TRIP_POLICY_CONSECUTIVE_FAILURES_HPP
#define MEND_TRIP_POLICY_CONSECUTIVE_FAILURES_HPP

#include <mend/clock.hpp>
#include <mend/config_error.hpp>
#include <mend/version.hpp>

#include <fmt/format.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

MEND_BEGIN_NAMESPACE

// Trip policy: opens the circuit after `threshold` failures in a row; any
// success in between starts the count again.
//
// Cost on the success path: one relaxed load, and a store only when the count
// was not already zero, so callers on many threads share the cache line
// read-only while all goes well.
struct consecutive_failures {
  std::uint32_t threshold = 5;

  void validate(std::string_view component) const {
    detail::require(threshold >= 1, component, "trip.threshold", threshold, "must be at least 1");
  }

  // The per-breaker state of the policy. on_success() may run on any thread
  // without a lock; on_failure() and reset() run under the breaker's lock.
  class tracker {
   public:
    static constexpr bool needs_time = false;

    explicit tracker(const consecutive_failures& policy) noexcept : threshold_(policy.threshold) {}

    void on_success(time_point) noexcept {
      if (failures_.load(std::memory_order_relaxed) != 0) failures_.store(0, std::memory_order_relaxed);
    }

    // Counts a failure and returns true when the circuit should open.
    bool on_failure(time_point) noexcept { return failures_.fetch_add(1, std::memory_order_relaxed) + 1 >= threshold_; }

    void reset() noexcept { failures_.store(0, std::memory_order_relaxed); }

    // Why the circuit opened, for the transition event.
    std::string trip_reason() const { return fmt::format("{} consecutive failures", threshold_); }

   private:
    const std::uint32_t threshold_;
    std::atomic<std::uint32_t> failures_{0};
  };
};

MEND_END_NAMESPACE

#endif  // MEND_TRIP_POLICY_CONSECUTIVE_FAILURES_HPP
