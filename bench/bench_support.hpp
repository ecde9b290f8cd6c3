// Conventions shared by mend's benchmark programs.
//
// Baselines: every case that is measured against another one names it with
// compare_with(), which sets the case's label to "vs BM_a,BM_b". The table
// tool (bench/tools/median_table.cpp) prints each case's median next to the
// median of each baseline with the same thread count, so a case and its
// baselines must live in the same program.
//
// main(): MEND_BENCHMARK_MAIN() starts one idle thread before any case runs.
// Once a process has started a thread, glibc and libstdc++ take their
// multi-threaded paths for good, so single-threaded cases measure what a
// server process pays. For example, libstdc++ updates shared_ptr counts with
// plain instead of atomic instructions while __libc_single_threaded is set.
#ifndef MEND_BENCH_SUPPORT_HPP
#define MEND_BENCH_SUPPORT_HPP

#include <benchmark/benchmark.h>

#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>

#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#define MEND_BENCH_HAS_SINGLE_THREADED 1
#endif

// Keeps a function out of line and hides its body from interprocedural
// analysis, so the compiler neither inlines a call to it nor hoists or folds
// the call as a pure function.
#if defined(__GNUC__) && !defined(__clang__)
#define MEND_BENCH_NOINLINE __attribute__((noinline, noipa))
#elif defined(__GNUC__)
#define MEND_BENCH_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define MEND_BENCH_NOINLINE __declspec(noinline)
#else
#define MEND_BENCH_NOINLINE
#endif

namespace mend_bench {

// Names the cases this one is compared with: a comma-separated list of
// benchmark names without their "/threads:N" suffix.
inline void compare_with(benchmark::State& state, std::string_view baselines) {
  if (state.thread_index() == 0) state.SetLabel("vs " + std::string{baselines});
}

// Stands for the caller's use of what one iteration produced. Being out of
// line, it keeps the compiler from dropping the work that produced it, and
// bench/count_instructions.sh counts its calls as iterations.
MEND_BENCH_NOINLINE inline void consume(const void* produced) { benchmark::DoNotOptimize(produced); }

// Runs the benchmarks selected on the command line while one extra thread
// waits, doing nothing, until they are done.
inline int run_benchmarks(int argc, char** argv) {
  std::jthread idle{[](std::stop_token stop) {
    std::mutex mutex;
    std::condition_variable_any never_notified;
    std::unique_lock lock(mutex);
    never_notified.wait(lock, stop, [] { return false; });
  }};

#ifdef MEND_BENCH_HAS_SINGLE_THREADED
  benchmark::AddCustomContext("libc_single_threaded", __libc_single_threaded ? "true" : "false");
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace mend_bench

#define MEND_BENCHMARK_MAIN() \
  int main(int argc, char** argv) { return mend_bench::run_benchmarks(argc, argv); } \
  static_assert(true, "MEND_BENCHMARK_MAIN() takes a semicolon")

#endif  // MEND_BENCH_SUPPORT_HPP
