// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_STEADY_CLOCK_SOURCE_HPP
#define MEND_STEADY_CLOCK_SOURCE_HPP

#include <mend/clock.hpp>
#include <mend/detail/timer_queue.hpp>
#include <mend/version.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

MEND_BEGIN_NAMESPACE

// Real time: std::chrono::steady_clock for deadlines, system_clock for
// reports, real sleeps, and one timer thread that starts with the first timer
// and is joined by the destructor. Timers still pending at destruction never
// run. Destroy the clock only after every component that uses it.
class steady_clock_source final : public clock {
 public:
  steady_clock_source() = default;
  steady_clock_source(const steady_clock_source&) = delete;
  steady_clock_source& operator=(const steady_clock_source&) = delete;

  ~steady_clock_source() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  time_point now() const noexcept override {
    return std::chrono::time_point_cast<duration>(std::chrono::steady_clock::now());
  }

  wall_time wall_now() const noexcept override {
    return std::chrono::time_point_cast<duration>(std::chrono::system_clock::now());
  }

  bool sleep_for(duration d, std::stop_token stop = {}) override {
    if (d <= duration::zero()) return !stop.stop_requested();
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    const auto deadline = clock::add_saturated(now(), d);
    cv.wait_until(lock, stop, deadline, [] { return false; });
    return !stop.stop_requested();
  }

  timer_id schedule_at(time_point deadline, std::function<void()> callback) override {
    const auto [id, earliest] = timers_.add(deadline, std::move(callback));
    {
      std::lock_guard lock(mutex_);
      if (!thread_.joinable() && !stopping_) thread_ = std::thread([this] { run_timers(); });
    }
    if (earliest) wake_.notify_all();
    return id;
  }

  bool cancel(timer_id id) noexcept override { return timers_.cancel(id); }

 private:
  void run_timers() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      while (auto due = timers_.pop_due(now())) {
        detail::timer_queue::run(*due);
        timers_.finish(due->id);
      }
      lock.lock();
      if (stopping_) break;

      // A timer added after the check above notifies under mutex_ only after
      // its add(), and we re-read the queue under the same mutex, so no
      // wake-up is lost.
      if (const auto next = timers_.next_deadline()) {
        if (*next > now()) wake_.wait_until(lock, *next);
      } else {
        wake_.wait(lock);
      }
    }
  }

  detail::timer_queue timers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;     // started under mutex_
};

// The process-wide real clock that components use when given none.
inline steady_clock_source& default_clock() {
  static steady_clock_source instance;
  return instance;
}

MEND_END_NAMESPACE

#endif  // MEND_STEADY_CLOCK_SOURCE_HPP
