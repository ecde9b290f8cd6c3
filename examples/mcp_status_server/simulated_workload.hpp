// A small, deterministic workload that gives the status server something to
// report: an AX connector whose backend goes down twice and comes back, seen
// through a circuit breaker, a retry policy and a connection pool, all on a
// manual clock so the whole story takes no real time.
#ifndef MEND_EXAMPLES_SIMULATED_WORKLOAD_HPP
#define MEND_EXAMPLES_SIMULATED_WORKLOAD_HPP

#include <mend/circuit_breaker.hpp>
#include <mend/connection_pool.hpp>
#include <mend/decorate.hpp>
#include <mend/error.hpp>
#include <mend/http_error.hpp>
#include <mend/manual_clock.hpp>
#include <mend/metrics_sink.hpp>
#include <mend/result.hpp>
#include <mend/retry_policy.hpp>

#include <chrono>

namespace mcp_status {

using namespace std::chrono_literals;

// A session with the AIF service, the pool's connection type.
struct aif_session {
  int id = 0;
};

// The components of a connector and a backend that can fail. The components
// stay alive after run(), so the report shows their state as it is, not as
// they left it when destroyed. Destroy the workload before the clock and the sink.
class simulated_workload {
 public:
  simulated_workload(mend::manual_clock& clock, mend::metrics_sink& sink)
      : clock_(clock),
        breaker_(clock, {.name = "ax_connection", .sink = &sink}),
        retry_(clock, {.name = "aif_read", .sink = &sink}),
        pool_(clock, [this] { return open_session(); },
              {.name = "aif_pool",
               .min_size = 2,
               .max_size = 4,
               .validate_on_acquire = false,
               .validator = [this](aif_session&) { return network_up_; },
               .idle_check_interval = 10s,
               .sink = &sink}) {}

  // Runs the story: steady traffic with a few timeouts that the retries
  // absorb, then two outages. In each, the AOS service first returns 503,
  // which opens the breaker. Then the host goes down: the pool's idle check
  // finds the sessions dead, no new one can be opened, and the pool enters
  // recovery mode. When the host is back a recovery attempt succeeds, and
  // the breaker's test call closes it.
  void run() {
    auto read_sales_order = mend::decorate([this] { return send_read_order(); }).with(breaker_).with(retry_);
    const auto run_calls = [&](int count) {
      for (int i = 0; i < count; ++i) {
        (void)read_sales_order();
        clock_.advance(2s);
      }
    };

    clock_.run_due();  // the pool opens its first sessions
    run_calls(20);
    flaky_ = false;

    for (int outage = 0; outage < 2; ++outage) {
      service_up_ = false;
      run_calls(3);          // retries fail until the breaker opens; later calls are rejected
      network_up_ = false;   // then the host goes down altogether
      clock_.advance(25s);   // the idle check drops the dead sessions; the pool enters recovery
      service_up_ = true;
      network_up_ = true;
      clock_.advance(35s);   // a recovery attempt succeeds; the breaker's open timeout ends
      run_calls(10);         // the first call is the breaker's test call
      clock_.advance(3min);
    }
  }

 private:
  mend::result<aif_session> open_session() {
    if (!network_up_) return make_error_code(mend::errc::connect_failed);
    return aif_session{++sessions_opened_};
  }

  // One request on a pooled session.
  mend::result<int> send_read_order() {
    auto session = pool_.acquire();
    if (!session) return session.error();
    ++requests_;
    if (!service_up_) return mend::http_error(503);
    if (flaky_ && requests_ % 7 == 0) return mend::http_error(504);
    return 42;
  }

  mend::manual_clock& clock_;
  bool service_up_ = true;  // AOS serves requests
  bool network_up_ = true;  // sessions can be opened and stay valid
  bool flaky_ = true;       // every 7th request times out
  int requests_ = 0;
  int sessions_opened_ = 0;
  mend::circuit_breaker breaker_;
  mend::retry_policy retry_;
  mend::connection_pool<aif_session> pool_;
};

}  // namespace mcp_status

#endif  // MEND_EXAMPLES_SIMULATED_WORKLOAD_HPP
