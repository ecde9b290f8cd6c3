// Many threads pick endpoints while a health checker, driven by a thread that
// moves the clock, takes endpoints out of rotation and brings them back, and
// an operator isolates and resets circuit breakers. The rule under test: a
// pick never returns an endpoint that was known to be out of rotation for
// the whole pick.
#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mend/balancer.hpp>
#include <mend/circuit_breaker.hpp>
#include <mend/health_checker.hpp>
#include <mend/manual_clock.hpp>
#include <mend/recording_sink.hpp>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "concurrent_checks.hpp"

using namespace std::chrono_literals;

namespace {

constexpr std::size_t endpoint_count = 4;
const std::array<std::string, endpoint_count> names{"ax1", "ax2", "ax3", "ax4"};

std::size_t index_of(std::string_view name) {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return i;
  return names.size();
}

// Whether the balancer was told that an endpoint is out for one reason, as a
// counter of changes: odd while known out. Marked out only after the balancer
// was told, and marked in before it is told, so a pick that reads the same odd
// value before and after it ran while the endpoint was out the whole time.
class known_out {
 public:
  void mark_out(std::size_t i) {
    if (changes_[i].load() % 2 == 0) changes_[i].fetch_add(1);
  }
  void mark_in(std::size_t i) {
    if (changes_[i].load() % 2 == 1) changes_[i].fetch_add(1);
  }
  std::uint64_t read(std::size_t i) const { return changes_[i].load(); }

 private:
  std::array<std::atomic<std::uint64_t>, endpoint_count> changes_{};
};

// Marks health changes around the balancer: the checker calls its observers
// in order, so one copy goes before the balancer and one after it.
class known_out_observer final : public mend::health_observer {
 public:
  known_out_observer(known_out& unhealthy, bool before_balancer)
      : unhealthy_(unhealthy), before_balancer_(before_balancer) {}

  void set_health(std::string_view endpoint, mend::endpoint_health health) override {
    const auto i = index_of(endpoint);
    if (i == names.size()) return;
    const bool unhealthy = health == mend::endpoint_health::unhealthy;
    if (before_balancer_ && !unhealthy) unhealthy_.mark_in(i);
    if (!before_balancer_ && unhealthy) unhealthy_.mark_out(i);
  }

 private:
  known_out& unhealthy_;
  const bool before_balancer_;
};

}  // namespace

TEST_CASE("balancer skips endpoints known out of rotation", "[balancer][health_checker][threads][stress]") {
  constexpr int pickers = 6;
  constexpr int clock_steps = 400;  // 200 s in steps of 500 ms: 200 checks per endpoint

  mend::manual_clock clock;
  mend::recording_sink sink;
  known_out unhealthy_known;  // changed by the health checker's observers only
  known_out isolated_known;   // changed by the operator thread only
  std::array<std::atomic<bool>, endpoint_count> probe_fails{};

  std::vector<std::unique_ptr<mend::circuit_breaker>> breakers;
  std::vector<mend::balancer::endpoint_config> endpoints;
  for (std::size_t i = 0; i < endpoint_count; ++i) {
    breakers.push_back(
        std::make_unique<mend::circuit_breaker>(clock, mend::circuit_breaker::options{.name = names[i]}));
    endpoints.push_back({.name = names[i],
                         .weight = static_cast<std::uint32_t>(10 * (i + 1)),
                         .breaker = mend::breaker_signal{*breakers.back()}});
  }
  mend::balancer balancer{clock, {.name = "ax", .endpoints = endpoints, .slow_start = {.window = 20s}, .sink = &sink}};

  known_out_observer before{unhealthy_known, true};
  known_out_observer after{unhealthy_known, false};
  mend::health_checker checker{clock,
                               {.name = "checks",
                                .interval = 1s,
                                .timeout = 1s,
                                .fall = 2,
                                .rise = 2,
                                .observers = {&before, &balancer, &after},
                                .sink = &sink}};
  for (std::size_t i = 0; i < endpoint_count; ++i) {
    checker.add(names[i], [&probe_fails, i](const mend::probe_context&) -> mend::result<void> {
      if (probe_fails[i].load()) return std::make_error_code(std::errc::connection_refused);
      return mend::success();
    });
  }

  mend::testing::concurrent_checks checks;
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> picked{0};
  std::atomic<std::uint64_t> refused{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < pickers; ++t) {
    threads.emplace_back([&] {
      while (!done.load()) {
        std::array<std::uint64_t, endpoint_count> unhealthy_before{};
        std::array<std::uint64_t, endpoint_count> isolated_before{};
        for (std::size_t e = 0; e < endpoint_count; ++e) {
          unhealthy_before[e] = unhealthy_known.read(e);
          isolated_before[e] = isolated_known.read(e);
        }
        const auto endpoint = balancer.pick();
        if (!endpoint) {
          MEND_EXPECT(checks, endpoint.error() == mend::errc::no_healthy_endpoint);
          refused.fetch_add(1);
          continue;
        }
        picked.fetch_add(1);
        const auto e = index_of(endpoint.value());
        MEND_EXPECT(checks, e < endpoint_count);
        if (e >= endpoint_count) continue;
        // Unhealthy, or isolated, from before the pick until after it.
        const bool unhealthy_throughout =
            unhealthy_before[e] % 2 == 1 && unhealthy_known.read(e) == unhealthy_before[e];
        const bool isolated_throughout = isolated_before[e] % 2 == 1 && isolated_known.read(e) == isolated_before[e];
        MEND_EXPECT(checks, !unhealthy_throughout);
        MEND_EXPECT(checks, !isolated_throughout);
      }
    });
  }
  // The driver: probe results on a schedule, an operator isolating and
  // resetting breakers, and time, and with it the checks.
  threads.emplace_back([&] {
    std::mt19937 random(12);
    for (int step = 0; step < clock_steps; ++step) {
      for (std::size_t e = 0; e < endpoint_count; ++e)
        probe_fails[e].store((step / static_cast<int>(8 + 3 * e)) % 3 == 0);
      if (step % 5 == 0) {
        const auto e = random() % endpoint_count;
        if (random() % 2 == 0) {
          breakers[e]->isolate("maintenance");
          isolated_known.mark_out(e);
        } else {
          isolated_known.mark_in(e);
          breakers[e]->reset("maintenance over");
        }
      }
      clock.advance(500ms);
      std::this_thread::yield();
    }
    done.store(true);
  });
  threads.emplace_back([&] {
    while (!done.load()) {
      // A snapshot is consistent: in rotation exactly when healthy and
      // closed, and an endpoint out of rotation has no weight.
      for (const auto& status : balancer.endpoints()) {
        MEND_EXPECT(checks, status.in_rotation == (status.health == mend::endpoint_health::healthy &&
                                                   status.breaker == mend::circuit_state::closed));
        if (!status.in_rotation) MEND_EXPECT(checks, status.effective_weight == 0.0);
        if (status.in_rotation) MEND_EXPECT(checks, status.effective_weight > 0.0);
      }
      std::this_thread::yield();
    }
  });
  for (auto& thread : threads) thread.join();
  MEND_REQUIRE_NO_FAILURES(checks);

  CHECK(picked.load() > 0);
  CHECK(sink.count(mend::event_kind::endpoint_health_changed) > 0);

  // Each endpoint alternates out, in, out, ...: no transition reported twice.
  std::array<std::string, endpoint_count> last{"in", "in", "in", "in"};
  std::uint64_t departures = 0;
  for (const auto& change : sink.events(mend::event_kind::endpoint_rotation_changed)) {
    const auto e = index_of(change.target);
    REQUIRE(e < endpoint_count);
    CHECK(change.from == last[e]);
    CHECK(change.to != change.from);
    if (change.to == "out") ++departures;
    last[e] = change.to;
  }
  CHECK(departures > 0);
}
