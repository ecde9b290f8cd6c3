// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_CIRCUIT_STATE_HPP
#define MEND_CIRCUIT_STATE_HPP

#include <mend/version.hpp>

#include <cstdint>
#include <string_view>

MEND_BEGIN_NAMESPACE

// The states of a circuit breaker.
enum class circuit_state : std::uint8_t {
  closed,     // calls run; the trip policy counts their failures
  open,       // calls are rejected with circuit_open until the open timeout expires
  half_open,  // a limited number of test calls run; the first result decides
};

constexpr std::string_view to_string(circuit_state state) noexcept {
  switch (state) {
    case circuit_state::closed: return "closed";
    case circuit_state::open: return "open";
    case circuit_state::half_open: return "half_open";
  }
  return "unknown";
}

MEND_END_NAMESPACE

#endif  // MEND_CIRCUIT_STATE_HPP
