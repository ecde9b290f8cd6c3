// The cost of a successful call through mend's decorators, next to its
// floor: the same call made directly. Each case runs on 1 thread and on 2
// threads that share one breaker and one retry policy, as the call sites of
// a connector do.
#include "bench_support.hpp"

#include <mend/circuit_breaker.hpp>
#include <mend/decorate.hpp>
#include <mend/retry_policy.hpp>
#include <mend/trip_policy/consecutive_failures.hpp>
#include <mend/trip_policy/failure_rate.hpp>
#include <mend/trip_policy/failure_rate_over_time.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

namespace {

// Stands for the call to a backend: out of line, and opaque to the optimizer,
// so every iteration makes one real call.
MEND_BENCH_NOINLINE int call_backend(int request) {
  benchmark::DoNotOptimize(request);
  return request + 1;
}

const auto wrapped = [](int request) { return call_backend(request); };

// Process-wide objects, shared by the threads of a case. The breakers use
// mend::default_clock(), the real clock a connector uses.
template <class TripPolicy>
mend::basic_circuit_breaker<TripPolicy>& shared_breaker() {
  static mend::basic_circuit_breaker<TripPolicy> breaker{{.name = "bench_breaker"}};
  return breaker;
}

mend::retry_policy& shared_retry() {
  static mend::retry_policy retry{{.name = "bench_retry"}};
  return retry;
}

alignas(64) std::atomic<std::uint64_t> shared_word{0};

// Fails the case if the calls did not all take the success path.
template <class TripPolicy>
void expect_closed(benchmark::State& state, mend::basic_circuit_breaker<TripPolicy>& breaker) {
  if (breaker.state() != mend::circuit_state::closed || breaker.stats().failures != 0)
    state.SkipWithError("the breaker counted a failure");
}

void BM_plain_call(benchmark::State& state) {
  int request = 0;
  for (auto _ : state) {
    int response = call_backend(request);
    benchmark::DoNotOptimize(response);
  }
}
BENCHMARK(BM_plain_call)->Threads(1)->Threads(2);

// The minimum work of a breaker: read one shared word, then call.
void BM_atomic_load_then_call(benchmark::State& state) {
  int request = 0;
  for (auto _ : state) {
    int response = -1;
    if (shared_word.load(std::memory_order_relaxed) == 0) response = call_backend(request);
    benchmark::DoNotOptimize(response);
  }
  mend_bench::compare_with(state, "BM_plain_call");
}
BENCHMARK(BM_atomic_load_then_call)->Threads(1)->Threads(2);

// The call wrapped into mend::result<int>, as every decorator returns it:
// the part of a decorator's cost that comes with the return type.
void BM_result_of_call(benchmark::State& state) {
  int request = 0;
  for (auto _ : state) {
    auto response = mend::detail::invoke_as_result(wrapped, request);
    benchmark::DoNotOptimize(response);
  }
  mend_bench::compare_with(state, "BM_plain_call");
}
BENCHMARK(BM_result_of_call)->Threads(1)->Threads(2);

template <class TripPolicy>
void run_through_breaker(benchmark::State& state) {
  auto& breaker = shared_breaker<TripPolicy>();
  int request = 0;
  for (auto _ : state) {
    auto response = breaker.execute(wrapped, request);
    benchmark::DoNotOptimize(response);
  }
  expect_closed(state, breaker);
  mend_bench::compare_with(state, "BM_plain_call,BM_atomic_load_then_call");
}

void BM_breaker_consecutive_failures(benchmark::State& state) {
  run_through_breaker<mend::consecutive_failures>(state);
}
BENCHMARK(BM_breaker_consecutive_failures)->Threads(1)->Threads(2);

void BM_breaker_failure_rate(benchmark::State& state) { run_through_breaker<mend::failure_rate>(state); }
BENCHMARK(BM_breaker_failure_rate)->Threads(1)->Threads(2);

void BM_breaker_failure_rate_over_time(benchmark::State& state) {
  run_through_breaker<mend::failure_rate_over_time>(state);
}
BENCHMARK(BM_breaker_failure_rate_over_time)->Threads(1)->Threads(2);

void BM_retry_first_attempt(benchmark::State& state) {
  auto& retry = shared_retry();
  int request = 0;
  for (auto _ : state) {
    auto response = retry.execute(wrapped, request);
    benchmark::DoNotOptimize(response);
  }
  if (retry.stats().total_retries != 0) state.SkipWithError("the retry policy retried");
  mend_bench::compare_with(state, "BM_plain_call,BM_breaker_consecutive_failures");
}
BENCHMARK(BM_retry_first_attempt)->Threads(1)->Threads(2);

// decorate() with one layer, to tell the cost of the wrapper from that of
// the retry in the next case.
void BM_decorate_breaker(benchmark::State& state) {
  auto& breaker = shared_breaker<mend::consecutive_failures>();
  auto call = mend::decorate(wrapped).with(breaker);
  int request = 0;
  for (auto _ : state) {
    auto response = call(request);
    benchmark::DoNotOptimize(response);
  }
  expect_closed(state, breaker);
  mend_bench::compare_with(state, "BM_plain_call,BM_breaker_consecutive_failures");
}
BENCHMARK(BM_decorate_breaker)->Threads(1)->Threads(2);

void BM_decorate_breaker_retry(benchmark::State& state) {
  auto& breaker = shared_breaker<mend::consecutive_failures>();
  auto& retry = shared_retry();
  auto call = mend::decorate(wrapped).with(breaker).with(retry);
  int request = 0;
  for (auto _ : state) {
    auto response = call(request);
    benchmark::DoNotOptimize(response);
  }
  expect_closed(state, breaker);
  if (retry.stats().total_retries != 0) state.SkipWithError("the retry policy retried");
  mend_bench::compare_with(state, "BM_plain_call,BM_breaker_consecutive_failures");
}
BENCHMARK(BM_decorate_breaker_retry)->Threads(1)->Threads(2);

}  // namespace

MEND_BENCHMARK_MAIN();
