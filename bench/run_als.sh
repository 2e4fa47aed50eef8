#!/bin/sh
# run_als.sh -- the ALS benchmarks end to end: clearn's ALS against its
# SGEMM flop floor and against a NumPy ALS-WR of the same update
# (bench/als_numpy.py) on the same split, which bench_als exports.
#
# usage: bench/run_als.sh BUILD_DIR [ml1m|gen|tune|gibbs|implicit|rows|recommend|all]
#
# BUILD_DIR holds an already built bench_als (BUILD_DIR/bench/bench_als or
# BUILD_DIR/bench_als; this script builds nothing).  Parts:
#   tune  the hyper-parameter grid on a validation split carved from the
#         ml-1m training part (never the test part); its choice is what
#         ML_SETTINGS below defaults to
#   ml1m  ml-1m (90/10 split, seed 42), rank 32 and 64: test RMSE, fit
#         time, s/iteration, peak RSS, time-to-target on the test curve;
#         NumPy on the same split
#   gen   generated data of ml-20m's shape, rank 64: s/iteration and peak
#         RSS for Cholesky and CG against the flop floor; both solvers on
#         a 90/10 holdout for RMSE at equal iterations; NumPy for one
#         iteration on the same holdout split
#   implicit  the same data as implicit feedback (alpha 1), rank 64:
#         s/iteration, CPU seconds and peak RSS, Cholesky and CG
#   rows  one pass of random factor-row reads over each CSR, 1 and 2
#         threads: the memory floor of any pass (what bounds CG)
#   recommend  top 10 for every user at ml-20m's shape against the bare
#         GEMM, then bench/recommend_numpy.py on the same factors
#   gibbs solver=gibbs on ml-1m: a grid of rank, burn-in reg and burn-in
#         length at a fixed budget of sweeps on the validation split, then
#         GIBBS_SETTINGS (what the grid chose) against ALS_SETTINGS (the
#         best ALS of part tune, CG) on the test set, interleaved, REPS
#         fits each: test RMSE, fit time, s/sweep, peak RSS, time to
#         0.845 / 0.840
#   all   (default) tune, ml1m and gen
#
# Environment: ML1M (/work/shared/data/movielens/ml-1m/ratings-notime.dat),
# PYTHON (/usr/bin/python3), DATA_DIR (/tmp/clearn-als-bench), REPS (3),
# NP_THREADS (1: BLAS threads under NumPy; its per-row matmuls are too
# small for more), ML_SETTINGS (the settings the tune grid chose, separated
# by ";": rank 32 and 64, each with the exact solve and with CG, which
# reached the same validation RMSE), GIBBS_SETTINGS and ALS_SETTINGS (part
# gibbs: the sampler the gibbs grid chose, and the ALS it is paired with),
# GEN_ITERS (5),
# HOLD_ITERS (10), CG ("solver=cg cg_steps=3"), NUMPY_GEN (1; 0 skips the
# NumPy run at ml-20m scale), KEEP=1 keeps the exported splits.
#
# Each measurement runs in its own process, so every peak RSS is that of
# one side alone.  Prints figures; never fails on a time.
set -eu

[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [ml1m|gen|tune|gibbs|implicit|rows|recommend|all]" >&2; exit 2; }
BUILD=$1
WHICH=${2:-all}
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$BUILD/bench/bench_als
[ -x "$BIN" ] || BIN=$BUILD/bench_als
[ -x "$BIN" ] || { echo "$0: bench_als not built in $BUILD" >&2; exit 2; }
ML1M=${ML1M:-/work/shared/data/movielens/ml-1m/ratings-notime.dat}
PYTHON=${PYTHON:-/usr/bin/python3}
DATA_DIR=${DATA_DIR:-/tmp/clearn-als-bench}
REPS=${REPS:-3}
NP_THREADS=${NP_THREADS:-1}
ML_SETTINGS=${ML_SETTINGS:-"rank=32 reg=0.3 reg_exponent=0.75 max_iter=17;rank=32 reg=0.3 reg_exponent=0.75 max_iter=17 solver=cg cg_steps=3;rank=64 reg=0.32 reg_exponent=0.75 max_iter=13;rank=64 reg=0.32 reg_exponent=0.75 max_iter=13 solver=cg cg_steps=3"}
GIBBS_SETTINGS=${GIBBS_SETTINGS:-"solver=gibbs rank=16 max_iter=20 burn_in=2 reg=10 weighted_reg=false"}
ALS_SETTINGS=${ALS_SETTINGS:-"rank=32 reg=0.3 reg_exponent=0.75 max_iter=17 solver=cg cg_steps=3"}
GEN_ITERS=${GEN_ITERS:-5}
HOLD_ITERS=${HOLD_ITERS:-10}
CG=${CG:-"solver=cg cg_steps=3"}
NUMPY_GEN=${NUMPY_GEN:-1}

# key=value from a RESULT line.
val() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }
# name=value out of an ALS settings string ("rank=32 reg=0.08 ...").
setting() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }

echo "== machine"
lscpu | sed -n 's/^Model name: *//p;s/^CPU(s): */cpus: /p'
uptime
mkdir -p "$DATA_DIR"

echo "== SGEMM (all cores): the rate the flop floor is divided by"
OUT=$("$BIN" sgemm --n 4096 --reps 5); echo "$OUT"
GFLOPS=$(val gflops "$(echo "$OUT" | grep '^RESULT mode=sgemm')")

case $WHICH in
  all) PARTS="tune ml1m gen" ;;
  tune|ml1m|gen|gibbs|implicit|rows|recommend) PARTS=$WHICH ;;
  *) echo "$0: unknown part '$WHICH'" >&2; exit 2 ;;
esac

for part in $PARTS; do
case $part in
tune)
  if [ ! -r "$ML1M" ]; then echo "== tune: $ML1M absent, skipped"; continue; fi
  echo "== tune: grid on a validation split of the ml-1m training part"
  # reg_exponent e: a row's L2 weight is reg * count^e (1: ALS-WR); the
  # regs of each e are around its optimum (reg scales like count^(1 - e)).
  for E in 1 0.85 0.8 0.75 0.7 0.6 0.5; do
    case $E in
      1) REGS=0.06,0.07,0.08,0.09,0.1 ;;
      0.85) REGS=0.15,0.2,0.25 ;;
      0.8) REGS=0.22,0.26,0.3 ;;
      0.75) REGS=0.25,0.28,0.3,0.32,0.35 ;;
      0.7) REGS=0.35,0.4,0.45 ;;
      0.6) REGS=0.6,0.8,1.1 ;;
      0.5) REGS=0.8,1.2,1.6 ;;
    esac
    echo "-- reg_exponent=$E"
    "$BIN" tune "$ML1M" max_iter=25 reg_exponent=$E --ranks 32,64 \
      --regs $REGS --biases 0 | grep -v '^RESULT' | tail -n +2
  done
  echo "-- reg_exponent=0.75, biases"
  "$BIN" tune "$ML1M" max_iter=25 reg_exponent=0.75 --ranks 32 \
    --regs 0.25,0.3,0.35 --biases 1 | grep -v '^RESULT' | tail -n +2
  echo "-- reg_exponent=0.75, CG steps (solver column)"
  "$BIN" tune "$ML1M" max_iter=25 reg_exponent=0.75 --ranks 32 --regs 0.3 \
    --biases 0 --solvers cg2,cg3,cg5 | grep -v '^RESULT' | tail -n +3
  "$BIN" tune "$ML1M" max_iter=25 reg_exponent=0.75 --ranks 64 --regs 0.32 \
    --biases 0 --solvers cg2,cg3,cg5 | grep -v '^RESULT' | tail -n +3
  ;;
gibbs)
  if [ ! -r "$ML1M" ]; then echo "== gibbs: $ML1M absent, skipped"; continue; fi
  echo "== gibbs: grid on a validation split of the ml-1m training part"
  echo "-- 20 sweeps, burn_in 2, plain L2 burn-in reg (valid_rmse: the running average)"
  "$BIN" tune "$ML1M" solver=gibbs max_iter=20 burn_in=2 weighted_reg=false \
    --ranks 8,12,16,20,24 --regs 5,10,20 --biases 0 --solvers gibbs |
    grep -v '^RESULT' | tail -n +2
  echo "-- rank 16, reg 10: burn_in 1, 3, 5 (same 20 sweeps)"
  for B in 1 3 5; do
    "$BIN" tune "$ML1M" solver=gibbs max_iter=20 burn_in=$B \
      weighted_reg=false --ranks 16 --regs 10 --biases 0 --solvers gibbs |
      grep -v '^RESULT' | tail -n +3
  done
  echo "-- rank 16, reg 10, burn_in 2: 40 sweeps (how far averaging goes)"
  "$BIN" tune "$ML1M" solver=gibbs max_iter=40 burn_in=2 weighted_reg=false \
    --ranks 16 --regs 10 --biases 0 --solvers gibbs | grep -v '^RESULT' |
    tail -n +3
  for round in 1 2; do
    for S in "$ALS_SETTINGS" "$GIBBS_SETTINGS"; do
      echo "== ml-1m test set, $S (round $round, best of $REPS fits; then the curve)"
      # shellcheck disable=SC2086
      "$BIN" ml1m "$ML1M" $S --reps "$REPS" --curve | grep -v '^    '
    done
  done
  ;;
ml1m)
  if [ ! -r "$ML1M" ]; then echo "== ml1m: $ML1M absent, skipped"; continue; fi
  SPLIT=$DATA_DIR/ml1m
  TABLE=""
  OLD_IFS=$IFS
  IFS=';'
  set -f
  for S in $ML_SETTINGS; do
    IFS=$OLD_IFS
    R=$(setting rank "$S")
    SV=$(setting solver "$S")
    SV=${SV:-cholesky}
    echo "== ml-1m, $S (best of $REPS fits; then the test-set curve)"
    OUT=$("$BIN" ml1m "$ML1M" $S --reps "$REPS" --curve --export "$SPLIT")
    echo "$OUT" | grep -v '^    '
    RC=$(echo "$OUT" | grep '^RESULT mode=ml1m')
    T845=$(echo "$OUT" | grep '^RESULT mode=curve' | grep 'target=0.8450')
    T840=$(echo "$OUT" | grep '^RESULT mode=curve' | grep 'target=0.8400')
    # NumPy solves exactly: one run per rank serves both solvers' rows.
    eval "RN=\${NP_$R:-}"
    if [ -z "$RN" ]; then
      echo "== NumPy ALS-WR, same split and update ($NP_THREADS BLAS thread(s))"
      E=$(setting reg_exponent "$S")
      OUT=$("$PYTHON" "$HERE/als_numpy.py" "$SPLIT" --rank "$R" \
            --reg "$(setting reg "$S")" --reg-exponent "${E:-1}" \
            --iters "$(setting max_iter "$S")" \
            --threads "$NP_THREADS"); echo "$OUT"
      RN=$(echo "$OUT" | grep '^RESULT mode=numpy')
      eval "NP_$R=\$RN"
    fi
    ROW=$(awk -v r="$R" -v sv="$SV" -v cr="$(val test_rmse "$RC")" \
              -v nr="$(val test_rmse "$RN")" -v cf="$(val fit_s "$RC")" \
              -v ci="$(val s_per_iter "$RC")" -v ni="$(val s_per_iter "$RN")" \
              -v cm="$(val fit_peak_mb "$RC")" -v pm="$(val peak_rss_mb "$RC")" \
              -v nm="$(val peak_rss_mb "$RN")" \
              -v a="$(val s_to_target "$T845")" \
              -v b="$(val s_to_target "$T840")" 'BEGIN {
      printf "%4s %-8s %9.4f %9.4f %8.3f %9.4f %9.3f %8.1f %10.0f %9.0f %9.0f %9s %9s\n",
             r, sv, cr, nr, cf, ci, ni, ni / ci, cm, pm, nm, a, b }')
    TABLE="$TABLE$ROW
"
  done
  IFS=$OLD_IFS
  set +f
  echo
  echo "== ml-1m summary (clearn: best of $REPS fits; NumPy: mean of its iterations)"
  printf "%4s %-8s %9s %9s %8s %9s %9s %8s %10s %9s %9s %9s %9s\n" rank \
    solver "C RMSE" "np RMSE" "C fit s" "C s/it" "np s/it" "np/C" "C fit MB" \
    "C RSS MB" "np RSS MB" "s->0.845" "s->0.840"
  printf "%s" "$TABLE"
  echo "(RMSE on the 10% test part, cold pairs dropped; s->T: wall time to test RMSE T"
  echo " on the curve fitted with the test set as validation data, nan = not reached)"
  [ "${KEEP:-0}" = 1 ] || rm -rf "$SPLIT"
  ;;
gen)
  echo "== ml-20m shape, rank 64, all ratings: Cholesky, then CG ($CG)"
  OUT=$("$BIN" gen rank=64 max_iter="$GEN_ITERS" --gflops "$GFLOPS"); echo "$OUT"
  RCH=$(echo "$OUT" | grep '^RESULT mode=gen')
  OUT=$("$BIN" gen rank=64 max_iter="$GEN_ITERS" $CG --gflops "$GFLOPS")
  echo "$OUT"
  RCG=$(echo "$OUT" | grep '^RESULT mode=gen')
  SPLIT=$DATA_DIR/gen
  EXP=""
  [ "$NUMPY_GEN" = 1 ] && EXP="--export $SPLIT"
  echo "== ml-20m shape, 90/10 holdout: RMSE per iteration, both solvers"
  OUT=$("$BIN" gen rank=64 max_iter="$HOLD_ITERS" --holdout 0.1 \
        --gflops "$GFLOPS" $EXP); echo "$OUT"
  RHC=$(echo "$OUT" | grep '^RESULT mode=gen')
  OUT=$("$BIN" gen rank=64 max_iter="$HOLD_ITERS" $CG --holdout 0.1 \
        --gflops "$GFLOPS"); echo "$OUT"
  RHG=$(echo "$OUT" | grep '^RESULT mode=gen')
  RN=""
  if [ "$NUMPY_GEN" = 1 ]; then
    echo "== NumPy ALS-WR, one iteration on the same holdout split"
    OUT=$("$PYTHON" "$HERE/als_numpy.py" "$SPLIT" --rank 64 --reg 0.1 \
          --iters 1 --threads "$NP_THREADS"); echo "$OUT"
    RN=$(echo "$OUT" | grep '^RESULT mode=numpy')
    echo "(clearn's valid_rmse after iteration 1 is in the Cholesky table above)"
    [ "${KEEP:-0}" = 1 ] || rm -rf "$SPLIT"
  fi
  echo
  echo "== ml-20m-shape summary (rank 64; floor = 2 nnz k (k+1) + (users+items) k^3/3 flops at $GFLOPS GFLOP/s)"
  awk -v g="$GFLOPS" -v fl="$(val floor_gflop "$RCH")" \
      -v ch="$(val later_iter_s "$RCH")" -v cg="$(val later_iter_s "$RCG")" \
      -v mch="$(val fit_peak_mb "$RCH")" -v mcg="$(val fit_peak_mb "$RCG")" \
      -v pch="$(val peak_rss_mb "$RCH")" -v pcg="$(val peak_rss_mb "$RCG")" \
      -v csr="$(val csr_mb "$RCH")" -v fac="$(val factors_mb "$RCH")" \
      -v hc="$(val later_iter_s "$RHC")" -v hg="$(val later_iter_s "$RHG")" \
      -v vc="$(val valid_rmse "$RHC")" -v vg="$(val valid_rmse "$RHG")" \
      -v ni="$(val s_per_iter "$RN")" -v nm="$(val peak_rss_mb "$RN")" \
      -v sc="$(val steal_s "$RCH")" -v sg="$(val steal_s "$RCG")" 'BEGIN {
    f = fl / g
    printf "floor %.1f GFLOP = %.3f s/iteration\n", fl, f
    printf "%-10s %8s %8s %10s %11s %9s %8s\n", "solver", "s/iter", "/floor", "fit MB", "budget MB", "RSS MB", "steal s"
    printf "%-10s %8.3f %8.2f %10.0f %11.0f %9.0f %8.2f\n", "cholesky", ch, ch / f, mch, 1.5 * (csr + fac), pch, sc
    printf "%-10s %8.3f %8.2f %10.0f %11.0f %9.0f %8.2f\n", "cg", cg, cg / f, mcg, 1.5 * (csr + fac), pcg, sg
    printf "holdout (90%% fitted): cholesky %.3f s/it, valid RMSE %.4f; cg %.3f s/it, valid RMSE %.4f after the same iterations\n", hc, vc, hg, vg
    if (ni != "") printf "NumPy, same holdout split: %.2f s/iteration (%.1fx clearn Cholesky), peak RSS %.0f MB\n", ni, ni / hc, nm
  }'
  ;;
implicit)
  echo "== ml-20m shape, implicit feedback (alpha 1), rank 64: Cholesky, then CG ($CG)"
  for S in "" "$CG"; do
    OUT=$("$BIN" gen rank=64 max_iter="$GEN_ITERS" implicit=true alpha=1 $S \
          --gflops "$GFLOPS"); echo "$OUT"
    R=$(echo "$OUT" | grep '^RESULT mode=gen')
    echo "implicit ${S:-cholesky}: $(val later_iter_s "$R") s/iteration," \
         "$(val cpu_s "$R") CPU-s in $(val iters "$R") iterations," \
         "fit peak $(val fit_peak_mb "$R") MB"
  done
  ;;
rows)
  echo "== one pass of random factor-row reads over each CSR (the memory floor of a pass)"
  "$BIN" rows --reps "$REPS"
  ;;
recommend)
  echo "== top 10 for every user at ml-20m's shape, rank 64, then NumPy on the same factors"
  "$BIN" recommend --reps "$REPS" --export "$DATA_DIR/recommend"
  "$PYTHON" "$HERE/recommend_numpy.py" "$DATA_DIR/recommend"
  [ "${KEEP:-0}" = 1 ] || rm -rf "$DATA_DIR/recommend"
  ;;
esac
done
