// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_METRICS_SINK_HPP
#define MEND_METRICS_SINK_HPP

#include <mend/event.hpp>
#include <mend/version.hpp>

#include <initializer_list>
#include <vector>

MEND_BEGIN_NAMESPACE

// Receives the events of mend components.
//
// record() may be called from any thread, concurrently, and sometimes while
// the emitting component holds its own lock (that is how each transition is
// reported exactly once and in order). So an implementation must be
// thread-safe, quick, must not block on I/O and must not call back into the
// component that emitted the event.
class metrics_sink {
 public:
  virtual ~metrics_sink() = default;
  virtual void record(const event& e) = 0;
};

// Discards every event.
class null_sink final : public metrics_sink {
 public:
  void record(const event&) override {}
};

// The shared null_sink that components use when given no sink.
inline null_sink& no_metrics() noexcept {
  static null_sink instance;
  return instance;
}

// Forwards every event to each of a fixed list of sinks, in order.
class fanout_sink final : public metrics_sink {
 public:
  fanout_sink(std::initializer_list<metrics_sink*> sinks) : sinks_(sinks) {}
  explicit fanout_sink(std::vector<metrics_sink*> sinks) : sinks_(std::move(sinks)) {}

  void record(const event& e) override {
    for (auto* sink : sinks_)
      if (sink != nullptr) sink->record(e);
  }

 private:
  const std::vector<metrics_sink*> sinks_;
};

namespace detail {

// Hands `e` to `sink`, dropping an exception so that a faulty sink cannot
// break the state machine of the component that reports.
inline void emit(metrics_sink* sink, const event& e) noexcept {
  if (sink == nullptr) return;
  try {
    sink->record(e);
  } catch (...) {
  }
}

}  // namespace detail

MEND_END_NAMESPACE

#endif  // MEND_METRICS_SINK_HPP
