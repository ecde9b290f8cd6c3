#!/usr/bin/env bash
# Builds the benchmark programs in Release, runs each one with repetitions and
# prints the Markdown table of medians that bench/README.md shows, with the
# machine, the compiler and the load before and after the run.
#
# Usage: bench/run.sh [BUILD_DIR]
#   BUILD_DIR  the build directory, created as a Release build if it does not
#              exist yet (default: build-bench in the repository)
# Environment:
#   MEND_BENCH_MIN_TIME     minimum seconds per repetition (default 0.5)
#   MEND_BENCH_REPETITIONS  repetitions per case (default 10)
#   MEND_BENCH_PROGRAMS     programs to run, space-separated (default: every bench/*.cpp)
#   MEND_BENCH_JOBS         parallel build jobs (default 2)
#
# The JSON output of each program and the table are kept in
# BUILD_DIR/bench-results/. Run it on a quiet machine: the table reports CPU
# time, which other processes disturb less than wall time, but not nothing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:-$root/build-bench}
min_time=${MEND_BENCH_MIN_TIME:-0.5}
repetitions=${MEND_BENCH_REPETITIONS:-10}
jobs=${MEND_BENCH_JOBS:-2}

if [ -n "${MEND_BENCH_PROGRAMS:-}" ]; then
  read -r -a programs <<<"$MEND_BENCH_PROGRAMS"
else
  programs=()
  for source in "$root"/bench/*.cpp; do
    programs+=("$(basename "$source" .cpp)")
  done
fi

if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -B "$build_dir" -S "$root" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMEND_BUILD_BENCHMARKS=ON \
    -DMEND_BUILD_TESTS=OFF -DMEND_BUILD_EXAMPLES=OFF -DMEND_BUILD_INTEGRATION_TESTS=OFF >&2
fi
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$build_dir/CMakeCache.txt"; }
build_type=$(cache_value CMAKE_BUILD_TYPE)
if [ "$build_type" != "Release" ]; then
  echo "warning: $build_dir is a '${build_type:-no build type}' build, not Release; its figures are not comparable" >&2
fi
cmake --build "$build_dir" --target "${programs[@]}" median_table -j "$jobs" >&2

results=$build_dir/bench-results
mkdir -p "$results"
rm -f "$results"/*.json

compiler=$(cache_value CMAKE_CXX_COMPILER)
flags="$(cache_value CMAKE_CXX_FLAGS) $(cache_value "CMAKE_CXX_FLAGS_${build_type^^}")"
cpu_field() { sed -n "s/^$1[[:space:]]*: //p" /proc/cpuinfo | head -n 1; }
cpu="$(cpu_field 'model name') (family $(cpu_field 'cpu family'), model $(cpu_field model)), $(nproc) logical CPUs"
if grep -qw hypervisor /proc/cpuinfo; then cpu="$cpu, in a virtual machine"; fi

{
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- CPU: $cpu"
  echo "- compiler: $("$compiler" --version | head -n 1), flags:${flags% }"
  echo "- build type: ${build_type:-none}"
  echo "- command: each program with --benchmark_min_time=$min_time --benchmark_repetitions=$repetitions" \
       "--benchmark_report_aggregates_only=true --benchmark_format=json"
  echo "- load before the run: $(uptime | sed 's/.*load average: //')"
} >"$results/machine.md"

for program in "${programs[@]}"; do
  echo "running $program" >&2
  "$build_dir/bench/$program" --benchmark_min_time="$min_time" --benchmark_repetitions="$repetitions" \
    --benchmark_report_aggregates_only=true --benchmark_format=json >"$results/$program.json"
done
echo "- load after the run: $(uptime | sed 's/.*load average: //')" >>"$results/machine.md"

json_files=()
for program in "${programs[@]}"; do
  json_files+=("$results/$program.json")
done
status=0
"$build_dir/bench/median_table" "${json_files[@]}" >"$results/table.md" || status=$?

cat "$results/machine.md"
echo
cat "$results/table.md"
exit "$status"
