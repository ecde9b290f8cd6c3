// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_CLOCK_HPP
#define MEND_CLOCK_HPP

#include <mend/version.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <stop_token>

MEND_BEGIN_NAMESPACE

// Durations everywhere in mend; std::chrono converts seconds and milliseconds
// to it implicitly, so options read `.open_timeout = 60s`.
using duration = std::chrono::nanoseconds;

// A point on the monotonic clock. Every deadline uses it, so a jump of the
// wall clock never moves a breaker, pool or health timer.
using time_point = std::chrono::time_point<std::chrono::steady_clock, duration>;

// Wall-clock time, only for reports and logs.
using wall_time = std::chrono::time_point<std::chrono::system_clock, duration>;

// Identifies a scheduled timer; 0 is never a valid id.
using timer_id = std::uint64_t;

// The source of time for every timed component.
//
// Implementations: steady_clock_source (real time) and manual_clock (tests).
// Timer callbacks run on the clock's timer thread (steady_clock_source) or on
// the thread that advances time (manual_clock). A callback must not throw; the
// clock catches and drops an exception so one component cannot stop the
// timers of others.
class clock {
 public:
  virtual ~clock() = default;

  // Returns the current monotonic time.
  virtual time_point now() const noexcept = 0;

  // Returns the current wall-clock time, for reports only.
  virtual wall_time wall_now() const noexcept = 0;

  // Blocks the calling thread for `d`, or until `stop` is requested. Returns
  // true when the full time passed and false when the sleep was cut short.
  virtual bool sleep_for(duration d, std::stop_token stop = {}) = 0;

  // Runs `callback` once, at `deadline` or soon after. Timers with equal
  // deadlines run in the order they were scheduled.
  virtual timer_id schedule_at(time_point deadline, std::function<void()> callback) = 0;

  // Cancels a timer. Returns true if the callback had not started; it will
  // then never run. If the callback is running on another thread, waits for
  // it to finish and returns false, so after cancel() returns the callback no
  // longer touches the object that scheduled it. Do not call cancel() while
  // holding a lock that the callback takes.
  virtual bool cancel(timer_id id) noexcept = 0;

  // Runs `callback` once after `d`.
  timer_id schedule_after(duration d, std::function<void()> callback) {
    return schedule_at(add_saturated(now(), d), std::move(callback));
  }

  // Returns t + d, clamped to the representable range instead of overflowing.
  static time_point add_saturated(time_point t, duration d) noexcept {
    using rep = duration::rep;
    const rep base = t.time_since_epoch().count();
    const rep delta = d.count();
    if (delta > 0 && base > std::numeric_limits<rep>::max() - delta) return time_point::max();
    if (delta < 0 && base < std::numeric_limits<rep>::min() - delta) return time_point::min();
    return t + d;
  }
};

MEND_END_NAMESPACE

#endif  // MEND_CLOCK_HPP
