#!/usr/bin/env bash
# Counts the instructions one iteration of a benchmark case executes, with
# valgrind's callgrind. Unlike timings, the counts do not depend on the load
# of the machine, so they compare a decorated call with its floor even on a
# busy machine (they do not show cache misses or contention).
#
# Usage: bench/count_instructions.sh BUILD_DIR PROGRAM CASE...
#   e.g. bench/count_instructions.sh build-bench decorator_bench BM_plain_call BM_breaker_consecutive_failures
#
# Each CASE runs on 1 thread (CASE/threads:1, or CASE when the program does
# not register thread counts). Only the case's function is measured
# (--toggle-collect), inclusive of what it calls. The number of iterations is
# the number of calls to the case's per-iteration marker: call_backend() in
# decorator_bench, mend_bench::consume() elsewhere (see bench_support.hpp).
# The result includes the loop of Google Benchmark (a few instructions per
# iteration) and the per-run setup, divided over the iterations.
set -euo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 BUILD_DIR PROGRAM CASE..." >&2
  exit 2
fi
build_dir=$1
program=$build_dir/bench/$2
shift 2
if [ ! -x "$program" ]; then
  echo "$program not found: build it first (cmake --build $build_dir --target $(basename "$program"))" >&2
  exit 1
fi
command -v valgrind >/dev/null || { echo "valgrind not found (Debian: apt-get install valgrind)" >&2; exit 1; }

out_dir=$(mktemp -d)
trap 'rm -rf "$out_dir"' EXIT

printf '| case | instructions per iteration | iterations counted |\n| --- | ---: | ---: |\n'
for case_name in "$@"; do
  out=$out_dir/$case_name.out
  # The filter takes the 1-thread variant whether or not the case is
  # registered with thread counts.
  valgrind --tool=callgrind --callgrind-out-file="$out" --compress-strings=no --compress-pos=no \
    --toggle-collect="*::${case_name}(benchmark::State&)" \
    "$program" --benchmark_filter="^${case_name}(/threads:1)?\$" --benchmark_min_time=0.1 \
    >"$out_dir/$case_name.log" 2>&1 || { cat "$out_dir/$case_name.log" >&2; exit 1; }

  # totals: the instructions (Ir) collected inside the case's function.
  # calls: the calls of the marker made from anywhere inside it.
  awk -v name="$case_name" '
    /^(totals|summary):/ { total = $2 }
    /^cfn=/ { marker = ($0 ~ /call_backend\(int\)|mend_bench::consume\(/) }
    /^calls=/ { if (marker) { split($0, parts, /[= ]/); iterations += parts[2] }; marker = 0 }
    END {
      if (iterations == 0) { printf "%s: no call of the per-iteration marker found\n", name > "/dev/stderr"; exit 1 }
      printf "| %s | %.1f | %d |\n", name, total / iterations, iterations
    }' "$out"
done
