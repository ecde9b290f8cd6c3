// The cost of status_reporter::record() to a component that reports an event,
// against a null sink, and the cost of a snapshot with a full history.
#include "bench_support.hpp"

#include <mend/adapters/sqlite_history.hpp>
#include <mend/manual_clock.hpp>
#include <mend/metrics_sink.hpp>
#include <mend/status_reporter.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <filesystem>
#include <string>

namespace {

mend::event failed_call(const mend::manual_clock& clock) {
  mend::event e;
  e.kind = mend::event_kind::breaker_call_failed;
  e.component = "ax_connection";
  e.at = clock.now();
  e.wall_at = clock.wall_now();
  e.error = make_error_code(mend::errc::timed_out);
  return e;
}

mend::event transition(const mend::manual_clock& clock) {
  mend::event e;
  e.kind = mend::event_kind::breaker_state_changed;
  e.component = "ax_connection";
  e.at = clock.now();
  e.wall_at = clock.wall_now();
  e.from = "half_open";
  e.to = "open";
  e.reason = "test call failed";
  return e;
}

// Baseline: the virtual call alone.
void BM_null_sink_record(benchmark::State& state) {
  mend::manual_clock clock;
  mend::null_sink sink;
  mend::metrics_sink* as_sink = &sink;
  const auto e = failed_call(clock);
  for (auto _ : state) {
    benchmark::DoNotOptimize(as_sink);  // keeps the call virtual, as it is in a component
    as_sink->record(e);
  }
}
BENCHMARK(BM_null_sink_record);
BENCHMARK(BM_null_sink_record)->Threads(2);

// One reporter for all threads of a case, as a process has one.
struct shared_status {
  mend::manual_clock clock;
  mend::status_reporter reporter{clock};
};

shared_status& shared() {
  static shared_status status;
  return status;
}

// A counted event: a lock, a map lookup and a trend bucket. With 2 threads
// both record into the same reporter.
void BM_record_failed_call(benchmark::State& state) {
  auto& status = shared();
  mend::metrics_sink* as_sink = &status.reporter;
  const auto e = failed_call(status.clock);
  for (auto _ : state) {
    benchmark::DoNotOptimize(as_sink);
    as_sink->record(e);
  }
  mend_bench::compare_with(state, "BM_null_sink_record");
}
BENCHMARK(BM_record_failed_call);
BENCHMARK(BM_record_failed_call)->Threads(2);

// A transition: the above plus a history entry (string copies, and the
// oldest entry dropped once the history is full).
void BM_record_transition(benchmark::State& state) {
  mend::manual_clock clock;
  mend::status_reporter status{clock};
  mend::metrics_sink* as_sink = &status;
  const auto e = transition(clock);
  for (auto _ : state) {
    benchmark::DoNotOptimize(as_sink);
    as_sink->record(e);
  }
  mend_bench::compare_with(state, "BM_null_sink_record");
}
BENCHMARK(BM_record_transition);

// A transition with an SQLite store attached: record() only queues the entry
// for the writer thread. Entries beyond the queue's capacity are dropped, so
// this measures the queueing, not the disk.
void BM_record_transition_sqlite(benchmark::State& state) {
  const auto path = (std::filesystem::temp_directory_path() / "mend_status_reporter_bench.db").string();
  std::filesystem::remove(path);
  {
    mend::manual_clock clock;
    mend::sqlite_history store{{.path = path}};
    mend::status_reporter status{clock, {.store = &store}};
    mend::metrics_sink* as_sink = &status;
    const auto e = transition(clock);
    for (auto _ : state) {
      benchmark::DoNotOptimize(as_sink);
      as_sink->record(e);
    }
    state.counters["dropped"] = static_cast<double>(store.status().dropped);
  }
  mend_bench::compare_with(state, "BM_null_sink_record,BM_record_transition");
  std::filesystem::remove(path);
}
BENCHMARK(BM_record_transition_sqlite);

// A snapshot with 1000 history entries and 1440 trend buckets.
void BM_snapshot_full(benchmark::State& state) {
  mend::manual_clock clock;
  mend::status_reporter status{clock};
  for (int i = 0; i < 1440; ++i) {
    status.record(transition(clock));
    status.record(failed_call(clock));
    clock.advance(std::chrono::minutes{1});
  }
  for (auto _ : state) benchmark::DoNotOptimize(status.snapshot());
}
BENCHMARK(BM_snapshot_full);

}  // namespace

MEND_BENCHMARK_MAIN();
