#!/bin/sh
# run_ridge.sh -- the Ridge benchmark end to end: clearn against its DSYRK
# floor and scikit-learn, on the same data file, in one run.
#
# usage: bench/run_ridge.sh BUILD_DIR [zero|offset|both]
#
# BUILD_DIR holds an already built bench/bench_ridge (this script builds
# nothing), e.g.
#   cmake -S . -B build-bench && cmake --build build-bench --target bench_ridge
#   bench/run_ridge.sh build-bench both
#
# Cases: "zero" has features N(0, 1) (clearn centers in the Gram matrix),
# "offset" has features 3 + N(0, 1) (clearn's exact, explicitly centered
# blocked pass).  Environment: N (1000000), P (200), REPS (3), SEED
# (20261121), DATA_DIR (/tmp), PYTHON (/usr/bin/python3), PARTS=1 to add
# the phase breakdown and alternatives, CLEAN=1 to delete the data files at
# the end (they are reused by the next run otherwise).
#
# Each measurement runs in its own process, so every peak RSS is that of
# one side alone.  Prints figures; never fails on a time.
set -eu

[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [zero|offset|both]" >&2; exit 2; }
BUILD=$1
WHICH=${2:-both}
BIN=$BUILD/bench/bench_ridge
HERE=$(cd "$(dirname "$0")" && pwd)
N=${N:-1000000}
P=${P:-200}
REPS=${REPS:-3}
SEED=${SEED:-20261121}
DATA_DIR=${DATA_DIR:-/tmp}
PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$BIN" ] || { echo "$0: $BIN not built" >&2; exit 2; }

case $WHICH in
  zero) CASES="zero" ;;
  offset) CASES="offset" ;;
  both) CASES="zero offset" ;;
  *) echo "$0: unknown case '$WHICH'" >&2; exit 2 ;;
esac

# key=value from a RESULT line.
val() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

echo "== machine"
lscpu | sed -n 's/^Model name: *//p;s/^CPU(s): */cpus: /p'
uptime
echo "== bench_ridge $N x $P, reps $REPS, seed $SEED"

TABLE=""
for c in $CASES; do
  if [ "$c" = zero ]; then MEAN=0; else MEAN=3; fi
  DATA=$DATA_DIR/clearn_bench_ridge_${N}x${P}_mean${MEAN}_seed${SEED}.f64
  COEF=$DATA_DIR/clearn_bench_ridge_${N}x${P}_mean${MEAN}.coef
  echo "== case $c (feature mean $MEAN): $DATA"
  "$BIN" gen "$DATA" --n "$N" --p "$P" --mean "$MEAN" --seed "$SEED"
  OUT=$("$BIN" syrk "$DATA" --reps "$REPS"); echo "$OUT"
  R_SYRK=$(echo "$OUT" | grep '^RESULT mode=syrk')
  OUT=$("$BIN" fit "$DATA" --reps "$REPS" --coef "$COEF"); echo "$OUT"
  R_FIT=$(echo "$OUT" | grep '^RESULT mode=fit')
  OUT=$("$PYTHON" "$HERE/ridge_sklearn.py" "$DATA" --reps "$REPS" \
        --coef "$COEF"); echo "$OUT"
  R_SK=$(echo "$OUT" | grep '^RESULT mode=sklearn')
  if [ "${PARTS:-0}" = 1 ]; then
    "$BIN" parts "$DATA" --reps "$REPS" --coef "$COEF" | grep -v '^RESULT mode=part '
  fi
  XB=$(val x_bytes "$R_FIT")
  ROW=$(awk -v c="$c" -v s="$(val best_s "$R_SYRK")" \
            -v f="$(val best_s "$R_FIT")" -v k="$(val best_s "$R_SK")" \
            -v rf="$(val peak_rss_bytes "$R_FIT")" \
            -v rk="$(val peak_rss_bytes "$R_SK")" -v xb="$XB" \
            -v d="$(val coef_max_rel_diff "$R_SK")" 'BEGIN {
    printf "%-7s %8.3f %9.3f %10.3f %13.2f %15.2f %6.2f (%4.2fx) %6.2f (%4.2fx) %10s\n",
           c, s, f, k, f / s, k / f, rf / 1e9, rf / xb, rk / 1e9, rk / xb, d }')
  TABLE="$TABLE$ROW
"
done

echo
echo "== summary (seconds are best of $REPS; RSS is each process's peak, GB = 1e9 bytes, x = multiple of X's bytes)"
printf "%-7s %8s %9s %10s %13s %15s %14s %14s %10s\n" case "DSYRK s" \
  "clearn s" "sklearn s" "clearn/DSYRK" "sklearn/clearn" "clearn RSS" \
  "sklearn RSS" "coef diff"
printf "%s" "$TABLE"
echo "(coef diff: max over coefficients of |clearn - sklearn| / |sklearn|)"

if [ "${CLEAN:-0}" = 1 ]; then
  for c in $CASES; do
    if [ "$c" = zero ]; then MEAN=0; else MEAN=3; fi
    rm -f "$DATA_DIR/clearn_bench_ridge_${N}x${P}_mean${MEAN}_seed${SEED}.f64" \
          "$DATA_DIR/clearn_bench_ridge_${N}x${P}_mean${MEAN}.coef"
  done
fi
