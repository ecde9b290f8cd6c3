// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_DETAIL_TIMER_QUEUE_HPP
#define MEND_DETAIL_TIMER_QUEUE_HPP

#include <mend/clock.hpp>
#include <mend/version.hpp>

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

MEND_BEGIN_NAMESPACE
namespace detail {

// Pending timers ordered by (deadline, id), shared by both clocks. Ids grow
// monotonically, so equal deadlines fire in scheduling order. The queue also
// tracks the callback being run, so cancel() can wait for it to finish.
class timer_queue {
 public:
  struct due_timer {
    timer_id id;
    time_point deadline;
    std::function<void()> callback;
  };

  // Adds a timer and returns its id and whether it is now the earliest.
  std::pair<timer_id, bool> add(time_point deadline, std::function<void()> callback) {
    std::lock_guard lock(mutex_);
    const timer_id id = ++last_id_;
    const auto [it, inserted] = timers_.emplace(key{deadline, id}, std::move(callback));
    deadlines_.emplace(id, deadline);
    return {id, it == timers_.begin()};
  }

  // Removes a pending timer (true), or waits for a running one on another
  // thread to finish (false).
  bool cancel(timer_id id) noexcept {
    std::unique_lock lock(mutex_);
    if (const auto it = deadlines_.find(id); it != deadlines_.end()) {
      timers_.erase(key{it->second, id});
      deadlines_.erase(it);
      return true;
    }
    finished_.wait(lock, [&] { return !running_elsewhere_locked(id); });
    return false;
  }

  // Takes the earliest timer if it is due at `now` and marks it as running.
  // The caller runs the callback and then calls finish(id).
  std::optional<due_timer> pop_due(time_point now) {
    std::lock_guard lock(mutex_);
    if (timers_.empty() || timers_.begin()->first.deadline > now) return std::nullopt;
    auto node = timers_.extract(timers_.begin());
    deadlines_.erase(node.key().id);
    running_.emplace_back(node.key().id, std::this_thread::get_id());
    return due_timer{node.key().id, node.key().deadline, std::move(node.mapped())};
  }

  // Marks the timer taken by pop_due() as no longer running.
  void finish(timer_id id) noexcept {
    {
      std::lock_guard lock(mutex_);
      std::erase_if(running_, [&](const auto& entry) { return entry.first == id; });
    }
    finished_.notify_all();
  }

  std::optional<time_point> next_deadline() const {
    std::lock_guard lock(mutex_);
    if (timers_.empty()) return std::nullopt;
    return timers_.begin()->first.deadline;
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return timers_.size();
  }

  void clear() {
    std::lock_guard lock(mutex_);
    timers_.clear();
    deadlines_.clear();
  }

  // Runs a callback taken by pop_due(), dropping any exception (see clock).
  static void run(due_timer& timer) noexcept {
    try {
      timer.callback();
    } catch (...) {
    }
  }

 private:
  // A callback may run nested inside another on the same thread (a manual
  // clock advanced from a timer callback), so several can be running at once.
  bool running_elsewhere_locked(timer_id id) const noexcept {
    for (const auto& [running_id, thread] : running_)
      if (running_id == id && thread != std::this_thread::get_id()) return true;
    return false;
  }

  struct key {
    time_point deadline;
    timer_id id;
    friend bool operator<(const key& a, const key& b) noexcept {
      return a.deadline != b.deadline ? a.deadline < b.deadline : a.id < b.id;
    }
  };

  mutable std::mutex mutex_;
  std::condition_variable finished_;
  std::map<key, std::function<void()>> timers_;      // guarded by mutex_
  std::unordered_map<timer_id, time_point> deadlines_;  // guarded by mutex_
  timer_id last_id_ = 0;                              // guarded by mutex_
  std::vector<std::pair<timer_id, std::thread::id>> running_;  // guarded by mutex_
};

}  // namespace detail
MEND_END_NAMESPACE

#endif  // MEND_DETAIL_TIMER_QUEUE_HPP
