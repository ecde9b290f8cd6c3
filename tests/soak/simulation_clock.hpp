// A manual clock for a deterministic simulation with real threads: many
// request threads, of which exactly one runs at a time.
//
// The driver thread owns time. It advances the clock to the next timer and
// runs the timer callbacks. A request runs on a worker thread. When it sleeps
// (a retry's back-off, a slow response), it parks and gives the turn back to
// the driver, and a timer at its wake-up time gives the turn back to it. The
// driver waits while a worker has the turn, so only one thread touches the
// simulation at any moment and a seed replays exactly. Each handover is an
// acquire/release pair, so ThreadSanitizer knows the order too.
//
// Concurrent requests thus overlap in simulated time the way they would on a
// server: each holds its lease only while its own call lasts.
#ifndef MEND_TESTS_SOAK_SIMULATION_CLOCK_HPP
#define MEND_TESTS_SOAK_SIMULATION_CLOCK_HPP

#include <atomic>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mend/clock.hpp>
#include <mend/manual_clock.hpp>
#include <optional>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

namespace mend_soak {

class simulation_clock final : public mend::clock {
 public:
  simulation_clock() = default;

  simulation_clock(const simulation_clock&) = delete;
  simulation_clock& operator=(const simulation_clock&) = delete;

  // Stops the workers. Destroy the clock only after the last request ended.
  ~simulation_clock() {
    for (auto& w : workers_) {
      w->stopping = true;
      w->turn.store(true, std::memory_order_release);
      w->turn.notify_one();
      w->thread.join();
    }
  }

  mend::time_point now() const noexcept override { return inner_.now(); }
  mend::wall_time wall_now() const noexcept override { return inner_.wall_now(); }
  mend::timer_id schedule_at(mend::time_point deadline, std::function<void()> callback) override {
    return inner_.schedule_at(deadline, std::move(callback));
  }
  bool cancel(mend::timer_id id) noexcept override { return inner_.cancel(id); }

  // On a worker: parks until `d` has passed. On the driver (a probe run by a
  // timer): advances time by `d` at once, running the timers due meanwhile.
  bool sleep_for(mend::duration d, std::stop_token stop = {}) override {
    if (stop.stop_requested()) return false;
    if (d <= mend::duration::zero()) return true;
    worker* self = current_worker();
    if (self == nullptr) {
      inner_.advance(d);
      return !stop.stop_requested();
    }
    inner_.schedule_after(d, [this, self] { give_turn(*self); });
    park(*self);
    return !stop.stop_requested();
  }

  // Driver only: moves time forward, running the timers that fall due.
  void advance_to(mend::time_point target) { inner_.advance_to(target); }
  std::optional<mend::time_point> next_timer() const { return inner_.next_timer(); }
  void jump_wall(mend::duration d) noexcept { inner_.jump_wall(d); }

  // Driver only: runs `job` on a free worker until it ends or parks. Returns
  // false, without running it, when `max_workers` are busy.
  bool start(std::function<void()> job, std::size_t max_workers) {
    worker* free = nullptr;
    for (auto& w : workers_) {
      if (!w->busy) {
        free = w.get();
        break;
      }
    }
    if (free == nullptr) {
      if (workers_.size() >= max_workers) return false;
      workers_.push_back(std::make_unique<worker>());
      free = workers_.back().get();
      free->thread = std::thread([this, free] { work(*free); });
    }
    free->busy = true;
    free->job = std::move(job);
    ++busy_;
    give_turn(*free);
    return true;
  }

  // Driver only: the workers running a job, parked or not.
  std::size_t busy() const noexcept { return busy_; }

  // Driver only: the jobs waiting for a free worker. A worker that ends its
  // job takes the next one from here before it goes idle.
  std::deque<std::function<void()>>& backlog() noexcept { return backlog_; }

  // The exception that escaped a job, if any. That job never ended.
  std::exception_ptr escaped() const noexcept { return escaped_; }

 private:
  struct worker {
    std::thread thread;
    std::atomic<bool> turn{false};  // true while this worker may run
    bool busy = false;              // running a job, parked or not; changed only by the thread with the turn
    bool stopping = false;
    std::function<void()> job;
  };

  static worker*& current_worker_slot() noexcept {
    thread_local worker* current = nullptr;
    return current;
  }
  static worker* current_worker() noexcept { return current_worker_slot(); }

  // Driver: lets `w` run until it parks or ends, then takes the turn back.
  void give_turn(worker& w) {
    driver_turn_.store(false, std::memory_order_relaxed);
    w.turn.store(true, std::memory_order_release);
    w.turn.notify_one();
    driver_turn_.wait(false, std::memory_order_acquire);
  }

  // Worker: gives the turn to the driver and waits until it is given back.
  void park(worker& w) {
    w.turn.store(false, std::memory_order_relaxed);
    driver_turn_.store(true, std::memory_order_release);
    driver_turn_.notify_one();
    w.turn.wait(false, std::memory_order_acquire);
  }

  void work(worker& w) {
    current_worker_slot() = &w;
    w.turn.wait(false, std::memory_order_acquire);
    while (!w.stopping) {
      for (;;) {
        try {
          w.job();
        } catch (...) {
          if (!escaped_) escaped_ = std::current_exception();
        }
        if (backlog_.empty()) break;
        w.job = std::move(backlog_.front());
        backlog_.pop_front();
      }
      w.job = nullptr;
      w.busy = false;
      --busy_;
      park(w);
    }
  }

  mend::manual_clock inner_;
  std::atomic<bool> driver_turn_{true};
  std::vector<std::unique_ptr<worker>> workers_;  // changed by the driver only
  std::size_t busy_ = 0;                          // changed only by the thread with the turn
  std::deque<std::function<void()>> backlog_;     // changed only by the thread with the turn
  std::exception_ptr escaped_;                    // changed only by the thread with the turn
};

}  // namespace mend_soak

#endif  // MEND_TESTS_SOAK_SIMULATION_CLOCK_HPP
