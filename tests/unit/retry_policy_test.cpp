#include <mend/circuit_breaker.hpp>
#include <mend/decorate.hpp>
#include <mend/manual_clock.hpp>
#include <mend/recording_sink.hpp>
#include <mend/retry_policy.hpp>

#include <catch2/catch.hpp>

#include "concurrent_checks.hpp"

#include <atomic>
#include <future>
#include <stop_token>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using durations = std::vector<mend::duration>;

namespace {

const std::error_code unavailable = mend::http_error(503);

// A callable that fails with `error` for its first `failures` calls, then
// returns 42, counting its calls.
struct flaky {
  int failures;
  std::error_code error = unavailable;
  int calls = 0;

  mend::result<int> operator()() {
    if (++calls <= failures) return error;
    return 42;
  }
};

}  // namespace

TEST_CASE("retry makes four attempts after 1 2 4 seconds", "[retry]") {
  mend::manual_clock clock;
  mend::retry_policy retry{clock, {}};
  flaky call{.failures = 100};

  auto outcome = retry.execute(call);
  REQUIRE_FALSE(outcome);
  CHECK(outcome.error() == unavailable);
  CHECK(call.calls == 4);
  CHECK(clock.sleeps() == durations{1000ms, 2000ms, 4000ms});

  const auto stats = retry.stats();
  CHECK(stats.total_retries == 3);
  CHECK(stats.successful_retries == 0);
  CHECK(stats.failed_retries == 3);
  CHECK(stats.gave_up == 1);
}

TEST_CASE("retry returns the value of a later success", "[retry]") {
  mend::manual_clock clock;
  mend::retry_policy retry{clock, {}};
  flaky call{.failures = 2};

  auto outcome = retry.execute(call);
  CHECK(outcome.value() == 42);
  CHECK(call.calls == 3);
  CHECK(clock.sleeps() == durations{1s, 2s});

  const auto stats = retry.stats();
  CHECK(stats.total_retries == 2);
  CHECK(stats.successful_retries == 1);
  CHECK(stats.failed_retries == 1);
  CHECK(stats.gave_up == 0);
}

TEST_CASE("retry success first time neither sleeps nor counts", "[retry]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::retry_policy retry{clock, {.sink = &sink}};
  const auto start = clock.now();

  CHECK(retry.execute([] { return 5; }).value() == 5);
  CHECK(clock.sleeps().empty());
  CHECK(clock.now() == start);
  CHECK(retry.stats().total_retries == 0);
  CHECK(sink.size() == 0);
}

TEST_CASE("retry does not repeat errors that are not transient", "[retry]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::retry_policy retry{clock, {.sink = &sink}};
  flaky call{.failures = 100, .error = mend::http_error(404)};

  auto outcome = retry.execute(call);
  CHECK(mend::http_status_of(outcome.error()) == 404);
  CHECK(call.calls == 1);
  CHECK(clock.sleeps().empty());
  REQUIRE(sink.count(mend::event_kind::retry_gave_up) == 1);
  CHECK(sink.events().back().reason == "not retryable");
}

TEST_CASE("retry with an open breaker makes no call and no sleep", "[retry][breaker]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {}};
  mend::retry_policy retry{clock, {}};
  breaker.force_open();
  flaky call{.failures = 0};

  auto guarded = mend::decorate(std::ref(call)).with(breaker).with(retry);
  auto outcome = guarded();
  REQUIRE_FALSE(outcome);
  CHECK(outcome.error() == mend::errc::circuit_open);
  CHECK(call.calls == 0);
  CHECK(clock.sleeps().empty());
  CHECK(retry.stats().total_retries == 0);
}

TEST_CASE("retry stops without sleeping once its breaker opens", "[retry][breaker]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::circuit_breaker breaker{clock, {.trip = {.threshold = 2}}};
  mend::retry_policy retry{clock, {.sink = &sink}};
  flaky call{.failures = 100};

  auto guarded = mend::decorate(std::ref(call)).with(breaker).with(retry);
  auto outcome = guarded();

  // Attempt 1 fails, 1 s sleep, attempt 2 fails and trips the breaker: no
  // further sleep, and the caller sees the failure that tripped it.
  CHECK(outcome.error() == unavailable);
  CHECK(call.calls == 2);
  CHECK(clock.sleeps() == durations{1s});
  CHECK(breaker.state() == mend::circuit_state::open);
  CHECK(sink.events().back().reason == "circuit open");
}

TEST_CASE("retry waits for a longer Retry-After hint", "[retry]") {
  mend::manual_clock clock;
  mend::retry_policy retry{clock, {}};
  flaky call{.failures = 2, .error = mend::http_error(503, 3s)};

  CHECK(retry.execute(call).value() == 42);
  CHECK(clock.sleeps() == durations{3s, 3s});
}

TEST_CASE("retry keeps its own delay when the hint is shorter", "[retry]") {
  mend::manual_clock clock;
  mend::retry_policy retry{clock, {}};
  flaky call{.failures = 3, .error = mend::http_error(429, 1s)};

  CHECK(retry.execute(call).value() == 42);
  CHECK(clock.sleeps() == durations{1s, 2s, 4s});
}

TEST_CASE("retry gives up on a hint beyond max_retry_after", "[retry]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::retry_policy retry{clock, {.max_retry_after = 30s, .sink = &sink}};
  flaky call{.failures = 1, .error = mend::http_error(503, 120s)};

  auto outcome = retry.execute(call);
  CHECK(mend::retry_after_of(outcome.error()) == 120s);
  CHECK(call.calls == 1);
  CHECK(clock.sleeps().empty());
  CHECK(sink.events().back().reason == "Retry-After longer than max_retry_after");
}

TEST_CASE("retry stops before a sleep that would pass the deadline", "[retry]") {
  mend::manual_clock clock;
  mend::retry_policy retry{clock, {.deadline = 5s}};
  flaky call{.failures = 100};

  auto outcome = retry.execute(call);
  CHECK(outcome.error() == unavailable);
  // 1 s + 2 s fit, 3 s + 4 s would end at 7 s.
  CHECK(call.calls == 3);
  CHECK(clock.sleeps() == durations{1s, 2s});
}

TEST_CASE("retry deadline counts the time of the first attempt", "[retry]") {
  mend::manual_clock clock;
  mend::retry_policy retry{clock, {.deadline = 5s}};
  int calls = 0;
  auto slow_failure = [&]() -> mend::result<int> {
    ++calls;
    clock.advance(3s);
    return unavailable;
  };

  // 3 s of the first attempt + 1 s sleep = 4 s < 5 s; then 4 s + 3 s + 2 s > 5 s.
  CHECK_FALSE(retry.execute(slow_failure));
  CHECK(calls == 2);
  CHECK(clock.sleeps() == durations{1s});
}

TEST_CASE("retry cancelled during a sleep returns cancelled", "[retry]") {
  mend::manual_clock clock{{.auto_advance = false}};
  mend::retry_policy retry{clock, {}};
  std::stop_source stop;
  std::atomic<int> calls{0};
  std::atomic<bool> token_was_stopped{false};

  auto pending = std::async(std::launch::async, [&] {
    return retry.execute(
        [&](std::stop_token token) -> mend::result<int> {
          token_was_stopped = token.stop_requested();
          ++calls;
          return unavailable;
        },
        stop.get_token());
  });
  clock.wait_for_sleepers(1);
  stop.request_stop();
  auto outcome = pending.get();

  CHECK(outcome.error() == mend::errc::cancelled);
  CHECK(calls.load() == 1);
  CHECK_FALSE(token_was_stopped.load());
  CHECK(clock.sleeps() == durations{1s});
  CHECK(retry.stats().total_retries == 0);
  CHECK(clock.pending_timers() == 0);
}

TEST_CASE("retry with a stop already requested makes no call", "[retry]") {
  mend::manual_clock clock;
  mend::retry_policy retry{clock, {}};
  std::stop_source stop;
  stop.request_stop();
  int calls = 0;

  auto outcome = retry.execute([&](std::stop_token) { return ++calls; }, stop.get_token());
  CHECK(outcome.error() == mend::errc::cancelled);
  CHECK(calls == 0);
}

TEST_CASE("retry can report exhaustion as its own error", "[retry]") {
  mend::manual_clock clock;
  mend::retry_policy retry{clock, {.report_exhaustion = true}};
  flaky call{.failures = 100};

  CHECK(retry.execute(call).error() == mend::errc::retries_exhausted);
  CHECK(call.calls == 4);
}

TEST_CASE("retry with zero retries calls once", "[retry]") {
  mend::manual_clock clock;
  mend::retry_policy retry{clock, {.max_retries = 0}};
  flaky call{.failures = 1};

  CHECK(retry.execute(call).error() == unavailable);
  CHECK(call.calls == 1);
  CHECK(clock.sleeps().empty());
}

TEST_CASE("retry applies jitter from the injected source", "[retry][jitter]") {
  mend::manual_clock clock;
  mend::retry_policy retry{clock, {.jitter_mode = mend::jitter::full, .random = [] { return 0.25; }}};
  flaky call{.failures = 100};

  CHECK_FALSE(retry.execute(call));
  CHECK(clock.sleeps() == durations{250ms, 500ms, 1000ms});
}

TEST_CASE("retry uses a custom classifier", "[retry]") {
  mend::manual_clock clock;
  mend::retry_policy retry{
      clock, {.is_retryable = [](const std::error_code& ec) { return mend::http_status_of(ec) == 409; }}};
  flaky conflict{.failures = 1, .error = mend::http_error(409)};
  flaky unavailable_call{.failures = 1};

  CHECK(retry.execute(conflict).value() == 42);
  CHECK(unavailable_call.calls == 0);
  CHECK_FALSE(retry.execute(unavailable_call));
  CHECK(unavailable_call.calls == 1);
}

TEST_CASE("retry reports each attempt as an event", "[retry]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::retry_policy retry{clock, {.name = "aif_read", .sink = &sink}};
  flaky call{.failures = 2};

  CHECK(retry.execute(call).value() == 42);

  const auto scheduled = sink.events(mend::event_kind::retry_scheduled);
  REQUIRE(scheduled.size() == 2);
  CHECK(scheduled[0].attempt == 1);
  CHECK(scheduled[0].delay == 1s);
  CHECK(scheduled[0].error == unavailable);
  CHECK(scheduled[1].attempt == 2);
  CHECK(scheduled[1].delay == 2s);

  REQUIRE(sink.count(mend::event_kind::retry_failed) == 1);
  const auto succeeded = sink.events(mend::event_kind::retry_succeeded);
  REQUIRE(succeeded.size() == 1);
  CHECK(succeeded[0].attempt == 3);
  CHECK(succeeded[0].component == "aif_read");
  CHECK(succeeded[0].metric_value(mend::metric::total_retries) == 2);
  CHECK(succeeded[0].metric_value(mend::metric::successful_retries) == 1);
  CHECK(succeeded[0].metric_value(mend::metric::failed_retries) == 1);
}

TEST_CASE("retry counters add up across threads", "[retry][threads]") {
  mend::manual_clock clock;
  mend::retry_policy retry{clock, {}};
  mend::testing::concurrent_checks checks;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        flaky call{.failures = i % 3};
        auto outcome = retry.execute(call);
        MEND_EXPECT(checks, outcome && outcome.value() == 42);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  MEND_REQUIRE_NO_FAILURES(checks);

  // Per thread: 34 calls with 0 failures, 33 with 1, 33 with 2.
  const auto stats = retry.stats();
  CHECK(stats.successful_retries == 8 * 66);
  CHECK(stats.failed_retries == 8 * 33);
  CHECK(stats.total_retries == stats.successful_retries + stats.failed_retries);
}

TEST_CASE("retry rejects invalid options naming field and value", "[retry][config]") {
  mend::manual_clock clock;
  CHECK_THROWS_WITH((mend::retry_policy{clock, {.deadline = -1s}}),
                    "retry_policy: invalid deadline = -1s (must not be negative, and zero turns it off)");
  CHECK_THROWS_WITH((mend::retry_policy{clock, {.backoff = mend::exponential_backoff{.multiplier = 0}}}),
                    "retry_policy: invalid backoff.multiplier = 0 (must be greater than zero)");
  CHECK_THROWS_WITH((mend::retry_policy{clock, {.jitter_mode = static_cast<mend::jitter>(42)}}),
                    "retry_policy: invalid jitter_mode = 42 (must be none, full, equal or decorrelated)");
  CHECK_THROWS_WITH((mend::retry_policy{clock, {.is_retryable = nullptr}}),
                    "retry_policy: invalid is_retryable = empty function (must be set)");
}
