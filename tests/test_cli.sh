#!/bin/sh
# Command-line contract: outputs, exit codes (0 ok, 2 usage, 3 data), and
# that each error is printed once on stderr, naming file/line/parameter.
# usage: test_cli.sh <path to clearn binary>
set -u
CLI="$1"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
fails=0

# expect <name> <exit code> <regex on stdout+stderr> -- command...
expect() {
  name="$1"; code="$2"; pattern="$3"; shift 4
  "$@" >"$T/out" 2>"$T/err"
  rc=$?
  if [ "$rc" -ne "$code" ]; then
    echo "FAIL $name: exit $rc, expected $code"; cat "$T/out" "$T/err"; fails=$((fails + 1)); return
  fi
  if ! cat "$T/out" "$T/err" | grep -Eq -- "$pattern"; then
    echo "FAIL $name: output does not match /$pattern/"; cat "$T/out" "$T/err"; fails=$((fails + 1)); return
  fi
  echo "ok   $name"
}

expect train_default 0 'test R\^2 0\.99' -- "$CLI" train ridge --alpha 0.5 --model "$T/m.h5"
expect info 0 'alpha = 0\.5' -- "$CLI" info "$T/m.h5"
expect train_classifier 0 'train accuracy 0\.9[0-9]+ +test accuracy 0\.9' -- "$CLI" train logistic_regression --max_iter 200 --model "$T/lr.h5"
expect train_transformer 0 'model written to' -- "$CLI" train standard_scaler --model "$T/ss.h5"
if grep -q 'R\^2' "$T/out"; then echo "FAIL train_transformer printed a score"; fails=$((fails + 1)); fi
expect info_coef 0 'coef +1 x 50' -- "$CLI" info "$T/m.h5"
expect params 0 '--alpha +1\.0 +range \[0, inf\)' -- "$CLI" params ridge
expect bad_param 2 "ridge: parameter 'alpha' = -2: must be >= 0" -- "$CLI" train ridge --alpha -2
expect unknown_param 2 "unknown parameter 'alhpa'" -- "$CLI" train ridge --alhpa 1
expect unknown_kind 2 "unknown estimator kind 'svm'" -- "$CLI" train svm
expect usage 2 'usage: clearn train' -- "$CLI"
[ "$(wc -l <"$T/err")" -ge 1 ] || { echo "FAIL usage printed nothing"; fails=$((fails + 1)); }

printf 'a,b,y\n1,2,5\n2,1,4\n3,3,9\n4,0,4\n5,1,7\n' >"$T/ok.csv"
expect train_csv 0 'fit 5 samples x 2 features' -- "$CLI" train linear_regression --data "$T/ok.csv" --test-fraction 0 --model "$T/lr.h5"
printf '1,2\n3,4\n' >"$T/X.csv"
# 5 up to the last bits of a double: %.17g shows the rounding of whichever
# OpenBLAS kernel the CPU gets (5.0000000000000009 on one without AVX-512)
expect predict 0 '^(5(\.0*)?|5\.0000000000000[0-9]*|4\.9999999999999[0-9]*)$' -- "$CLI" predict --model "$T/lr.h5" --data "$T/X.csv"
printf 'a,b,y\n1,2,5\n2,x,4\n' >"$T/bad.csv"
expect bad_field 3 "bad\.csv:3: field 2: not a finite number" -- "$CLI" train ridge --data "$T/bad.csv"
printf '1,2,5\n2,4\n' >"$T/ragged.csv"
expect ragged 3 "ragged\.csv:2: expected 3 fields, got 2" -- "$CLI" train ridge --data "$T/ragged.csv"
expect missing_file 3 "cannot open '$T/nope\.csv'" -- "$CLI" train ridge --data "$T/nope.csv"
expect predict_shape 3 'X has 3 features, but the estimator was fitted with 2' -- "$CLI" predict --model "$T/lr.h5" --data "$T/ok.csv"
echo "not hdf5" >"$T/junk.h5"
expect info_junk 3 'is not an HDF5 file' -- "$CLI" info "$T/junk.h5"

expect train_als 0 'test RMSE 0\.[0-9]+, MAE' -- "$CLI" train als --rank 8 --max_iter 3 --model "$T/als.h5"
expect info_als 0 'als model' -- "$CLI" info "$T/als.h5"
expect train_als_json 0 '"test_rmse": 0\.' -- "$CLI" train als --rank 4 --max_iter 2 --json --model "$T/als2.h5"
printf '1::10::5\n1::11::3\n2::10::4\n2::12::x\n' >"$T/bad.dat"
expect als_bad_data 3 'bad\.dat:4: field 3' -- "$CLI" train als --data "$T/bad.dat" --format ml-1m
expect als_bad_param 2 "als: parameter 'rank' = 0" -- "$CLI" train als --rank 0
expect train_als_rexp 0 'test RMSE 0\.[0-9]+, MAE' -- "$CLI" train als --rank 4 --max_iter 2 --reg 0.3 --reg_exponent 0.5 --model "$T/als3.h5"
expect info_als_rexp 0 'reg_exponent = 0\.5' -- "$CLI" info "$T/als3.h5"
expect als_bad_rexp 2 "als: parameter 'reg_exponent' = 2: must be in \[0, 1\]" -- "$CLI" train als --reg_exponent 2
expect params_als 0 'reg_exponent' -- "$CLI" params als

# Each error once: a single line on stderr.
"$CLI" train ridge --alpha -2 2>"$T/err" >/dev/null
[ "$(wc -l <"$T/err")" -eq 1 ] || { echo "FAIL error printed $(wc -l <"$T/err") times"; fails=$((fails + 1)); }

echo "test_cli: $fails failure(s)"
[ "$fails" -eq 0 ]
