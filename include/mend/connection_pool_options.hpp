// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_CONNECTION_POOL_OPTIONS_HPP
#define MEND_CONNECTION_POOL_OPTIONS_HPP

#include <mend/clock.hpp>
#include <mend/config_error.hpp>
#include <mend/metrics_sink.hpp>
#include <mend/version.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>

MEND_BEGIN_NAMESPACE

// The settings of a connection_pool<Connection>. A zero duration turns the
// check it controls off, except for acquire_timeout (zero means "do not wait")
// and recovery_interval (must be positive).
template <class Connection>
struct connection_pool_options {
  // Names the pool in events and reports.
  std::string name = "connection_pool";
  // Connections the pool keeps open, idle or leased, outside recovery mode.
  std::size_t min_size = 1;
  // The maximum number of connections alive at once, counting those being
  // created and those being destroyed.
  std::size_t max_size = 10;
  // How long acquire() waits for a connection before returning pool_exhausted.
  duration acquire_timeout = std::chrono::seconds{30};
  // Whether acquire() runs the validator on an idle connection before leasing it.
  bool validate_on_acquire = true;
  // A check that returns true when a connection can still be used. Empty
  // means every connection is valid. It runs without the pool's lock, and an
  // exception counts as invalid.
  std::function<bool(Connection&)> validator = {};
  // How often the idle connections are checked: expired, idle too long, or
  // rejected by the validator. Zero turns the periodic check off.
  duration idle_check_interval = std::chrono::seconds{30};
  // Connections older than this are removed when they are returned or found
  // idle. Zero means no limit.
  duration max_lifetime = std::chrono::minutes{30};
  // Idle connections beyond min_size that stayed unused this long are closed
  // by the idle check. Zero keeps them.
  duration idle_timeout = std::chrono::minutes{10};
  // The time between two creation attempts after a failed one: one attempt
  // per interval in recovery mode, and the pause before a refill retries.
  duration recovery_interval = std::chrono::seconds{5};
  // A lease held longer than this is reported once (pool_leak_suspected).
  // Zero turns leak reports off.
  duration leak_threshold = duration::zero();
  // The maximum number of factory calls in flight at once, acquire() callers
  // and refills together. A refill round on the timer thread creates at most this many
  // connections before it yields to other timers.
  std::size_t max_concurrent_creations = 2;
  // Receives the events; nullptr discards them.
  metrics_sink* sink = nullptr;
};

// A snapshot of a pool's counts. `total` is always active + idle + creating +
// closing and never exceeds max_size.
struct connection_pool_stats {
  std::size_t active = 0;    // connections out of the idle list: leased or being validated
  std::size_t idle = 0;      // connections ready to lease
  std::size_t creating = 0;  // factory calls in flight
  std::size_t closing = 0;   // connections removed whose destructor is running
  std::size_t total = 0;     // active + idle + creating + closing
  std::size_t waiters = 0;   // acquire() calls waiting for a connection
  bool in_recovery = false;  // acquire() fails fast with pool_recovering
  std::uint64_t recovery_attempts = 0;   // creation attempts made in recovery mode, since construction
  std::uint64_t connections_created = 0; // since construction
  std::uint64_t connections_removed = 0; // since construction
  std::uint64_t acquire_timeouts = 0;    // acquire() calls that returned pool_exhausted
  std::uint64_t leaks_suspected = 0;     // leases reported as held past leak_threshold
  std::error_code last_error;            // the factory's most recent error, empty if it never failed
};

namespace detail {

// Throws config_error for the first invalid option.
template <class Connection>
void validate_pool_options(const connection_pool_options<Connection>& opts) {
  const std::string_view component = "connection_pool";
  require(opts.max_size >= 1, component, "max_size", opts.max_size, "must be at least 1");
  require(opts.min_size <= opts.max_size, component, "min_size", opts.min_size,
          fmt::format("must not exceed max_size = {}", opts.max_size));
  require(opts.acquire_timeout >= duration::zero(), component, "acquire_timeout", opts.acquire_timeout,
          "must not be negative");
  require(opts.idle_check_interval >= duration::zero(), component, "idle_check_interval", opts.idle_check_interval,
          "must not be negative");
  require(opts.max_lifetime >= duration::zero(), component, "max_lifetime", opts.max_lifetime,
          "must not be negative");
  require(opts.idle_timeout >= duration::zero(), component, "idle_timeout", opts.idle_timeout,
          "must not be negative");
  require(opts.recovery_interval > duration::zero(), component, "recovery_interval", opts.recovery_interval,
          "must be greater than zero");
  require(opts.leak_threshold >= duration::zero(), component, "leak_threshold", opts.leak_threshold,
          "must not be negative");
  require(opts.max_concurrent_creations >= 1, component, "max_concurrent_creations", opts.max_concurrent_creations,
          "must be at least 1");
}

}  // namespace detail

MEND_END_NAMESPACE

#endif  // MEND_CONNECTION_POOL_OPTIONS_HPP
