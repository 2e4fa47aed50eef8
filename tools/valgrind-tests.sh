#!/bin/sh
# valgrind-tests.sh -- run the C tests of a build under valgrind memcheck
# (not the MPI tests, the shell tests or the Python tests), one at a time.
# Errors (invalid reads/writes, uses of uninitialized values) and definite
# leaks fail a test; memory that OpenBLAS, libgomp and HDF5 keep for the
# process lifetime is "still reachable" and not counted.
#
# usage: tools/valgrind-tests.sh BUILD_DIR [ctest -R regex] [ctest -E regex]
# The default exclusion skips the sweeps that run a scenario thousands of
# times (test_oom, test_bad_input's byte flips), which take hours under
# memcheck; they run under ASan in tools/run-tests.sh.
set -eu
BUILD=$1
REGEX=${2:-.}
EXCLUDE=${3:-^(test_oom|test_bad_input)$}
command -v valgrind >/dev/null || { echo "valgrind-tests: valgrind is missing (apt-get install valgrind)"; exit 77; }
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
LIST=$(cd "$BUILD" && ctest --show-only=json-v1 -R "$REGEX" -E "$EXCLUDE" | /usr/bin/python3 -c '
import json, sys, shlex
for t in json.load(sys.stdin)["tests"]:
    cmd = t.get("command") or []
    if not cmd: continue
    exe = cmd[0]
    if exe.endswith(("mpiexec", "mpirun", "sh", "python3", "cmake")): continue
    print(t["name"] + "\t" + " ".join(shlex.quote(c) for c in cmd))
')
fails=0
echo "$LIST" | while IFS="	" read -r name cmd; do
  [ -n "$name" ] || continue
  start=$(date +%s)
  if eval valgrind --quiet --error-exitcode=99 --leak-check=full \
      --errors-for-leak-kinds=definite --show-leak-kinds=definite \
      --track-origins=no $cmd >"$BUILD/valgrind-$name.log" 2>&1; then
    echo "valgrind ok   $name ($(( $(date +%s) - start )) s)"
  else
    rc=$?
    if [ $rc -eq 77 ]; then echo "valgrind skip $name"; continue; fi
    echo "valgrind FAIL $name (exit $rc, see $BUILD/valgrind-$name.log)"
    echo x >>"$BUILD/valgrind-failures"
  fi
done
if [ -f "$BUILD/valgrind-failures" ]; then rm -f "$BUILD/valgrind-failures"; exit 1; fi
