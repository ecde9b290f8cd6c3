// The circuit breaker's options and controls, each checked on the manual
// clock. The regions between [snippet:...] markers are shown in
// docs/breaker.md; ctest checks that the guide and this file agree.
#include <mend/mend.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

namespace {

int failures = 0;

void expect(bool ok, const char* description) {
  if (!ok) {
    std::fprintf(stderr, "breaker_basics: expectation failed: %s\n", description);
    ++failures;
  }
}

// Stands in for an AIF client whose calls fail while `down` is set.
struct aif_client {
  bool down = false;
  mend::result<std::string> read_customer(int id) const {
    if (down) return mend::http_error(503);
    return fmt::format("CUST-{}", id);
  }
};

}  // namespace

int main() {
  mend::manual_clock clock;
  aif_client aif;

  {
    // [snippet:defaults]
    mend::recording_sink events;  // or a log_sink, or a status_reporter
    mend::circuit_breaker breaker{clock, {.name = "aif_customers", .sink = &events}};

    aif.down = true;
    for (int i = 0; i < 5; ++i) {
      auto customer = breaker.execute([&] { return aif.read_customer(7); });
    }
    // Five consecutive failures open the circuit for 60 s: calls now fail at
    // once with circuit_open, without reaching the backend.
    auto rejected = breaker.execute([&] { return aif.read_customer(7); });
    // rejected.error() == mend::errc::circuit_open

    clock.advance(60s);  // the open timeout expires: half_open
    aif.down = false;
    auto test = breaker.execute([&] { return aif.read_customer(7); });
    // The successful test call closed the circuit again.
    // [/snippet]
    expect(rejected.error() == mend::errc::circuit_open, "open breaker rejects");
    expect(test.value() == "CUST-7", "test call returns the value");
    expect(breaker.state() == mend::circuit_state::closed, "successful test closes");
    expect(events.count(mend::event_kind::breaker_state_changed) == 3, "three transitions");
  }

  {
    // [snippet:failure-rate]
    mend::basic_circuit_breaker<mend::failure_rate> breaker{
        clock, {.name = "aif_orders",
                .trip = {.threshold = 0.5, .window_size = 20, .minimum_calls = 10},
                .open_timeout = 30s,
                .max_open_timeout = 5min}};
    // [/snippet]
    aif.down = true;
    for (int i = 0; i < 9; ++i) {
      auto outcome = breaker.execute([&] { return aif.read_customer(1); });
    }
    expect(breaker.state() == mend::circuit_state::closed, "nine calls are below minimum_calls");
    auto tenth = breaker.execute([&] { return aif.read_customer(1); });
    expect(breaker.state() == mend::circuit_state::open, "the tenth failure opens");
    expect(*breaker.open_until() - clock.now() == 30s, "open for 30 s");
  }

  {
    // [snippet:probe]
    // With a probe, the breaker tests the backend itself when the open
    // timeout expires, so it recovers even when no caller tries.
    mend::circuit_breaker breaker{
        clock, {.name = "aif_probe",
                .probe = [&]() -> mend::result<void> {
                  auto pong = aif.read_customer(0);
                  if (!pong) return pong.error();
                  return mend::success();
                }}};
    // [/snippet]
    breaker.force_open();
    aif.down = true;
    clock.advance(60s);
    expect(breaker.state() == mend::circuit_state::open, "failed probe reopens");
    expect(breaker.stats().open_timeout == 120s, "failed probe doubles the timeout");
    aif.down = false;
    clock.advance(120s);
    expect(breaker.state() == mend::circuit_state::closed, "good probe closes");
    expect(breaker.stats().auto_recoveries == 1, "one auto recovery");
  }

  {
    mend::circuit_breaker breaker{clock, {.name = "aif_manual"}};
    // [snippet:manual]
    breaker.isolate();     // open until reset(): maintenance window
    breaker.reset();       // closed, counts and grown timeout forgotten
    breaker.force_open();  // open as if tripped: recovers by itself
    const mend::circuit_breaker_stats stats = breaker.stats();
    fmt::print("{}: {} failures, {} rejections, {} auto recoveries\n", breaker.name(), stats.failures,
               stats.rejections, stats.auto_recoveries);
    // [/snippet]
    expect(stats.state == mend::circuit_state::open, "force_open opens");
  }

  if (failures == 0) std::puts("breaker_basics: all expectations met");
  return failures == 0 ? 0 : 1;
}
