// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_TRANSIENT_HPP
#define MEND_TRANSIENT_HPP

#include <mend/error.hpp>
#include <mend/http_error.hpp>
#include <mend/version.hpp>

#include <functional>
#include <system_error>

MEND_BEGIN_NAMESPACE

// A predicate over errors. Policies take one so that connector-specific faults
// (an AIF fault code, say) can be mapped onto "worth retrying" or "counts
// against the backend".
using error_classifier = std::function<bool(const std::error_code&)>;

// Returns true for errors that may go away by themselves: timeouts, refused,
// reset or unreachable connections, an exhausted pool, and HTTP 5xx, 408 and
// 429. Returns false for everything else, notably other 4xx (the request is
// wrong and will stay wrong), HTTP 501 and 505 (the server will never support
// it), circuit_open, pool_recovering and no_healthy_endpoint (mend already
// knows the target is down and fails fast on purpose).
inline bool is_transient(const std::error_code& ec) noexcept {
  if (!ec) return false;

  if (ec.category() == error_category()) {
    switch (static_cast<errc>(ec.value())) {
      case errc::timed_out:
      case errc::connect_failed:
      case errc::pool_exhausted: return true;
      default: return false;
    }
  }

  if (const int status = http_status_of(ec); status != 0) {
    if (status == 408 || status == 429) return true;
    return status >= 500 && status <= 599 && status != 501 && status != 505;
  }

  for (const auto transient :
       {std::errc::timed_out, std::errc::connection_refused, std::errc::connection_reset,
        std::errc::connection_aborted, std::errc::host_unreachable, std::errc::network_unreachable,
        std::errc::network_down, std::errc::network_reset, std::errc::broken_pipe, std::errc::not_connected,
        std::errc::resource_unavailable_try_again}) {
    if (ec == transient) return true;
  }
  return false;
}

// Returns true for errors that say the backend is in trouble: every transient
// error, and pool_recovering and no_healthy_endpoint, which mean that no
// connection or endpoint can be reached at all. This is what a circuit
// breaker counts as a failure by default. Unlike is_transient(), it accepts
// the fail-fast errors, because for a breaker they are evidence, not noise.
inline bool is_backend_failure(const std::error_code& ec) noexcept {
  return is_transient(ec) || ec == make_error_code(errc::pool_recovering) ||
         ec == make_error_code(errc::no_healthy_endpoint);
}

MEND_END_NAMESPACE

#endif  // MEND_TRANSIENT_HPP
