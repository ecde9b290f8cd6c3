// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_MANUAL_CLOCK_HPP
#define MEND_MANUAL_CLOCK_HPP

#include <mend/clock.hpp>
#include <mend/detail/timer_queue.hpp>
#include <mend/version.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <stop_token>
#include <vector>

MEND_BEGIN_NAMESPACE

// A fake clock for tests: time moves only when the test calls advance(), which
// fires every timer that falls due, in deadline order, with now() reading each
// timer's deadline while its callback runs.
//
// Sleeps are recorded (sleeps()) and handled in one of two modes:
// - auto-advance (default): sleep_for(d) advances time by d itself, so a retry
//   that sleeps does not block a single-threaded test;
// - driven: sleep_for(d) blocks until another thread advances time past the
//   wake-up point, or the stop token is triggered. wait_for_sleepers() lets
//   the driving thread wait until the sleepers are in place.
//
// The wall clock runs in step with the monotonic clock, and jump_wall() moves
// it alone, to check that no deadline follows a wall-clock jump.
//
//   mend::manual_clock clock;
//   mend::circuit_breaker breaker{clock, {.name = "ax"}};
//   clock.advance(60s);  // fires the breaker's open timeout, if any
class manual_clock final : public clock {
 public:
  struct options {
    // Where now() starts; far from zero so a default time_point never passes
    // for a real reading.
    time_point start = time_point{std::chrono::hours{24}};
    // Where wall_now() starts: 2025-01-01T00:00:00Z.
    wall_time wall_start = wall_time{std::chrono::seconds{1'735'689'600}};
    bool auto_advance = true;
  };

  manual_clock() : manual_clock(options{}) {}
  explicit manual_clock(options opts)
      : now_(opts.start.time_since_epoch().count()),
        wall_offset_((opts.wall_start.time_since_epoch() - opts.start.time_since_epoch()).count()),
        auto_advance_(opts.auto_advance) {}

  manual_clock(const manual_clock&) = delete;
  manual_clock& operator=(const manual_clock&) = delete;

  time_point now() const noexcept override { return time_point{duration{now_.load(std::memory_order_acquire)}}; }

  wall_time wall_now() const noexcept override {
    return wall_time{duration{now_.load(std::memory_order_acquire) + wall_offset_.load(std::memory_order_acquire)}};
  }

  // Moves time forward by `d` (negative values are ignored: monotonic time
  // never goes back), firing due timers in deadline order.
  void advance(duration d) { advance_to(clock::add_saturated(now(), std::max(d, duration::zero()))); }

  // Moves time forward to `target`, firing due timers in deadline order.
  void advance_to(time_point target) {
    std::lock_guard advancing(advance_mutex_);
    while (auto due = timers_.pop_due(target)) {
      set_now_at_least(due->deadline);
      detail::timer_queue::run(*due);
      timers_.finish(due->id);
    }
    set_now_at_least(target);
  }

  // Fires the timers due now without moving time.
  void run_due() { advance(duration::zero()); }

  // Moves the wall clock alone by `d`, forward or back.
  void jump_wall(duration d) noexcept { wall_offset_.fetch_add(d.count(), std::memory_order_acq_rel); }

  // Sets the wall clock alone to `t`.
  void set_wall(wall_time t) noexcept {
    wall_offset_.store(t.time_since_epoch().count() - now_.load(std::memory_order_acquire),
                       std::memory_order_release);
  }

  bool sleep_for(duration d, std::stop_token stop = {}) override {
    {
      std::lock_guard lock(sleep_mutex_);
      sleeps_.push_back(d);
    }
    if (stop.stop_requested()) return false;
    if (d <= duration::zero()) return true;

    if (auto_advance_) {
      advance(d);
      return !stop.stop_requested();
    }

    // Driven mode: a timer at the wake-up point ends the sleep.
    bool woken = false;
    const timer_id id = schedule_after(d, [&] {
      {
        std::lock_guard lock(sleep_mutex_);
        woken = true;
      }
      sleepers_changed_.notify_all();
    });
    std::unique_lock lock(sleep_mutex_);
    ++sleepers_;
    sleepers_changed_.notify_all();
    sleepers_changed_.wait(lock, stop, [&] { return woken; });
    --sleepers_;
    const bool completed = woken;
    lock.unlock();
    if (!completed) timers_.cancel(id);  // waits if the timer is firing right now
    return completed;
  }

  timer_id schedule_at(time_point deadline, std::function<void()> callback) override {
    return timers_.add(deadline, std::move(callback)).first;
  }

  bool cancel(timer_id id) noexcept override { return timers_.cancel(id); }

  // Every sleep requested so far, in order, including cut-short ones.
  std::vector<duration> sleeps() const {
    std::lock_guard lock(sleep_mutex_);
    return sleeps_;
  }

  // The sum of all requested sleeps.
  duration total_slept() const {
    std::lock_guard lock(sleep_mutex_);
    duration total{};
    for (const auto d : sleeps_) total += d;
    return total;
  }

  void clear_sleeps() {
    std::lock_guard lock(sleep_mutex_);
    sleeps_.clear();
  }

  // The number of threads blocked in a driven-mode sleep.
  std::size_t sleeper_count() const {
    std::lock_guard lock(sleep_mutex_);
    return sleepers_;
  }

  // Blocks until at least `count` threads are in a driven-mode sleep.
  void wait_for_sleepers(std::size_t count) {
    std::unique_lock lock(sleep_mutex_);
    sleepers_changed_.wait(lock, [&] { return sleepers_ >= count; });
  }

  // The number of timers scheduled and not yet fired or cancelled.
  std::size_t pending_timers() const { return timers_.size(); }

  // The deadline of the earliest pending timer, if any.
  std::optional<time_point> next_timer() const { return timers_.next_deadline(); }

 private:
  void set_now_at_least(time_point t) noexcept {
    const auto rep = t.time_since_epoch().count();
    auto current = now_.load(std::memory_order_acquire);
    while (current < rep && !now_.compare_exchange_weak(current, rep, std::memory_order_acq_rel)) {
    }
  }

  std::atomic<duration::rep> now_;
  std::atomic<duration::rep> wall_offset_;  // wall time minus monotonic time
  const bool auto_advance_;
  detail::timer_queue timers_;

  // Serializes advances; recursive because a timer callback may sleep, and a
  // sleep in auto-advance mode advances time.
  std::recursive_mutex advance_mutex_;

  mutable std::mutex sleep_mutex_;
  std::condition_variable_any sleepers_changed_;
  std::vector<duration> sleeps_;  // guarded by sleep_mutex_
  std::size_t sleepers_ = 0;      // guarded by sleep_mutex_
};

MEND_END_NAMESPACE

#endif  // MEND_MANUAL_CLOCK_HPP
