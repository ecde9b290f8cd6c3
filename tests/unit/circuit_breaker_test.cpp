#include <mend/circuit_breaker.hpp>
#include <mend/manual_clock.hpp>
#include <mend/steady_clock_source.hpp>
#include <mend/recording_sink.hpp>
#include <mend/trip_policy/failure_rate.hpp>
#include <mend/trip_policy/failure_rate_over_time.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <functional>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using mend::circuit_state;

namespace {

const std::error_code unavailable = mend::http_error(503);

// Runs one call through the breaker that fails with 503 (or succeeds) and
// returns whether the callable ran.
template <class Breaker>
bool call(Breaker& breaker, bool succeed) {
  bool ran = false;
  auto outcome = breaker.execute([&]() -> mend::result<int> {
    ran = true;
    if (succeed) return 1;
    return unavailable;
  });
  if (!ran) CHECK(outcome.error() == mend::errc::circuit_open);
  return ran;
}

template <class Breaker>
void trip(Breaker& breaker, int failures = 5) {
  for (int i = 0; i < failures; ++i) call(breaker, false);
}

std::vector<std::string> transitions(const mend::recording_sink& sink) {
  std::vector<std::string> out;
  for (const auto& e : sink.events(mend::event_kind::breaker_state_changed)) out.push_back(e.from + "->" + e.to);
  return out;
}

}  // namespace

TEST_CASE("breaker opens on the fifth consecutive failure", "[breaker]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::circuit_breaker breaker{clock, {.name = "ax", .sink = &sink}};

  for (int i = 0; i < 4; ++i) CHECK(call(breaker, false));
  CHECK(breaker.state() == circuit_state::closed);
  CHECK(call(breaker, false));
  CHECK(breaker.state() == circuit_state::open);
  CHECK(transitions(sink) == std::vector<std::string>{"closed->open"});

  const auto opened = sink.events(mend::event_kind::breaker_state_changed).front();
  CHECK(opened.reason == "5 consecutive failures");
  CHECK(opened.delay == 60s);
  CHECK(opened.level == mend::severity::warning);
  CHECK(opened.component == "ax");
}

TEST_CASE("breaker success resets the consecutive count", "[breaker]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {}};

  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 4; ++i) call(breaker, false);
    call(breaker, true);
  }
  CHECK(breaker.state() == circuit_state::closed);
  CHECK(breaker.stats().failures == 40);
}

TEST_CASE("open breaker rejects without running the call", "[breaker]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::circuit_breaker breaker{clock, {.sink = &sink}};
  trip(breaker);

  int runs = 0;
  for (int i = 0; i < 3; ++i) {
    auto outcome = breaker.execute([&] { return ++runs; });
    REQUIRE_FALSE(outcome);
    CHECK(outcome.error() == mend::errc::circuit_open);
  }
  CHECK(runs == 0);
  CHECK(breaker.stats().rejections == 3);
  CHECK(sink.count(mend::event_kind::breaker_call_rejected) == 3);
}

TEST_CASE("breaker reads half_open at the deadline without a call", "[breaker]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::circuit_breaker breaker{clock, {.sink = &sink}};
  trip(breaker);

  clock.advance(60s - 1ns);
  CHECK(breaker.state() == circuit_state::open);
  clock.advance(1ns);
  CHECK(transitions(sink) == std::vector<std::string>{"closed->open", "open->half_open"});
  CHECK(breaker.state() == circuit_state::half_open);

  const auto events = sink.events(mend::event_kind::breaker_state_changed);
  CHECK(events.back().reason == "open timeout expired");
  CHECK(events.back().at - events.front().at == 60s);
}

TEST_CASE("breaker state read before the timer fires counts once", "[breaker]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::circuit_breaker breaker{clock, {.sink = &sink}};

  // A timer scheduled before the breaker's own, for the same deadline, runs
  // first: it reads the state when the deadline has passed but the breaker's
  // timer has not fired yet.
  circuit_state seen = circuit_state::closed;
  clock.schedule_after(60s, [&] { seen = breaker.state(); });
  trip(breaker);
  REQUIRE(*breaker.open_until() == clock.now() + 60s);
  clock.advance(60s);

  CHECK(seen == circuit_state::half_open);
  CHECK(transitions(sink) == std::vector<std::string>{"closed->open", "open->half_open"});
}

TEST_CASE("breaker open timeout doubles up to the cap", "[breaker]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::circuit_breaker breaker{clock, {.sink = &sink}};
  trip(breaker);

  std::vector<mend::duration> timeouts;
  for (int test = 0; test < 4; ++test) {
    const auto opened_at = clock.now();
    const auto until = *breaker.open_until();
    timeouts.push_back(until - opened_at);
    clock.advance(until - opened_at);
    REQUIRE(breaker.state() == circuit_state::half_open);
    CHECK(call(breaker, false));  // the test call fails
    REQUIRE(breaker.state() == circuit_state::open);
  }
  CHECK(timeouts == std::vector<mend::duration>{60s, 120s, 240s, 240s});
  CHECK(breaker.stats().open_timeout == 240s);

  const auto events = sink.events(mend::event_kind::breaker_state_changed);
  CHECK(events.back().reason == "test call failed");
  CHECK(events.back().delay == 240s);
}

TEST_CASE("breaker timeout returns to 60 s after three good tests", "[breaker]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {}};

  // Grow the timeout to 240 s.
  trip(breaker);
  clock.advance(60s);
  call(breaker, false);
  clock.advance(120s);
  call(breaker, false);
  REQUIRE(breaker.stats().open_timeout == 240s);

  // Two successful tests leave it at 240 s, the third brings back 60 s.
  for (int good = 1; good <= 3; ++good) {
    clock.advance(*breaker.open_until() - clock.now());
    REQUIRE(breaker.state() == circuit_state::half_open);
    CHECK(call(breaker, true));
    REQUIRE(breaker.state() == circuit_state::closed);
    CHECK(breaker.stats().open_timeout == (good < 3 ? 240s : 60s));
    if (good < 3) {
      trip(breaker);
      CHECK(*breaker.open_until() - clock.now() == 240s);
    }
  }
  trip(breaker);
  CHECK(*breaker.open_until() - clock.now() == 60s);
}

TEST_CASE("grown open timeout shrinks while the circuit stays closed", "[breaker]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {}};

  // A long outage grows the timeout to 240 s; one good test closes the circuit.
  trip(breaker);
  clock.advance(60s);
  call(breaker, false);
  clock.advance(120s);
  call(breaker, false);
  clock.advance(240s);
  call(breaker, true);
  REQUIRE(breaker.state() == circuit_state::closed);
  REQUIRE(breaker.stats().open_timeout == 240s);

  // 119 s closed halves it once (one full 60 s period), then it trips.
  clock.advance(119s);
  trip(breaker);
  CHECK(*breaker.open_until() - clock.now() == 120s);

  // After a good test and two full periods closed, it is back at 60 s.
  clock.advance(120s);
  call(breaker, true);
  clock.advance(120s);
  trip(breaker);
  CHECK(*breaker.open_until() - clock.now() == 60s);
}

TEST_CASE("stats report the shrunk open timeout", "[breaker]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {}};
  trip(breaker);
  clock.advance(60s);
  call(breaker, false);  // 120 s
  clock.advance(120s);
  call(breaker, true);
  CHECK(breaker.stats().open_timeout == 120s);
  clock.advance(60s);
  CHECK(breaker.stats().open_timeout == 60s);
  breaker.force_open();
  CHECK(*breaker.open_until() - clock.now() == 60s);
}

TEST_CASE("forcing open repeatedly keeps one timer pending", "[breaker]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::circuit_breaker breaker{clock, {.sink = &sink}};
  for (int i = 0; i < 1000; ++i) {
    breaker.force_open();
    clock.advance(1s);
  }
  CHECK(clock.pending_timers() == 1);

  // The last forced opening still ends on time: 60 s after it.
  clock.advance(58s);
  CHECK(breaker.state() == circuit_state::open);
  clock.advance(1s);
  CHECK(breaker.state() == circuit_state::half_open);
  CHECK(sink.count(mend::event_kind::breaker_state_changed) == 2);
}

namespace {

// A real clock that reports when someone starts cancelling a timer.
class cancel_watching_clock final : public mend::clock {
 public:
  mend::time_point now() const noexcept override { return real_.now(); }
  mend::wall_time wall_now() const noexcept override { return real_.wall_now(); }
  bool sleep_for(mend::duration d, std::stop_token stop) override { return real_.sleep_for(d, stop); }
  mend::timer_id schedule_at(mend::time_point deadline, std::function<void()> callback) override {
    return real_.schedule_at(deadline, std::move(callback));
  }
  bool cancel(mend::timer_id id) noexcept override {
    cancelling.store(true);
    cancelling.notify_all();
    return real_.cancel(id);
  }

  std::atomic<bool> cancelling{false};

 private:
  mend::steady_clock_source real_;
};

}  // namespace

TEST_CASE("destroying a breaker waits for its running probe", "[breaker]") {
  cancel_watching_clock clock;
  std::promise<void> probe_started;
  std::promise<void> release_probe;
  std::atomic<bool> destructor_returned{false};
  std::atomic<bool> probe_outlived_breaker{false};
  auto breaker = std::make_unique<mend::circuit_breaker>(
      clock, mend::circuit_breaker::options{
                 .open_timeout = 1ns,
                 .max_open_timeout = 1ns,
                 .probe = [&, released = release_probe.get_future().share()]() -> mend::result<void> {
                   probe_started.set_value();
                   released.wait();
                   probe_outlived_breaker = destructor_returned.load();
                   return mend::success();
                 }});
  breaker->force_open();
  probe_started.get_future().wait();

  std::thread destroyer([&] {
    breaker.reset();
    destructor_returned = true;
    destructor_returned.notify_all();
  });
  // The destructor either cancels the running timer (and must wait in
  // cancel() for the probe) or, wrongly, returns at once.
  while (!clock.cancelling.load() && !destructor_returned.load()) std::this_thread::yield();
  CHECK_FALSE(destructor_returned.load());
  release_probe.set_value();
  destroyer.join();
  CHECK_FALSE(probe_outlived_breaker.load());
}

TEST_CASE("open_until is empty once the deadline passed", "[breaker]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {}};

  // Timers scheduled before the breaker's own run first at the same time:
  // one reads just before the deadline, one at it, before the breaker's timer.
  bool before_deadline = false;
  bool at_deadline = true;
  clock.schedule_after(60s - 1ns, [&] { before_deadline = breaker.open_until().has_value(); });
  clock.schedule_after(60s, [&] { at_deadline = breaker.open_until().has_value(); });
  trip(breaker);
  clock.advance(60s);

  CHECK(before_deadline);
  CHECK_FALSE(at_deadline);
  CHECK(breaker.state() == circuit_state::half_open);
}

TEST_CASE("breaker failed test resets the good-test count", "[breaker]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {.max_open_timeout = 480s}};
  trip(breaker);
  clock.advance(60s);
  call(breaker, false);  // 120 s
  clock.advance(120s);
  call(breaker, true);  // good test 1
  trip(breaker);
  clock.advance(120s);
  call(breaker, true);  // good test 2
  REQUIRE(breaker.stats().successful_tests_in_a_row == 2);

  trip(breaker);
  clock.advance(120s);
  call(breaker, false);  // failed test: count back to 0, timeout 240 s
  CHECK(breaker.stats().successful_tests_in_a_row == 0);
  CHECK(breaker.stats().open_timeout == 240s);

  for (int good = 1; good <= 2; ++good) {
    clock.advance(*breaker.open_until() - clock.now());
    call(breaker, true);
    trip(breaker);
  }
  CHECK(*breaker.open_until() - clock.now() == 240s);
}

TEST_CASE("breaker probe tests by itself at the deadline", "[breaker]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  int probes = 0;
  bool healthy = false;
  mend::circuit_breaker breaker{clock,
                                {.probe =
                                     [&]() -> mend::result<void> {
                                       ++probes;
                                       if (healthy) return mend::success();
                                       return unavailable;
                                     },
                                 .sink = &sink}};
  trip(breaker);

  clock.advance(60s);
  CHECK(probes == 1);
  CHECK(breaker.state() == circuit_state::open);
  CHECK(*breaker.open_until() - clock.now() == 120s);

  healthy = true;
  clock.advance(120s);
  CHECK(probes == 2);
  CHECK(breaker.state() == circuit_state::closed);
  CHECK(breaker.stats().auto_recoveries == 1);
  CHECK(transitions(sink) == std::vector<std::string>{"closed->open", "open->half_open", "half_open->open",
                                                      "open->half_open", "half_open->closed"});
}

TEST_CASE("half-open admits exactly the configured number of tests", "[breaker]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {.half_open_probes = 2}};
  trip(breaker);
  clock.advance(60s);

  auto first = breaker.try_acquire();
  auto second = breaker.try_acquire();
  auto third = breaker.try_acquire();
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->is_test());
  CHECK(second->is_test());
  CHECK_FALSE(third);
  CHECK(breaker.stats().rejections == 1);

  first->success();
  CHECK(breaker.state() == circuit_state::closed);
  // The second test's late failure belongs to the half-open period and no
  // longer counts.
  second->failure(unavailable);
  CHECK(breaker.state() == circuit_state::closed);
  CHECK(breaker.stats().failures == 5);
}

TEST_CASE("stale closed-state result does not decide a test", "[breaker]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {}};

  auto slow = breaker.try_acquire();  // admitted while closed
  REQUIRE(slow);
  CHECK_FALSE(slow->is_test());
  trip(breaker);
  clock.advance(60s);
  REQUIRE(breaker.state() == circuit_state::half_open);

  slow->success();
  CHECK(breaker.state() == circuit_state::half_open);
  CHECK(breaker.stats().auto_recoveries == 0);

  auto slow_failure = breaker.try_acquire();
  REQUIRE(slow_failure);  // this one is the test
  CHECK(slow_failure->is_test());
  slow_failure->success();
  CHECK(breaker.state() == circuit_state::closed);
}

TEST_CASE("stale closed-state failure does not reopen", "[breaker]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {}};
  auto slow = breaker.try_acquire();
  trip(breaker);
  clock.advance(60s);
  CHECK(call(breaker, true));
  REQUIRE(breaker.state() == circuit_state::closed);

  slow->failure(unavailable);
  CHECK(breaker.stats().failures == 5);
  for (int i = 0; i < 4; ++i) call(breaker, false);
  CHECK(breaker.state() == circuit_state::closed);
}

TEST_CASE("ignored or cancelled test frees its slot", "[breaker]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {}};
  trip(breaker);
  clock.advance(60s);

  {
    auto dropped = breaker.try_acquire();
    REQUIRE(dropped);
    CHECK_FALSE(breaker.try_acquire());
  }
  auto cancelled = breaker.try_acquire();
  REQUIRE(cancelled);
  cancelled->failure(mend::make_error_code(mend::errc::cancelled));
  CHECK(breaker.state() == circuit_state::half_open);

  auto test = breaker.try_acquire();
  REQUIRE(test);
  test->success();
  CHECK(breaker.state() == circuit_state::closed);
}

TEST_CASE("breaker ignores client errors by default", "[breaker]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {}};
  for (int i = 0; i < 20; ++i) {
    auto outcome = breaker.execute([]() -> mend::result<int> { return mend::http_error(404); });
    CHECK(mend::http_status_of(outcome.error()) == 404);
  }
  CHECK(breaker.state() == circuit_state::closed);
  CHECK(breaker.stats().failures == 0);
}

TEST_CASE("breaker counts fail-fast errors of a pool", "[breaker]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {.trip = {.threshold = 2}}};
  for (const auto error : {mend::errc::pool_recovering, mend::errc::no_healthy_endpoint}) {
    breaker.reset();
    for (int i = 0; i < 2; ++i) {
      auto outcome = breaker.execute([&]() -> mend::result<void> { return mend::make_error_code(error); });
      CHECK(outcome.error() == error);
    }
    CHECK(breaker.state() == circuit_state::open);
  }
}

TEST_CASE("breaker ignores circuit_open from an inner breaker", "[breaker]") {
  mend::manual_clock clock;
  mend::circuit_breaker inner{clock, {}};
  mend::circuit_breaker outer{clock, {}};
  inner.isolate();
  outer.force_open();
  clock.advance(60s);
  REQUIRE(outer.state() == circuit_state::half_open);

  // The test call is rejected by the inner breaker: that says nothing about
  // the backend, so the outer test slot is freed and the state stays.
  auto outcome = outer.execute([&] { return inner.execute([] { return 1; }); });
  CHECK(outcome.error() == mend::errc::circuit_open);
  CHECK(outer.state() == circuit_state::half_open);
  CHECK(outer.try_acquire().has_value());
}

TEST_CASE("breaker uses a custom failure classifier", "[breaker]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{
      clock, {.trip = {.threshold = 2}, .is_failure = [](const std::error_code& ec) {
                return mend::http_status_of(ec) == 404;
              }}};
  for (int i = 0; i < 2; ++i) {
    auto outcome = breaker.execute([]() -> mend::result<void> { return mend::http_error(404); });
    CHECK_FALSE(outcome);
  }
  CHECK(breaker.state() == circuit_state::open);
}

TEST_CASE("breaker turns exceptions into errors", "[breaker]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {.trip = {.threshold = 2}}};

  auto from_system_error = breaker.execute([]() -> int {
    throw std::system_error(std::make_error_code(std::errc::connection_refused));
  });
  REQUIRE_FALSE(from_system_error);
  CHECK(from_system_error.error() == std::errc::connection_refused);

  auto from_other = breaker.execute([] { throw std::runtime_error("parse failed"); });
  REQUIRE_FALSE(from_other);
  CHECK(from_other.error() == mend::errc::unexpected_exception);

  // A refused connection counts, the parse error does not.
  CHECK(breaker.stats().failures == 1);
}

TEST_CASE("breaker execute keeps the callable's return type", "[breaker]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {}};

  mend::result<int> plain = breaker.execute([] { return 7; });
  mend::result<std::string> wrapped = breaker.execute([]() -> mend::result<std::string> { return "ok"; });
  mend::result<void> nothing = breaker.execute([] {});
  mend::result<void> code = breaker.execute([] { return std::error_code{}; });
  mend::result<int> with_args = breaker.execute([](int a, int b) { return a * b; }, 6, 7);

  CHECK(plain.value() == 7);
  CHECK(wrapped.value() == "ok");
  CHECK(nothing.has_value());
  CHECK(code.has_value());
  CHECK(with_args.value() == 42);
}

TEST_CASE("force_open recovers by itself, isolate waits for reset", "[breaker]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::circuit_breaker breaker{clock, {.sink = &sink}};

  breaker.force_open();
  CHECK(breaker.state() == circuit_state::open);
  clock.advance(60s);
  CHECK(breaker.state() == circuit_state::half_open);
  call(breaker, true);
  CHECK(breaker.state() == circuit_state::closed);

  breaker.isolate();
  clock.advance(24h);
  CHECK(breaker.state() == circuit_state::open);
  CHECK(breaker.stats().isolated);
  CHECK_FALSE(breaker.open_until());
  CHECK_FALSE(call(breaker, true));

  breaker.reset();
  CHECK(breaker.state() == circuit_state::closed);
  CHECK_FALSE(breaker.stats().isolated);
  CHECK(breaker.stats().auto_recoveries == 1);
  CHECK(transitions(sink) == std::vector<std::string>{"closed->open", "open->half_open", "half_open->closed",
                                                      "closed->open", "open->closed"});
  const auto events = sink.events(mend::event_kind::breaker_state_changed);
  CHECK(events[0].reason == "forced open");
  CHECK(events[3].reason == "isolated");
  CHECK(events[4].reason == "manual reset");
}

TEST_CASE("reset brings the open timeout back to its start", "[breaker]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {}};
  trip(breaker);
  clock.advance(60s);
  call(breaker, false);
  REQUIRE(breaker.stats().open_timeout == 120s);

  breaker.reset();
  CHECK(breaker.stats().open_timeout == 60s);
  trip(breaker);
  CHECK(*breaker.open_until() - clock.now() == 60s);
}

TEST_CASE("breaker counts auto recoveries with their wall time", "[breaker]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {}};
  CHECK_FALSE(breaker.stats().last_recovery);

  trip(breaker);
  clock.advance(60s);
  clock.jump_wall(-2h);  // the wall clock jumps; recovery time is reported in wall time
  call(breaker, true);

  const auto stats = breaker.stats();
  CHECK(stats.auto_recoveries == 1);
  REQUIRE(stats.last_recovery);
  CHECK(*stats.last_recovery == clock.wall_now());
  CHECK(stats.times_opened == 1);
}

TEST_CASE("wall clock jump does not move the open deadline", "[breaker]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {}};
  trip(breaker);
  clock.jump_wall(10h);
  clock.run_due();
  CHECK(breaker.state() == circuit_state::open);
  clock.jump_wall(-20h);
  clock.advance(59s);
  CHECK(breaker.state() == circuit_state::open);
  clock.advance(1s);
  CHECK(breaker.state() == circuit_state::half_open);
}

TEST_CASE("each transition emits exactly one event", "[breaker]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::circuit_breaker breaker{clock, {.sink = &sink}};

  trip(breaker, 12);  // 5 trip it, 7 are rejected
  for (int i = 0; i < 5; ++i) breaker.state();
  clock.advance(60s);
  for (int i = 0; i < 5; ++i) breaker.state();
  call(breaker, true);
  breaker.reset();  // already closed: no transition, no event

  CHECK(transitions(sink) == std::vector<std::string>{"closed->open", "open->half_open", "half_open->closed"});
  CHECK(sink.count(mend::event_kind::breaker_call_failed) == 5);
  CHECK(sink.count(mend::event_kind::breaker_call_rejected) == 7);
}

TEST_CASE("transition events carry the breaker counters", "[breaker]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::circuit_breaker breaker{clock, {.sink = &sink}};
  trip(breaker);
  call(breaker, true);  // rejected
  clock.advance(60s);
  call(breaker, true);

  const auto closed = sink.events(mend::event_kind::breaker_state_changed).back();
  CHECK(closed.to == "closed");
  CHECK(closed.metric_value(mend::metric::failures) == 5);
  CHECK(closed.metric_value(mend::metric::rejections) == 1);
  CHECK(closed.metric_value(mend::metric::auto_recoveries) == 1);
  CHECK(closed.metric_value(mend::metric::open_timeout_ms) == 60000);
}

TEST_CASE("failure_rate trips at the threshold after minimum calls", "[breaker][failure_rate]") {
  mend::manual_clock clock;
  mend::basic_circuit_breaker<mend::failure_rate> breaker{
      clock, {.trip = {.threshold = 0.5, .window_size = 10, .minimum_calls = 4}}};

  // Three failures alone stay below minimum_calls.
  for (int i = 0; i < 3; ++i) call(breaker, false);
  CHECK(breaker.state() == circuit_state::closed);
  // The fourth call makes 4 calls, 4 failures: 100 % >= 50 %.
  call(breaker, false);
  CHECK(breaker.state() == circuit_state::open);
}

TEST_CASE("failure_rate stays closed below the threshold", "[breaker][failure_rate]") {
  mend::manual_clock clock;
  mend::basic_circuit_breaker<mend::failure_rate> breaker{
      clock, {.trip = {.threshold = 0.5, .window_size = 10, .minimum_calls = 10}}};

  // Alternating 6 successes and 4 failures, over and over: 40 % < 50 %.
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 6; ++i) call(breaker, true);
    for (int i = 0; i < 4; ++i) call(breaker, false);
  }
  CHECK(breaker.state() == circuit_state::closed);

  // One more failure replaces the oldest success: 5 of 10 fail.
  call(breaker, false);
  CHECK(breaker.state() == circuit_state::open);
}

TEST_CASE("failure_rate_over_time ages failures out", "[breaker][failure_rate]") {
  mend::manual_clock clock;
  mend::basic_circuit_breaker<mend::failure_rate_over_time> breaker{
      clock, {.trip = {.threshold = 0.5, .window = 10s, .minimum_calls = 4, .buckets = 10}}};

  for (int i = 0; i < 3; ++i) call(breaker, false);
  clock.advance(11s);  // those three are out of the window now
  call(breaker, true);
  call(breaker, false);
  call(breaker, false);
  CHECK(breaker.state() == circuit_state::closed);  // 3 calls in the window
  call(breaker, false);
  CHECK(breaker.state() == circuit_state::open);  // 4 calls, 3 failures
}

TEST_CASE("slow calls count as failures", "[breaker]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::circuit_breaker breaker{clock, {.trip = {.threshold = 2}, .slow_call_threshold = 2s, .sink = &sink}};

  for (int i = 0; i < 2; ++i) {
    auto outcome = breaker.execute([&] {
      clock.advance(3s);
      return 5;
    });
    CHECK(outcome.value() == 5);  // the caller still gets the value
  }
  CHECK(breaker.state() == circuit_state::open);
  CHECK(sink.count(mend::event_kind::breaker_slow_call) == 2);
  CHECK(sink.events(mend::event_kind::breaker_slow_call).front().delay == 3s);
}

TEST_CASE("breaker rejects invalid options naming field and value", "[breaker][config]") {
  mend::manual_clock clock;
  using options = mend::circuit_breaker::options;

  const auto message_of = [&](options opts) -> std::string {
    try {
      mend::circuit_breaker breaker{clock, std::move(opts)};
    } catch (const mend::config_error& e) {
      CHECK(e.code() == mend::errc::invalid_argument);
      return e.what();
    }
    return "no error";
  };

  CHECK(message_of({.open_timeout = -5s}) ==
        "circuit_breaker: invalid open_timeout = -5s (must be greater than zero)");
  CHECK(message_of({.open_timeout_multiplier = 0.0}) ==
        "circuit_breaker: invalid open_timeout_multiplier = 0 (must be at least 1)");
  CHECK(message_of({.open_timeout = 300s}).find("max_open_timeout = 240s") != std::string::npos);
  CHECK(message_of({.half_open_probes = 0}) ==
        "circuit_breaker: invalid half_open_probes = 0 (must be at least 1)");
  CHECK(message_of({.trip = {.threshold = 0}}) ==
        "circuit_breaker: invalid trip.threshold = 0 (must be at least 1)");
  CHECK(message_of({.slow_call_threshold = -1ms}).find("slow_call_threshold") != std::string::npos);

  CHECK_THROWS_AS((mend::basic_circuit_breaker<mend::failure_rate>{clock, {.trip = {.threshold = 1.5}}}),
                  mend::config_error);
  CHECK_THROWS_AS((mend::basic_circuit_breaker<mend::failure_rate>{clock, {.trip = {.minimum_calls = 50}}}),
                  mend::config_error);
  CHECK_THROWS_WITH(
      (mend::basic_circuit_breaker<mend::failure_rate>{clock, {.trip = {.window_size = 4'000'000'000u}}}),
      "circuit_breaker: invalid trip.window_size = 4000000000 (must be between 1 and 1000000)");
  CHECK_THROWS_WITH(
      (mend::basic_circuit_breaker<mend::failure_rate_over_time>{clock, {.trip = {.buckets = 1'000'000}}}),
      "circuit_breaker: invalid trip.buckets = 1000000 (must be between 1 and 100000)");
}
