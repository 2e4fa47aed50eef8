#!/bin/sh
# valgrind-tests.sh -- run a build's tests under valgrind memcheck, one at a
# time.  Errors (invalid reads/writes, uses of uninitialized values,
# invalid frees) and definite leaks fail a test; memory that OpenBLAS,
# libgomp, HDF5 and Open MPI keep for the process lifetime is "still
# reachable" and not counted.
#
# usage: tools/valgrind-tests.sh [--slow] [--mpi] [--cli] [--all]
#                                BUILD_DIR [ctest -R regex]
#   (no flag)  the C tests and examples, except the sweeps
#   --slow     also the sweeps that repeat a scenario hundreds of times
#              (test_oom, test_bad_input, test_ratings: 10-60 min each
#              under memcheck on a shared 2-core machine)
#   --mpi      the MPI tests, every rank under memcheck (mpiexec -n N
#              valgrind ... test); Open MPI's, PMIx's and hwloc's own
#              reports are suppressed by the files Debian ships with them
#              plus tests/valgrind-mpi.supp, which names only their
#              libraries, never a clearn frame
#   --cli      tests/test_cli.sh and tests/test_cli_mpi.sh with every run
#              of the clearn binary (every rank too) under memcheck
#   --all      all of the above
# Logs: BUILD_DIR/valgrind-<test>[.<pid>].log.  The Python tests are not
# run (valgrind on CPython is mostly CPython's noise); they run against the
# ASan/UBSan library in tools/run-tests.sh instead.
set -eu
SLOW=0 MPI=0 CLI=0
while [ $# -gt 0 ]; do
  case $1 in
  --slow) SLOW=1 ;;
  --mpi) MPI=1 ;;
  --cli) CLI=1 ;;
  --all) SLOW=1 MPI=1 CLI=1 ;;
  -*) echo "valgrind-tests: unknown option $1" >&2; exit 2 ;;
  *) break ;;
  esac
  shift
done
[ $# -ge 1 ] || { sed -n '8,24p' "$0" >&2; exit 2; }
BUILD=$(cd "$1" && pwd)
REGEX=${2:-.}
SRC=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null || { echo "valgrind-tests: valgrind is missing (apt-get install valgrind)"; exit 77; }
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# Open MPI's plugins stay loaded, so their frames keep names for the
# suppressions (and the reports).
export OMPI_MCA_mca_base_component_disable_dlclose=1 \
  PMIX_MCA_mca_base_component_disable_dlclose=1
# HDF5 1.10 loses object headers of damaged files (tests/valgrind-hdf5.supp
# says why that suppression cannot hide a clearn leak).
VG="valgrind --quiet --error-exitcode=99 --leak-check=full \
--errors-for-leak-kinds=definite --show-leak-kinds=definite --track-origins=no \
--suppressions=$SRC/tests/valgrind-hdf5.supp"
SUPP="--num-callers=40 --suppressions=$SRC/tests/valgrind-mpi.supp"
for f in /usr/share/openmpi/openmpi-valgrind.supp \
         /usr/lib/x86_64-linux-gnu/pmix2/share/pmix/pmix-valgrind.supp; do
  [ -f "$f" ] && SUPP="$SUPP --suppressions=$f"
done
rm -f "$BUILD/valgrind-failures"

# A log holds something only when valgrind reported (--quiet).
log_clean() {
  for l in "$@"; do
    [ -f "$l" ] || continue
    if grep -Eq 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]|Invalid |uninitialised|Mismatched free|Syscall param' "$l"; then
      return 1
    fi
  done
  return 0
}

# report NAME START RC LOGS...: one line per test, and the failures file.
report() {
  name=$1 start=$2 rc=$3
  shift 3
  if [ "$rc" -eq 77 ]; then echo "valgrind skip $name"; return; fi
  if [ "$rc" -eq 0 ] && log_clean "$@"; then
    echo "valgrind ok   $name ($(( $(date +%s) - start )) s)"
  else
    echo "valgrind FAIL $name (exit $rc, $(( $(date +%s) - start )) s, see $BUILD/valgrind-$name*.log)"
    echo x >>"$BUILD/valgrind-failures"
  fi
}

# Tab-separated: kind, name, working directory, environment, command
# (shell-quoted); kind is c, mpi or cli.
EXCL='^(test_oom|test_bad_input|test_ratings)$'
[ $SLOW -eq 1 ] && EXCL='^$'
LIST=$(cd "$BUILD" && ctest --show-only=json-v1 -R "$REGEX" -E "$EXCL" |
  /usr/bin/python3 -c '
import json, os, sys, shlex
for t in json.load(sys.stdin)["tests"]:
    cmd = t.get("command") or []
    if not cmd: continue
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    env = " ".join(shlex.quote(e) for e in props.get("ENVIRONMENT", []))
    wd = props.get("WORKING_DIRECTORY", ".")
    exe = os.path.basename(cmd[0])
    if exe in ("mpiexec", "mpirun"): kind = "mpi"
    elif exe == "sh" and len(cmd) > 1 and "test_cli" in cmd[1]: kind = "cli"
    elif exe.endswith(("sh", "python3", "cmake")): continue
    else: kind = "c"
    print("\t".join([kind, t["name"], wd, env or "-",
                     " ".join(shlex.quote(c) for c in cmd)]))
')

# (every command reads /dev/null: mpiexec would otherwise eat the list)
echo "$LIST" | while IFS="	" read -r kind name wd env cmd; do
  [ -n "$name" ] || continue
  [ "$env" = "-" ] && env=""
  start=$(date +%s)
  rm -f "$BUILD/valgrind-$name".*log "$BUILD/valgrind-$name.log"
  case $kind in
  c)
    rc=0
    (cd "$wd" && eval env $env $VG $cmd) </dev/null >"$BUILD/valgrind-$name.log" 2>&1 || rc=$?
    # valgrind's exit code 99 says it reported; the log also holds the
    # test's own output, so it is not searched
    report "$name" "$start" "$rc"
    ;;
  mpi)
    [ $MPI -eq 1 ] || continue
    # mpiexec's own options, then valgrind, then the test and its arguments
    vcmd=$(printf '%s\n' "$cmd" | /usr/bin/python3 -c '
import shlex, sys, os
a = shlex.split(sys.stdin.read())
i = next(k for k in range(1, len(a)) if os.path.isabs(a[k]) and os.access(a[k], os.X_OK))
print(" ".join(shlex.quote(x) for x in a[:i]) + " VALGRIND " + " ".join(shlex.quote(x) for x in a[i:]))')
    vg="$VG $SUPP --log-file=$BUILD/valgrind-$name.%p.log"
    vcmd=$(printf '%s' "$vcmd" | sed "s|VALGRIND|$vg|")
    rc=0
    (cd "$wd" && eval env $env $vcmd) </dev/null >"$BUILD/valgrind-$name.out" 2>&1 || rc=$?
    report "$name" "$start" "$rc" "$BUILD/valgrind-$name".*.log
    ;;
  cli)
    [ $CLI -eq 1 ] || continue
    # The scripts take the binary's path: hand them a wrapper that runs it
    # under memcheck (exec, so a rank killed by the test is valgrind itself).
    real=$(printf '%s\n' "$cmd" | /usr/bin/python3 -c '
import shlex, sys; print(shlex.split(sys.stdin.read())[2])')
    wrap="$BUILD/valgrind-clearn-wrapper"
    cat >"$wrap" <<EOF
#!/bin/sh
exec $VG $SUPP --log-file=$BUILD/valgrind-$name.%p.log $real "\$@"
EOF
    chmod +x "$wrap"
    vcmd=$(printf '%s' "$cmd" | sed "s|$real|$wrap|")
    rc=0
    (cd "$wd" && eval env $env $vcmd) </dev/null >"$BUILD/valgrind-$name.out" 2>&1 || rc=$?
    report "$name" "$start" "$rc" "$BUILD/valgrind-$name".*.log
    ;;
  esac
done
if [ -f "$BUILD/valgrind-failures" ]; then rm -f "$BUILD/valgrind-failures"; exit 1; fi
