#!/bin/sh
# run_logistic.sh -- logistic regression end to end on one generated data
# file: clearn (lbfgs, tron) against scikit-learn's lbfgs and LIBLINEAR's
# train() (C API, same data in memory), then the distributed fit at np 1
# and 2.
#
# usage: bench/run_logistic.sh BUILD_DIR
#
# BUILD_DIR holds already built bench/bench_logistic and (with MPI)
# bench/bench_mpi_logistic, e.g.
#   cmake -S . -B build-bench && cmake --build build-bench --target bench_logistic bench_mpi_logistic
#   bench/run_logistic.sh build-bench
#
# Environment: N (1000000), P (100), REPS (3), SEED (20261121), TOL (1e-4,
# clearn and scikit-learn), EPS ("0.01 0.001", LIBLINEAR's), DATA_DIR
# (/tmp), PYTHON (/usr/bin/python3), CLEAN=1 to delete the data file at the
# end, LIBLINEAR_TRAIN=1 to also time the liblinear-train tool on the data
# written as LIBSVM text (about 2.5 GB for 1e6 x 100; most of its time is
# parsing that text).  Each side runs in its own process, so each peak RSS is its own.
# Prints figures; never fails on a time.
set -eu

[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
BUILD=$1
BIN=$BUILD/bench/bench_logistic
MPIBIN=$BUILD/bench/bench_mpi_logistic
HERE=$(cd "$(dirname "$0")" && pwd)
N=${N:-1000000}
P=${P:-100}
REPS=${REPS:-3}
SEED=${SEED:-20261121}
TOL=${TOL:-1e-4}
EPS=${EPS:-"0.01 0.001"}
DATA_DIR=${DATA_DIR:-/tmp}
PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$BIN" ] || { echo "$0: $BIN not built" >&2; exit 2; }
DATA=$DATA_DIR/clearn_bench_logistic_${N}x${P}_seed${SEED}.f64

echo "== machine"
lscpu | sed -n 's/^Model name: *//p;s/^CPU(s): */cpus: /p'
uptime
echo "== data $N x $P, seed $SEED: $DATA"
[ -f "$DATA" ] || "$BIN" gen "$DATA" --n "$N" --p "$P" --seed "$SEED"

echo "== clearn"
for s in lbfgs tron; do
  "$BIN" clearn "$DATA" --p "$P" --solver $s --tol "$TOL" --reps "$REPS"
done
echo "== scikit-learn"
"$PYTHON" "$HERE/logistic_sklearn.py" "$DATA" "$P" "$TOL" 1 "$REPS"
echo "== LIBLINEAR train() (L2R_LR, bias 1)"
for e in $EPS; do
  "$BIN" liblinear "$DATA" --p "$P" --eps "$e" || echo "(LIBLINEAR not built in)"
done
if [ "${LIBLINEAR_TRAIN:-0}" = 1 ] && command -v liblinear-train >/dev/null; then
  echo "== liblinear-train -s 0 -B 1 (LIBSVM text)"
  SVM=$DATA.svm
  [ -f "$SVM" ] || "$BIN" svm "$DATA" "$SVM" --p "$P"
  for e in $EPS; do
    /usr/bin/time -f "liblinear-train eps=$e wall_s=%e peak_rss_kb=%M" \
      liblinear-train -q -s 0 -e "$e" -B 1 "$SVM" "$SVM.model.$e"
  done
  [ "${CLEAN:-0}" = 1 ] && rm -f "$SVM" "$SVM".model.*
fi
if [ -x "$MPIBIN" ]; then
  echo "== distributed (mpiexec)"
  for np in 1 2; do
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
      OPENBLAS_NUM_THREADS=$((2 / np)) mpiexec -n $np --oversubscribe --bind-to none \
      "$MPIBIN" "$DATA" --p "$P" --tol "$TOL" --reps "$REPS"
  done
fi
uptime
[ "${CLEAN:-0}" = 1 ] && rm -f "$DATA"
exit 0
