// Many threads call one breaker of each trip policy while another moves the
// manual clock and an operator forces, isolates and resets it. The threads
// meet at a barrier after every round. The barrier's completion step runs
// while all of them wait, so it checks the invariants of a quiescent breaker
// after each round of concurrent operations.
#include <array>
#include <atomic>
#include <barrier>
#include <catch2/catch.hpp>
#include <cstdint>
#include <mend/circuit_breaker.hpp>
#include <mend/manual_clock.hpp>
#include <mend/recording_sink.hpp>
#include <mend/trip_policy/failure_rate.hpp>
#include <mend/trip_policy/failure_rate_over_time.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "concurrent_checks.hpp"

using namespace std::chrono_literals;
using mend::circuit_state;

namespace {

constexpr int workers = 6;
constexpr int rounds = 2000;

const std::error_code unavailable = mend::http_error(503);

template <class Policy>
Policy stress_trip();

template <>
mend::consecutive_failures stress_trip() {
  return {.threshold = 3};
}

template <>
mend::failure_rate stress_trip() {
  return {.threshold = 0.5, .window_size = 10, .minimum_calls = 5};
}

template <>
mend::failure_rate_over_time stress_trip() {
  return {.threshold = 0.5, .window = 10s, .minimum_calls = 5, .buckets = 5};
}

}  // namespace

TEMPLATE_TEST_CASE("breaker invariants hold after every concurrent round", "[breaker][threads][stress]",
                   mend::consecutive_failures, mend::failure_rate, mend::failure_rate_over_time) {
  using breaker_type = mend::basic_circuit_breaker<TestType>;
  constexpr auto open_timeout = 10s;
  constexpr auto max_open_timeout = 40s;

  mend::manual_clock clock;
  mend::recording_sink sink;
  breaker_type breaker{clock,
                       {.name = "stress",
                        .trip = stress_trip<TestType>(),
                        .open_timeout = open_timeout,
                        .max_open_timeout = max_open_timeout,
                        .half_open_probes = 2,
                        .slow_call_threshold = 3s,
                        .sink = &sink}};

  mend::testing::concurrent_checks checks;
  // Permits the workers hold from one round into the next.
  std::array<std::optional<typename breaker_type::permit>, workers> held;
  std::atomic<std::uint64_t> executed{0};
  std::atomic<std::uint64_t> rejected{0};
  std::uint64_t checked_rounds = 0;
  std::uint64_t half_open_rounds = 0;

  // Runs alone, after every round, while every thread waits at the barrier.
  const auto check_quiescent = [&]() noexcept {
    ++checked_rounds;
    const auto stats = breaker.stats();
    const auto state = breaker.state();
    const auto until = breaker.open_until();
    const auto now = clock.now();

    MEND_EXPECT(checks, stats.state == state);
    MEND_EXPECT(checks, until.has_value() == (state == circuit_state::open && !stats.isolated));
    if (until) {
      MEND_EXPECT(checks, *until > now);
      MEND_EXPECT(checks, *until - now <= max_open_timeout);
    }
    if (stats.isolated) MEND_EXPECT(checks, state == circuit_state::open);
    MEND_EXPECT(checks, stats.open_timeout == 10s || stats.open_timeout == 20s || stats.open_timeout == 40s);
    MEND_EXPECT(checks, stats.successful_tests_in_a_row < 3);

    // With no permit held, a half-open breaker has every test slot free.
    bool any_held = false;
    for (const auto& permit : held) any_held = any_held || permit.has_value();
    if (state == circuit_state::half_open) {
      ++half_open_rounds;
      if (!any_held) MEND_EXPECT(checks, !breaker.would_reject());
    }
    if (state == circuit_state::closed) MEND_EXPECT(checks, !breaker.would_reject());
    if (state == circuit_state::open) MEND_EXPECT(checks, breaker.would_reject());
  };
  std::barrier round_end(workers + 2, check_quiescent);

  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 random(static_cast<std::mt19937::result_type>(w + 1));
      for (int round = 0; round < rounds; ++round) {
        // Failures dominate every other stretch of 50 rounds.
        const bool failing_stretch = (round / 50) % 2 == 1;
        if (auto& permit = held[static_cast<std::size_t>(w)]) {
          const auto roll = random() % 3;
          if (roll == 0) permit->success();
          if (roll == 1) permit->failure(unavailable);
          permit.reset();  // ignored when neither was reported
        }
        const auto roll = random() % 10;
        if (roll < 6) {
          const bool fail = random() % 100 < (failing_stretch ? 80u : 10u);
          auto outcome = breaker.execute([&]() -> mend::result<int> {
            executed.fetch_add(1);
            if (fail) return unavailable;
            return 1;
          });
          if (!outcome && outcome.error() == mend::errc::circuit_open) rejected.fetch_add(1);
          MEND_EXPECT(checks, outcome || outcome.error() == mend::errc::circuit_open || outcome.error() == unavailable);
        } else if (roll < 8) {
          if (auto permit = breaker.try_acquire()) {
            held[static_cast<std::size_t>(w)].emplace(std::move(*permit));
          } else {
            rejected.fetch_add(1);
          }
        } else {
          const auto state = breaker.state();
          MEND_EXPECT(checks, state == circuit_state::closed || state == circuit_state::open ||
                                  state == circuit_state::half_open);
          const auto stats = breaker.stats();
          MEND_EXPECT(checks, stats.open_timeout >= open_timeout && stats.open_timeout <= max_open_timeout);
        }
        round_end.arrive_and_wait();
      }
      held[static_cast<std::size_t>(w)].reset();
    });
  }
  threads.emplace_back([&] {  // time
    std::mt19937 random(100);
    for (int round = 0; round < rounds; ++round) {
      static constexpr std::array steps{0s, 1s, 2s, 5s, 11s, 21s};
      clock.advance(steps[random() % steps.size()]);
      round_end.arrive_and_wait();
    }
  });
  threads.emplace_back([&] {  // operator
    std::mt19937 random(200);
    for (int round = 0; round < rounds; ++round) {
      const auto roll = random() % 200;
      if (roll == 0) breaker.force_open("stress");
      if (roll == 1) breaker.isolate("stress");
      if (roll == 2 || roll == 3) breaker.reset("stress");
      round_end.arrive_and_wait();
    }
  });
  for (auto& thread : threads) thread.join();
  MEND_REQUIRE_NO_FAILURES(checks);

  CHECK(checked_rounds == rounds);
  CHECK(half_open_rounds > 0);

  // Every transition was reported once, as one chain of states.
  std::string current = "closed";
  std::uint64_t openings = 0;
  for (const auto& e : sink.events(mend::event_kind::breaker_state_changed)) {
    INFO("transition " << e.from << " -> " << e.to << " (" << e.reason << ")");
    CHECK(e.from == current);
    CHECK(e.from != e.to);
    if (e.to == "open") ++openings;
    current = e.to;
  }
  CHECK(current == mend::to_string(breaker.state()));
  CHECK(openings > 10);

  const auto stats = breaker.stats();
  CHECK(stats.times_opened == openings);
  CHECK(stats.rejections == rejected.load());
  CHECK(sink.count(mend::event_kind::breaker_call_rejected) == rejected.load());
  CHECK(sink.count(mend::event_kind::breaker_call_failed) == stats.failures);
  CHECK(stats.auto_recoveries > 0);
}
