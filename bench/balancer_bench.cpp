// The cost of balancer::pick() with three endpoints weighted 5, 3 and 2,
// next to the least a thread-safe picker does: a round-robin index under a
// mutex and a copy of the chosen name.
#include "bench_support.hpp"

#include <mend/balancer.hpp>
#include <mend/breaker_signal.hpp>
#include <mend/circuit_breaker.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <mutex>
#include <string>

namespace {

// The floor: picks the endpoints in turn, ignoring weights and health.
class round_robin_picker {
 public:
  std::string pick() {
    std::lock_guard lock(mutex_);
    next_ = (next_ + 1) % names_.size();
    return names_[next_];
  }

 private:
  std::mutex mutex_;
  const std::array<std::string, 3> names_{"ax1", "ax2", "ax3"};
  std::size_t next_ = 0;  // guarded by mutex_
};

round_robin_picker& shared_picker() {
  static round_robin_picker picker;
  return picker;
}

mend::balancer& shared_balancer() {
  static mend::balancer balancer{mend::default_clock(),
                                 {.name = "bench_balancer",
                                  .endpoints = {{.name = "ax1", .weight = 5},
                                                {.name = "ax2", .weight = 3},
                                                {.name = "ax3", .weight = 2}}}};
  return balancer;
}

// The same endpoints, each guarded by a closed breaker that pick() reads.
mend::balancer& shared_balancer_with_breakers() {
  static std::array<mend::circuit_breaker, 3> breakers{};
  static mend::balancer balancer{mend::default_clock(),
                                 {.name = "bench_balancer_with_breakers",
                                  .endpoints = {{.name = "ax1", .weight = 5, .breaker = mend::breaker_signal{breakers[0]}},
                                                {.name = "ax2", .weight = 3, .breaker = mend::breaker_signal{breakers[1]}},
                                                {.name = "ax3", .weight = 2, .breaker = mend::breaker_signal{breakers[2]}}}}};
  return balancer;
}

void BM_round_robin_under_mutex(benchmark::State& state) {
  auto& picker = shared_picker();
  for (auto _ : state) {
    const std::string endpoint = picker.pick();
    mend_bench::consume(&endpoint);
  }
}
BENCHMARK(BM_round_robin_under_mutex)->Threads(1)->Threads(2);

void run_picks(benchmark::State& state, mend::balancer& balancer) {
  for (auto _ : state) {
    const auto endpoint = balancer.pick();
    if (!endpoint) {
      state.SkipWithError("balancer::pick() found no healthy endpoint");
      break;
    }
    mend_bench::consume(&endpoint.value());
  }
  mend_bench::compare_with(state, "BM_round_robin_under_mutex");
}

void BM_balancer_pick(benchmark::State& state) { run_picks(state, shared_balancer()); }
BENCHMARK(BM_balancer_pick)->Threads(1)->Threads(2);

void BM_balancer_pick_with_breakers(benchmark::State& state) { run_picks(state, shared_balancer_with_breakers()); }
BENCHMARK(BM_balancer_pick_with_breakers)->Threads(1)->Threads(2);

}  // namespace

MEND_BENCHMARK_MAIN();
