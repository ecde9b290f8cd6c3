// The cost of computing a retry delay: mend's calculators through
// backoff_policy, and one call's schedule with full jitter, next to the same
// arithmetic written by hand. Each iteration takes the next retry number of
// 1, 2, 3, 4, so no result is a constant.
#include "bench_support.hpp"

#include <mend/backoff.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace {

using namespace std::chrono_literals;

std::uint32_t next_retry(std::uint32_t retry) { return retry % 4 + 1; }

// The floor of exponential backoff: 1 s doubled per retry, capped at 4 s.
void BM_shifted_delay(benchmark::State& state) {
  const mend::duration initial = 1s;
  const mend::duration max = 4s;
  std::uint32_t retry = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(retry);
    const mend::duration delay = std::min(initial * (std::int64_t{1} << (retry - 1)), max);
    benchmark::DoNotOptimize(delay);
    retry = next_retry(retry);
  }
}
BENCHMARK(BM_shifted_delay);

// The floor of jitter: one draw from a thread-local Mersenne Twister, as
// mend::default_random_source() makes it.
void BM_random_draw(benchmark::State& state) {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  for (auto _ : state) {
    const double draw = std::uniform_real_distribution<double>{0.0, 1.0}(engine);
    benchmark::DoNotOptimize(draw);
  }
}
BENCHMARK(BM_random_draw);

// The default exponential_backoff, 1 s to 4 s, through the variant.
void BM_backoff_delay(benchmark::State& state) {
  const mend::backoff_policy policy = mend::exponential_backoff{};
  std::uint32_t retry = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(retry);
    const mend::duration delay = mend::backoff_delay(policy, retry);
    benchmark::DoNotOptimize(delay);
    retry = next_retry(retry);
  }
  mend_bench::compare_with(state, "BM_shifted_delay");
}
BENCHMARK(BM_backoff_delay);

// The delay before a call's first retry, with full jitter from the default
// random source: what a retry_policy computes once per retry.
void BM_backoff_schedule_full_jitter(benchmark::State& state) {
  const mend::backoff_policy policy = mend::exponential_backoff{};
  const mend::random_source random = mend::default_random_source();
  for (auto _ : state) {
    mend::backoff_schedule schedule{policy, mend::jitter::full, random};
    const mend::duration delay = schedule.next();
    benchmark::DoNotOptimize(delay);
  }
  mend_bench::compare_with(state, "BM_shifted_delay,BM_random_draw");
}
BENCHMARK(BM_backoff_schedule_full_jitter);

}  // namespace

MEND_BENCHMARK_MAIN();
