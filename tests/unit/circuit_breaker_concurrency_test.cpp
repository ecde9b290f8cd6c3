#include <mend/circuit_breaker.hpp>
#include <mend/manual_clock.hpp>
#include <mend/recording_sink.hpp>
#include <mend/trip_policy/failure_rate.hpp>

#include <catch2/catch.hpp>

#include "concurrent_checks.hpp"

#include <atomic>
#include <barrier>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using mend::circuit_state;

namespace {

constexpr int thread_count = 8;

const std::error_code unavailable = mend::http_error(503);

// Checks that the recorded transitions form one chain of allowed steps that
// starts closed and ends in `final_state`.
void check_transition_chain(const mend::recording_sink& sink, circuit_state final_state) {
  const std::set<std::pair<std::string, std::string>> allowed{
      {"closed", "open"}, {"open", "half_open"}, {"half_open", "closed"}, {"half_open", "open"}};
  std::string current = "closed";
  for (const auto& e : sink.events(mend::event_kind::breaker_state_changed)) {
    INFO("transition " << e.from << " -> " << e.to);
    CHECK(e.from == current);
    CHECK(allowed.count({e.from, e.to}) == 1);
    current = e.to;
  }
  CHECK(current == mend::to_string(final_state));
}

}  // namespace

TEST_CASE("concurrent callers get exactly the half-open test slots", "[breaker][threads]") {
  for (const std::uint32_t probes : {1u, 3u}) {
    mend::manual_clock clock;
    mend::circuit_breaker breaker{clock, {.half_open_probes = probes}};

    for (int round = 0; round < 50; ++round) {
      breaker.force_open();
      clock.advance(*breaker.open_until() - clock.now());
      REQUIRE(breaker.state() == circuit_state::half_open);

      std::atomic<std::uint32_t> admitted{0};
      std::atomic<std::uint32_t> ran{0};
      std::barrier start(thread_count);
      std::barrier finish(thread_count);
      std::vector<std::thread> threads;
      for (int t = 0; t < thread_count; ++t) {
        threads.emplace_back([&] {
          start.arrive_and_wait();
          auto permit = breaker.try_acquire();
          if (permit) admitted.fetch_add(1);
          // Hold the slot until every thread has tried.
          finish.arrive_and_wait();
          if (permit) {
            ran.fetch_add(1);
            permit->ignore();
          }
        });
      }
      for (auto& thread : threads) thread.join();

      INFO("probes " << probes << ", round " << round);
      CHECK(admitted.load() == probes);
      CHECK(ran.load() == probes);
      CHECK(breaker.state() == circuit_state::half_open);
    }
    CHECK(breaker.stats().rejections == 50 * (thread_count - probes));
  }
}

TEST_CASE("concurrent execute in half-open runs only admitted calls", "[breaker][threads]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {.half_open_probes = 2}};
  breaker.force_open();
  clock.advance(60s);

  mend::testing::concurrent_checks checks;
  std::atomic<int> running{0};
  std::atomic<int> max_running{0};
  std::atomic<int> executed{0};
  std::barrier start(thread_count);
  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < 200; ++i) {
        auto outcome = breaker.execute([&] {
          const int now_running = running.fetch_add(1) + 1;
          int seen = max_running.load();
          while (seen < now_running && !max_running.compare_exchange_weak(seen, now_running)) {
          }
          executed.fetch_add(1);
          running.fetch_sub(1);
          // A cancelled call frees its slot without deciding the test, so
          // the breaker stays half-open and the slots keep cycling.
          return mend::result<void>{mend::make_error_code(mend::errc::cancelled)};
        });
        MEND_EXPECT(checks, !outcome);
      }
    });
  }
  for (auto& thread : threads) thread.join();

  MEND_REQUIRE_NO_FAILURES(checks);
  CHECK(max_running.load() <= 2);
  CHECK(executed.load() + static_cast<int>(breaker.stats().rejections) == thread_count * 200);
  CHECK(breaker.state() == circuit_state::half_open);
}

TEST_CASE("breaker state stays consistent under mixed results", "[breaker][threads]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::basic_circuit_breaker<mend::failure_rate> breaker{
      clock,
      {.trip = {.threshold = 0.5, .window_size = 20, .minimum_calls = 10}, .half_open_probes = 2, .sink = &sink}};

  mend::testing::concurrent_checks checks;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> calls{0};
  std::atomic<std::uint64_t> executed{0};
  std::atomic<std::uint64_t> rejected{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(static_cast<std::mt19937::result_type>(t));
      for (int i = 0; i < 4000; ++i) {
        const bool fail = random() % 100 < 55;
        auto outcome = breaker.execute([&]() -> mend::result<int> {
          executed.fetch_add(1);
          if (fail) return unavailable;
          return 1;
        });
        calls.fetch_add(1);
        if (!outcome && outcome.error() == mend::errc::circuit_open) rejected.fetch_add(1);

        // An open breaker that is not isolated always has a deadline.
        const auto state = breaker.state();
        MEND_EXPECT(checks, state == circuit_state::closed || state == circuit_state::open ||
                                state == circuit_state::half_open);
        if (state == circuit_state::open) {
          const auto until = breaker.open_until();
          // The circuit may have moved on since the state was read.
          MEND_EXPECT(checks, !until || *until > mend::time_point{});
        }
      }
    });
  }
  // Time moves in 10 s steps while the callers run, opening and closing the
  // circuit many times.
  std::thread advancer([&] {
    while (!stop.load()) {
      clock.advance(10s);
      std::this_thread::yield();
    }
  });
  for (auto& thread : threads) thread.join();
  stop = true;
  advancer.join();
  MEND_REQUIRE_NO_FAILURES(checks);

  const auto stats = breaker.stats();
  CHECK(calls.load() == thread_count * 4000);
  CHECK(executed.load() + rejected.load() == calls.load());
  CHECK(stats.rejections == rejected.load());
  CHECK(sink.count(mend::event_kind::breaker_call_rejected) == rejected.load());
  CHECK(sink.count(mend::event_kind::breaker_call_failed) == stats.failures);
  CHECK(stats.failures <= executed.load());
  check_transition_chain(sink, breaker.state());

  // No test slot leaked: once the breaker is open and its timeout passes, a
  // test call is admitted.
  breaker.force_open();
  clock.advance(*breaker.open_until() - clock.now());
  auto test = breaker.try_acquire();
  REQUIRE(test);
  CHECK(test->is_test());
}

TEST_CASE("closed breaker success path runs in parallel", "[breaker][threads]") {
  mend::manual_clock clock;
  mend::recording_sink sink;
  mend::circuit_breaker breaker{clock, {.sink = &sink}};

  std::barrier start(thread_count);
  std::atomic<std::uint64_t> total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      std::uint64_t sum = 0;
      for (int i = 0; i < 20000; ++i) sum += breaker.execute([i] { return i % 7; }).value();
      total.fetch_add(sum);
    });
  }
  for (auto& thread : threads) thread.join();

  std::uint64_t expected_per_thread = 0;
  for (int i = 0; i < 20000; ++i) expected_per_thread += static_cast<std::uint64_t>(i % 7);
  CHECK(total.load() == expected_per_thread * thread_count);
  CHECK(sink.size() == 0);
  CHECK(breaker.state() == circuit_state::closed);
}
