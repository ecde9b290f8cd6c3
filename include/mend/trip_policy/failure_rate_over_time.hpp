// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_TRIP_POLICY_FAILURE_RATE_OVER_TIME_HPP
#define MEND_TRIP_POLICY_FAILURE_RATE_OVER_TIME_HPP

#include <mend/clock.hpp>
#include <mend/config_error.hpp>
#include <mend/version.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

MEND_BEGIN_NAMESPACE

// Trip policy: opens the circuit when, over the last `window` of time, the
// share of failures reaches `threshold` (0.5 = 50 %) and at least
// `minimum_calls` calls were made. The window is split into `buckets` equal
// slices that expire one at a time, so old calls age out in steps of
// window / buckets.
//
// NOTE: unlike the count-based policies, every call reads the clock and takes
// a short lock; see bench/README.md for what that costs.
struct failure_rate_over_time {
  double threshold = 0.5;
  duration window = std::chrono::seconds{60};
  std::uint32_t minimum_calls = 10;
  std::uint32_t buckets = 12;

  void validate(std::string_view component) const {
    detail::require(std::isfinite(threshold) && threshold > 0.0 && threshold <= 1.0, component, "trip.threshold",
                    threshold, "must be in (0, 1]");
    detail::require(buckets >= 1 && buckets <= 100'000, component, "trip.buckets", buckets,
                    "must be between 1 and 100000");
    detail::require(window >= duration{buckets}, component, "trip.window", window,
                    "must be positive and at least one nanosecond per bucket");
    detail::require(minimum_calls >= 1, component, "trip.minimum_calls", minimum_calls, "must be at least 1");
  }

  class tracker {
   public:
    static constexpr bool needs_time = true;

    explicit tracker(const failure_rate_over_time& policy)
        : threshold_(policy.threshold),
          window_(policy.window),
          minimum_calls_(policy.minimum_calls),
          width_(policy.window / policy.buckets),
          buckets_(policy.buckets) {}

    void on_success(time_point now) noexcept {
      std::lock_guard lock(mutex_);
      bucket_at_locked(now).calls += 1;
    }

    bool on_failure(time_point now) noexcept {
      std::lock_guard lock(mutex_);
      auto& b = bucket_at_locked(now);
      b.calls += 1;
      b.failures += 1;
      const auto [calls, failures] = totals_locked(now);
      last_calls_ = calls;
      last_failures_ = failures;
      return calls >= minimum_calls_ &&
             static_cast<double>(failures) >= threshold_ * static_cast<double>(calls) - 1e-9;
    }

    void reset() noexcept {
      std::lock_guard lock(mutex_);
      for (auto& b : buckets_) b = {};
    }

    std::string trip_reason() const {
      std::lock_guard lock(mutex_);
      return fmt::format("failure rate {:.0f}% over {} calls in the last {} (threshold {:.0f}%)",
                         last_calls_ == 0 ? 0.0 : 100.0 * last_failures_ / last_calls_, last_calls_,
                         std::chrono::duration_cast<std::chrono::milliseconds>(window_), 100.0 * threshold_);
    }

   private:
    struct bucket {
      std::int64_t index = -1;  // which width-long stretch of time it counts
      std::uint64_t calls = 0;
      std::uint64_t failures = 0;
    };

    std::int64_t index_of(time_point now) const noexcept { return now.time_since_epoch() / width_; }

    bucket& bucket_at_locked(time_point now) noexcept {
      const auto index = index_of(now);
      auto& s = buckets_[static_cast<std::size_t>(index % static_cast<std::int64_t>(buckets_.size()))];
      if (s.index != index) s = bucket{index, 0, 0};
      return s;
    }

    std::pair<std::uint64_t, std::uint64_t> totals_locked(time_point now) const noexcept {
      const auto newest = index_of(now);
      const auto oldest = newest - static_cast<std::int64_t>(buckets_.size()) + 1;
      std::uint64_t calls = 0, failures = 0;
      for (const auto& s : buckets_) {
        if (s.index < oldest || s.index > newest) continue;
        calls += s.calls;
        failures += s.failures;
      }
      return {calls, failures};
    }

    const double threshold_;
    const duration window_;
    const std::uint32_t minimum_calls_;
    const duration width_;
    mutable std::mutex mutex_;
    std::vector<bucket> buckets_;       // guarded by mutex_
    std::uint64_t last_calls_ = 0;    // guarded by mutex_
    std::uint64_t last_failures_ = 0; // guarded by mutex_
  };
};

MEND_END_NAMESPACE

#endif  // MEND_TRIP_POLICY_FAILURE_RATE_OVER_TIME_HPP
