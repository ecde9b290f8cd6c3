// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_ERROR_HPP
#define MEND_ERROR_HPP

#include <mend/version.hpp>

#include <string>
#include <system_error>

MEND_BEGIN_NAMESPACE

// Errors that mend itself produces. Errors from the wrapped calls pass through
// unchanged: a pool whose factory fails reports the factory's error, not a
// generic one.
enum class errc {
  circuit_open = 1,      // the breaker rejected the call without running it
  retries_exhausted,     // every attempt failed (only when the retry is asked to say so)
  pool_exhausted,        // no connection became free within acquire_timeout
  pool_recovering,       // the pool cannot create connections and fails fast
  connect_failed,        // a connection could not be established
  timed_out,             // an operation did not finish in time
  cancelled,             // the caller requested a stop
  no_healthy_endpoint,   // every endpoint is out of rotation
  permission_denied,     // the caller lacks the required role
  invalid_argument,      // a configuration value or an argument is invalid
  target_unhealthy,      // a rollout target failed its health checks
  unexpected_exception,  // a wrapped callable threw something other than std::system_error
  protocol_error,        // a peer sent a response that could not be parsed
};

namespace detail {

class mend_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mend"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::circuit_open: return "circuit breaker is open";
      case errc::retries_exhausted: return "all retry attempts failed";
      case errc::pool_exhausted: return "connection pool exhausted";
      case errc::pool_recovering: return "connection pool is recovering";
      case errc::connect_failed: return "connection failed";
      case errc::timed_out: return "operation timed out";
      case errc::cancelled: return "operation cancelled";
      case errc::no_healthy_endpoint: return "no healthy endpoint";
      case errc::permission_denied: return "permission denied";
      case errc::invalid_argument: return "invalid argument";
      case errc::target_unhealthy: return "target is unhealthy";
      case errc::unexpected_exception: return "unexpected exception";
      case errc::protocol_error: return "protocol error";
    }
    return "unknown mend error " + std::to_string(value);
  }

  // Lets callers compare with the portable conditions, e.g.
  // `ec == std::errc::timed_out` holds for mend::errc::timed_out too.
  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<errc>(value)) {
      case errc::timed_out: return std::errc::timed_out;
      case errc::cancelled: return std::errc::operation_canceled;
      case errc::permission_denied: return std::errc::permission_denied;
      case errc::invalid_argument: return std::errc::invalid_argument;
      default: return {value, *this};
    }
  }
};

}  // namespace detail

// The category of mend::errc. A function-local static has one address per
// program even in a header-only library (inline function, vague linkage).
inline const std::error_category& error_category() noexcept {
  static const detail::mend_category category;
  return category;
}

inline std::error_code make_error_code(errc value) noexcept {
  return {static_cast<int>(value), error_category()};
}

MEND_END_NAMESPACE

template <>
struct std::is_error_code_enum<mend::errc> : std::true_type {};

#endif  // MEND_ERROR_HPP
