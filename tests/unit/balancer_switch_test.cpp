#include <mend/balancer.hpp>
#include <mend/balancer_switch.hpp>
#include <mend/error.hpp>
#include <mend/health_checker.hpp>
#include <mend/manual_clock.hpp>
#include <mend/recording_sink.hpp>
#include <mend/rollout.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <string>

using namespace std::chrono_literals;

namespace {

mend::balancer::options blue_green_options() {
  return {.name = "ax",
          .endpoints = {{.name = "blue", .weight = 100},
                        {.name = "green", .weight = 0, .health = mend::endpoint_health::unhealthy}},
          .slow_start = {.window = 0s}};
}

// Counts the endpoints of `picks` consecutive picks.
std::map<std::string, int> count_picks(mend::balancer& balancer, int picks) {
  std::map<std::string, int> counts;
  for (int i = 0; i < picks; ++i) {
    const auto picked = balancer.pick();
    ++counts[picked ? picked.value() : std::string("none")];
  }
  return counts;
}

}  // namespace

TEST_CASE("balancer switch sets endpoint weights", "[balancer_switch]") {
  mend::manual_clock clock;
  mend::balancer balancer{clock, blue_green_options()};
  mend::balancer_switch traffic{balancer};

  REQUIRE(traffic.apply({{"blue", 90}, {"green", 10}}));

  CHECK(balancer.weight("blue").value() == 90);
  CHECK(balancer.weight("green").value() == 10);
  CHECK(traffic.weight("green").value() == 10);
}

TEST_CASE("balancer switch names an unknown endpoint", "[balancer_switch]") {
  mend::manual_clock clock;
  mend::balancer balancer{clock, blue_green_options()};
  mend::balancer_switch traffic{balancer};

  const auto outcome = traffic.apply({{"blue", 90}, {"red", 10}});

  REQUIRE_FALSE(outcome);
  CHECK(outcome.error() == mend::errc::invalid_argument);
  CHECK(traffic.last_error().message == "reading the weight of red failed: balancer ax has no endpoint named red");
  CHECK(balancer.weight("blue").value() == 100);
}

TEST_CASE("rollout over a balancer shifts picks", "[balancer_switch]") {
  mend::manual_clock clock;
  mend::balancer balancer{clock, blue_green_options()};
  bool green_up = true;
  mend::health_checker checker{clock, {.name = "checks", .interval = 1s, .timeout = 1s, .observers = {&balancer}}};
  checker.add(
      "green",
      [&](const mend::probe_context&) -> mend::result<void> {
        if (green_up) return mend::success();
        return make_error_code(mend::errc::connect_failed);
      },
      mend::endpoint_health::unhealthy);
  mend::balancer_switch traffic{balancer};
  mend::recording_sink sink;
  mend::rollout deploy{
      clock,
      traffic,
      {.name = "deploy", .hold = 10s, .health_interval = 1s, .green_health = checker.signal("green"), .sink = &sink}};

  REQUIRE(deploy.start());
  CHECK(deploy.state() == mend::rollout_state::verifying);
  CHECK(count_picks(balancer, 100) == std::map<std::string, int>{{"blue", 100}});

  // Two successful checks (rise) make green healthy; the rollout reads it at
  // its next health reading and gives green its first step.
  clock.advance(3s);
  REQUIRE(deploy.state() == mend::rollout_state::shifting);
  CHECK(count_picks(balancer, 100) == std::map<std::string, int>{{"blue", 90}, {"green", 10}});

  clock.advance(10s);
  CHECK(count_picks(balancer, 100) == std::map<std::string, int>{{"blue", 50}, {"green", 50}});

  // Three failed checks (fall, at 14, 15 and 16 s) make green unhealthy:
  // the balancer takes it out of rotation and the rollout rolls back at its
  // next health reading, by 17 s.
  green_up = false;
  clock.advance(4s);
  CHECK(deploy.state() == mend::rollout_state::rolled_back);
  CHECK(balancer.weight("blue").value() == 100);
  CHECK(balancer.weight("green").value() == 0);
  CHECK(count_picks(balancer, 100) == std::map<std::string, int>{{"blue", 100}});
  REQUIRE(sink.count(mend::event_kind::rollout_rolled_back) == 1);
  CHECK(sink.events(mend::event_kind::rollout_rolled_back)[0].reason.starts_with(
      "green failed its health checks at 50% (unhealthy, 3 failed checks in a row"));
}
