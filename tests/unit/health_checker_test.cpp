#include <mend/config_error.hpp>
#include <mend/endpoint_health.hpp>
#include <mend/error.hpp>
#include <mend/health_checker.hpp>
#include <mend/manual_clock.hpp>
#include <mend/recording_sink.hpp>

#include "recording_alert_handler.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using mend::endpoint_health;

namespace {

// A probe that returns results from a script: 'S' succeeds, 'F' fails with
// connection_refused. It records when it was called and with what context.
struct scripted_probe {
  mend::clock* clock = nullptr;
  std::string script;
  std::size_t next = 0;
  std::vector<mend::time_point> called_at{};
  std::vector<mend::time_point> deadlines{};

  mend::result<void> operator()(const mend::probe_context& context) {
    called_at.push_back(clock->now());
    deadlines.push_back(context.deadline);
    const char outcome = next < script.size() ? script[next] : 'S';
    ++next;
    if (outcome == 'F') return std::make_error_code(std::errc::connection_refused);
    return mend::success();
  }
};

mend::health_probe run(scripted_probe& probe) {
  return [&probe](const mend::probe_context& context) { return probe(context); };
}

// Fires the next pending timer, which is the next check in these tests.
void run_next_check(mend::manual_clock& clock) {
  const auto due = clock.next_timer();
  REQUIRE(due.has_value());
  clock.advance_to(*due);
}

// Records every call of set_health().
struct recording_observer final : mend::health_observer {
  std::vector<std::pair<std::string, endpoint_health>> calls;
  void set_health(std::string_view endpoint, endpoint_health health) override {
    calls.emplace_back(std::string(endpoint), health);
  }
};

std::string rejected_field(const mend::health_checker::options& opts) {
  mend::manual_clock clock;
  try {
    mend::health_checker checker{clock, opts};
  } catch (const mend::config_error& e) {
    return e.field();
  }
  return {};
}

}  // namespace

TEST_CASE("checker marks unhealthy on third failure in a row", "[health_checker]") {
  // Each script is a sequence of checks; `unhealthy_at` is the 1-based check
  // on which the endpoint must turn unhealthy, 0 for never.
  struct sequence {
    std::string script;
    std::size_t unhealthy_at;
  };
  const std::vector<sequence> sequences{
      {"FFF", 3},          {"SFFF", 4},         {"FFSFFF", 6},      {"FSFFSFFF", 8},
      {"SFFSFFSFFF", 10},  {"FSFSFSFSFS", 0},    {"FFSFFSFFS", 0},   {"FFFFF", 3},
  };

  for (const auto& [script, unhealthy_at] : sequences) {
    INFO("script " << script);
    mend::manual_clock clock;
    scripted_probe probe{&clock, script};
    mend::health_checker checker{clock, {.name = "ax_checks"}};
    checker.add("ax1", run(probe));

    for (std::size_t check = 1; check <= script.size(); ++check) {
      INFO("after check " << check);
      run_next_check(clock);
      const bool should_be_unhealthy = unhealthy_at != 0 && check >= unhealthy_at;
      CHECK(checker.health("ax1") == (should_be_unhealthy ? endpoint_health::unhealthy : endpoint_health::healthy));
    }
    CHECK(probe.next == script.size());
  }
}

TEST_CASE("checker marks healthy after rise successes", "[health_checker]") {
  struct sequence {
    std::string script;  // after three failures
    std::size_t healthy_at;
  };
  const std::vector<sequence> sequences{
      {"SS", 2}, {"FSS", 3}, {"SFSS", 4}, {"SFSFSFSS", 8}, {"SFSFSF", 0},
  };

  for (const auto& [script, healthy_at] : sequences) {
    INFO("script FFF" << script);
    mend::manual_clock clock;
    scripted_probe probe{&clock, "FFF" + script};
    mend::health_checker checker{clock, {}};
    checker.add("ax1", run(probe));
    for (int i = 0; i < 3; ++i) run_next_check(clock);
    REQUIRE(checker.health("ax1") == endpoint_health::unhealthy);

    for (std::size_t check = 1; check <= script.size(); ++check) {
      INFO("after check " << check);
      run_next_check(clock);
      const bool should_be_healthy = healthy_at != 0 && check >= healthy_at;
      CHECK(checker.health("ax1") == (should_be_healthy ? endpoint_health::healthy : endpoint_health::unhealthy));
    }
  }
}

TEST_CASE("checker follows custom fall and rise", "[health_checker]") {
  mend::manual_clock clock;
  scripted_probe probe{&clock, "FFFFSSSFS"};
  mend::health_checker checker{clock, {.fall = 4, .rise = 3}};
  checker.add("ax1", run(probe));

  const std::vector<endpoint_health> expected{
      endpoint_health::healthy,   endpoint_health::healthy,   endpoint_health::healthy,
      endpoint_health::unhealthy, endpoint_health::unhealthy, endpoint_health::unhealthy,
      endpoint_health::healthy,   endpoint_health::healthy,   endpoint_health::healthy,
  };
  for (std::size_t check = 0; check < expected.size(); ++check) {
    INFO("check " << check + 1);
    run_next_check(clock);
    CHECK(checker.health("ax1") == expected[check]);
  }
}

TEST_CASE("checks run at once, then every interval", "[health_checker]") {
  mend::manual_clock clock;
  const auto start = clock.now();
  scripted_probe probe{&clock, "SSSS"};
  mend::health_checker checker{clock, {}};
  checker.add("ax1", run(probe));

  clock.run_due();
  clock.advance(35s);
  REQUIRE(probe.called_at.size() == 4);
  CHECK(probe.called_at[0] - start == 0s);
  CHECK(probe.called_at[1] - start == 10s);
  CHECK(probe.called_at[2] - start == 20s);
  CHECK(probe.called_at[3] - start == 30s);
  CHECK(checker.status("ax1")->next_check == start + 40s);
}

TEST_CASE("checker adds injected jitter to each wait", "[health_checker]") {
  mend::manual_clock clock;
  const auto start = clock.now();
  scripted_probe probe{&clock, "SSSS"};
  const std::vector<double> draws{0.5, 0.25, 1.0, 0.0};
  std::size_t draw = 0;
  mend::health_checker checker{
      clock, {.interval = 10s, .jitter = 2s, .random = [&] { return draws[draw++ % draws.size()]; }}};
  checker.add("ax1", run(probe));

  clock.advance(40s);
  REQUIRE(probe.called_at.size() == 4);
  CHECK(probe.called_at[0] - start == 1s);       // 0.5 * 2 s
  CHECK(probe.called_at[1] - start == 11500ms);  // + 10 s + 0.25 * 2 s
  CHECK(probe.called_at[2] - start == 23500ms);  // + 10 s + 1.0 * 2 s
  CHECK(probe.called_at[3] - start == 33500ms);  // + 10 s + 0
}

TEST_CASE("checker clamps random draws outside zero to one", "[health_checker]") {
  mend::manual_clock clock;
  const auto start = clock.now();
  scripted_probe probe{&clock, "SS"};
  const std::vector<double> draws{-3.0, 7.0};
  std::size_t draw = 0;
  mend::health_checker checker{clock, {.jitter = 2s, .random = [&] { return draws[draw++ % draws.size()]; }}};
  checker.add("ax1", run(probe));

  clock.advance(15s);
  REQUIRE(probe.called_at.size() == 2);
  CHECK(probe.called_at[0] - start == 0s);
  CHECK(probe.called_at[1] - start == 12s);
}

TEST_CASE("probe deadline is start plus timeout", "[health_checker]") {
  mend::manual_clock clock;
  scripted_probe probe{&clock, "SS"};
  mend::health_checker checker{clock, {.timeout = 1500ms}};
  checker.add("ax1", run(probe));

  clock.advance(10s);
  REQUIRE(probe.deadlines.size() == 2);
  CHECK(probe.deadlines[0] - probe.called_at[0] == 1500ms);
  CHECK(probe.deadlines[1] - probe.called_at[1] == 1500ms);
}

TEST_CASE("late successful probe fails with timed_out", "[health_checker]") {
  mend::manual_clock clock;  // auto-advance: a probe's sleep moves time
  mend::duration probe_takes = 3s;
  mend::health_checker checker{clock, {.timeout = 2s, .fall = 1}};
  checker.add("ax1", [&](const mend::probe_context& context) -> mend::result<void> {
    clock.sleep_for(probe_takes, context.stop);
    return mend::success();
  });

  clock.run_due();
  const auto status = checker.status("ax1");
  REQUIRE(status.has_value());
  CHECK(status->health == endpoint_health::unhealthy);
  CHECK(status->last_error == mend::errc::timed_out);
  CHECK(status->failed_checks == 1);
}

TEST_CASE("probe ending at its deadline passes", "[health_checker]") {
  mend::manual_clock clock;
  mend::health_checker checker{clock, {.timeout = 2s, .fall = 1}};
  checker.add("ax1", [&](const mend::probe_context& context) -> mend::result<void> {
    clock.sleep_for(2s, context.stop);
    return mend::success();
  });

  clock.run_due();
  CHECK(checker.health("ax1") == endpoint_health::healthy);
  CHECK(checker.status("ax1")->failed_checks == 0);
}

TEST_CASE("late failing probe keeps its own error", "[health_checker]") {
  mend::manual_clock clock;
  mend::health_checker checker{clock, {.timeout = 2s}};
  checker.add("ax1", [&](const mend::probe_context& context) -> mend::result<void> {
    clock.sleep_for(5s, context.stop);
    return std::make_error_code(std::errc::host_unreachable);
  });

  clock.run_due();
  CHECK(checker.status("ax1")->last_error == std::errc::host_unreachable);
}

TEST_CASE("throwing probe counts as a failed check", "[health_checker]") {
  mend::manual_clock clock;
  mend::health_checker checker{clock, {.fall = 1}};
  checker.add("ax1", [](const mend::probe_context&) -> mend::result<void> { throw std::runtime_error("boom"); });

  clock.run_due();
  const auto status = checker.status("ax1");
  CHECK(status->health == endpoint_health::unhealthy);
  CHECK(status->last_error == mend::errc::unexpected_exception);
}

TEST_CASE("checker emits one event and one alert per transition", "[health_checker]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend_test::recording_alert_handler pager;
  scripted_probe probe{&clock, "FFFFSS" "SSFF"};
  mend::health_checker checker{clock, {.name = "ax_checks", .sink = &sink, .alerts = &pager}};
  checker.add("ax1", run(probe));

  for (int i = 0; i < 10; ++i) run_next_check(clock);

  CHECK(sink.count(mend::event_kind::health_check_failed) == 6);
  CHECK(sink.count(mend::event_kind::endpoint_health_changed) == 2);
  CHECK(sink.count(mend::event_kind::alert_raised) == 2);
  CHECK(sink.size() == 10);
  REQUIRE(pager.size() == 2);

  const auto changes = sink.events(mend::event_kind::endpoint_health_changed);
  CHECK(changes[0].component == "ax_checks");
  CHECK(changes[0].target == "ax1");
  CHECK(changes[0].from == "healthy");
  CHECK(changes[0].to == "unhealthy");
  CHECK(changes[0].reason == "3 consecutive failed checks");
  CHECK(changes[0].error == std::errc::connection_refused);
  CHECK(changes[0].level == mend::severity::warning);
  CHECK(changes[1].from == "unhealthy");
  CHECK(changes[1].to == "healthy");
  CHECK(changes[1].reason == "2 consecutive successful checks");
  CHECK(changes[1].level == mend::severity::info);

  const auto failures = sink.events(mend::event_kind::health_check_failed);
  CHECK(failures[0].attempt == 1);
  CHECK(failures[3].attempt == 4);
  CHECK(failures[4].attempt == 1);

  const auto alerts = pager.alerts();
  CHECK(alerts[0].level == mend::severity::error);
  CHECK(alerts[0].cause == mend::event_kind::endpoint_health_changed);
  CHECK(alerts[0].component == "ax_checks");
  CHECK(alerts[0].target == "ax1");
  CHECK(alerts[0].message ==
        "endpoint ax1 is unhealthy after 3 consecutive failed checks: " +
            std::make_error_code(std::errc::connection_refused).message());
  CHECK(alerts[0].error == std::errc::connection_refused);
  CHECK(alerts[1].level == mend::severity::info);
  CHECK(alerts[1].message == "endpoint ax1 is healthy again after 2 consecutive successful checks");

  const auto raised = sink.events(mend::event_kind::alert_raised);
  CHECK(raised[0].level == mend::severity::error);
  CHECK(raised[0].reason == alerts[0].message);
  CHECK(raised[1].reason == alerts[1].message);
}

TEST_CASE("observers get initial health and transitions", "[health_checker]") {
  mend::manual_clock clock;
  recording_observer first;
  recording_observer second;
  scripted_probe probe{&clock, "FFFSS"};
  mend::health_checker checker{clock, {.observers = {&first, &second}}};
  checker.add("ax1", run(probe));
  CHECK(first.calls.size() == 1);

  for (int i = 0; i < 5; ++i) run_next_check(clock);

  const std::vector<std::pair<std::string, endpoint_health>> expected{
      {"ax1", endpoint_health::healthy}, {"ax1", endpoint_health::unhealthy}, {"ax1", endpoint_health::healthy}};
  CHECK(first.calls == expected);
  CHECK(second.calls == expected);
}

TEST_CASE("endpoint added unhealthy needs rise successes", "[health_checker]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  recording_observer observer;
  scripted_probe probe{&clock, "SFSS"};
  mend::health_checker checker{clock, {.observers = {&observer}, .sink = &sink}};
  checker.add("green", run(probe), endpoint_health::unhealthy);
  CHECK(checker.health("green") == endpoint_health::unhealthy);

  const std::vector<endpoint_health> expected{endpoint_health::unhealthy, endpoint_health::unhealthy,
                                              endpoint_health::unhealthy, endpoint_health::healthy};
  for (std::size_t check = 0; check < expected.size(); ++check) {
    INFO("check " << check + 1);
    run_next_check(clock);
    CHECK(checker.health("green") == expected[check]);
  }
  CHECK(sink.count(mend::event_kind::endpoint_health_changed) == 1);
  REQUIRE(observer.calls.size() == 2);
  CHECK(observer.calls[0].second == endpoint_health::unhealthy);
  CHECK(observer.calls[1].second == endpoint_health::healthy);
}

TEST_CASE("checker checks several endpoints independently", "[health_checker]") {
  mend::manual_clock clock;
  scripted_probe ax1{&clock, "FFF"};
  scripted_probe ax2{&clock, "SSS"};
  mend::health_checker checker{clock, {}};
  checker.add("ax1", run(ax1));
  checker.add("ax2", run(ax2));

  clock.run_due();
  clock.advance(20s);
  CHECK(checker.health("ax1") == endpoint_health::unhealthy);
  CHECK(checker.health("ax2") == endpoint_health::healthy);

  const auto all = checker.statuses();
  REQUIRE(all.size() == 2);
  CHECK(all[0].endpoint == "ax1");
  CHECK(all[0].checks == 3);
  CHECK(all[0].failures_in_a_row == 3);
  CHECK(all[1].endpoint == "ax2");
  CHECK(all[1].successes_in_a_row == 3);
  CHECK_FALSE(checker.health("ax3").has_value());
}

TEST_CASE("removed endpoint is no longer checked", "[health_checker]") {
  mend::manual_clock clock;
  scripted_probe probe{&clock, "SSSS"};
  mend::health_checker checker{clock, {}};
  checker.add("ax1", run(probe));
  clock.run_due();
  REQUIRE(probe.called_at.size() == 1);

  CHECK(checker.remove("ax1"));
  CHECK_FALSE(checker.remove("ax1"));
  CHECK(clock.pending_timers() == 0);
  clock.advance(1min);
  CHECK(probe.called_at.size() == 1);
  CHECK_FALSE(checker.status("ax1").has_value());

  // The name can be used again.
  checker.add("ax1", run(probe));
  clock.run_due();
  CHECK(probe.called_at.size() == 2);
}

TEST_CASE("removal during a check drops its result", "[health_checker]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::health_checker checker{clock, {.fall = 1, .sink = &sink}};
  bool stop_seen = false;
  checker.add("ax1", [&](const mend::probe_context& context) -> mend::result<void> {
    checker.remove(context.endpoint);
    stop_seen = context.stop.stop_requested();
    return std::make_error_code(std::errc::connection_refused);
  });

  clock.run_due();
  CHECK(stop_seen);
  CHECK(sink.size() == 0);
  CHECK(clock.pending_timers() == 0);
}

TEST_CASE("destroyed checker cancels its timers", "[health_checker]") {
  mend::manual_clock clock;
  scripted_probe probe{&clock, "SSS"};
  {
    mend::health_checker checker{clock, {}};
    checker.add("ax1", run(probe));
    checker.add("ax2", run(probe));
    CHECK(clock.pending_timers() == 2);
  }
  CHECK(clock.pending_timers() == 0);
  clock.advance(1min);
  CHECK(probe.called_at.empty());
}

TEST_CASE("alert handler runs without the checker lock held", "[health_checker]") {
  mend::manual_clock clock;
  mend::health_checker* checker_ptr = nullptr;
  std::optional<endpoint_health> seen;
  // status() takes the checker's lock, so this deadlocks if on_alert runs under it.
  mend_test::recording_alert_handler pager{[&](const mend::alert&) { seen = checker_ptr->health("ax1"); }};
  scripted_probe probe{&clock, "F"};
  mend::health_checker checker{clock, {.fall = 1, .alerts = &pager}};
  checker_ptr = &checker;
  checker.add("ax1", run(probe));

  clock.run_due();
  CHECK(pager.size() == 1);
  CHECK(seen == endpoint_health::unhealthy);
}

TEST_CASE("health signal follows the checks", "[health_checker]") {
  mend::manual_clock clock;
  scripted_probe probe{&clock, "SSFFF"};
  mend::health_checker checker{clock, {}};
  checker.add("green", run(probe), endpoint_health::unhealthy);
  const auto green = checker.signal("green");
  const auto missing = checker.signal("blue");

  CHECK_FALSE(green().healthy);
  run_next_check(clock);
  CHECK_FALSE(green().healthy);
  CHECK(green().reason == "unhealthy, 0 failed checks in a row");
  run_next_check(clock);
  CHECK(green().healthy);
  CHECK(green().reason == "healthy, 2 successful checks in a row");
  for (int i = 0; i < 3; ++i) run_next_check(clock);
  CHECK_FALSE(green().healthy);
  CHECK(green().reason == "unhealthy, 3 failed checks in a row, last error: " +
                              std::make_error_code(std::errc::connection_refused).message());

  CHECK_FALSE(missing().healthy);
  CHECK(missing().reason == "blue is not checked");
}

TEST_CASE("checker rejects invalid options", "[health_checker]") {
  recording_observer observer;
  CHECK(rejected_field({.interval = 0s}) == "interval");
  CHECK(rejected_field({.interval = -10s}) == "interval");
  CHECK(rejected_field({.jitter = -1s}) == "jitter");
  CHECK(rejected_field({.timeout = 0s}) == "timeout");
  CHECK(rejected_field({.interval = 10s, .timeout = 11s}) == "timeout");
  CHECK(rejected_field({.fall = 0}) == "fall");
  CHECK(rejected_field({.rise = 0}) == "rise");
  CHECK(rejected_field({.observers = {&observer, nullptr}}) == "observers");
  CHECK(rejected_field({.interval = 10s, .timeout = 10s, .fall = 1, .rise = 1}).empty());

  mend::manual_clock clock;
  CHECK_THROWS_WITH((mend::health_checker{clock, {.interval = 10s, .timeout = 11s}}),
                    "health_checker: invalid timeout = 11s (must not exceed interval = 10s)");
  CHECK_THROWS_WITH((mend::health_checker{clock, {.fall = 0}}),
                    "health_checker: invalid fall = 0 (must be at least 1)");
}

TEST_CASE("checker rejects invalid endpoints", "[health_checker]") {
  mend::manual_clock clock;
  mend::health_checker checker{clock, {}};
  const mend::health_probe ok = [](const mend::probe_context&) -> mend::result<void> { return mend::success(); };

  CHECK_THROWS_AS(checker.add("", ok), mend::config_error);
  CHECK_THROWS_AS(checker.add("ax1", mend::health_probe{}), mend::config_error);
  checker.add("ax1", ok);
  CHECK_THROWS_WITH(checker.add("ax1", ok), "health_checker: invalid endpoint = ax1 (is already checked)");
  CHECK(checker.statuses().size() == 1);
}
