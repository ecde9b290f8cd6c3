#include <mend/manual_clock.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <stop_token>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

TEST_CASE("manual clock moves only when advanced", "[clock]") {
  mend::manual_clock clock;
  const auto start = clock.now();
  CHECK(clock.now() == start);

  clock.advance(1500ms);
  CHECK(clock.now() - start == 1500ms);

  clock.advance(-10s);
  CHECK(clock.now() - start == 1500ms);
}

TEST_CASE("manual clock fires timers in deadline order", "[clock]") {
  mend::manual_clock clock;
  const auto start = clock.now();
  std::vector<int> order;
  std::vector<mend::duration> seen_at;

  clock.schedule_after(3s, [&] { order.push_back(3); seen_at.push_back(clock.now() - start); });
  clock.schedule_after(1s, [&] { order.push_back(1); seen_at.push_back(clock.now() - start); });
  clock.schedule_after(2s, [&] { order.push_back(2); seen_at.push_back(clock.now() - start); });
  clock.schedule_after(2s, [&] { order.push_back(22); seen_at.push_back(clock.now() - start); });

  clock.advance(2s);
  CHECK(order == std::vector<int>{1, 2, 22});
  CHECK(seen_at == std::vector<mend::duration>{1s, 2s, 2s});
  CHECK(clock.pending_timers() == 1);

  clock.advance(10s);
  CHECK(order == std::vector<int>{1, 2, 22, 3});
  CHECK(seen_at.back() == 3s);
  CHECK(clock.now() - start == 12s);
}

TEST_CASE("manual clock fires timers scheduled by timers within one advance", "[clock]") {
  mend::manual_clock clock;
  const auto start = clock.now();
  std::vector<mend::duration> fired;
  std::function<void()> tick = [&] {
    fired.push_back(clock.now() - start);
    if (fired.size() < 5) clock.schedule_after(1s, tick);
  };
  clock.schedule_after(1s, tick);

  clock.advance(3500ms);
  CHECK(fired == std::vector<mend::duration>{1s, 2s, 3s});
  clock.advance(10s);
  CHECK(fired.size() == 5);
}

TEST_CASE("manual clock cancel stops a pending timer", "[clock]") {
  mend::manual_clock clock;
  int fired = 0;
  const auto id = clock.schedule_after(1s, [&] { ++fired; });
  CHECK(clock.cancel(id));
  CHECK_FALSE(clock.cancel(id));
  clock.advance(5s);
  CHECK(fired == 0);
}

TEST_CASE("manual clock records sleeps and auto-advances", "[clock]") {
  mend::manual_clock clock;
  const auto start = clock.now();
  int fired = 0;
  clock.schedule_after(1500ms, [&] { ++fired; });

  CHECK(clock.sleep_for(1s));
  CHECK(fired == 0);
  CHECK(clock.sleep_for(1s));
  CHECK(fired == 1);

  CHECK(clock.sleeps() == std::vector<mend::duration>{1s, 1s});
  CHECK(clock.total_slept() == 2s);
  CHECK(clock.now() - start == 2s);
}

TEST_CASE("manual clock sleep with a stop already requested returns at once", "[clock]") {
  mend::manual_clock clock;
  const auto start = clock.now();
  std::stop_source stop;
  stop.request_stop();

  CHECK_FALSE(clock.sleep_for(1s, stop.get_token()));
  CHECK(clock.now() == start);
  CHECK(clock.sleeps() == std::vector<mend::duration>{1s});
}

TEST_CASE("manual clock driven sleep wakes when time passes", "[clock]") {
  mend::manual_clock clock{{.auto_advance = false}};
  std::atomic<bool> result{false};
  std::atomic<bool> done{false};

  std::thread sleeper([&] {
    result = clock.sleep_for(2s);
    done = true;
  });
  clock.wait_for_sleepers(1);
  clock.advance(1s);
  CHECK_FALSE(done.load());
  clock.advance(1s);
  sleeper.join();
  CHECK(result.load());
  CHECK(clock.sleeper_count() == 0);
}

TEST_CASE("manual clock driven sleep ends on stop request", "[clock]") {
  mend::manual_clock clock{{.auto_advance = false}};
  std::stop_source stop;
  std::atomic<bool> result{true};

  std::thread sleeper([&] { result = clock.sleep_for(1h, stop.get_token()); });
  clock.wait_for_sleepers(1);
  stop.request_stop();
  sleeper.join();

  CHECK_FALSE(result.load());
  CHECK(clock.pending_timers() == 0);
}

TEST_CASE("manual clock wall jumps leave monotonic time alone", "[clock]") {
  mend::manual_clock clock;
  const auto mono = clock.now();
  const auto wall = clock.wall_now();
  int fired = 0;
  clock.schedule_after(10s, [&] { ++fired; });

  clock.jump_wall(-1h);
  CHECK(clock.wall_now() - wall == -1h);
  CHECK(clock.now() == mono);
  clock.jump_wall(3h);
  clock.run_due();
  CHECK(fired == 0);

  clock.advance(10s);
  CHECK(fired == 1);
  CHECK(clock.wall_now() - wall == 2h + 10s);
}

TEST_CASE("manual clock cancel from another thread waits for a running callback", "[clock]") {
  mend::manual_clock clock;
  std::atomic<bool> entered{false};
  std::atomic<bool> release{false};
  std::atomic<bool> finished{false};
  const auto id = clock.schedule_after(1s, [&] {
    entered = true;
    while (!release) std::this_thread::yield();
    finished = true;
  });

  std::thread advancer([&] { clock.advance(1s); });
  while (!entered) std::this_thread::yield();

  std::atomic<bool> cancel_returned{false};
  std::atomic<bool> cancelled_before_run{true};
  std::atomic<bool> finished_when_cancel_returned{false};
  std::thread canceller([&] {
    cancelled_before_run = clock.cancel(id);
    finished_when_cancel_returned = finished.load();
    cancel_returned = true;
  });
  std::this_thread::yield();
  CHECK_FALSE(cancel_returned.load());
  release = true;
  canceller.join();
  advancer.join();
  CHECK(cancel_returned.load());
  CHECK_FALSE(cancelled_before_run.load());
  CHECK(finished_when_cancel_returned.load());
}

TEST_CASE("clock add_saturated clamps instead of overflowing", "[clock]") {
  const auto far = mend::time_point::max() - 1s;
  CHECK(mend::clock::add_saturated(far, 1h) == mend::time_point::max());
  CHECK(mend::clock::add_saturated(mend::time_point::min() + 1s, -1h) == mend::time_point::min());
  const mend::time_point t{std::chrono::hours{1}};
  CHECK(mend::clock::add_saturated(t, 1s) == t + 1s);
}
