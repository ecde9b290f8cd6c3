// A small, deterministic workload that gives the status server something to
// report: an AX connector whose backend goes down twice and comes back, seen
// through a circuit breaker, a retry policy and a connection pool, all on a
// manual clock so the whole story takes no real time.
#ifndef MEND_EXAMPLES_SIMULATED_WORKLOAD_HPP
#define MEND_EXAMPLES_SIMULATED_WORKLOAD_HPP

#include <mend/circuit_breaker.hpp>
#include <mend/decorate.hpp>
#include <mend/event.hpp>
#include <mend/http_error.hpp>
#include <mend/manual_clock.hpp>
#include <mend/metrics_sink.hpp>
#include <mend/result.hpp>
#include <mend/retry_policy.hpp>

#include <array>
#include <chrono>
#include <cstdint>

namespace mcp_status {

using namespace std::chrono_literals;

// Emits the events a connection pool named "aif_pool" would emit while its
// server is down: gauges, a failed creation, recovery mode with one creation
// attempt every 5 s, and the way out.
// NOTE: a stand-in until the example uses mend::connection_pool itself; the
// event kinds and metric samples follow include/mend/event.hpp.
class simulated_pool {
 public:
  simulated_pool(mend::manual_clock& clock, mend::metrics_sink& sink) : clock_(clock), sink_(sink) {}

  void report_gauges(std::int64_t active, std::int64_t idle) {
    const std::array samples{mend::metric_sample{mend::metric::active, active},
                             mend::metric_sample{mend::metric::idle, idle},
                             mend::metric_sample{mend::metric::total, active + idle},
                             mend::metric_sample{mend::metric::waiters, 0},
                             mend::metric_sample{mend::metric::recovery_attempts, recovery_attempts_}};
    auto e = make(mend::event_kind::pool_gauges);
    e.metrics = samples;
    mend::detail::emit(&sink_, e);
  }

  // The last connection breaks and no new one can be made: recovery mode,
  // then `failed_attempts` failed attempts 5 s apart and one that succeeds.
  void lose_server(int failed_attempts) {
    auto failed = make(mend::event_kind::pool_create_failed);
    failed.level = mend::severity::warning;
    failed.error = make_error_code(mend::errc::connect_failed);
    mend::detail::emit(&sink_, failed);

    auto entered = make(mend::event_kind::pool_recovery_entered);
    entered.level = mend::severity::error;
    entered.error = make_error_code(mend::errc::connect_failed);
    mend::detail::emit(&sink_, entered);
    report_gauges(0, 0);

    for (int attempt = 1; attempt <= failed_attempts + 1; ++attempt) {
      clock_.advance(5s);
      ++recovery_attempts_;
      const std::array samples{mend::metric_sample{mend::metric::recovery_attempts, recovery_attempts_}};
      auto e = make(mend::event_kind::pool_recovery_attempt);
      e.attempt = static_cast<std::uint64_t>(attempt);
      e.metrics = samples;
      if (attempt <= failed_attempts) e.error = make_error_code(mend::errc::connect_failed);
      mend::detail::emit(&sink_, e);
    }

    mend::detail::emit(&sink_, make(mend::event_kind::pool_connection_created));
    auto exited = make(mend::event_kind::pool_recovery_exited);
    exited.attempt = static_cast<std::uint64_t>(failed_attempts + 1);
    mend::detail::emit(&sink_, exited);
  }

 private:
  mend::event make(mend::event_kind kind) const {
    mend::event e;
    e.kind = kind;
    e.component = "aif_pool";
    e.at = clock_.now();
    e.wall_at = clock_.wall_now();
    return e;
  }

  mend::manual_clock& clock_;
  mend::metrics_sink& sink_;
  std::int64_t recovery_attempts_ = 0;
};

// Runs the story on `clock`, reporting to `sink`. The breaker "ax_connection"
// opens twice and recovers by itself twice, the retry policy "aif_read"
// retries through the outages, and the pool recovers after each.
inline void run_simulated_workload(mend::manual_clock& clock, mend::metrics_sink& sink) {
  mend::circuit_breaker breaker{clock, {.name = "ax_connection", .sink = &sink}};
  mend::retry_policy retry{clock, {.name = "aif_read", .sink = &sink}};
  simulated_pool pool{clock, sink};

  bool backend_up = true;
  bool flaky = true;  // the backend times out now and then until its first outage
  int calls = 0;
  auto read_sales_order = mend::decorate([&]() -> mend::result<int> {
                            ++calls;
                            if (!backend_up) return mend::http_error(503);
                            if (flaky && calls % 7 == 0) return mend::http_error(504);
                            return 42;
                          })
                              .with(breaker)
                              .with(retry);
  const auto run_calls = [&](int count) {
    for (int i = 0; i < count; ++i) {
      (void)read_sales_order();
      clock.advance(2s);
    }
  };

  pool.report_gauges(8, 2);
  run_calls(20);

  for (int outage = 0; outage < 2; ++outage) {
    backend_up = false;
    flaky = false;
    run_calls(3);  // retries fail until the breaker opens; later calls are rejected
    pool.lose_server(outage + 1);
    backend_up = true;
    clock.advance(60s);  // the open timeout ends; the next call is the test call
    run_calls(10);
    pool.report_gauges(9, 1);
    clock.advance(3min);
  }
}

}  // namespace mcp_status

#endif  // MEND_EXAMPLES_SIMULATED_WORKLOAD_HPP
