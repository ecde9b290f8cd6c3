// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_DETAIL_ALERT_DISPATCHER_HPP
#define MEND_DETAIL_ALERT_DISPATCHER_HPP

#include <mend/alert_handler.hpp>
#include <mend/event.hpp>
#include <mend/metrics_sink.hpp>
#include <mend/version.hpp>

#include <atomic>
#include <cstddef>
#include <deque>
#include <mutex>
#include <utility>

MEND_BEGIN_NAMESPACE
namespace detail {

// Reports a component's alerts: to its sink at once, and to its
// alert_handler later, outside the component's lock.
//
// raise() runs under the component's lock, so the alert_raised events keep
// the order of the transitions. deliver() runs after the lock is released.
// The first thread that finds alerts queued hands them to the handler, in
// order, until the queue is empty. Other threads return at once, so none
// waits for a slow handler.
class alert_dispatcher {
 public:
  explicit alert_dispatcher(alert_handler* handler) noexcept : handler_(handler) {}

  alert_dispatcher(const alert_dispatcher&) = delete;
  alert_dispatcher& operator=(const alert_dispatcher&) = delete;

  // Emits `raised` as an alert_raised event and queues it for the handler.
  void raise(metrics_sink* sink, alert raised) {
    event e;
    e.kind = event_kind::alert_raised;
    e.level = raised.level;
    e.component = raised.component;
    e.target = raised.target;
    e.at = raised.at;
    e.wall_at = raised.wall_at;
    e.reason = raised.message;
    e.error = raised.error;
    emit(sink, e);

    if (handler_ == nullptr) return;
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(raised));
    queued_.fetch_add(1, std::memory_order_release);
  }

  // Hands the queued alerts to the handler. Call without holding the lock
  // under which raise() runs.
  void deliver() noexcept {
    if (handler_ == nullptr || queued_.load(std::memory_order_acquire) == 0) return;
    std::unique_lock lock(mutex_);
    if (delivering_) return;  // that thread also delivers what we queued
    delivering_ = true;
    while (!queue_.empty()) {
      alert next = std::move(queue_.front());
      queue_.pop_front();
      queued_.fetch_sub(1, std::memory_order_release);
      lock.unlock();
      try {
        handler_->on_alert(next);
      } catch (...) {
      }
      lock.lock();
    }
    delivering_ = false;
  }

 private:
  alert_handler* const handler_;
  std::mutex mutex_;
  std::deque<alert> queue_;           // guarded by mutex_
  bool delivering_ = false;           // guarded by mutex_
  std::atomic<std::size_t> queued_{0};  // queue_.size(), readable without mutex_
};

}  // namespace detail
MEND_END_NAMESPACE

#endif  // MEND_DETAIL_ALERT_DISPATCHER_HPP
