#include <mend/balancer.hpp>
#include <mend/balancer_switch.hpp>
#include <mend/config_error.hpp>
#include <mend/error.hpp>
#include <mend/manual_clock.hpp>
#include <mend/recording_sink.hpp>
#include <mend/rollout.hpp>

#include <catch2/catch.hpp>

#include "fake_traffic_switch.hpp"
#include "recording_alert_handler.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

using namespace std::chrono_literals;
using mend_test::fake_traffic_switch;
using strings = std::vector<std::string>;

namespace {

// Green's health as a test sets it; every reading is counted.
struct green_health {
  bool healthy = true;
  std::string reason = "UP";
  int readings = 0;

  mend::health_signal signal() {
    return [this] {
      ++readings;
      return mend::health_reading{healthy, reason};
    };
  }
};

// A rollout over blue 100 / green 0 with a 10 s hold and a 1 s health interval.
struct rollout_fixture {
  explicit rollout_fixture(std::map<std::string, int, std::less<>> weights = {{"blue", 100}, {"green", 0}})
      : traffic(std::move(weights)) {}

  mend::manual_clock clock;
  fake_traffic_switch traffic;
  green_health green;
  mend::recording_sink sink;
  mend::time_point start = clock.now();

  mend::rollout::options options() {
    return {.name = "deploy",
            .hold = 10s,
            .health_interval = 1s,
            .health_timeout = 30s,
            .green_health = green.signal(),
            .sink = &sink};
  }

  std::vector<std::string> stages(mend::event_kind kind) const {
    std::vector<std::string> out;
    for (const auto& e : sink.events(kind)) out.push_back(e.from + " -> " + e.to);
    return out;
  }
};

}  // namespace

TEST_CASE("rollout walks 10 50 100 and promotes", "[rollout]") {
  rollout_fixture f;
  mend::rollout deploy{f.clock, f.traffic, f.options()};

  REQUIRE(deploy.start());
  CHECK(deploy.state() == mend::rollout_state::shifting);
  CHECK(f.traffic.weight_of("green") == 10);
  CHECK(f.traffic.weight_of("blue") == 90);

  f.clock.advance(10s);
  CHECK(f.traffic.weight_of("green") == 50);
  CHECK(f.traffic.weight_of("blue") == 50);

  f.clock.advance(10s);
  CHECK(f.traffic.weight_of("green") == 100);
  CHECK(f.traffic.weight_of("blue") == 0);
  CHECK(deploy.state() == mend::rollout_state::shifting);

  f.clock.advance(10s);
  CHECK(deploy.state() == mend::rollout_state::promoted);
  CHECK(f.stages(mend::event_kind::rollout_started) == strings{"pending -> verifying"});
  CHECK(f.stages(mend::event_kind::rollout_step_changed) == strings{"verifying -> 10%", "10% -> 50%", "50% -> 100%"});
  CHECK(f.stages(mend::event_kind::rollout_promoted) == strings{"100% -> promoted"});
  CHECK(f.sink.count(mend::event_kind::rollout_rolled_back) == 0);
  CHECK(f.clock.pending_timers() == 0);
}

TEST_CASE("rollout raises green before lowering blue at each step", "[rollout]") {
  rollout_fixture f;
  mend::rollout deploy{f.clock, f.traffic, f.options()};

  REQUIRE(deploy.start());
  f.clock.advance(30s);

  CHECK(f.traffic.writes() ==
        strings{"set green 10", "set blue 90", "set green 50", "set blue 50", "set green 100", "set blue 0"});
}

TEST_CASE("promotion swaps live and standby", "[rollout]") {
  rollout_fixture f;
  mend::rollout deploy{f.clock, f.traffic, f.options()};

  REQUIRE(deploy.start());
  CHECK(deploy.status().live == "blue");
  CHECK(deploy.status().standby == "green");
  f.clock.advance(30s);

  const auto status = deploy.status();
  CHECK(status.state == mend::rollout_state::promoted);
  CHECK(status.live == "green");
  CHECK(status.standby == "blue");
  CHECK(status.step == 3);
  CHECK(status.green_weight == 100);
  CHECK(status.reason == "green held 100% for 10s (UP); green is live, blue is standby");
}

TEST_CASE("blue is kept until green held 100 percent", "[rollout]") {
  rollout_fixture f;
  mend::rollout deploy{f.clock, f.traffic, f.options()};
  REQUIRE(deploy.start());
  f.clock.advance(20s);
  REQUIRE(f.traffic.weight_of("green") == 100);

  f.clock.advance(10s - 1ns);
  CHECK(deploy.state() == mend::rollout_state::shifting);
  CHECK(deploy.status().live == "blue");

  f.clock.advance(1ns);
  CHECK(deploy.state() == mend::rollout_state::promoted);
}

TEST_CASE("step events carry the reason and the hold", "[rollout]") {
  rollout_fixture f;
  mend::rollout deploy{f.clock, f.traffic, f.options()};
  REQUIRE(deploy.start());
  f.clock.advance(10s);

  const auto steps = f.sink.events(mend::event_kind::rollout_step_changed);
  REQUIRE(steps.size() == 2);
  CHECK(steps[0].component == "deploy");
  CHECK(steps[0].target == "green");
  CHECK(steps[0].reason == "green passed its health checks (UP); holding 10% for 10s");
  CHECK(steps[0].delay == 10s);
  CHECK(steps[1].reason == "green held 10% for 10s (UP); holding 50% for 10s");
  CHECK(steps[1].at - f.start == 10s);
}

TEST_CASE("green gets no traffic before it is healthy", "[rollout]") {
  rollout_fixture f{{{"blue", 60}, {"green", 40}}};
  f.green.healthy = false;
  mend::rollout deploy{f.clock, f.traffic, f.options()};

  REQUIRE(deploy.start());
  CHECK(deploy.state() == mend::rollout_state::verifying);
  CHECK(f.traffic.weight_of("blue") == 100);
  CHECK(f.traffic.weight_of("green") == 0);

  f.clock.advance(5s);
  CHECK(deploy.state() == mend::rollout_state::verifying);
  CHECK(f.traffic.weight_of("green") == 0);
  CHECK(f.green.readings == 6);

  f.green.healthy = true;
  f.clock.advance(1s);
  CHECK(deploy.state() == mend::rollout_state::shifting);
  CHECK(f.traffic.weight_of("green") == 10);
  CHECK(f.sink.events(mend::event_kind::rollout_step_changed).at(0).at - f.start == 6s);
}

TEST_CASE("green that never passes its checks is rolled back", "[rollout]") {
  rollout_fixture f;
  f.green.healthy = false;
  f.green.reason = "DOWN, last check L4CON";
  mend::rollout deploy{f.clock, f.traffic, f.options()};
  REQUIRE(deploy.start());

  f.clock.advance(30s - 1ns);
  CHECK(deploy.state() == mend::rollout_state::verifying);
  f.clock.advance(1ns);

  CHECK(deploy.state() == mend::rollout_state::rolled_back);
  CHECK(f.traffic.weight_of("green") == 0);
  CHECK(f.traffic.writes().empty());
  const auto rolled_back = f.sink.events(mend::event_kind::rollout_rolled_back);
  REQUIRE(rolled_back.size() == 1);
  CHECK(rolled_back[0].from == "verifying");
  CHECK(rolled_back[0].reason == "green did not pass its health checks within 30s (DOWN, last check L4CON)");
  CHECK(rolled_back[0].level == mend::severity::warning);
  CHECK(f.clock.pending_timers() == 0);
}

TEST_CASE("unhealthy green is rolled back at once", "[rollout]") {
  rollout_fixture f;
  mend::rollout deploy{f.clock, f.traffic, f.options()};
  REQUIRE(deploy.start());
  f.clock.advance(10s);
  REQUIRE(f.traffic.weight_of("green") == 50);
  f.traffic.clear_commands();

  f.clock.advance(2500ms);
  f.green.healthy = false;
  f.green.reason = "DOWN, last check L4CON";
  f.clock.advance(499ms);
  CHECK(deploy.state() == mend::rollout_state::shifting);
  f.clock.advance(1ms);

  CHECK(deploy.state() == mend::rollout_state::rolled_back);
  CHECK(f.traffic.weight_of("blue") == 100);
  CHECK(f.traffic.weight_of("green") == 0);
  CHECK(f.traffic.writes() == strings{"set blue 100", "set green 0"});
  const auto rolled_back = f.sink.events(mend::event_kind::rollout_rolled_back);
  REQUIRE(rolled_back.size() == 1);
  CHECK(rolled_back[0].from == "50%");
  CHECK(rolled_back[0].to == "rolled_back");
  CHECK(rolled_back[0].reason == "green failed its health checks at 50% (DOWN, last check L4CON)");
  CHECK(rolled_back[0].level == mend::severity::warning);
  CHECK(rolled_back[0].at - f.start == 13s);
  CHECK(f.clock.pending_timers() == 0);
}

TEST_CASE("rollback is checked at every step", "[rollout]") {
  for (const int failing_step : {1, 2, 3}) {
    rollout_fixture f;
    mend::rollout deploy{f.clock, f.traffic, f.options()};
    REQUIRE(deploy.start());
    f.clock.advance(10s * (failing_step - 1) + 5s);
    f.green.healthy = false;

    f.clock.advance(1s);

    INFO("failing at step " << failing_step);
    CHECK(deploy.state() == mend::rollout_state::rolled_back);
    CHECK(f.traffic.weight_of("blue") == 100);
    CHECK(f.traffic.weight_of("green") == 0);
    CHECK(f.sink.count(mend::event_kind::rollout_rolled_back) == 1);
  }
}

TEST_CASE("rolled back rollout cannot be advanced", "[rollout]") {
  rollout_fixture f;
  mend::rollout deploy{f.clock, f.traffic, f.options()};
  REQUIRE(deploy.start());
  REQUIRE(deploy.rollback());
  f.traffic.clear_commands();

  const auto advanced = deploy.advance();
  const auto restarted = deploy.start();
  f.clock.advance(1min);

  REQUIRE_FALSE(advanced);
  CHECK(advanced.error() == std::errc::operation_not_permitted);
  REQUIRE_FALSE(restarted);
  CHECK(restarted.error() == std::errc::operation_not_permitted);
  CHECK(deploy.state() == mend::rollout_state::rolled_back);
  CHECK(f.traffic.writes().empty());
  CHECK(f.traffic.weight_of("green") == 0);
}

TEST_CASE("rollback by hand gives blue everything", "[rollout]") {
  rollout_fixture f;
  mend::rollout deploy{f.clock, f.traffic, f.options()};
  REQUIRE(deploy.start());
  f.clock.advance(12s);

  REQUIRE(deploy.rollback("operator saw errors in the AIF log"));

  CHECK(deploy.state() == mend::rollout_state::rolled_back);
  CHECK(f.traffic.weight_of("blue") == 100);
  CHECK(f.traffic.weight_of("green") == 0);
  const auto rolled_back = f.sink.events(mend::event_kind::rollout_rolled_back);
  REQUIRE(rolled_back.size() == 1);
  CHECK(rolled_back[0].from == "50%");
  CHECK(rolled_back[0].reason == "operator saw errors in the AIF log");
  CHECK(rolled_back[0].level == mend::severity::info);
  CHECK(f.clock.pending_timers() == 0);
}

TEST_CASE("rollback before start keeps blue live", "[rollout]") {
  rollout_fixture f;
  mend::rollout deploy{f.clock, f.traffic, f.options()};

  REQUIRE(deploy.rollback());

  CHECK(deploy.state() == mend::rollout_state::rolled_back);
  CHECK(f.traffic.weight_of("blue") == 100);
  CHECK(f.stages(mend::event_kind::rollout_rolled_back) == strings{"pending -> rolled_back"});
}

TEST_CASE("second rollback emits no second event", "[rollout]") {
  rollout_fixture f;
  mend::rollout deploy{f.clock, f.traffic, f.options()};
  REQUIRE(deploy.start());
  REQUIRE(deploy.rollback());

  REQUIRE(deploy.rollback());

  CHECK(f.sink.count(mend::event_kind::rollout_rolled_back) == 1);
}

TEST_CASE("rollback after promotion is rejected", "[rollout]") {
  rollout_fixture f;
  mend::rollout deploy{f.clock, f.traffic, f.options()};
  REQUIRE(deploy.start());
  f.clock.advance(30s);
  REQUIRE(deploy.state() == mend::rollout_state::promoted);

  const auto outcome = deploy.rollback();

  REQUIRE_FALSE(outcome);
  CHECK(outcome.error() == std::errc::operation_not_permitted);
  CHECK(f.traffic.weight_of("green") == 100);
}

TEST_CASE("advance skips the rest of the hold", "[rollout]") {
  rollout_fixture f;
  mend::rollout deploy{f.clock, f.traffic, f.options()};
  REQUIRE(deploy.start());
  f.clock.advance(3s);

  REQUIRE(deploy.advance());
  CHECK(f.traffic.weight_of("green") == 50);

  // The new step holds for its full time from the advance.
  f.clock.advance(10s - 1ns);
  CHECK(f.traffic.weight_of("green") == 50);
  f.clock.advance(1ns);
  CHECK(f.traffic.weight_of("green") == 100);

  REQUIRE(deploy.advance());
  CHECK(deploy.state() == mend::rollout_state::promoted);
  CHECK(f.sink.events(mend::event_kind::rollout_promoted).at(0).reason ==
        "advanced by hand at 100% (UP); green is live, blue is standby");
  CHECK(f.clock.pending_timers() == 0);
}

TEST_CASE("advance with unhealthy green rolls back", "[rollout]") {
  rollout_fixture f;
  mend::rollout deploy{f.clock, f.traffic, f.options()};
  REQUIRE(deploy.start());
  f.green.healthy = false;

  const auto outcome = deploy.advance();

  REQUIRE_FALSE(outcome);
  CHECK(outcome.error() == mend::errc::target_unhealthy);
  CHECK(deploy.state() == mend::rollout_state::rolled_back);
  CHECK(f.traffic.weight_of("green") == 0);
}

TEST_CASE("advance while verifying needs healthy green", "[rollout]") {
  rollout_fixture f;
  f.green.healthy = false;
  mend::rollout deploy{f.clock, f.traffic, f.options()};
  REQUIRE(deploy.start());

  const auto refused = deploy.advance();
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == mend::errc::target_unhealthy);
  CHECK(deploy.state() == mend::rollout_state::verifying);
  CHECK(f.clock.pending_timers() == 1);

  f.green.healthy = true;
  REQUIRE(deploy.advance());
  CHECK(f.traffic.weight_of("green") == 10);
}

TEST_CASE("advance before start is rejected", "[rollout]") {
  rollout_fixture f;
  mend::rollout deploy{f.clock, f.traffic, f.options()};

  const auto outcome = deploy.advance();

  REQUIRE_FALSE(outcome);
  CHECK(outcome.error() == std::errc::operation_not_permitted);
  CHECK(f.traffic.commands().empty());
}

TEST_CASE("steps are configurable", "[rollout]") {
  rollout_fixture f;
  auto options = f.options();
  options.steps = {25, 100};
  options.hold = 2s;
  mend::rollout deploy{f.clock, f.traffic, options};

  REQUIRE(deploy.start());
  CHECK(f.traffic.weight_of("green") == 25);
  CHECK(f.traffic.weight_of("blue") == 75);
  f.clock.advance(2s);
  CHECK(f.traffic.weight_of("green") == 100);
  f.clock.advance(2s);

  CHECK(deploy.state() == mend::rollout_state::promoted);
  CHECK(f.stages(mend::event_kind::rollout_step_changed) == strings{"verifying -> 25%", "25% -> 100%"});
}

TEST_CASE("zero hold moves on at the next timer run", "[rollout]") {
  rollout_fixture f;
  auto options = f.options();
  options.hold = 0s;
  mend::rollout deploy{f.clock, f.traffic, options};

  REQUIRE(deploy.start());
  CHECK(f.traffic.weight_of("green") == 10);
  f.clock.run_due();

  CHECK(deploy.state() == mend::rollout_state::promoted);
  CHECK(f.clock.now() == f.start);
}

TEST_CASE("health is read every interval while holding", "[rollout]") {
  rollout_fixture f;
  mend::rollout deploy{f.clock, f.traffic, f.options()};
  REQUIRE(deploy.start());
  const int at_start = f.green.readings;

  f.clock.advance(9s);

  CHECK(at_start == 1);
  CHECK(f.green.readings == 10);
}

TEST_CASE("switch failure during a step rolls back with its text", "[rollout]") {
  rollout_fixture f;
  mend::rollout deploy{f.clock, f.traffic, f.options()};
  REQUIRE(deploy.start());
  const auto refused = std::make_error_code(std::errc::permission_denied);
  f.traffic.reject_writes("blue", refused, "Permission denied", 1);

  f.clock.advance(10s);

  CHECK(deploy.state() == mend::rollout_state::rolled_back);
  CHECK(f.traffic.weight_of("blue") == 100);
  CHECK(f.traffic.weight_of("green") == 0);
  const auto status = deploy.status();
  CHECK(status.traffic_restored);
  CHECK(status.reason ==
        "traffic switch failed while moving green to 50%: setting the weight of blue to 50 failed: Permission denied");
  CHECK(f.sink.events(mend::event_kind::rollout_rolled_back).at(0).from == "10%");
}

TEST_CASE("failed rollback retries until blue has everything", "[rollout]") {
  rollout_fixture f;
  mend::rollout deploy{f.clock, f.traffic, f.options()};
  REQUIRE(deploy.start());
  const auto refused = std::make_error_code(std::errc::permission_denied);
  f.traffic.reject_writes("blue", refused, "Permission denied");
  f.green.healthy = false;

  f.clock.advance(1s);
  CHECK(deploy.state() == mend::rollout_state::rolled_back);
  CHECK_FALSE(deploy.status().traffic_restored);
  CHECK(deploy.status().last_switch_error.message == "setting the weight of blue to 100 failed: Permission denied");
  const auto rolled_back = f.sink.events(mend::event_kind::rollout_rolled_back);
  REQUIRE(rolled_back.size() == 1);
  CHECK(rolled_back[0].level == mend::severity::error);
  CHECK(rolled_back[0].error == refused);

  f.clock.advance(2s);
  CHECK(f.traffic.writes() == strings{"set green 10", "set blue 90", "set blue 100", "set blue 100", "set blue 100"});

  CHECK(deploy.status().reason ==
        "green failed its health checks at 10% (UP); blue could not get all traffic: "
        "setting the weight of blue to 100 failed: Permission denied");

  f.traffic.allow_writes();
  f.clock.advance(1s);
  CHECK(deploy.status().traffic_restored);
  CHECK(deploy.status().reason == "green failed its health checks at 10% (UP); blue got all traffic on a later try");
  CHECK(deploy.status().last_switch_error.message.empty());
  const auto restored = f.sink.events(mend::event_kind::rollout_traffic_restored);
  REQUIRE(restored.size() == 1);
  CHECK(restored[0].from == "rolled_back");
  CHECK(restored[0].to == "rolled_back");
  CHECK(restored[0].reason == "green failed its health checks at 10% (UP); blue got all traffic on a later try");
  CHECK(restored[0].level == mend::severity::info);
  CHECK(f.traffic.weight_of("blue") == 100);
  CHECK(f.traffic.weight_of("green") == 0);
  CHECK(f.sink.count(mend::event_kind::rollout_rolled_back) == 1);
  CHECK(f.clock.pending_timers() == 0);
}

TEST_CASE("start over a broken switch ends rolled back", "[rollout]") {
  rollout_fixture f{{{"blue", 100}}};
  mend::rollout deploy{f.clock, f.traffic, f.options()};

  const auto outcome = deploy.start();

  REQUIRE_FALSE(outcome);
  CHECK(deploy.state() == mend::rollout_state::rolled_back);
  CHECK_FALSE(deploy.status().traffic_restored);
  CHECK(deploy.status().reason ==
        "traffic switch failed before the first step; blue could not get all traffic: "
        "reading the weight of green failed: No such server.");
  const auto rolled_back = f.sink.events(mend::event_kind::rollout_rolled_back);
  REQUIRE(rolled_back.size() == 1);
  CHECK(rolled_back[0].reason ==
        "traffic switch failed before the first step; blue could not get all traffic (retrying every 1s): "
        "reading the weight of green failed: No such server.");
  CHECK(f.green.readings == 0);
}

TEST_CASE("health signal that throws counts as unhealthy", "[rollout]") {
  rollout_fixture f;
  auto options = f.options();
  options.green_health = []() -> mend::health_reading { throw std::runtime_error("socket closed"); };
  options.health_timeout = 2s;
  mend::rollout deploy{f.clock, f.traffic, options};
  REQUIRE(deploy.start());

  f.clock.advance(2s);

  CHECK(deploy.state() == mend::rollout_state::rolled_back);
  CHECK(deploy.status().reason ==
        "green did not pass its health checks within 2s (health signal threw: socket closed)");
}

TEST_CASE("wait returns the final state", "[rollout]") {
  rollout_fixture f;
  mend::rollout deploy{f.clock, f.traffic, f.options()};
  REQUIRE(deploy.start());
  CHECK_FALSE(deploy.finished());
  f.clock.advance(30s);

  CHECK(deploy.finished());
  CHECK(deploy.wait() == mend::rollout_state::promoted);
}

TEST_CASE("destroying a rollout cancels its timer", "[rollout]") {
  rollout_fixture f;
  {
    mend::rollout deploy{f.clock, f.traffic, f.options()};
    REQUIRE(deploy.start());
    REQUIRE(f.clock.pending_timers() == 1);
  }

  CHECK(f.clock.pending_timers() == 0);
  f.clock.advance(1min);
  CHECK(f.traffic.weight_of("green") == 10);
}

TEST_CASE("rollout options are validated", "[rollout]") {
  rollout_fixture f;
  struct bad_case {
    std::string field;
    mend::rollout::options options;
  };
  std::vector<bad_case> cases;
  auto with = [&](std::string field, auto change) {
    auto options = f.options();
    change(options);
    cases.push_back({std::move(field), std::move(options)});
  };
  with("steps", [](auto& o) { o.steps = {}; });
  with("steps", [](auto& o) { o.steps = {10, 50}; });
  with("steps", [](auto& o) { o.steps = {50, 10, 100}; });
  with("steps", [](auto& o) { o.steps = {0, 100}; });
  with("steps", [](auto& o) { o.steps = {10, 101}; });
  with("steps", [](auto& o) { o.steps = {50, 50, 100}; });
  with("hold", [](auto& o) { o.hold = -1s; });
  with("health_interval", [](auto& o) { o.health_interval = 0s; });
  with("health_timeout", [](auto& o) { o.health_timeout = 0s; });
  with("green_health", [](auto& o) { o.green_health = nullptr; });
  with("blue", [](auto& o) { o.blue = ""; });
  with("green", [](auto& o) { o.green = ""; });
  with("green", [](auto& o) { o.green = "blue"; });

  for (auto& bad : cases) {
    INFO("field " << bad.field);
    try {
      mend::rollout deploy{f.clock, f.traffic, bad.options};
      FAIL("options were accepted");
    } catch (const mend::config_error& e) {
      CHECK(e.field() == bad.field);
    }
  }
}

TEST_CASE("invalid steps are named in the error", "[rollout]") {
  rollout_fixture f;
  auto options = f.options();
  options.steps = {10, 50};

  try {
    mend::rollout deploy{f.clock, f.traffic, options};
    FAIL("options were accepted");
  } catch (const mend::config_error& e) {
    CHECK(std::string(e.what()) == "rollout: invalid steps = [10, 50] (the last step must be 100)");
  }
}

// Callbacks that read or steer the rollout while it runs them.

namespace {

// Blue is unhealthy, green has weight 0, so the balancer
// routes in panic mode until the rollout gives green its first step. That
// step ends panic routing and raises an alert on the rollout's thread, from
// inside traffic_switch::apply().
struct panic_balancer_fixture {
  explicit panic_balancer_fixture(std::function<void(const mend::alert&)> on_alert) : pager(std::move(on_alert)) {}

  mend::manual_clock clock;
  mend_test::recording_alert_handler pager;
  mend::balancer balancer{clock,
                          {.name = "lb",
                           .endpoints = {{.name = "blue", .weight = 100, .health = mend::endpoint_health::unhealthy},
                                         {.name = "green", .weight = 0}},
                           .panic_routing = true,
                           .alerts = &pager}};
  mend::balancer_switch traffic{balancer};
  mend::recording_sink sink;

  mend::rollout::options options() {
    return {.name = "deploy",
            .hold = 10s,
            .health_interval = 1s,
            .green_health = [] { return mend::health_reading{true, "UP"}; },
            .sink = &sink};
  }
};

}  // namespace

TEST_CASE("alert handler may read the rollout", "[rollout]") {
  mend::rollout* deploy = nullptr;
  std::vector<mend::rollout_status> seen;
  panic_balancer_fixture f{[&](const mend::alert&) {
    if (deploy != nullptr) seen.push_back(deploy->status());
    if (deploy != nullptr) CHECK_FALSE(deploy->finished());
  }};
  mend::rollout rollout{f.clock, f.traffic, f.options()};
  deploy = &rollout;

  // The handler runs on this thread while start() runs the operation, so
  // reading the rollout must not wait for it.
  REQUIRE(rollout.start());

  REQUIRE(f.pager.size() == 1);
  CHECK(f.pager.alerts()[0].message == "panic routing ended: an endpoint is back in rotation");
  REQUIRE(seen.size() == 1);
  // The handler runs while green's first step is being applied, so it reads
  // the status published before that step.
  CHECK(seen[0].state == mend::rollout_state::verifying);
  CHECK(seen[0].green_weight == 0);
  CHECK(rollout.state() == mend::rollout_state::shifting);
  CHECK(rollout.status().green_weight == 10);
}

TEST_CASE("alert handler may roll the rollout back", "[rollout]") {
  mend::rollout* deploy = nullptr;
  std::optional<mend::result<void>> requested;
  panic_balancer_fixture f{[&](const mend::alert&) {
    if (deploy != nullptr && !requested) requested = deploy->rollback("paged operator rolled back");
  }};
  mend::rollout rollout{f.clock, f.traffic, f.options()};
  deploy = &rollout;

  REQUIRE(rollout.start());

  // The rollback waits for the running operation instead of deadlocking,
  // and runs before start() returns.
  REQUIRE(requested.has_value());
  REQUIRE_FALSE(*requested);
  CHECK(requested->error() == std::errc::operation_in_progress);
  CHECK(rollout.state() == mend::rollout_state::rolled_back);
  CHECK(f.balancer.weight("blue").value() == 100);
  CHECK(f.balancer.weight("green").value() == 0);
  const auto rolled_back = f.sink.events(mend::event_kind::rollout_rolled_back);
  REQUIRE(rolled_back.size() == 1);
  CHECK(rolled_back[0].from == "10%");
  CHECK(rolled_back[0].reason == "paged operator rolled back");
  CHECK(rolled_back[0].level == mend::severity::info);
  CHECK(f.clock.pending_timers() == 0);
}

TEST_CASE("callbacks cannot start or advance the rollout", "[rollout]") {
  mend::rollout* deploy = nullptr;
  std::vector<std::error_code> refused;
  panic_balancer_fixture f{[&](const mend::alert&) {
    if (deploy == nullptr) return;
    const auto advanced = deploy->advance();
    refused.push_back(advanced ? std::error_code{} : advanced.error());
    const auto started = deploy->start();
    refused.push_back(started ? std::error_code{} : started.error());
  }};
  mend::rollout rollout{f.clock, f.traffic, f.options()};
  deploy = &rollout;

  REQUIRE(rollout.start());

  const auto would_deadlock = std::make_error_code(std::errc::resource_deadlock_would_occur);
  CHECK(refused == std::vector<std::error_code>{would_deadlock, would_deadlock});
  CHECK(rollout.state() == mend::rollout_state::shifting);
  CHECK(rollout.status().green_weight == 10);
}

TEST_CASE("sink sees the state of each event", "[rollout]") {
  struct state_reading_sink final : mend::metrics_sink {
    mend::rollout* deploy = nullptr;
    std::vector<std::string> seen;
    void record(const mend::event& e) override {
      if (deploy != nullptr) seen.push_back(std::string(e.to) + " " + std::string(mend::to_string(deploy->state())));
    }
  } sink;
  rollout_fixture f;
  auto options = f.options();
  options.sink = &sink;
  mend::rollout deploy{f.clock, f.traffic, options};
  sink.deploy = &deploy;

  REQUIRE(deploy.start());
  f.clock.advance(30s);

  CHECK(sink.seen ==
        strings{"verifying verifying", "10% shifting", "50% shifting", "100% shifting", "promoted promoted"});
}

TEST_CASE("health signal may read the rollout", "[rollout]") {
  rollout_fixture f;
  mend::rollout* deploy = nullptr;
  std::vector<std::size_t> steps_seen;
  auto options = f.options();
  options.green_health = [&] {
    if (deploy != nullptr) steps_seen.push_back(deploy->status().step);
    return mend::health_reading{true, "UP"};
  };
  mend::rollout rollout{f.clock, f.traffic, options};
  deploy = &rollout;

  REQUIRE(rollout.start());
  f.clock.advance(2s);

  CHECK(steps_seen == std::vector<std::size_t>{0, 1, 1});
}

TEST_CASE("health signal may roll the rollout back", "[rollout]") {
  rollout_fixture f;
  mend::rollout* deploy = nullptr;
  int reads = 0;
  auto options = f.options();
  options.green_health = [&] {
    if (++reads == 3 && deploy != nullptr) (void)deploy->rollback("canary error budget spent");
    return mend::health_reading{true, "UP"};
  };
  mend::rollout rollout{f.clock, f.traffic, options};
  deploy = &rollout;
  REQUIRE(rollout.start());

  f.clock.advance(2s);

  CHECK(rollout.state() == mend::rollout_state::rolled_back);
  CHECK(f.traffic.weight_of("blue") == 100);
  CHECK(f.traffic.weight_of("green") == 0);
  CHECK(f.sink.events(mend::event_kind::rollout_rolled_back).at(0).reason == "canary error budget spent");
  CHECK(f.clock.pending_timers() == 0);
}

// A slow load balancer: each call of the switch or the health signal takes
// time on the rollout's clock.

namespace {

// A clock whose time can pass inside a timer callback, to model a call that
// blocks. manual_clock::advance() cannot run there (it fires timers, and the
// callback is one of them), so spend() adds to an offset on top of a manual
// clock instead. Timers go to the manual clock, shifted by the offset at the
// time they are scheduled. Only the test thread uses it.
class slow_call_clock final : public mend::clock {
 public:
  mend::manual_clock base;

  void spend(mend::duration d) { offset_ += d; }

  mend::time_point now() const noexcept override { return base.now() + offset_; }
  mend::wall_time wall_now() const noexcept override { return base.wall_now() + offset_; }
  bool sleep_for(mend::duration d, std::stop_token stop) override { return base.sleep_for(d, stop); }
  mend::timer_id schedule_at(mend::time_point deadline, std::function<void()> callback) override {
    return base.schedule_at(deadline - offset_, std::move(callback));
  }
  bool cancel(mend::timer_id id) noexcept override { return base.cancel(id); }

 private:
  mend::duration offset_{};
};

// A traffic switch whose writes each take `write_time` on a slow_call_clock.
class slow_traffic_switch final : public mend::traffic_switch {
 public:
  slow_traffic_switch(slow_call_clock& clock, mend::duration write_time) : clock_(clock), write_time_(write_time) {}

  int weight_of(const std::string& target) const { return weights_.at(target); }

 protected:
  mend::result<void> write_weight(std::string_view target, int weight, std::string&) override {
    clock_.spend(write_time_);
    weights_[std::string(target)] = weight;
    return mend::success();
  }

  mend::result<int> read_weight(std::string_view target, std::string&) override {
    return weights_.at(std::string(target));
  }

 private:
  slow_call_clock& clock_;
  const mend::duration write_time_;
  std::map<std::string, int> weights_{{"blue", 100}, {"green", 0}};
};

}  // namespace

TEST_CASE("slow health reads leave the interval free", "[rollout]") {
  slow_call_clock clock;
  slow_traffic_switch traffic{clock, 0s};
  int reads = 0;
  int slow_reads_left = 0;
  mend::rollout deploy{clock,
                       traffic,
                       {.hold = 60s,
                        .health_interval = 1s,
                        .green_health = [&] {
                          ++reads;
                          // Capped, so that ticks that run back to back end.
                          if (slow_reads_left > 0) {
                            --slow_reads_left;
                            clock.spend(3s);
                          }
                          return mend::health_reading{true, "UP"};
                        }}};
  REQUIRE(deploy.start());
  REQUIRE(reads == 1);
  slow_reads_left = 5;

  clock.base.advance(1s);

  // One read of 3 s, then the next tick one interval after it ended.
  CHECK(reads == 2);
  REQUIRE(clock.base.next_timer().has_value());
  CHECK(*clock.base.next_timer() - clock.base.now() == 1s);
}

TEST_CASE("slow switch holds each step from when it was set", "[rollout]") {
  slow_call_clock clock;
  slow_traffic_switch traffic{clock, 2s};
  mend::recording_sink sink;
  const auto start = clock.now();
  mend::rollout deploy{clock,
                       traffic,
                       {.hold = 10s,
                        .health_interval = 1s,
                        .green_health = [] { return mend::health_reading{true, "UP"}; },
                        .sink = &sink}};

  // Green 10 and blue 90: two writes of 2 s each.
  REQUIRE(deploy.start());
  REQUIRE(traffic.weight_of("green") == 10);
  const auto steps = sink.events(mend::event_kind::rollout_step_changed);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].at - start == 4s);
  REQUIRE(clock.base.next_timer().has_value());
  CHECK(*clock.base.next_timer() - clock.base.now() == 1s);

  clock.base.advance(10s - 1ns);
  CHECK(traffic.weight_of("green") == 10);
  clock.base.advance(1ns);
  CHECK(traffic.weight_of("green") == 50);
}
