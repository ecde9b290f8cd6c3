// Threads schedule, cancel and sleep on one manual clock while others move
// it. Every timer fires exactly once or is cancelled, never both. Time read by
// any thread never goes back. A driven sleep ends only when its time has
// passed or its stop was requested.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mend/manual_clock.hpp>
#include <random>
#include <stop_token>
#include <thread>
#include <vector>

#include "concurrent_checks.hpp"

using namespace std::chrono_literals;

TEST_CASE("concurrent timers fire once or are cancelled", "[clock][threads][stress]") {
  constexpr int schedulers = 4;
  constexpr int timers_per_thread = 2000;

  mend::manual_clock clock;
  mend::testing::concurrent_checks checks;

  struct timer_record {
    std::atomic<int> fired{0};
    std::atomic<bool> cancelled{false};
    mend::time_point deadline{};
  };
  std::vector<std::unique_ptr<timer_record>> records(schedulers * timers_per_thread);
  for (auto& record : records) record = std::make_unique<timer_record>();

  std::atomic<int> scheduling{schedulers};
  std::vector<std::thread> threads;
  for (int t = 0; t < schedulers; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(static_cast<std::mt19937::result_type>(t + 1));
      std::vector<std::pair<mend::timer_id, timer_record*>> pending;
      for (int i = 0; i < timers_per_thread; ++i) {
        auto& record = *records[static_cast<std::size_t>(t * timers_per_thread + i)];
        record.deadline = clock.now() + std::chrono::milliseconds{random() % 100};
        const auto id = clock.schedule_at(record.deadline, [&clock, &checks, &record] {
          record.fired.fetch_add(1);
          // A callback reads a time at or past its deadline.
          MEND_EXPECT(checks, clock.now() >= record.deadline);
        });
        MEND_EXPECT(checks, id != 0);
        pending.emplace_back(id, &record);
        // Cancel one in three, some long after scheduling.
        if (random() % 3 == 0 && !pending.empty()) {
          const auto victim = pending[random() % pending.size()];
          if (clock.cancel(victim.first)) victim.second->cancelled.store(true);
        }
      }
      scheduling.fetch_sub(1);
    });
  }
  for (int d = 0; d < 2; ++d) {
    threads.emplace_back([&] {  // two threads move time at once
      while (scheduling.load() > 0) {
        clock.advance(1ms);
        std::this_thread::yield();
      }
    });
  }
  threads.emplace_back([&] {  // time read by one thread never goes back
    auto last = clock.now();
    while (scheduling.load() > 0) {
      const auto now = clock.now();
      MEND_EXPECT(checks, now >= last);
      last = now;
    }
  });
  for (auto& thread : threads) thread.join();
  clock.advance(1s);
  MEND_REQUIRE_NO_FAILURES(checks);

  std::size_t fired = 0;
  std::size_t cancelled = 0;
  for (const auto& record : records) {
    const bool was_cancelled = record->cancelled.load();
    CHECK(record->fired.load() == (was_cancelled ? 0 : 1));
    fired += static_cast<std::size_t>(record->fired.load());
    cancelled += was_cancelled ? 1 : 0;
  }
  CHECK(fired + cancelled == records.size());
  CHECK(cancelled > 0);
  CHECK(clock.pending_timers() == 0);
}

TEST_CASE("concurrent driven sleeps end on time or stop", "[clock][threads][stress]") {
  constexpr int sleepers = 6;
  constexpr int sleeps_per_thread = 200;

  mend::manual_clock clock{{.auto_advance = false}};
  mend::testing::concurrent_checks checks;
  std::atomic<int> running{sleepers};
  std::atomic<int> completed{0};
  std::atomic<int> stopped{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < sleepers; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(static_cast<std::mt19937::result_type>(t + 10));
      for (int i = 0; i < sleeps_per_thread; ++i) {
        std::stop_source stop;
        const bool stop_early = random() % 4 == 0;
        if (stop_early) stop.request_stop();
        const auto d = std::chrono::milliseconds{1 + random() % 20};
        const auto start = clock.now();
        const bool full = clock.sleep_for(d, stop.get_token());
        if (full) {
          MEND_EXPECT(checks, clock.now() >= start + d);
          completed.fetch_add(1);
        } else {
          MEND_EXPECT(checks, stop.stop_requested());
          stopped.fetch_add(1);
        }
      }
      running.fetch_sub(1);
    });
  }
  std::thread driver([&] {
    while (running.load() > 0) {
      clock.advance(1ms);
      std::this_thread::yield();
    }
  });
  for (auto& thread : threads) thread.join();
  driver.join();
  MEND_REQUIRE_NO_FAILURES(checks);

  CHECK(completed.load() + stopped.load() == sleepers * sleeps_per_thread);
  CHECK(stopped.load() > 0);
  CHECK(clock.sleeper_count() == 0);
  CHECK(clock.sleeps().size() == static_cast<std::size_t>(sleepers * sleeps_per_thread));
}
