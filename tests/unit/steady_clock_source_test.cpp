#include <mend/steady_clock_source.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <stop_token>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

// These tests wait for events, never for a fixed time, so they do not depend
// on the machine's speed.

TEST_CASE("steady clock runs a due timer on its thread", "[clock]") {
  mend::steady_clock_source clock;
  std::promise<std::thread::id> ran_on;
  clock.schedule_at(clock.now(), [&] { ran_on.set_value(std::this_thread::get_id()); });
  const auto id = ran_on.get_future().get();
  CHECK(id != std::this_thread::get_id());
}

TEST_CASE("steady clock keeps deadline order for due timers", "[clock]") {
  mend::steady_clock_source clock;
  std::promise<void> gate_entered;
  std::promise<void> release_gate;
  std::promise<void> done;
  std::vector<int> order;

  // Hold the timer thread inside a first timer while the others are queued,
  // so all three are due when it looks at the queue again.
  clock.schedule_at(clock.now(), [&, released = release_gate.get_future().share()] {
    gate_entered.set_value();
    released.wait();
  });
  gate_entered.get_future().wait();

  const auto base = clock.now() - 1h;
  clock.schedule_at(base + 3s, [&] {
    order.push_back(3);
    done.set_value();
  });
  clock.schedule_at(base + 1s, [&] { order.push_back(1); });
  clock.schedule_at(base + 2s, [&] { order.push_back(2); });
  release_gate.set_value();
  done.get_future().wait();

  CHECK(order == std::vector<int>{1, 2, 3});
}

TEST_CASE("steady clock cancel prevents a far timer", "[clock]") {
  mend::steady_clock_source clock;
  bool fired = false;
  const auto id = clock.schedule_after(1h, [&] { fired = true; });
  CHECK(clock.cancel(id));
  CHECK_FALSE(fired);
}

TEST_CASE("steady clock sleep ends on stop request", "[clock]") {
  mend::steady_clock_source clock;
  std::stop_source stop;
  auto sleeper = std::async(std::launch::async, [&] { return clock.sleep_for(1h, stop.get_token()); });
  stop.request_stop();
  CHECK_FALSE(sleeper.get());
}

TEST_CASE("steady clock destructor drops pending timers", "[clock]") {
  bool fired = false;
  {
    mend::steady_clock_source clock;
    clock.schedule_after(1h, [&] { fired = true; });
  }
  CHECK_FALSE(fired);
}
