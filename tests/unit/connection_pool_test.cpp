#include <mend/connection_pool.hpp>
#include <mend/log_sink.hpp>
#include <mend/manual_clock.hpp>
#include <mend/recording_sink.hpp>

#include <catch2/catch.hpp>

#include "fake_backend.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using mend_test::fake_backend;
using mend_test::fake_connection;
using mend_test::throwing_connection;
using pool_type = mend::connection_pool<fake_connection>;
using lease_type = pool_type::lease;

namespace {

const std::error_code refused = std::make_error_code(std::errc::connection_refused);
const std::error_code reset = std::make_error_code(std::errc::connection_reset);

// Checks the accounting rules that must hold between any two operations:
// the counts add up, max_size holds, and the connections alive at the backend
// are exactly the idle and leased ones.
void check_invariants(const pool_type& pool, const fake_backend& backend) {
  const auto s = pool.stats();
  CHECK(s.total == s.active + s.idle + s.creating + s.closing);
  CHECK(s.total <= pool.config().max_size);
  CHECK(s.creating == 0);
  CHECK(s.closing == 0);
  CHECK(static_cast<std::size_t>(backend.alive()) == s.active + s.idle);
  CHECK(backend.max_alive() <= static_cast<int>(pool.config().max_size));
}

// Blocks until `pool` has `count` waiters. The waiting thread registers under
// the pool's lock, so this only yields until that happened; no time passes.
void wait_for_waiters(const pool_type& pool, std::size_t count) {
  while (pool.stats().waiters < count) std::this_thread::yield();
}

std::vector<mend::duration> event_times(const mend::recording_sink& sink, mend::event_kind kind,
                                        mend::time_point start) {
  std::vector<mend::duration> out;
  for (const auto& e : sink.events(kind)) out.push_back(e.at - start);
  return out;
}

}  // namespace

TEST_CASE("pool fills to min_size on the clock", "[pool]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  mend::recording_sink sink;
  pool_type pool{clock, backend.factory(), {.name = "aif", .min_size = 3, .max_size = 5, .sink = &sink}};

  CHECK(pool.stats().idle == 0);
  CHECK(backend.calls() == 0);

  clock.run_due();
  CHECK(pool.stats().idle == 3);
  CHECK(pool.stats().total == 3);
  CHECK(backend.calls() == 3);
  CHECK(sink.count(mend::event_kind::pool_connection_created) == 3);
  check_invariants(pool, backend);
}

TEST_CASE("refill round creates at most max_concurrent_creations", "[pool]") {
  mend::manual_clock clock;
  std::vector<std::string> order;
  int next_id = 0;
  fake_backend backend{clock};
  pool_type pool{clock,
                 [&]() -> mend::result<fake_connection> {
                   order.push_back("create");
                   return fake_connection{backend, ++next_id};
                 },
                 {.min_size = 5, .max_size = 5, .max_concurrent_creations = 2}};
  clock.schedule_after(0s, [&] { order.push_back("other timer"); });

  clock.run_due();
  CHECK(order == std::vector<std::string>{"create", "create", "other timer", "create", "create", "create"});
  CHECK(pool.stats().idle == 5);
}

TEST_CASE("acquire creates on the caller thread without idle connection", "[pool]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  pool_type pool{clock, backend.factory(), {.min_size = 0, .max_size = 2}};

  auto first = pool.acquire();
  REQUIRE(first);
  CHECK(backend.calls() == 1);
  CHECK(pool.stats().active == 1);
  CHECK(clock.pending_timers() == 1);  // the idle check only: min_size 0 needs no refill
  check_invariants(pool, backend);
}

TEST_CASE("lease returns its connection when destroyed", "[pool]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  pool_type pool{clock, backend.factory(), {.min_size = 1, .max_size = 2}};
  clock.run_due();

  int first_id = 0;
  {
    auto leased = pool.acquire();
    REQUIRE(leased);
    first_id = leased.value()->id();
    CHECK(pool.stats().active == 1);
    CHECK(pool.stats().idle == 0);
  }
  CHECK(pool.stats().active == 0);
  CHECK(pool.stats().idle == 1);

  auto again = pool.acquire();
  REQUIRE(again);
  CHECK(again.value()->id() == first_id);
  CHECK(backend.calls() == 1);
}

TEST_CASE("released lease is empty and returns once", "[pool]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  pool_type pool{clock, backend.factory(), {.min_size = 1, .max_size = 1}};
  clock.run_due();

  auto leased = pool.acquire();
  REQUIRE(leased);
  lease_type lease = std::move(leased).value();
  CHECK(static_cast<bool>(lease));
  lease.release();
  CHECK_FALSE(static_cast<bool>(lease));
  lease.release();
  lease.fail(reset);
  CHECK(pool.stats().idle == 1);
  CHECK(pool.stats().connections_removed == 0);
}

TEST_CASE("failed lease removes the connection and refills", "[pool]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  mend::recording_sink sink;
  pool_type pool{clock, backend.factory(), {.min_size = 1, .max_size = 4, .sink = &sink}};
  clock.run_due();

  auto leased = pool.acquire();
  REQUIRE(leased);
  leased.value().fail(reset);
  CHECK_FALSE(static_cast<bool>(leased.value()));
  CHECK(pool.stats().total == 0);
  CHECK(backend.alive() == 0);

  const auto removed = sink.events(mend::event_kind::pool_connection_removed);
  REQUIRE(removed.size() == 1);
  CHECK(removed[0].reason == "broken");
  CHECK(removed[0].error == reset);
  CHECK(removed[0].level == mend::severity::warning);

  clock.run_due();
  CHECK(pool.stats().idle == 1);
  CHECK(backend.calls() == 2);
  check_invariants(pool, backend);
}

TEST_CASE("failed lease also removes idle connections not newer than it", "[pool]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  mend::recording_sink sink;
  pool_type pool{clock, backend.factory(), {.min_size = 2, .max_size = 4, .sink = &sink}};
  clock.run_due();  // connections 1 and 2, opened together
  REQUIRE(pool.stats().idle == 2);

  clock.advance(1s);
  auto first = pool.acquire();
  auto second = pool.acquire();
  auto third = pool.acquire();  // connection 3, opened a second later
  REQUIRE(first);
  REQUIRE(second);
  REQUIRE(third);
  CHECK(third.value()->id() == 3);
  second.value().release();
  third.value().release();
  REQUIRE(pool.stats().idle == 2);

  first.value().fail(reset);
  CHECK(pool.stats().idle == 1);
  CHECK(pool.stats().total == 1);

  const auto removed = sink.events(mend::event_kind::pool_connection_removed);
  REQUIRE(removed.size() == 2);
  CHECK(removed[0].reason == "broken");
  CHECK(removed[1].reason == "stale");
  CHECK(removed[1].error == std::error_code{});

  auto next = pool.acquire();
  REQUIRE(next);
  CHECK(next.value()->id() == 3);
  check_invariants(pool, backend);
}

TEST_CASE("factory failing for 17 s gets one attempt per 5 s tick", "[pool][recovery]") {
  mend::manual_clock clock;
  const auto origin = clock.now();
  fake_backend backend{clock};
  mend::recording_sink sink;
  pool_type pool{clock, backend.factory(),
                 {.name = "aif", .min_size = 2, .max_size = 4, .idle_check_interval = 0s, .sink = &sink}};
  clock.run_due();
  REQUIRE(pool.stats().idle == 2);
  clock.advance(1s);  // keeps the fill's factory calls apart from the ones below

  const auto t0 = clock.now();
  backend.go_down(refused);
  clock.schedule_at(t0 + 17s, [&] { backend.come_back(); });
  {
    auto a = pool.acquire();
    auto b = pool.acquire();
    REQUIRE(a);
    REQUIRE(b);
    a.value().fail(reset);
    b.value().fail(reset);
  }
  CHECK_FALSE(pool.in_recovery());  // no creation has failed yet

  clock.run_due();  // the refill fails with no connection left: recovery mode
  CHECK(pool.in_recovery());
  REQUIRE(sink.count(mend::event_kind::pool_recovery_entered) == 1);
  CHECK(sink.events(mend::event_kind::pool_recovery_entered)[0].error == refused);

  // Each second: acquire fails fast without calling the factory, and the
  // factory has been tried once per elapsed 5 s tick.
  for (int second = 1; second <= 19; ++second) {
    clock.advance(1s);
    const auto calls_before = backend.calls();
    auto leased = pool.acquire();
    REQUIRE_FALSE(leased);
    CHECK(leased.error() == mend::errc::pool_recovering);
    CHECK(pool.last_error() == refused);
    CHECK(backend.calls() == calls_before);
    CHECK(pool.stats().recovery_attempts == static_cast<std::uint64_t>(second / 5));
    check_invariants(pool, backend);
  }

  clock.advance(1s);  // t0 + 20 s: the fourth attempt succeeds
  CHECK_FALSE(pool.in_recovery());
  CHECK(pool.stats().recovery_attempts == 4);
  CHECK(pool.stats().idle == 2);  // refilled to min_size in the same tick

  CHECK(event_times(sink, mend::event_kind::pool_recovery_attempt, t0) ==
        std::vector<mend::duration>{5s, 10s, 15s, 20s});
  const auto attempts = sink.events(mend::event_kind::pool_recovery_attempt);
  REQUIRE(attempts.size() == 4);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(attempts[i].attempt == i + 1);
    CHECK(attempts[i].error == refused);
  }
  CHECK(attempts[3].attempt == 4);
  CHECK_FALSE(attempts[3].error);

  const auto exited = sink.events(mend::event_kind::pool_recovery_exited);
  REQUIRE(exited.size() == 1);
  CHECK(exited[0].at - t0 == 20s);
  CHECK(exited[0].delay == 20s);
  CHECK(exited[0].attempt == 4);

  // Factory calls since the failure began: the refill at 0 s, the four ticks,
  // and the second connection of the refill after recovery.
  std::vector<mend::duration> since_t0;
  for (const auto at : backend.call_times()) {
    if (at >= t0 - origin) since_t0.push_back(at - (t0 - origin));
  }
  CHECK(since_t0 == std::vector<mend::duration>{0s, 5s, 10s, 15s, 20s, 20s});
  check_invariants(pool, backend);
}

TEST_CASE("last connection failing during the pause starts recovery", "[pool][recovery]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  mend::recording_sink sink;
  pool_type pool{clock, backend.factory(),
                 {.min_size = 1, .max_size = 2, .acquire_timeout = 0s, .idle_check_interval = 0s, .sink = &sink}};
  clock.run_due();
  const auto t0 = clock.now();

  auto held = pool.acquire();
  REQUIRE(held);
  backend.go_down(refused);

  // A second connection cannot be created, but one still works: no recovery,
  // and the caller gets pool_exhausted rather than waiting.
  auto second = pool.acquire();
  REQUIRE_FALSE(second);
  CHECK(second.error() == mend::errc::pool_exhausted);
  CHECK(pool.last_error() == refused);
  CHECK_FALSE(pool.in_recovery());
  CHECK(sink.count(mend::event_kind::pool_create_failed) == 1);

  clock.advance(2s);
  held.value().fail(reset);
  CHECK(pool.in_recovery());
  CHECK(backend.calls() == 2);  // no new attempt: creation is paused

  // The first attempt comes recovery_interval after the failed creation.
  clock.advance(2999ms);
  CHECK(backend.calls() == 2);
  clock.advance(1ms);
  CHECK(backend.calls() == 3);
  CHECK(event_times(sink, mend::event_kind::pool_recovery_attempt, t0) == std::vector<mend::duration>{5s});
  check_invariants(pool, backend);
}

TEST_CASE("waiter gets a returned connection", "[pool][waiters]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  pool_type pool{clock, backend.factory(), {.min_size = 1, .max_size = 1}};
  clock.run_due();

  auto held = pool.acquire();
  REQUIRE(held);
  const int id = held.value()->id();

  auto waiting = std::async(std::launch::async, [&] { return pool.acquire(); });
  wait_for_waiters(pool, 1);
  held.value().release();

  auto got = waiting.get();
  REQUIRE(got);
  CHECK(got.value()->id() == id);
  CHECK(pool.stats().waiters == 0);
  CHECK(backend.calls() == 1);
}

TEST_CASE("waiter gets pool_exhausted after acquire_timeout", "[pool][waiters]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  mend::recording_sink sink;
  pool_type pool{clock, backend.factory(), {.min_size = 1, .max_size = 1, .acquire_timeout = 30s, .sink = &sink}};
  clock.run_due();
  auto held = pool.acquire();
  REQUIRE(held);
  const auto t0 = clock.now();

  std::atomic<bool> returned{false};
  auto waiting = std::async(std::launch::async, [&] {
    auto out = pool.acquire();
    returned = true;
    return out;
  });
  wait_for_waiters(pool, 1);

  clock.advance(29999ms);
  CHECK_FALSE(returned.load());
  CHECK(pool.stats().waiters == 1);

  clock.advance(1ms);
  auto got = waiting.get();
  REQUIRE_FALSE(got);
  CHECK(got.error() == mend::errc::pool_exhausted);
  CHECK(pool.stats().waiters == 0);
  CHECK(pool.stats().acquire_timeouts == 1);
  CHECK(event_times(sink, mend::event_kind::pool_acquire_timed_out, t0) == std::vector<mend::duration>{30s});
}

TEST_CASE("waiter gets pool_recovering when recovery starts", "[pool][waiters][recovery]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  pool_type pool{clock, backend.factory(), {.min_size = 1, .max_size = 1, .acquire_timeout = 30s}};
  clock.run_due();
  auto held = pool.acquire();
  REQUIRE(held);

  auto waiting = std::async(std::launch::async, [&] { return pool.acquire(); });
  wait_for_waiters(pool, 1);
  backend.go_down(refused);
  held.value().fail(reset);
  clock.run_due();  // the refill for the waiter fails with no connection left

  auto got = waiting.get();
  REQUIRE_FALSE(got);
  CHECK(got.error() == mend::errc::pool_recovering);
  CHECK(pool.last_error() == refused);
  CHECK(pool.stats().waiters == 0);
}

TEST_CASE("every waiter ends with one of three outcomes", "[pool][waiters]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  pool_type pool{clock, backend.factory(), {.min_size = 2, .max_size = 2, .acquire_timeout = 10s}};
  clock.run_due();
  auto first = pool.acquire();
  auto second = pool.acquire();
  REQUIRE(first);
  REQUIRE(second);

  // Waiters 1 and 2 start at 0 s, waiters 3 and 4 at 5 s, in this order.
  std::vector<std::future<mend::result<lease_type>>> waiters;
  for (std::size_t i = 0; i < 4; ++i) {
    if (i == 2) clock.advance(5s);
    waiters.push_back(std::async(std::launch::async, [&] { return pool.acquire(); }));
    wait_for_waiters(pool, i + 1);
  }

  first.value().release();  // goes to waiter 1
  auto got_connection = waiters[0].get();
  REQUIRE(got_connection);

  clock.advance(5s);  // 10 s: waiter 2 reaches acquire_timeout
  auto got_exhausted = waiters[1].get();
  REQUIRE_FALSE(got_exhausted);
  CHECK(got_exhausted.error() == mend::errc::pool_exhausted);

  // The backend goes away: both connections fail, the replacement fails,
  // and the remaining waiters are released with pool_recovering.
  backend.go_down(refused);
  second.value().fail(reset);
  clock.run_due();
  got_connection.value().fail(reset);
  for (std::size_t i = 2; i < 4; ++i) {
    auto outcome = waiters[i].get();
    REQUIRE_FALSE(outcome);
    CHECK(outcome.error() == mend::errc::pool_recovering);
  }
  CHECK(pool.stats().waiters == 0);
  CHECK(pool.in_recovery());
}

TEST_CASE("acquire_timeout zero fails at once when saturated", "[pool][waiters]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  pool_type pool{clock, backend.factory(), {.min_size = 0, .max_size = 1, .acquire_timeout = 0s}};
  auto held = pool.acquire();
  REQUIRE(held);

  auto second = pool.acquire();
  REQUIRE_FALSE(second);
  CHECK(second.error() == mend::errc::pool_exhausted);
  CHECK(pool.stats().acquire_timeouts == 1);
  CHECK(backend.calls() == 1);
}

TEST_CASE("creations in flight never exceed max_concurrent_creations", "[pool][waiters]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  std::mutex gate_mutex;
  std::condition_variable gate_changed;
  bool gate_open = false;
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  auto make = backend.factory();

  pool_type pool{clock,
                 [&]() -> mend::result<fake_connection> {
                   const int now_in_flight = ++in_flight;
                   int seen = max_in_flight.load();
                   while (now_in_flight > seen && !max_in_flight.compare_exchange_weak(seen, now_in_flight)) {
                   }
                   {
                     std::unique_lock lock(gate_mutex);
                     gate_changed.wait(lock, [&] { return gate_open; });
                   }
                   --in_flight;
                   return make();
                 },
                 {.min_size = 0, .max_size = 6, .acquire_timeout = 60s, .max_concurrent_creations = 2}};

  std::vector<std::future<mend::result<lease_type>>> callers;
  for (int i = 0; i < 6; ++i) callers.push_back(std::async(std::launch::async, [&] { return pool.acquire(); }));
  while (pool.stats().creating < 2 || pool.stats().waiters < 4) std::this_thread::yield();
  CHECK(pool.stats().creating == 2);
  CHECK(pool.stats().waiters == 4);
  {
    std::lock_guard lock(gate_mutex);
    gate_open = true;
  }
  gate_changed.notify_all();

  // The waiters get connections from refill rounds, which run on this thread.
  std::vector<lease_type> leases;
  for (auto& caller : callers) {
    while (caller.wait_for(0s) != std::future_status::ready) clock.run_due();
    auto got = caller.get();
    REQUIRE(got);
    leases.push_back(std::move(got).value());
  }
  CHECK(max_in_flight.load() == 2);
  CHECK(backend.calls() == 6);
  CHECK(pool.stats().active == 6);
}

TEST_CASE("leases outlive the pool", "[pool][lifetime]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  mend::recording_sink sink;
  auto pool = std::make_unique<pool_type>(clock, backend.factory(),
                                          pool_type::options{.min_size = 3, .max_size = 3, .sink = &sink});
  clock.run_due();
  auto kept = pool->acquire();
  auto failed = pool->acquire();
  REQUIRE(kept);
  REQUIRE(failed);

  pool.reset();
  CHECK(backend.alive() == 2);  // the idle one was closed
  const auto removed = sink.events(mend::event_kind::pool_connection_removed);
  REQUIRE(removed.size() == 1);
  CHECK(removed[0].reason == "closed");
  CHECK(clock.pending_timers() == 0);

  const auto events_before = sink.size();
  failed.value().fail(reset);
  CHECK(backend.alive() == 1);
  kept.value().release();
  CHECK(backend.alive() == 0);
  CHECK(sink.size() == events_before);  // no events after the pool is gone

  clock.advance(1h);
  CHECK(backend.calls() == 3);
}

TEST_CASE("throwing destructor still frees its slot", "[pool][lifetime]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  mend::recording_sink sink;
  using throwing_pool = mend::connection_pool<throwing_connection>;
  auto pool = std::make_unique<throwing_pool>(clock, backend.throwing_factory(),
                                              throwing_pool::options{.min_size = 1, .max_size = 1, .sink = &sink});
  clock.run_due();

  auto leased = pool->acquire();
  REQUIRE(leased);
  leased.value()->throw_on_destroy();
  leased.value().fail(reset);
  CHECK(backend.destructor_throws() == 1);
  CHECK(pool->stats().total == 0);
  CHECK(pool->stats().connections_removed == 1);
  const auto removed = sink.events(mend::event_kind::pool_connection_removed);
  REQUIRE(removed.size() == 1);
  CHECK(removed[0].error == reset);

  clock.run_due();  // the slot is free again, so the refill creates a replacement
  CHECK(pool->stats().idle == 1);
  CHECK(backend.alive() == 1);
  CHECK(backend.max_alive() == 1);

  // An idle connection whose destructor throws when the pool closes.
  {
    auto again = pool->acquire();
    REQUIRE(again);
    again.value()->throw_on_destroy();
  }
  pool.reset();
  CHECK(backend.destructor_throws() == 2);
  CHECK(backend.alive() == 0);
  const auto closed = sink.events(mend::event_kind::pool_connection_removed).back();
  CHECK(closed.reason == "closed");
  CHECK(closed.error == mend::errc::unexpected_exception);
}

TEST_CASE("lease held past leak_threshold is reported once", "[pool][leaks]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  mend::recording_sink sink;
  pool_type pool{clock, backend.factory(),
                 {.min_size = 2, .max_size = 3, .idle_check_interval = 0s, .leak_threshold = 60s, .sink = &sink}};
  clock.run_due();
  const auto t0 = clock.now();

  auto leaked = pool.acquire();
  REQUIRE(leaked);
  clock.advance(10s);
  auto later = pool.acquire();
  REQUIRE(later);
  clock.advance(20s);
  later.value().release();  // returned after 20 s: never reported

  clock.advance(29999ms);
  CHECK(sink.count(mend::event_kind::pool_leak_suspected) == 0);
  clock.advance(1ms);
  CHECK(sink.count(mend::event_kind::pool_leak_suspected) == 1);

  auto third = pool.acquire();  // at 60 s
  REQUIRE(third);
  clock.advance(10min);
  const auto leaks = sink.events(mend::event_kind::pool_leak_suspected);
  REQUIRE(leaks.size() == 2);
  CHECK(leaks[0].at - t0 == 60s);
  CHECK(leaks[0].delay == 60s);
  CHECK(leaks[0].level == mend::severity::warning);
  CHECK(leaks[1].at - t0 == 120s);
  CHECK(pool.stats().leaks_suspected == 2);
}

TEST_CASE("validator rejects idle connection on acquire", "[pool][validation]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  mend::recording_sink sink;
  pool_type pool{clock, backend.factory(),
                 {.min_size = 1,
                  .max_size = 2,
                  .validator = [](fake_connection& c) { return c.valid(); },
                  .idle_check_interval = 0s,
                  .sink = &sink}};
  clock.run_due();

  int stale_id = 0;
  {
    auto leased = pool.acquire();
    REQUIRE(leased);
    stale_id = leased.value()->id();
    leased.value()->invalidate();
  }
  CHECK(pool.stats().idle == 1);

  auto fresh = pool.acquire();
  REQUIRE(fresh);
  CHECK(fresh.value()->id() != stale_id);
  CHECK(backend.calls() == 2);
  const auto removed = sink.events(mend::event_kind::pool_connection_removed);
  REQUIRE(removed.size() == 1);
  CHECK(removed[0].reason == "invalid");
  check_invariants(pool, backend);
}

TEST_CASE("validate_on_acquire off skips the validator", "[pool][validation]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  int validations = 0;
  pool_type pool{clock, backend.factory(),
                 {.min_size = 1,
                  .max_size = 1,
                  .validate_on_acquire = false,
                  .validator = [&](fake_connection&) { return ++validations, false; },
                  .idle_check_interval = 0s}};
  clock.run_due();

  auto leased = pool.acquire();
  REQUIRE(leased);
  CHECK(validations == 0);
}

TEST_CASE("validator that throws counts as invalid", "[pool][validation]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  pool_type pool{clock, backend.factory(),
                 {.min_size = 1,
                  .max_size = 1,
                  .validator = [](fake_connection&) -> bool { throw std::runtime_error("ping failed"); },
                  .idle_check_interval = 0s}};
  clock.run_due();

  auto leased = pool.acquire();  // the idle one is rejected, the new one is not validated
  REQUIRE(leased);
  CHECK(backend.calls() == 2);
  CHECK(pool.stats().connections_removed == 1);
}

TEST_CASE("expired connection is removed, not leased", "[pool][expiry]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  mend::recording_sink sink;
  pool_type pool{clock, backend.factory(),
                 {.min_size = 1, .max_size = 2, .idle_check_interval = 0s, .max_lifetime = 60s, .sink = &sink}};
  clock.run_due();

  {
    auto leased = pool.acquire();
    REQUIRE(leased);
    clock.advance(60s);
  }  // returned at its max_lifetime: removed
  CHECK(pool.stats().total == 0);
  clock.run_due();  // refill
  CHECK(pool.stats().idle == 1);

  clock.advance(60s);  // the idle one expires too
  auto leased = pool.acquire();
  REQUIRE(leased);
  CHECK(backend.calls() == 3);
  const auto removed = sink.events(mend::event_kind::pool_connection_removed);
  REQUIRE(removed.size() == 2);
  CHECK(removed[0].reason == "expired");
  CHECK(removed[1].reason == "expired");
  check_invariants(pool, backend);
}

TEST_CASE("idle check removes invalid and expired connections", "[pool][idle]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  mend::recording_sink sink;
  pool_type pool{clock, backend.factory(),
                 {.min_size = 3,
                  .max_size = 3,
                  .validate_on_acquire = false,
                  .validator = [&](fake_connection& c) { return c.valid(); },
                  .idle_check_interval = 30s,
                  .max_lifetime = 50s,
                  .idle_timeout = 0s,
                  .sink = &sink}};
  clock.run_due();
  {
    auto a = pool.acquire();
    REQUIRE(a);
    a.value()->invalidate();
  }

  clock.advance(29999ms);
  CHECK(sink.count(mend::event_kind::pool_connection_removed) == 0);
  clock.advance(1ms);  // 30 s: the invalid one goes and is replaced in the same tick
  auto removed = sink.events(mend::event_kind::pool_connection_removed);
  REQUIRE(removed.size() == 1);
  CHECK(removed[0].reason == "invalid");
  CHECK(pool.stats().idle == 3);
  CHECK(backend.calls() == 4);

  clock.advance(30s);  // 60 s: the two original ones are past max_lifetime (50 s)
  removed = sink.events(mend::event_kind::pool_connection_removed);
  REQUIRE(removed.size() == 3);
  CHECK(removed[1].reason == "expired");
  CHECK(removed[2].reason == "expired");
  CHECK(pool.stats().idle == 3);
  CHECK(backend.calls() == 6);
  check_invariants(pool, backend);
}

TEST_CASE("idle check closes extra connections past idle_timeout", "[pool][idle]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  mend::recording_sink sink;
  pool_type pool{clock, backend.factory(),
                 {.min_size = 1, .max_size = 4, .idle_check_interval = 30s, .idle_timeout = 60s, .sink = &sink}};
  clock.run_due();
  {
    auto a = pool.acquire();
    auto b = pool.acquire();
    auto c = pool.acquire();
    REQUIRE(c);
  }
  CHECK(pool.stats().idle == 3);

  clock.advance(30s);
  CHECK(pool.stats().idle == 3);
  clock.advance(30s);  // idle for 60 s: closed down to min_size
  CHECK(pool.stats().idle == 1);
  const auto removed = sink.events(mend::event_kind::pool_connection_removed);
  REQUIRE(removed.size() == 2);
  CHECK(removed[0].reason == "idle");
  CHECK(removed[1].reason == "idle");
  check_invariants(pool, backend);
}

TEST_CASE("size never exceeds max_size at any step", "[pool]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  pool_type pool{clock, backend.factory(),
                 {.min_size = 2,
                  .max_size = 4,
                  .acquire_timeout = 0s,
                  .validator = [](fake_connection& c) { return c.valid(); },
                  .idle_check_interval = 7s,
                  .max_lifetime = 40s,
                  .idle_timeout = 20s,
                  .recovery_interval = 5s}};
  std::mt19937 random{12345};  // fixed seed: the same steps on every run
  std::vector<lease_type> held;
  std::size_t recoveries_seen = 0;

  for (int step = 0; step < 3000; ++step) {
    switch (random() % 7) {
      case 0:
      case 1: {
        auto got = pool.acquire();
        if (got) {
          held.push_back(std::move(got).value());
        } else {
          CHECK((got.error() == mend::errc::pool_exhausted || got.error() == mend::errc::pool_recovering));
        }
        break;
      }
      case 2:
        if (!held.empty()) held.erase(held.begin() + static_cast<std::ptrdiff_t>(random() % held.size()));
        break;
      case 3:
        if (!held.empty()) {
          held.back().fail(reset);
          held.pop_back();
        }
        break;
      case 4:
        if (!held.empty()) held.front()->invalidate();
        break;
      case 5:
        if (random() % 4 == 0) backend.is_up() ? backend.go_down(refused) : backend.come_back();
        break;
      default:
        clock.advance(std::chrono::milliseconds{random() % 3000});
        break;
    }
    if (pool.in_recovery()) ++recoveries_seen;
    check_invariants(pool, backend);
    if (pool.in_recovery()) CHECK(pool.stats().idle + pool.stats().active == 0);
  }
  CHECK(recoveries_seen > 0);  // the walk did reach recovery mode
  CHECK(pool.stats().connections_created > 10);
}

TEST_CASE("wall clock jump moves no pool timer", "[pool]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  backend.go_down(refused);
  pool_type pool{clock, backend.factory(), {.min_size = 1, .max_size = 1, .idle_check_interval = 0s}};
  clock.run_due();
  REQUIRE(pool.in_recovery());
  const auto next = clock.next_timer();

  clock.jump_wall(1h);
  clock.run_due();
  CHECK(clock.next_timer() == next);
  CHECK(backend.calls() == 1);
}

TEST_CASE("log lines carry no connection string", "[pool]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  const std::string connection_string = "Server=ax01;User=svc_ax;Password=hunter2";
  std::vector<std::string> lines;
  mend::log_sink log{mend::severity::debug, [&](std::string_view line) { lines.emplace_back(line); }};
  auto make = backend.factory();
  pool_type pool{clock,
                 [&]() -> mend::result<fake_connection> {
                   if (connection_string.empty()) return refused;  // a real factory would use it here
                   return make();
                 },
                 {.name = "aif", .min_size = 1, .max_size = 1, .sink = &log}};
  clock.run_due();
  backend.go_down(refused);
  pool.acquire().value().fail(reset);
  clock.advance(10s);

  REQUIRE(lines.size() > 5);
  bool saw_recovery = false;
  for (const auto& line : lines) {
    CHECK(line.find("hunter2") == std::string::npos);
    CHECK(line.find("svc_ax") == std::string::npos);
    if (line.find("pool_recovery_entered") != std::string::npos) {
      saw_recovery = true;
      CHECK(line.find("Connection refused") != std::string::npos);
    }
  }
  CHECK(saw_recovery);
}

TEST_CASE("invalid options are rejected", "[pool][config]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  const auto field_of = [&](pool_type::options opts) -> std::string {
    try {
      pool_type pool{clock, backend.factory(), std::move(opts)};
    } catch (const mend::config_error& e) {
      CHECK(e.code() == mend::errc::invalid_argument);
      return e.field();
    }
    return "accepted";
  };

  CHECK(field_of({.max_size = 0}) == "max_size");
  CHECK(field_of({.min_size = 5, .max_size = 4}) == "min_size");
  CHECK(field_of({.acquire_timeout = -1s}) == "acquire_timeout");
  CHECK(field_of({.idle_check_interval = -1s}) == "idle_check_interval");
  CHECK(field_of({.max_lifetime = -1s}) == "max_lifetime");
  CHECK(field_of({.idle_timeout = -1s}) == "idle_timeout");
  CHECK(field_of({.recovery_interval = 0s}) == "recovery_interval");
  CHECK(field_of({.leak_threshold = -1ms}) == "leak_threshold");
  CHECK(field_of({.max_concurrent_creations = 0}) == "max_concurrent_creations");
  CHECK(field_of({.min_size = 0, .max_size = 1, .acquire_timeout = 0s}) == "accepted");

  try {
    pool_type pool{clock, {}, {}};
    FAIL("an empty factory was accepted");
  } catch (const mend::config_error& e) {
    CHECK(e.field() == "factory");
  }

  try {
    pool_type pool{clock, backend.factory(), {.min_size = 5, .max_size = 4}};
  } catch (const mend::config_error& e) {
    CHECK(std::string{e.what()} == "connection_pool: invalid min_size = 5 (must not exceed max_size = 4)");
  }
}

TEST_CASE("pool defaults match the documented values", "[pool][config]") {
  const pool_type::options defaults;
  CHECK(defaults.recovery_interval == 5s);
  CHECK(defaults.min_size == 1);
  CHECK(defaults.max_size == 10);
  CHECK(defaults.acquire_timeout == 30s);
  CHECK(defaults.validate_on_acquire);
  CHECK(defaults.idle_check_interval == 30s);
  CHECK(defaults.max_lifetime == 30min);
  CHECK(defaults.idle_timeout == 10min);
  CHECK(defaults.leak_threshold == 0s);
  CHECK(defaults.max_concurrent_creations == 2);
}

TEST_CASE("try_acquire in a timer callback never waits", "[pool]") {
  mend::manual_clock clock;
  fake_backend backend{clock};
  mend::recording_sink sink;
  pool_type pool{clock, backend.factory(), {.min_size = 1, .max_size = 1, .acquire_timeout = 2s, .sink = &sink}};
  clock.run_due();

  std::optional<mend::result<lease_type>> first;
  std::optional<mend::result<lease_type>> second;
  clock.schedule_after(1s, [&] {
    first.emplace(pool.try_acquire());
    second.emplace(pool.try_acquire());
  });
  clock.advance(1s);

  REQUIRE(first.has_value());
  REQUIRE(*first);
  CHECK(first->value()->id() == 1);
  REQUIRE(second.has_value());
  REQUIRE_FALSE(*second);
  CHECK(second->error() == mend::errc::pool_exhausted);
  CHECK(pool.stats().acquire_timeouts == 0);
  CHECK(sink.count(mend::event_kind::pool_acquire_timed_out) == 0);
  CHECK(pool.stats().waiters == 0);

  first.reset();
  CHECK(pool.stats().idle == 1);
  check_invariants(pool, backend);
}
