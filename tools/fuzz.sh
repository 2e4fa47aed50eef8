#!/bin/sh
# fuzz.sh -- build the libFuzzer targets with clang (ASan + UBSan) and run
# each for a bounded time on its seed corpus; print executions and crashes.
#
# usage: tools/fuzz.sh [SECONDS_PER_TARGET (60)] [BUILD_DIR (build-fuzz)]
#
# The runs are seeded (CLEARN_FUZZ_SEED, default 1; 0 lets libFuzzer pick
# one): the test command's short run then replays the same inputs every
# time, so a change is judged by its own code, not by which random inputs
# a run happened to draw.  Longer or differently seeded runs explore.
#
# Corpora grow in BUILD_DIR/corpus/<target> (seeded from tests/fuzz/corpus
# and from small files written by fuzz_seeds); crash inputs land in
# BUILD_DIR/crashes.  Exit status 1 if any target crashed.  Needs the
# Debian packages clang and libclang-rt-14-dev (tools/install-deps.sh
# --fuzz installs them).
set -eu
cd "$(dirname "$0")/.."
SECS=${1:-60}
SEED=${CLEARN_FUZZ_SEED:-1}
B=${2:-build-fuzz}
CC=clang cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" -DCLEARN_FUZZ=ON \
  -DCLEARN_MPI=OFF -DCLEARN_BUILD_TESTS=OFF -DCLEARN_BUILD_TOOLS=OFF \
  -DCLEARN_BUILD_BENCH=OFF >/dev/null
cmake --build "$B" -j"$(nproc)" >/dev/null
mkdir -p "$B/corpus/fuzz_ratings_text" "$B/corpus/fuzz_ratings_h5" \
  "$B/corpus/fuzz_model" "$B/crashes" "$B/seeds/ratings_h5" "$B/seeds/model"
cp tests/fuzz/corpus/text/* "$B/corpus/fuzz_ratings_text/"
# inputs that once crashed or hung (tests/test_fuzz_regress.c checks each)
for f in tests/fuzz/regress/text-*; do printf "\\200" | cat - "$f" >"$B/corpus/fuzz_ratings_text/regress-$(basename "$f")"; done
"$B/tests/fuzz/fuzz_seeds" "$B/seeds"
cp "$B"/seeds/ratings_h5/* "$B/corpus/fuzz_ratings_h5/"
cp "$B"/seeds/model/* "$B/corpus/fuzz_model/"
# HDF5's own leak reports on damaged files are not ours: leak checking is
# left to the ASan/valgrind runs of the test suite.
export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1
status=0
for t in fuzz_ratings_text fuzz_ratings_h5 fuzz_model; do
  log="$B/$t.log"
  if "$B/tests/fuzz/$t" -seed="$SEED" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$B/crashes/$t-" -print_final_stats=1 \
      "$B/corpus/$t" >"$log" 2>&1; then
    result="no crash"
  else
    result="CRASH (see $log and $B/crashes)"
    status=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  corpus=$(ls "$B/corpus/$t" | wc -l)
  echo "$t: ${execs:-?} executions in ${SECS} s, corpus $corpus inputs, $result"
done
exit $status
