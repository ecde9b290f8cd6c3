// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_RECORDING_SINK_HPP
#define MEND_RECORDING_SINK_HPP

#include <mend/event.hpp>
#include <mend/metrics_sink.hpp>
#include <mend/version.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

MEND_BEGIN_NAMESPACE

// An event with its own copies of the strings and samples, safe to keep.
struct recorded_event {
  event_kind kind{};
  severity level = severity::info;
  std::string component;
  std::string target;
  time_point at{};
  wall_time wall_at{};
  std::string from;
  std::string to;
  std::string reason;
  std::error_code error;
  std::uint64_t attempt = 0;
  duration delay{};
  std::vector<metric_sample> metrics;

  explicit recorded_event(const event& e)
      : kind(e.kind),
        level(e.level),
        component(e.component),
        target(e.target),
        at(e.at),
        wall_at(e.wall_at),
        from(e.from),
        to(e.to),
        reason(e.reason),
        error(e.error),
        attempt(e.attempt),
        delay(e.delay),
        metrics(e.metrics.begin(), e.metrics.end()) {}

  // Returns the sample for `name`, if the event carried one.
  std::optional<std::int64_t> metric_value(metric name) const {
    for (const auto& sample : metrics)
      if (sample.name == name) return sample.value;
    return std::nullopt;
  }
};

// Keeps a copy of every event, for tests and for tools that inspect what a
// component did. Thread-safe.
class recording_sink final : public metrics_sink {
 public:
  void record(const event& e) override {
    std::lock_guard lock(mutex_);
    events_.emplace_back(e);
  }

  // A copy of every event so far, in the order recorded.
  std::vector<recorded_event> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }

  // The events of one kind, in order.
  std::vector<recorded_event> events(event_kind kind) const {
    std::lock_guard lock(mutex_);
    std::vector<recorded_event> out;
    std::copy_if(events_.begin(), events_.end(), std::back_inserter(out),
                 [&](const recorded_event& e) { return e.kind == kind; });
    return out;
  }

  std::size_t count(event_kind kind) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(
        std::count_if(events_.begin(), events_.end(), [&](const recorded_event& e) { return e.kind == kind; }));
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return events_.size();
  }

  void clear() {
    std::lock_guard lock(mutex_);
    events_.clear();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<recorded_event> events_;  // guarded by mutex_
};

MEND_END_NAMESPACE

#endif  // MEND_RECORDING_SINK_HPP
