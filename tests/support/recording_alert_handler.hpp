// An alert_handler that keeps every alert, for tests of the components that
// raise alerts.
#ifndef MEND_TESTS_RECORDING_ALERT_HANDLER_HPP
#define MEND_TESTS_RECORDING_ALERT_HANDLER_HPP

#include <mend/alert_handler.hpp>
#include <mend/event.hpp>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <mutex>
#include <vector>

namespace mend_test {

class recording_alert_handler final : public mend::alert_handler {
 public:
  // `on_each`, if given, runs inside on_alert(), e.g. to check that the
  // component's lock is not held.
  explicit recording_alert_handler(std::function<void(const mend::alert&)> on_each = {})
      : on_each_(std::move(on_each)) {}

  void on_alert(const mend::alert& raised) override {
    if (on_each_) on_each_(raised);
    std::lock_guard lock(mutex_);
    alerts_.push_back(raised);
  }

  std::vector<mend::alert> alerts() const {
    std::lock_guard lock(mutex_);
    return alerts_;
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return alerts_.size();
  }

  std::size_t count(mend::severity level) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(
        std::count_if(alerts_.begin(), alerts_.end(), [&](const mend::alert& a) { return a.level == level; }));
  }

 private:
  std::function<void(const mend::alert&)> on_each_;
  mutable std::mutex mutex_;
  std::vector<mend::alert> alerts_;  // guarded by mutex_
};

}  // namespace mend_test

#endif  // MEND_TESTS_RECORDING_ALERT_HANDLER_HPP
