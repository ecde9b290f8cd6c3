// A known sequence of self-healing events on a manual clock, for the tests
// that check the numbers the status dashboard shows: the unit tests and the
// page that the browser test loads.
#ifndef MEND_TESTS_SUPPORT_DASHBOARD_SEQUENCE_HPP
#define MEND_TESTS_SUPPORT_DASHBOARD_SEQUENCE_HPP

#include <mend/circuit_breaker.hpp>
#include <mend/event.hpp>
#include <mend/http_error.hpp>
#include <mend/manual_clock.hpp>
#include <mend/retry_policy.hpp>
#include <mend/status_reporter.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace mend_test {

using namespace std::chrono_literals;

// The reporter options the sequence expects: one-minute buckets over ten minutes.
inline mend::status_reporter::options dashboard_reporter_options() {
  return {.trend_bucket = 1min, .trend_span = 10min};
}

inline mend::event make_status_event(mend::event_kind kind, std::string_view component,
                                     const mend::manual_clock& clock) {
  mend::event e;
  e.kind = kind;
  e.component = component;
  e.at = clock.now();
  e.wall_at = clock.wall_now();
  return e;
}

// Runs the following events, from 2025-01-01T00:00:00Z on a fresh manual clock.
//   00:00:00  breaker "ax_connection" (threshold 2): two failures open it, one call is rejected
//   00:00:00  breaker "aif_batch" is isolated: held open until reset
//   00:01:00  "ax_connection" goes half-open and a test call closes it (a recovery)
//   00:01:00  retry policy "aif_read": one failed attempt, the retry after 1 s succeeds
//   00:02:01  pool "aif_pool" enters recovery; 00:02:06 a failed attempt; 00:02:11 it recovers
//   00:03:00  endpoint "aos-1" turns unhealthy and leaves rotation; "aos-2" turns healthy (a recovery)
//   00:03:30  the snapshot is due
// Trend buckets: 00:00 failures 2, rejections 1; 00:01 one successful retry,
// one recovery; 00:02 one failure, one recovery; 00:03 one recovery.
inline void run_dashboard_sequence(mend::manual_clock& clock, mend::status_reporter& status) {
  mend::circuit_breaker breaker{clock, {.name = "ax_connection", .trip = {.threshold = 2}, .sink = &status}};
  mend::circuit_breaker batch{clock, {.name = "aif_batch", .sink = &status}};
  mend::retry_policy retry{clock, {.name = "aif_read", .sink = &status}};

  for (int i = 0; i < 2; ++i) (void)breaker.execute([] { return mend::http_error(503); });
  (void)breaker.execute([] { return 1; });  // rejected while open
  batch.isolate();

  clock.advance(60s);
  (void)breaker.execute([] { return 1; });  // the test call
  int calls = 0;
  (void)retry.execute([&]() -> mend::result<int> {
    if (++calls == 1) return mend::http_error(503);
    return 1;
  });  // sleeps 1 s on the auto-advancing clock

  clock.advance(60s);  // 00:02:01
  auto entered = make_status_event(mend::event_kind::pool_recovery_entered, "aif_pool", clock);
  entered.level = mend::severity::error;
  entered.reason = "every connection failed";
  entered.error = make_error_code(mend::errc::connect_failed);
  status.record(entered);
  for (std::int64_t attempt = 1; attempt <= 2; ++attempt) {
    clock.advance(5s);
    const std::array samples{mend::metric_sample{mend::metric::recovery_attempts, attempt}};
    auto e = make_status_event(mend::event_kind::pool_recovery_attempt, "aif_pool", clock);
    e.attempt = static_cast<std::uint64_t>(attempt);
    e.metrics = samples;
    if (attempt == 1) e.error = make_error_code(mend::errc::connect_failed);
    status.record(e);
  }
  auto exited = make_status_event(mend::event_kind::pool_recovery_exited, "aif_pool", clock);
  exited.attempt = 2;
  status.record(exited);
  const std::array gauges{mend::metric_sample{mend::metric::active, 3}, mend::metric_sample{mend::metric::idle, 1},
                          mend::metric_sample{mend::metric::total, 4}, mend::metric_sample{mend::metric::waiters, 0}};
  auto gauge_event = make_status_event(mend::event_kind::pool_gauges, "aif_pool", clock);
  gauge_event.metrics = gauges;
  status.record(gauge_event);

  clock.advance(49s);  // 00:03:00
  const auto endpoint_change = [&](mend::event_kind kind, std::string_view component, std::string_view target,
                                   std::string_view from, std::string_view to, std::string_view reason) {
    auto e = make_status_event(kind, component, clock);
    e.target = target;
    e.from = from;
    e.to = to;
    e.reason = reason;
    status.record(e);
  };
  endpoint_change(mend::event_kind::endpoint_health_changed, "health", "aos-1", "healthy", "unhealthy",
                  "3 consecutive failed checks");
  endpoint_change(mend::event_kind::endpoint_rotation_changed, "balancer", "aos-1", "in", "out", "unhealthy");
  endpoint_change(mend::event_kind::endpoint_health_changed, "health", "aos-2", "unhealthy", "healthy",
                  "2 consecutive successful checks");

  clock.advance(30s);  // 00:03:30
}

}  // namespace mend_test

#endif  // MEND_TESTS_SUPPORT_DASHBOARD_SEQUENCE_HPP
