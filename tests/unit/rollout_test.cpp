#include <mend/config_error.hpp>
#include <mend/error.hpp>
#include <mend/manual_clock.hpp>
#include <mend/recording_sink.hpp>
#include <mend/rollout.hpp>

#include <catch2/catch.hpp>

#include "fake_traffic_switch.hpp"

#include <chrono>
#include <map>
#include <memory>
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

  f.traffic.allow_writes();
  f.clock.advance(1s);
  CHECK(deploy.status().traffic_restored);
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
        "traffic switch failed before the first step; blue could not get all traffic yet, retrying every 1s: "
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
