// The timing sets of the connector: the library's defaults ("production")
// and shorter intervals that show a whole fault-and-recovery cycle within a
// minute ("demo").
#ifndef AX_CONNECTOR_PROFILE_HPP
#define AX_CONNECTOR_PROFILE_HPP

#include <mend/adapters/http_connection.hpp>
#include <mend/backoff.hpp>
#include <mend/circuit_breaker.hpp>
#include <mend/connection_pool.hpp>
#include <mend/health_checker.hpp>
#include <mend/retry_policy.hpp>
#include <mend/slow_start.hpp>

#include <algorithm>
#include <chrono>
#include <string>

namespace ax {

// The options of every timed part. The connector fills in names, sinks,
// sizes and classifiers; a profile sets only timings.
struct timing_profile {
  std::string name;
  mend::circuit_breaker::options breaker{};
  mend::retry_policy::options retry{};
  mend::connection_pool_options<mend::http_connection> pool{};
  mend::health_checker::options health{};
  mend::slow_start slow_start{};
  mend::http_connection_options http{};
  mend::duration connect_timeout = std::chrono::seconds{5};  // http_connection::connect() has no default
  mend::duration trend_bucket = std::chrono::minutes{1};     // the status report's trend resolution
};

// The library's defaults: breaker open 60 s (up to 240 s), health checks
// every 10 s, pool recovery every 5 s, slow start over 60 s, retries after
// 1 s, 2 s and 4 s, a 30 s request timeout.
inline timing_profile production_profile() {
  timing_profile out;
  out.name = "production";
  return out;
}

// [snippet:demo-profile]
// Shorter intervals, so that a one-minute run shows faults, fail-fast and
// recovery. Only the timings differ from production_profile().
inline timing_profile demo_profile() {
  using namespace std::chrono_literals;
  timing_profile out;
  out.name = "demo";
  out.breaker.open_timeout = 2s;        // production: 60 s
  out.breaker.max_open_timeout = 8s;    // production: 240 s
  out.health.interval = 1s;             // production: 10 s
  out.health.timeout = 800ms;           // production: 5 s
  out.pool.recovery_interval = 1s;      // production: 5 s
  out.pool.acquire_timeout = 1s;        // production: 30 s
  out.pool.idle_check_interval = 5s;    // production: 30 s
  out.slow_start.window = 10s;          // production: 60 s
  out.retry.backoff = mend::exponential_backoff{.initial = 100ms, .multiplier = 2.0, .max = 800ms};
  out.retry.deadline = 5s;              // production: none
  out.retry.max_retry_after = 5s;       // production: 60 s
  out.http.request_timeout = 2s;        // production: 30 s
  out.connect_timeout = 500ms;          // production: 5 s
  out.trend_bucket = 5s;                // production: 1 min
  return out;
}
// [/snippet]

// The maximum time one request can take with `profile`: the retry's
// deadline, or all its attempts and sleeps when it has none, plus one more
// attempt (a pool wait, a connect and a request). A request still running
// after this is counted as hanging.
inline mend::duration request_deadline(const timing_profile& profile) {
  const auto attempt = profile.pool.acquire_timeout + profile.connect_timeout + profile.http.request_timeout;
  if (profile.retry.deadline > mend::duration::zero()) return profile.retry.deadline + attempt + std::chrono::seconds{1};
  const auto longest_sleep = std::max(mend::backoff_cap(profile.retry.backoff), profile.retry.max_retry_after);
  const auto retries = static_cast<mend::duration::rep>(profile.retry.max_retries);
  return attempt * (retries + 1) + longest_sleep * retries + std::chrono::seconds{1};
}

// How long after the last fault at an endpoint its recovery may take with
// `profile`: the longest open period of its breaker, `rise` health checks,
// one pool recovery attempt, and a second of margin. An incident still open
// that long after the endpoint's last fault counts as a failed recovery.
inline mend::duration recovery_allowance(const timing_profile& profile) {
  return profile.breaker.max_open_timeout + profile.health.interval * profile.health.rise +
         profile.pool.recovery_interval + std::chrono::seconds{1};
}

}  // namespace ax

#endif  // AX_CONNECTOR_PROFILE_HPP
