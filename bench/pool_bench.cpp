// The cost of leasing an idle connection from mend::connection_pool and
// returning it, next to a plain pool of a mutex and a deque. Both pools hold
// more connections than there are threads, so no case ever waits for one.
#include "bench_support.hpp"

#include <mend/clock.hpp>
#include <mend/connection_pool.hpp>
#include <mend/result.hpp>
#include <mend/steady_clock_source.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>

namespace {

constexpr std::size_t pool_size = 4;

// Stands for a session to a backend.
struct connection {
  int id = 0;
};

// The floor: a mutex and a deque of idle connections, most recently returned
// last, as mend's pool keeps them. It checks nothing and never replaces a
// connection.
class mutex_deque_pool {
 public:
  explicit mutex_deque_pool(std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) idle_.push_back(std::make_unique<connection>());
  }

  // Returns nullptr when every connection is leased.
  std::unique_ptr<connection> acquire() {
    std::lock_guard lock(mutex_);
    if (idle_.empty()) return nullptr;
    auto leased = std::move(idle_.back());
    idle_.pop_back();
    return leased;
  }

  void release(std::unique_ptr<connection> returned) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(returned));
  }

 private:
  std::mutex mutex_;
  std::deque<std::unique_ptr<connection>> idle_;  // guarded by mutex_
};

mutex_deque_pool& shared_mutex_deque_pool() {
  static mutex_deque_pool pool{pool_size};
  return pool;
}

// Default options apart from the size, on mend::default_clock(). The first
// acquire() calls create the connections on the caller's thread.
mend::connection_pool<connection>& shared_connection_pool() {
  static mend::connection_pool<connection> pool{[]() -> mend::result<connection> { return connection{}; },
                                                {.name = "bench_pool", .min_size = pool_size, .max_size = pool_size}};
  return pool;
}

void BM_mutex_deque_pool(benchmark::State& state) {
  auto& pool = shared_mutex_deque_pool();
  for (auto _ : state) {
    auto leased = pool.acquire();
    if (!leased) {
      state.SkipWithError("the mutex-and-deque pool ran out of connections");
      break;
    }
    mend_bench::consume(leased.get());
    pool.release(std::move(leased));
  }
}
BENCHMARK(BM_mutex_deque_pool)->Threads(1)->Threads(2);

void BM_connection_pool(benchmark::State& state) {
  auto& pool = shared_connection_pool();
  for (auto _ : state) {
    auto leased = pool.acquire();
    if (!leased) {
      state.SkipWithError("connection_pool::acquire() failed");
      break;
    }
    mend_bench::consume(&leased.value().get());
  }  // the lease returns the connection here
  mend_bench::compare_with(state, "BM_mutex_deque_pool");
}
BENCHMARK(BM_connection_pool)->Threads(1)->Threads(2);

// One reading of mend::default_clock(), which connection_pool takes on every
// lease and on every return: a reference for the difference above.
void BM_default_clock_now(benchmark::State& state) {
  mend::clock& clock = mend::default_clock();
  for (auto _ : state) {
    const mend::time_point now = clock.now();
    benchmark::DoNotOptimize(now);
  }
}
BENCHMARK(BM_default_clock_now);

}  // namespace

MEND_BENCHMARK_MAIN();
