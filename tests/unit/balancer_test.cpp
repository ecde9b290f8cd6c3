#include <mend/balancer.hpp>
#include <mend/breaker_signal.hpp>
#include <mend/circuit_breaker.hpp>
#include <mend/config_error.hpp>
#include <mend/endpoint_health.hpp>
#include <mend/error.hpp>
#include <mend/health_checker.hpp>
#include <mend/manual_clock.hpp>
#include <mend/recording_sink.hpp>
#include <mend/trip_policy/failure_rate.hpp>

#include "concurrent_checks.hpp"
#include "recording_alert_handler.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using mend::endpoint_health;

namespace {

using endpoint_list = std::vector<mend::balancer::endpoint_config>;

// Picks `count` times and returns how often each endpoint was picked.
// Errors are counted under the key "error".
std::map<std::string, int> count_picks(mend::balancer& balancer, int count) {
  std::map<std::string, int> picked;
  for (int i = 0; i < count; ++i) {
    const auto endpoint = balancer.pick();
    ++picked[endpoint ? endpoint.value() : std::string{"error"}];
  }
  return picked;
}

std::string rejected_field(mend::balancer::options opts) {
  mend::manual_clock clock;
  try {
    mend::balancer balancer{clock, std::move(opts)};
  } catch (const mend::config_error& e) {
    return e.field();
  }
  return {};
}

}  // namespace

TEST_CASE("balancer shares picks exactly by weight", "[balancer]") {
  const std::vector<std::vector<std::uint32_t>> weight_sets{
      {50, 30, 20}, {5, 3, 2}, {1, 99}, {1, 1, 1, 1}, {70, 20, 10}, {1, 24}, {100, 60, 40},
  };
  for (const auto& weights : weight_sets) {
    endpoint_list endpoints;
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      endpoints.push_back({.name = "ax" + std::to_string(i + 1), .weight = weights[i]});
      sum += weights[i];
    }
    mend::manual_clock clock;
    mend::balancer balancer{clock, {.endpoints = endpoints}};

    const auto picked = count_picks(balancer, 10'000);
    for (std::size_t i = 0; i < weights.size(); ++i) {
      INFO("weights set with sum " << sum << ", endpoint " << i + 1);
      CHECK(picked.at("ax" + std::to_string(i + 1)) == static_cast<int>(10'000 * weights[i] / sum));
    }
    CHECK_FALSE(picked.contains("error"));
  }
}

TEST_CASE("balancer interleaves picks within a round", "[balancer]") {
  mend::manual_clock clock;
  mend::balancer balancer{clock, {.endpoints = {{.name = "a", .weight = 5}, {.name = "b", .weight = 3},
                                                {.name = "c", .weight = 2}}}};
  std::string order;
  for (int i = 0; i < 20; ++i) order += balancer.pick().value();
  CHECK(order == "abcaabacba" "abcaabacba");
}

TEST_CASE("balancer returns no_healthy_endpoint when all are out", "[balancer]") {
  mend::manual_clock clock;
  mend::balancer balancer{clock, {.endpoints = {{.name = "a"}, {.name = "b"}}}};
  balancer.set_health("a", endpoint_health::unhealthy);
  balancer.set_health("b", endpoint_health::unhealthy);

  const auto picked = balancer.pick();
  REQUIRE_FALSE(picked);
  CHECK(picked.error() == mend::errc::no_healthy_endpoint);
  CHECK_FALSE(balancer.panicking());
}

TEST_CASE("balancer skips an unhealthy endpoint", "[balancer]") {
  mend::manual_clock clock;
  mend::balancer balancer{clock, {.endpoints = {{.name = "a", .weight = 2}, {.name = "b", .weight = 1}}}};
  balancer.set_health("b", endpoint_health::unhealthy);

  const auto picked = count_picks(balancer, 300);
  CHECK(picked.at("a") == 300);
  CHECK_FALSE(picked.contains("b"));

  const auto status = balancer.status("b");
  REQUIRE(status.has_value());
  CHECK_FALSE(status->in_rotation);
  CHECK(status->effective_weight == 0.0);
  CHECK(status->health == endpoint_health::unhealthy);
}

TEST_CASE("returning endpoint ramps from a tenth to full weight", "[balancer]") {
  mend::manual_clock clock;
  mend::balancer balancer{clock, {.endpoints = {{.name = "a", .weight = 100}, {.name = "b", .weight = 100}}}};
  balancer.set_health("b", endpoint_health::unhealthy);
  clock.advance(5s);
  balancer.set_health("b", endpoint_health::healthy);

  CHECK(balancer.status("b")->effective_weight == 10.0);
  CHECK(balancer.status("b")->slow_starting);
  CHECK(balancer.status("a")->effective_weight == 100.0);
  auto picked = count_picks(balancer, 1100);  // 100 : 10 while the clock does not move
  CHECK(picked.at("a") == 1000);
  CHECK(picked.at("b") == 100);

  clock.advance(6s);
  CHECK(balancer.status("b")->effective_weight == 19.0);

  clock.advance(24s);
  CHECK(balancer.status("b")->effective_weight == 55.0);
  picked = count_picks(balancer, 15'500);  // 100 : 55
  CHECK(picked.at("a") == 10'000);
  CHECK(picked.at("b") == 5'500);

  clock.advance(30s);
  CHECK(balancer.status("b")->effective_weight == 100.0);
  CHECK_FALSE(balancer.status("b")->slow_starting);
  picked = count_picks(balancer, 10'000);
  CHECK(picked.at("a") == 5'000);
  CHECK(picked.at("b") == 5'000);
}

TEST_CASE("returning endpoint of weight 1 keeps a share above zero", "[balancer]") {
  mend::manual_clock clock;
  mend::balancer balancer{clock, {.endpoints = {{.name = "a", .weight = 10}, {.name = "b", .weight = 1}}}};
  balancer.set_health("b", endpoint_health::unhealthy);
  balancer.set_health("b", endpoint_health::healthy);

  CHECK(balancer.status("b")->effective_weight == 0.1);
  const auto picked = count_picks(balancer, 1010);  // 10 : 0.1
  CHECK(picked.at("a") == 1000);
  CHECK(picked.at("b") == 10);

  clock.advance(6s);
  CHECK(balancer.status("b")->effective_weight == 0.19);
  clock.advance(24s);
  CHECK(balancer.status("b")->effective_weight == 0.55);
  clock.advance(30s);
  CHECK(balancer.status("b")->effective_weight == 1.0);
}

TEST_CASE("zero slow-start window returns full weight", "[balancer]") {
  mend::manual_clock clock;
  mend::balancer balancer{
      clock, {.endpoints = {{.name = "a"}, {.name = "b"}}, .slow_start = {.window = 0s}}};
  balancer.set_health("b", endpoint_health::unhealthy);
  balancer.set_health("b", endpoint_health::healthy);
  CHECK(balancer.status("b")->effective_weight == 1.0);
  CHECK_FALSE(balancer.status("b")->slow_starting);
}

TEST_CASE("rotation change emits one event and alert", "[balancer]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend_test::recording_alert_handler pager;
  mend::balancer balancer{clock, {.name = "ax",
                                  .endpoints = {{.name = "a", .weight = 100}, {.name = "b", .weight = 100}},
                                  .sink = &sink,
                                  .alerts = &pager}};

  balancer.set_health("b", endpoint_health::unhealthy);
  balancer.set_health("b", endpoint_health::unhealthy);
  (void)count_picks(balancer, 10);
  balancer.set_health("b", endpoint_health::healthy);
  balancer.set_health("b", endpoint_health::healthy);
  balancer.set_health("unknown", endpoint_health::unhealthy);

  CHECK(sink.count(mend::event_kind::endpoint_rotation_changed) == 2);
  CHECK(sink.count(mend::event_kind::alert_raised) == 2);
  CHECK(sink.size() == 4);
  REQUIRE(pager.size() == 2);

  const auto changes = sink.events(mend::event_kind::endpoint_rotation_changed);
  CHECK(changes[0].component == "ax");
  CHECK(changes[0].target == "b");
  CHECK(changes[0].from == "in");
  CHECK(changes[0].to == "out");
  CHECK(changes[0].reason == "unhealthy");
  CHECK(changes[0].level == mend::severity::warning);
  CHECK(changes[0].metric_value(mend::metric::weight) == 0);
  CHECK(changes[1].from == "out");
  CHECK(changes[1].to == "in");
  CHECK(changes[1].reason == "healthy");
  CHECK(changes[1].level == mend::severity::info);
  CHECK(changes[1].metric_value(mend::metric::weight) == 10);

  const auto alerts = pager.alerts();
  CHECK(alerts[0].level == mend::severity::warning);
  CHECK(alerts[0].cause == mend::event_kind::endpoint_rotation_changed);
  CHECK(alerts[0].component == "ax");
  CHECK(alerts[0].target == "b");
  CHECK(alerts[0].message == "endpoint b left rotation: unhealthy");
  CHECK(alerts[1].level == mend::severity::info);
  CHECK(alerts[1].message == "endpoint b returned to rotation at 10 % of its weight, full weight in 60s");
}

TEST_CASE("open breaker keeps endpoint out until it closes", "[balancer]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::circuit_breaker breaker_b{clock, {.name = "b"}};
  mend::balancer balancer{
      clock, {.endpoints = {{.name = "a"}, {.name = "b", .breaker = mend::breaker_signal{breaker_b}}}, .sink = &sink}};

  breaker_b.force_open();
  auto picked = count_picks(balancer, 100);
  CHECK(picked.at("a") == 100);
  CHECK_FALSE(picked.contains("b"));
  CHECK(balancer.status("b")->breaker == mend::circuit_state::open);

  breaker_b.reset();
  picked = count_picks(balancer, 11);  // 1 : 0.1 during slow start
  CHECK(picked.at("a") == 10);
  CHECK(picked.at("b") == 1);

  const auto changes = sink.events(mend::event_kind::endpoint_rotation_changed);
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].to == "out");
  CHECK(changes[0].reason == "circuit breaker open");
  CHECK(changes[1].to == "in");
  CHECK(changes[1].reason == "healthy and circuit breaker closed");
}

TEST_CASE("breaker probe brings endpoint back after open timeout", "[balancer]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  bool backend_up = false;
  mend::circuit_breaker breaker_b{clock, {.name = "b", .open_timeout = 60s, .probe = [&]() -> mend::result<void> {
                                            if (backend_up) return mend::success();
                                            return std::make_error_code(std::errc::connection_refused);
                                          }}};
  mend::balancer balancer{
      clock, {.endpoints = {{.name = "a"}, {.name = "b", .breaker = mend::breaker_signal{breaker_b}}}, .sink = &sink}};

  breaker_b.force_open();
  balancer.refresh();
  CHECK_FALSE(balancer.status("b")->in_rotation);

  clock.advance(60s);  // the probe fails: open again for 120 s
  balancer.refresh();
  CHECK_FALSE(balancer.status("b")->in_rotation);

  backend_up = true;
  clock.advance(120s);
  balancer.refresh();
  CHECK(balancer.status("b")->in_rotation);
  CHECK(sink.count(mend::event_kind::endpoint_rotation_changed) == 2);
}

TEST_CASE("half-open breaker without probe gets its test call", "[balancer]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::circuit_breaker breaker_b{clock, {.name = "b", .open_timeout = 60s}};
  mend::balancer balancer{
      clock, {.endpoints = {{.name = "a"}, {.name = "b", .breaker = mend::breaker_signal{breaker_b}}}, .sink = &sink}};
  breaker_b.force_open();
  balancer.refresh();
  clock.advance(60s);
  REQUIRE(breaker_b.state() == mend::circuit_state::half_open);

  // b is a candidate at its slow-start minimum (1 : 0.1) until the caller
  // takes the test slot.
  std::optional<mend::circuit_breaker::permit> test;
  int picks_until_b = 0;
  while (!test && picks_until_b < 100) {
    ++picks_until_b;
    if (balancer.pick().value() != "b") continue;
    if (auto permit = breaker_b.try_acquire()) test.emplace(std::move(*permit));
  }
  REQUIRE(test.has_value());
  CHECK(test->is_test());
  CHECK(picks_until_b == 6);  // smooth round-robin puts b in the middle of its round of 11

  auto picked = count_picks(balancer, 100);
  CHECK(picked.at("a") == 100);
  CHECK_FALSE(balancer.status("b")->in_rotation);

  test->success();
  CHECK(balancer.status("b")->in_rotation);
  const auto changes = sink.events(mend::event_kind::endpoint_rotation_changed);
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].to == "out");
  CHECK(changes[1].to == "in");
}

TEST_CASE("balancer reads breakers with any trip policy", "[balancer]") {
  mend::manual_clock clock;
  mend::basic_circuit_breaker<mend::failure_rate> rate_breaker{
      clock, {.name = "b", .trip = {.threshold = 0.5, .window_size = 4, .minimum_calls = 4}}};
  std::atomic<bool> c_open{false};
  mend::balancer balancer{clock, {.endpoints = {{.name = "a"},
                                                {.name = "b", .breaker = mend::breaker_signal{rate_breaker}},
                                                {.name = "c", .breaker = mend::breaker_signal::from_is_open(
                                                                  [&] { return c_open.load(); })}}}};

  for (int i = 0; i < 4; ++i)
    (void)rate_breaker.execute([]() -> mend::result<void> { return std::make_error_code(std::errc::timed_out); });
  REQUIRE(rate_breaker.state() == mend::circuit_state::open);
  c_open = true;

  const auto picked = count_picks(balancer, 50);
  CHECK(picked.at("a") == 50);
  CHECK(picked.size() == 1);
  CHECK(balancer.status("c")->breaker == mend::circuit_state::open);

  c_open = false;
  CHECK(balancer.status("c")->in_rotation);
}

TEST_CASE("panic routing sends traffic to every endpoint by weight", "[balancer]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend_test::recording_alert_handler pager;
  mend::balancer balancer{clock, {.endpoints = {{.name = "a", .weight = 3}, {.name = "b", .weight = 1}},
                                  .panic_routing = true,
                                  .sink = &sink,
                                  .alerts = &pager}};
  balancer.set_health("a", endpoint_health::unhealthy);
  CHECK_FALSE(balancer.panicking());
  balancer.set_health("b", endpoint_health::unhealthy);
  CHECK(balancer.panicking());

  auto picked = count_picks(balancer, 400);
  CHECK(picked.at("a") == 300);
  CHECK(picked.at("b") == 100);
  CHECK(balancer.status("b")->effective_weight == 1.0);

  balancer.set_health("b", endpoint_health::healthy);
  CHECK_FALSE(balancer.panicking());
  picked = count_picks(balancer, 100);
  CHECK(picked.at("b") == 100);

  const auto panics = sink.events(mend::event_kind::balancer_panic_changed);
  REQUIRE(panics.size() == 2);
  CHECK(panics[0].from == "normal");
  CHECK(panics[0].to == "panic");
  CHECK(panics[0].level == mend::severity::critical);
  CHECK(panics[1].to == "normal");
  CHECK(sink.count(mend::event_kind::endpoint_rotation_changed) == 3);
  CHECK(sink.count(mend::event_kind::alert_raised) == 5);
  CHECK(pager.count(mend::severity::critical) == 1);
  CHECK(pager.alerts()[2].message == "no healthy endpoint: panic routing sends traffic to all 2 endpoints");
}

TEST_CASE("balancer starts in panic when all unhealthy", "[balancer]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::balancer balancer{clock, {.endpoints = {{.name = "a", .health = endpoint_health::unhealthy}},
                                  .panic_routing = true,
                                  .sink = &sink}};
  CHECK(balancer.panicking());
  CHECK(balancer.pick().value() == "a");
  CHECK(sink.size() == 0);
}

TEST_CASE("ejection cap holds latest failing endpoint", "[balancer]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend_test::recording_alert_handler pager;
  mend::balancer balancer{clock, {.endpoints = {{.name = "a"}, {.name = "b"}, {.name = "c"}, {.name = "d"}},
                                  .slow_start = {.window = 0s},
                                  .max_ejection_percent = 50,
                                  .sink = &sink,
                                  .alerts = &pager}};

  balancer.set_health("a", endpoint_health::unhealthy);
  balancer.set_health("b", endpoint_health::unhealthy);
  balancer.set_health("c", endpoint_health::unhealthy);

  CHECK_FALSE(balancer.status("a")->in_rotation);
  CHECK_FALSE(balancer.status("b")->in_rotation);
  CHECK(balancer.status("c")->in_rotation);
  CHECK(balancer.status("c")->held_by_cap);
  auto picked = count_picks(balancer, 100);
  CHECK(picked.at("c") == 50);
  CHECK(picked.at("d") == 50);

  CHECK(sink.count(mend::event_kind::endpoint_rotation_changed) == 2);
  REQUIRE(pager.size() == 3);
  CHECK(pager.alerts()[2].level == mend::severity::critical);
  CHECK(pager.alerts()[2].target == "c");
  CHECK(pager.alerts()[2].message ==
        "endpoint c is unhealthy but stays in rotation: 2 of 4 endpoints are already out (max_ejection_percent = 50)");

  // a returns, which frees a slot: c leaves.
  balancer.set_health("a", endpoint_health::healthy);
  CHECK(balancer.status("a")->in_rotation);
  CHECK_FALSE(balancer.status("c")->in_rotation);
  CHECK_FALSE(balancer.status("c")->held_by_cap);
  picked = count_picks(balancer, 100);
  CHECK(picked.at("a") == 50);
  CHECK(picked.at("d") == 50);

  const auto changes = sink.events(mend::event_kind::endpoint_rotation_changed);
  REQUIRE(changes.size() == 4);
  CHECK(changes[2].target == "a");
  CHECK(changes[2].to == "in");
  CHECK(changes[3].target == "c");
  CHECK(changes[3].to == "out");
  CHECK(pager.size() == 5);
}

TEST_CASE("recovered held endpoint stays in silently", "[balancer]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::balancer balancer{clock, {.endpoints = {{.name = "a"}, {.name = "b"}},
                                  .max_ejection_percent = 10,  // at least one may leave
                                  .sink = &sink}};
  balancer.set_health("a", endpoint_health::unhealthy);
  balancer.set_health("b", endpoint_health::unhealthy);
  CHECK(balancer.status("b")->held_by_cap);

  balancer.set_health("b", endpoint_health::healthy);
  CHECK(balancer.status("b")->in_rotation);
  CHECK_FALSE(balancer.status("b")->held_by_cap);
  CHECK(sink.count(mend::event_kind::endpoint_rotation_changed) == 1);
  CHECK(sink.count(mend::event_kind::alert_raised) == 2);
}

TEST_CASE("ejection cap of zero ejects no endpoint", "[balancer]") {
  mend::manual_clock clock;
  mend::balancer balancer{clock, {.endpoints = {{.name = "a"}, {.name = "b"}}, .max_ejection_percent = 0}};
  balancer.set_health("a", endpoint_health::unhealthy);
  CHECK(balancer.status("a")->in_rotation);
  CHECK(balancer.status("a")->held_by_cap);
}

TEST_CASE("set_weight changes shares from the next pick", "[balancer]") {
  mend::manual_clock clock;
  mend::balancer balancer{clock, {.endpoints = {{.name = "blue", .weight = 100}, {.name = "green", .weight = 0}}}};
  auto picked = count_picks(balancer, 100);
  CHECK(picked.at("blue") == 100);

  REQUIRE(balancer.set_weight("green", 10));
  REQUIRE(balancer.set_weight("blue", 90));
  CHECK(balancer.weight("green").value() == 10);
  CHECK(balancer.weight("blue").value() == 90);
  picked = count_picks(balancer, 10'000);
  CHECK(picked.at("blue") == 9'000);
  CHECK(picked.at("green") == 1'000);

  REQUIRE(balancer.set_weight("blue", 0));
  picked = count_picks(balancer, 100);
  CHECK(picked.at("green") == 100);
}

TEST_CASE("set_weight rejects unknown names and 101", "[balancer]") {
  mend::manual_clock clock;
  mend::balancer balancer{clock, {.endpoints = {{.name = "a", .weight = 5}}}};
  CHECK(balancer.set_weight("a", 101).error() == mend::errc::invalid_argument);
  CHECK(balancer.set_weight("x", 1).error() == mend::errc::invalid_argument);
  CHECK(balancer.weight("x").error() == mend::errc::invalid_argument);
  CHECK(balancer.weight("a").value() == 5);
  CHECK(balancer.set_weight("a", 100));
  CHECK(balancer.weight("a").value() == 100);
}

TEST_CASE("endpoints of weight 0 get no picks", "[balancer]") {
  mend::manual_clock clock;
  mend::balancer balancer{clock, {.endpoints = {{.name = "a", .weight = 0}, {.name = "b", .weight = 0}},
                                  .panic_routing = true}};
  CHECK(balancer.pick().error() == mend::errc::no_healthy_endpoint);
  CHECK_FALSE(balancer.panicking());
}

TEST_CASE("added and removed endpoints change rounds", "[balancer]") {
  mend::manual_clock clock;
  mend::balancer balancer{clock, {.endpoints = {{.name = "a"}}}};
  balancer.add({.name = "b", .weight = 3});
  auto picked = count_picks(balancer, 400);
  CHECK(picked.at("a") == 100);
  CHECK(picked.at("b") == 300);

  balancer.add({.name = "c", .health = endpoint_health::unhealthy});
  CHECK_FALSE(balancer.status("c")->in_rotation);

  CHECK(balancer.remove("b"));
  CHECK_FALSE(balancer.remove("b"));
  picked = count_picks(balancer, 100);
  CHECK(picked.at("a") == 100);
  CHECK(balancer.endpoints().size() == 2);
  CHECK_THROWS_WITH(balancer.add({.name = "a"}), "balancer: invalid endpoints.name = a (is already in the balancer)");
}

TEST_CASE("health checker drives the balancer", "[balancer]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::balancer balancer{clock, {.endpoints = {{.name = "a", .weight = 100}, {.name = "b", .weight = 100}},
                                  .sink = &sink}};
  std::string script = "SFFFSSSSSS";
  std::size_t next = 0;
  mend::health_checker checker{clock, {.observers = {&balancer}, .sink = &sink}};
  checker.add("a", [](const mend::probe_context&) -> mend::result<void> { return mend::success(); });
  checker.add("b", [&](const mend::probe_context&) -> mend::result<void> {
    if (script.at(next++) == 'F') return std::make_error_code(std::errc::connection_refused);
    return mend::success();
  });

  clock.run_due();    // S
  clock.advance(20s);  // F F
  CHECK(balancer.status("b")->in_rotation);
  clock.advance(10s);  // F: the third failure in a row
  CHECK_FALSE(balancer.status("b")->in_rotation);
  clock.advance(10s);  // S
  CHECK_FALSE(balancer.status("b")->in_rotation);
  clock.advance(10s);  // S: back, ramping from 10
  CHECK(balancer.status("b")->in_rotation);
  CHECK(balancer.status("b")->effective_weight == 10.0);
  clock.advance(30s);
  CHECK(balancer.status("b")->effective_weight == 55.0);

  CHECK(sink.count(mend::event_kind::endpoint_health_changed) == 2);
  CHECK(sink.count(mend::event_kind::endpoint_rotation_changed) == 2);
  CHECK(sink.count(mend::event_kind::alert_raised) == 4);
}

TEST_CASE("alert handler runs without the balancer lock held", "[balancer]") {
  mend::manual_clock clock;
  mend::balancer* balancer_ptr = nullptr;
  std::size_t seen = 0;
  // endpoints() takes the balancer's lock, so this deadlocks if on_alert runs under it.
  mend_test::recording_alert_handler pager{[&](const mend::alert&) { seen = balancer_ptr->endpoints().size(); }};
  mend::balancer balancer{clock, {.endpoints = {{.name = "a"}, {.name = "b"}}, .alerts = &pager}};
  balancer_ptr = &balancer;

  balancer.set_health("a", endpoint_health::unhealthy);
  CHECK(pager.size() == 1);
  CHECK(seen == 2);
}

TEST_CASE("balancer rejects invalid options", "[balancer]") {
  CHECK(rejected_field({.endpoints = {{.name = "a", .weight = 101}}}) == "endpoints.weight");
  CHECK(rejected_field({.endpoints = {{.name = ""}}}) == "endpoints.name");
  CHECK(rejected_field({.endpoints = {{.name = "a"}, {.name = "a"}}}) == "endpoints.name");
  CHECK(rejected_field({.max_ejection_percent = 101}) == "max_ejection_percent");
  CHECK(rejected_field({.slow_start = {.window = -1s}}) == "slow_start.window");
  CHECK(rejected_field({.slow_start = {.min_share = 0.0}}) == "slow_start.min_share");
  CHECK(rejected_field({.endpoints = {{.name = "a", .weight = 0}, {.name = "b", .weight = 100}},
                        .max_ejection_percent = 100})
            .empty());

  mend::manual_clock clock;
  CHECK_THROWS_WITH((mend::balancer{clock, {.endpoints = {{.name = "ax1", .weight = 150}}}}),
                    "balancer: invalid endpoints.weight = 150 (endpoint ax1 must have a weight between 0 and 100)");
}

TEST_CASE("concurrent picks while health changes", "[balancer][threads]") {
  constexpr int pickers = 8;
  constexpr int picks_per_thread = 20'000;
  constexpr int health_flips = 2'000;
  constexpr int checks = 300;

  mend::manual_clock clock;
  mend::recording_sink sink;
  mend_test::recording_alert_handler pager;
  mend::circuit_breaker breaker_d{clock, {.name = "d"}};
  mend::balancer balancer{clock, {.endpoints = {{.name = "a", .weight = 10},
                                                {.name = "b", .weight = 5},
                                                {.name = "c", .weight = 5},
                                                {.name = "d", .weight = 5, .breaker = mend::breaker_signal{breaker_d}},
                                                {.name = "e", .weight = 5}},
                                  .sink = &sink,
                                  .alerts = &pager}};

  // e is checked by a health checker whose probe fails three times, then
  // passes twice, over and over: one departure and one return per 5 checks.
  std::atomic<int> probe_calls{0};
  mend::health_checker checker{clock, {.name = "checks", .observers = {&balancer}, .sink = &sink}};
  checker.add("e", [&](const mend::probe_context&) -> mend::result<void> {
    if (probe_calls.fetch_add(1) % 5 < 3) return std::make_error_code(std::errc::connection_refused);
    return mend::success();
  });

  mend::testing::concurrent_checks expectations;
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  std::atomic<long> picked_total{0};
  for (int t = 0; t < pickers; ++t) {
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < picks_per_thread; ++i) {
        const auto endpoint = balancer.pick();
        MEND_EXPECT(expectations, endpoint.has_value());
        if (endpoint) ++picked_total;
      }
    });
  }
  threads.emplace_back([&] {  // health of b
    while (!go.load()) std::this_thread::yield();
    for (int i = 0; i < health_flips; ++i)
      balancer.set_health("b", i % 2 == 0 ? endpoint_health::unhealthy : endpoint_health::healthy);
  });
  threads.emplace_back([&] {  // weight of c
    while (!go.load()) std::this_thread::yield();
    for (int i = 0; i < health_flips; ++i) MEND_EXPECT(expectations, balancer.set_weight("c", i % 2 == 0 ? 1 : 50));
  });
  threads.emplace_back([&] {  // breaker of d
    while (!go.load()) std::this_thread::yield();
    for (int i = 0; i < health_flips; ++i) {
      if (i % 2 == 0) {
        breaker_d.force_open();
      } else {
        breaker_d.reset();
      }
    }
  });
  threads.emplace_back([&] {  // time, and with it the checks of e
    while (!go.load()) std::this_thread::yield();
    clock.run_due();
    for (int i = 1; i < checks; ++i) clock.advance(10s);
  });

  go = true;
  for (auto& thread : threads) thread.join();
  balancer.refresh();
  MEND_REQUIRE_NO_FAILURES(expectations);

  CHECK(picked_total.load() == pickers * picks_per_thread);
  CHECK(probe_calls.load() == checks);

  // Every endpoint alternates out, in, out, in: no transition is reported
  // twice, and each has exactly one alert.
  std::map<std::string, std::vector<std::string>> transitions;
  for (const auto& change : sink.events(mend::event_kind::endpoint_rotation_changed))
    transitions[change.target].push_back(change.to);
  for (const auto& [endpoint, sequence] : transitions) {
    INFO("endpoint " << endpoint);
    for (std::size_t i = 0; i < sequence.size(); ++i) CHECK(sequence[i] == (i % 2 == 0 ? "out" : "in"));
    CHECK(sequence.size() % 2 == 0);
  }
  CHECK(transitions["b"].size() == health_flips);
  CHECK(transitions["e"].size() == 2 * checks / 5);
  CHECK_FALSE(transitions.contains("a"));
  CHECK_FALSE(transitions.contains("c"));
  CHECK(sink.count(mend::event_kind::endpoint_health_changed) == 2 * checks / 5);

  const auto rotation_changes = sink.count(mend::event_kind::endpoint_rotation_changed);
  const auto health_changes = sink.count(mend::event_kind::endpoint_health_changed);
  CHECK(sink.count(mend::event_kind::alert_raised) == rotation_changes + health_changes);
  CHECK(pager.size() == rotation_changes);  // only the balancer has the pager
  CHECK(balancer.weight("c").value() == 50);
}
