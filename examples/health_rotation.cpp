// A connector spreads its calls over three AX application servers, weighted
// 50/30/20. At t = 20 s ax2 stops responding. Its circuit breaker opens on the
// fifth failed call and the balancer stops sending it traffic; three failed
// health checks later it is also marked unhealthy. At t = 60 s ax2 responds
// again: two passing checks make it healthy, the breaker's test call closes
// the breaker, and ax2 ramps back in from 10 % of its weight over 60 s.
//
// The table shows the share of the calls each server received in every 10 s
// interval (100 calls, one every 100 ms). Everything runs on the manual
// clock, so the program finishes at once. The regions between [snippet:...]
// markers are shown in docs/health.md.
#include <mend/alert_handler.hpp>
#include <mend/balancer.hpp>
#include <mend/breaker_signal.hpp>
#include <mend/circuit_breaker.hpp>
#include <mend/error.hpp>
#include <mend/health_checker.hpp>
#include <mend/manual_clock.hpp>
#include <mend/result.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>

using namespace std::chrono_literals;

namespace {

int failures = 0;

void expect(bool ok, const char* description) {
  if (!ok) {
    std::fprintf(stderr, "health_rotation: expectation failed: %s\n", description);
    ++failures;
  }
}

// Stands in for an AX application server that can stop responding.
struct ax_server {
  std::string name;
  bool responding = true;

  mend::result<void> call() const {
    if (!responding) return make_error_code(mend::errc::connect_failed);
    return mend::success();
  }
};

// Prints each alert where a real handler would page an operator.
class printing_pager final : public mend::alert_handler {
 public:
  explicit printing_pager(const mend::clock& clock) : start_(clock.now()) {}

  void on_alert(const mend::alert& raised) override {
    const auto at = std::chrono::duration<double>(raised.at - start_).count();
    fmt::print("        alert at {:5.1f} s [{}] {}\n", at, mend::to_string(raised.level), raised.message);
  }

 private:
  mend::time_point start_;  // t = 0 in the output
};

}  // namespace

int main() {
  mend::manual_clock clock;
  printing_pager pager{clock};
  std::array<ax_server, 3> servers{{{"ax1"}, {"ax2"}, {"ax3"}}};
  std::map<std::string, mend::circuit_breaker, std::less<>> breakers;
  for (const auto& server : servers) {
    breakers.try_emplace(server.name, clock, mend::circuit_breaker::options{.name = server.name});
  }

  // [snippet:setup]
  // Routes by weight to the servers that are healthy and whose breaker is closed.
  mend::balancer balancer{
      clock, {.name = "ax_servers",
              .endpoints = {{.name = "ax1", .weight = 50, .breaker = mend::breaker_signal{breakers.at("ax1")}},
                            {.name = "ax2", .weight = 30, .breaker = mend::breaker_signal{breakers.at("ax2")}},
                            {.name = "ax3", .weight = 20, .breaker = mend::breaker_signal{breakers.at("ax3")}}},
              .alerts = &pager}};

  // Active checks run every 10 s, and each health transition reaches the balancer.
  mend::health_checker checker{clock, {.name = "ax_checks", .observers = {&balancer}, .alerts = &pager}};
  for (auto& server : servers) {
    checker.add(server.name, [&server](const mend::probe_context&) { return server.call(); });
  }
  // [/snippet]

  fmt::print("interval     ax1    ax2    ax3  failed  ax2 weight\n");
  int ax2_calls_while_down = 0;
  int failed_calls = 0;
  std::map<std::string, int> last_interval;
  clock.run_due();  // the first checks
  for (int interval = 0; interval < 16; ++interval) {
    const auto seconds = interval * 10;
    servers[1].responding = seconds < 20 || seconds >= 60;

    std::map<std::string, int> calls;
    int failed = 0;
    for (int i = 0; i < 100; ++i) {
      clock.advance(100ms);
      // [snippet:call]
      const mend::result<std::string> endpoint = balancer.pick();
      if (!endpoint) {
        ++failed;  // errc::no_healthy_endpoint
        continue;
      }
      const ax_server& server = *std::find_if(servers.begin(), servers.end(),
                                              [&](const ax_server& s) { return s.name == endpoint.value(); });
      const mend::result<void> outcome = breakers.at(server.name).execute([&] { return server.call(); });
      // [/snippet]
      ++calls[endpoint.value()];
      if (!outcome) ++failed;
      if (server.name == "ax2" && !server.responding) ++ax2_calls_while_down;
    }
    failed_calls += failed;
    last_interval = calls;

    const auto ax2 = balancer.status("ax2");
    fmt::print("{:3}-{:3} s {:5}% {:5}% {:5}% {:7} {:11.2f}\n", seconds, seconds + 10, calls["ax1"], calls["ax2"],
               calls["ax3"], failed, ax2->effective_weight);
  }

  // The breaker opened on the fifth failed call, so no more calls failed.
  expect(ax2_calls_while_down == 5, "ax2 received 5 calls while down");
  expect(failed_calls == 5, "5 calls failed in all");
  expect(last_interval["ax1"] == 50, "ax1 is back to 50 % in the last interval");
  expect(last_interval["ax2"] == 30, "ax2 is back to 30 % in the last interval");
  expect(last_interval["ax3"] == 20, "ax3 is back to 20 % in the last interval");
  expect(checker.health("ax2") == mend::endpoint_health::healthy, "ax2 is healthy at the end");
  return failures == 0 ? 0 : 1;
}
