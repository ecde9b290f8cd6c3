// Many threads lease, fail and return connections while the backend flips
// between up and down and a driver thread moves the manual clock. Meant to run
// under ThreadSanitizer and AddressSanitizer as well.
#include <mend/connection_pool.hpp>
#include <mend/manual_clock.hpp>

#include <catch2/catch.hpp>

#include "fake_backend.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using mend_test::fake_backend;
using mend_test::fake_connection;
using pool_type = mend::connection_pool<fake_connection>;

namespace {

// Catch2 assertions are not thread-safe, so worker threads record the first
// broken rule here and the test thread checks it.
class violations {
 public:
  void record(std::string what) {
    std::lock_guard lock(mutex_);
    if (count_++ == 0) first_ = std::move(what);
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return count_;
  }
  std::string first() const {
    std::lock_guard lock(mutex_);
    return first_;
  }

 private:
  mutable std::mutex mutex_;
  std::size_t count_ = 0;  // guarded by mutex_
  std::string first_;      // guarded by mutex_
};

void check_invariants(const pool_type& pool, const fake_backend& backend, violations& found) {
  const auto s = pool.stats();
  const auto max_size = pool.config().max_size;
  if (s.total != s.active + s.idle + s.creating + s.closing) found.record("total is not the sum of its parts");
  if (s.total > max_size) found.record("total " + std::to_string(s.total) + " exceeds max_size");
  if (backend.alive() > static_cast<int>(max_size))
    found.record("alive connections " + std::to_string(backend.alive()) + " exceed max_size");
}

}  // namespace

TEST_CASE("pool keeps its rules under concurrent load", "[pool][stress]") {
  constexpr int threads = 8;
  constexpr int iterations = 1500;

  mend::manual_clock clock;
  fake_backend backend{clock};
  violations found;
  std::atomic<int> leased{0};
  std::atomic<int> exhausted{0};
  std::atomic<int> recovering{0};
  std::atomic<int> workers_left{threads};

  auto pool = std::make_unique<pool_type>(
      clock, backend.factory(),
      pool_type::options{.name = "stress",
                         .min_size = 2,
                         .max_size = 4,
                         .acquire_timeout = 50ms,
                         .validator = [](fake_connection& c) { return c.valid(); },
                         .idle_check_interval = 40ms,
                         .max_lifetime = 700ms,
                         .idle_timeout = 150ms,
                         .recovery_interval = 100ms,
                         .leak_threshold = 30ms,
                         .max_concurrent_creations = 2});

  // Moves virtual time in 5 ms steps and flips the backend every 400 ms, so
  // waiters time out, recovery ticks fire and the idle check runs.
  std::thread driver([&] {
    int step = 0;
    while (workers_left.load() > 0) {
      clock.advance(5ms);
      if (++step % 80 == 0) backend.is_up() ? backend.go_down() : backend.come_back();
      std::this_thread::yield();
    }
  });

  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937 random{static_cast<std::uint32_t>(t + 1)};
      for (int i = 0; i < iterations; ++i) {
        auto got = pool->acquire();
        check_invariants(*pool, backend, found);
        if (!got) {
          if (got.error() == mend::errc::pool_exhausted) {
            ++exhausted;
          } else if (got.error() == mend::errc::pool_recovering) {
            ++recovering;
            // Back off like a real caller instead of spinning on fail-fast.
            const auto until = clock.now() + 20ms;
            while (clock.now() < until) std::this_thread::yield();
          } else {
            found.record("acquire returned " + got.error().message());
          }
          continue;
        }
        ++leased;
        auto& lease = got.value();
        if (!lease || lease->id() <= 0) found.record("a lease without a connection");

        // While the backend is down every request fails; otherwise a few do.
        const auto roll = random() % 8;
        if (!backend.is_up() || roll == 0) {
          lease.fail(std::make_error_code(std::errc::connection_reset));
        } else if (roll == 1) {
          lease->invalidate();  // the validator rejects it later
        } else if (roll == 2) {
          // Hold it past acquire_timeout and leak_threshold, so that other
          // callers wait and time out, and leak reports fire.
          const auto until = clock.now() + 60ms;
          while (clock.now() < until) std::this_thread::yield();
        }
        check_invariants(*pool, backend, found);
      }
      --workers_left;
    });
  }
  for (auto& worker : workers) worker.join();
  driver.join();

  INFO("first violation: " << found.first());
  INFO("leased " << leased.load() << " exhausted " << exhausted.load() << " recovering " << recovering.load() << " created " << pool->stats().connections_created << " attempts " << pool->stats().recovery_attempts << " leaks " << pool->stats().leaks_suspected << " virtual ms " << (clock.now() - mend::manual_clock::options{}.start) / 1ms);
  CHECK(found.count() == 0);
  CHECK(leased.load() > 0);
  CHECK(exhausted.load() > 0);
  CHECK(recovering.load() > 0);

  const auto s = pool->stats();
  CHECK(s.active == 0);
  CHECK(s.waiters == 0);
  CHECK(s.total == s.idle + s.creating + s.closing);

  pool.reset();
  CHECK(backend.alive() == 0);
  CHECK(backend.max_alive() <= 4);
}
