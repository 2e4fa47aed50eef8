#!/bin/sh
# Every test: configure, build (-Wall -Wextra, warnings are errors here),
# run ctest; then the same suite under AddressSanitizer + UBSan; then a
# short bounded run of the libFuzzer targets.
# Needs the packages of tools/install-deps.sh.
set -eu
cd "$(dirname "$0")/.."
jobs="$(nproc)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS=-Werror
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DCLEARN_SANITIZE=ON \
  -DCLEARN_BUILD_BENCH=OFF -DCMAKE_C_FLAGS=-Werror
cmake --build build-sanitize -j"$jobs"
# Open MPI's own allocations are not ours to fix (tests/lsan.supp names its
# libraries).  Its plugins must stay loaded for LeakSanitizer to attribute
# their allocations, hence disable_dlclose; full unwinding gets through
# libraries built without frame pointers.
OMPI_MCA_mca_base_component_disable_dlclose=1 \
PMIX_MCA_mca_base_component_disable_dlclose=1 \
ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0" \
LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  ctest --test-dir build-sanitize --output-on-failure -j"$jobs" -E '^install_'

# A short fuzzing run (docs/RELIABILITY.md, "Fuzzing"): every libFuzzer
# target for CLEARN_FUZZ_SECONDS (default 15) seconds on its seed corpus,
# a crash or hang fails.  Needs clang with libFuzzer (tools/install-deps.sh
# --fuzz, which .ci/run uses); without it the stage says so and is skipped.
# CLEARN_FUZZ_SECONDS=0 skips it.
fuzz_secs=${CLEARN_FUZZ_SECONDS:-15}
fuzz_probe=$(mktemp -d)
if [ "$fuzz_secs" = 0 ]; then
  fuzz_done="fuzzing skipped (CLEARN_FUZZ_SECONDS=0)"
elif printf '%s\n' 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$fuzz_probe/p.c" &&
     clang -fsanitize=fuzzer,address,undefined "$fuzz_probe/p.c" -o "$fuzz_probe/p" >/dev/null 2>&1; then
  tools/fuzz.sh "$fuzz_secs" build-fuzz
  fuzz_done="fuzzing ${fuzz_secs} s per target"
else
  fuzz_done="fuzzing SKIPPED: clang with libFuzzer is missing (tools/install-deps.sh --fuzz)"
fi
rm -rf "$fuzz_probe"
echo "run-tests: all tests passed (release and ASan/UBSan); $fuzz_done"
