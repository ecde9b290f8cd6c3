// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_BREAKER_SIGNAL_HPP
#define MEND_BREAKER_SIGNAL_HPP

#include <mend/circuit_breaker.hpp>
#include <mend/circuit_state.hpp>
#include <mend/version.hpp>

#include <functional>
#include <utility>

MEND_BEGIN_NAMESPACE

// The passive health signal of an endpoint: the state of the circuit breaker
// that guards calls to it, read by the balancer. Type-erased, so it accepts a
// breaker with any trip policy, or any other source that reports whether a
// breaker is open.
//
// The balancer keeps an endpoint out of rotation until its breaker is closed
// again. While the breaker is half-open and would admit a test call, the
// balancer may route a call there, so that a breaker without a probe still
// gets its test call (see balancer).
class breaker_signal {
 public:
  // No breaker: the endpoint's rotation follows its health alone.
  breaker_signal() = default;

  // Reads `breaker`, which must outlive the balancer or the endpoint.
  template <class TripPolicy>
  explicit breaker_signal(basic_circuit_breaker<TripPolicy>& breaker)
      : state_([&breaker] { return breaker.state(); }), would_reject_([&breaker] { return breaker.would_reject(); }) {}

  // Reads any other source. `state` returns the current breaker state;
  // `would_reject`, if given, returns true when a call made now would be
  // rejected. Without it a half-open endpoint gets no test call from the
  // balancer. Both must be thread-safe.
  explicit breaker_signal(std::function<circuit_state()> state, std::function<bool()> would_reject = {})
      : state_(std::move(state)), would_reject_(std::move(would_reject)) {}

  // Builds a signal from a plain "is open" callback: open while it returns
  // true, closed otherwise.
  static breaker_signal from_is_open(std::function<bool()> is_open) {
    return breaker_signal{[is_open = std::move(is_open)] {
      return is_open() ? circuit_state::open : circuit_state::closed;
    }};
  }

  // True when a source is attached.
  explicit operator bool() const noexcept { return static_cast<bool>(state_); }

  // The breaker's state now; closed when no source is attached.
  circuit_state state() const { return state_ ? state_() : circuit_state::closed; }

  // True when the breaker is half-open and would admit a test call now.
  bool admits_test_call() const {
    if (!would_reject_) return false;
    return state() == circuit_state::half_open && !would_reject_();
  }

 private:
  std::function<circuit_state()> state_;
  std::function<bool()> would_reject_;
};

MEND_END_NAMESPACE

#endif  // MEND_BREAKER_SIGNAL_HPP
