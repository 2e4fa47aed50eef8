#!/bin/sh
# The command line under mpirun: distributed ALS training equals the serial
# run bitwise for 1, 2 and 4 ranks; checkpoints and --resume (also with
# another number of ranks) end with the uninterrupted model; HDF5 ratings
# read by parts; a malformed file fails on every rank with one message and
# exit code 3; a rank killed with SIGKILL mid-training ends the job,
# non-zero, within 30 seconds.
# usage: test_cli_mpi.sh <clearn binary> <mpiexec> [extra mpiexec flags]
set -u
CLI="$1"
MPIEXEC="$2"
shift 2
FLAGS="$*"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
command -v h5diff >/dev/null || { echo "SKIPPED: h5diff (hdf5-tools) is missing" >&2; exit 77; }
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }

# same_model A B: bitwise equal factors (h5diff without tolerance)
same_model() {
  h5diff "$1" "$2" /model/user_factors /model/user_factors >/dev/null &&
    h5diff "$1" "$2" /model/item_factors /model/item_factors >/dev/null
}

# A small ratings file (2,000 users, 300 items, ~30,000 ratings of a
# rank-3 structure), so the suite stays fast also under sanitizers.
awk 'BEGIN { s = 12345;
  for (u = 1; u <= 2000; u++) for (k = 0; k < 15; k++) {
    s = (s * 1103515245 + 12345) % 2147483648; i = 1 + s % 300;
    r = 1 + (u * 7 + i * 13) % 5; print u "," i "," r } }' >"$T/ratings.csv"
DATA="train als --data $T/ratings.csv --format csv:0,1,2 --rank 8 --reg 0.05"
ALS="$DATA --iters 4 --quiet"
"$CLI" $ALS --model "$T/serial.h5" || fail "serial train"
for np in 1 2 4; do
  if "$MPIEXEC" -np $np $FLAGS "$CLI" $ALS --model "$T/np$np.h5"; then
    if same_model "$T/serial.h5" "$T/np$np.h5"; then ok "np $np equals serial"
    else fail "np $np: factors differ from the serial run"; fi
  else
    fail "np $np: exit $?"
  fi
done

# Checkpoint after 2 iterations on 2 ranks, resume on 4 ranks to 4.
"$MPIEXEC" -np 2 $FLAGS "$CLI" $ALS --iters 2 --checkpoint "$T/ck" \
  --checkpoint-every 2 --model "$T/part.h5" || fail "checkpointed run"
[ -f "$T/ck/checkpoint.h5" ] || fail "no checkpoint written"
ls "$T/ck" | grep -v '^checkpoint.h5$' && fail "temporary files left in $T/ck"
"$CLI" info "$T/ck/checkpoint.h5" | grep -Eq 'n_iter +1 x 1 += 2' ||
  fail "checkpoint does not hold iteration 2"
"$MPIEXEC" -np 4 $FLAGS "$CLI" $ALS --checkpoint "$T/ck" --resume \
  --model "$T/resumed.h5" || fail "resume: exit $?"
if same_model "$T/serial.h5" "$T/resumed.h5"; then ok "resume equals uninterrupted"
else fail "resumed model differs from the uninterrupted one"; fi
"$CLI" $ALS --checkpoint "$T/none" --resume --model "$T/x.h5" 2>"$T/err"
rc=$?
[ $rc -eq 3 ] && grep -q "checkpoint.h5" "$T/err" && ok "resume without a checkpoint: exit 3" ||
  fail "resume without a checkpoint: exit $rc: $(cat "$T/err")"

# Text converted to HDF5 ratings, read by parts on 2 ranks.
printf '1::10::5\n1::11::3\n2::10::4\n2::12::2\n3::11::5\n3::12::4\n3::10::1\n4::12::3\n4::11::2\n' >"$T/r.dat"
"$CLI" convert --data "$T/r.dat" --format ml-1m --out "$T/r.h5" >/dev/null || fail "convert"
"$CLI" train als --data "$T/r.dat" --format ml-1m --rank 2 --iters 3 --test-fraction 0 --quiet --model "$T/t1.h5" || fail "train on text"
"$MPIEXEC" -np 2 $FLAGS "$CLI" train als --data "$T/r.h5" --rank 2 --iters 3 --test-fraction 0 --quiet --model "$T/t2.h5" || fail "train on HDF5 parts"
same_model "$T/t1.h5" "$T/t2.h5" && ok "HDF5 parts on 2 ranks equal text on 1" || fail "HDF5 parts model differs"
"$CLI" recommend --model "$T/t2.h5" --user 1 -n 2 | grep -q "item 12" && ok "recommend" || fail "recommend"

# A malformed line: exit 3 on every rank, the message once.
printf '1::10::5\n1::11::3\n2::10::4\n2::12::x\n' >"$T/bad.dat"
"$MPIEXEC" -np 2 $FLAGS "$CLI" train als --data "$T/bad.dat" --format ml-1m >"$T/out" 2>"$T/err"
rc=$?
n=$(grep -c '^clearn:' "$T/err")
if [ $rc -ne 0 ] && [ "$n" -eq 1 ] && grep -q 'bad\.dat:4: field 3' "$T/err"; then
  ok "malformed file: exit $rc, one message"
else
  fail "malformed file: exit $rc, $n messages: $(cat "$T/err")"
fi

# A rank killed mid-training: mpirun must end, non-zero, within 30 s; the
# last checkpoint is intact, and resuming from it to 8 iterations gives
# the uninterrupted 8-iteration model.
"$MPIEXEC" -np 2 $FLAGS "$CLI" $DATA --iters 1000000 \
  --checkpoint "$T/kck" --checkpoint-every 2 \
  --model "$T/killed.h5" >"$T/kout" 2>"$T/kerr" &
mp=$!
i=0
while [ $i -lt 600 ] && ! grep -q '^ *3 ' "$T/kout" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
victim=$(pgrep -P $mp | tail -n 1)
if [ -z "$victim" ]; then
  fail "kill: no rank process found under mpirun $mp"
  kill $mp 2>/dev/null
else
  kill -9 "$victim"
  start=$(date +%s)
  i=0
  while kill -0 $mp 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
  if kill -0 $mp 2>/dev/null; then
    fail "kill: mpirun still running 60 s after a rank was killed"
    kill -9 $mp 2>/dev/null
  fi
  wait $mp
  rc=$?
  took=$(( $(date +%s) - start ))
  if [ $rc -ne 0 ] && [ $took -le 30 ]; then ok "killed rank: job ended in ${took} s, exit $rc"
  else fail "killed rank: exit $rc after ${took} s"; fi
  [ -f "$T/killed.h5" ] && fail "killed run left a model file"
  done_iters=$("$CLI" info "$T/kck/checkpoint.h5" | sed -n 's/.*n_iter *1 x 1 *= *//p')
  if [ -n "$done_iters" ] && [ "$done_iters" -ge 2 ]; then
    want=$((done_iters + 3))
    "$CLI" $ALS --iters $want --model "$T/full.h5" || fail "uninterrupted run"
    "$MPIEXEC" -np 2 $FLAGS "$CLI" $ALS --iters $want \
      --checkpoint "$T/kck" --resume --model "$T/res.h5" || fail "resume after the kill"
    same_model "$T/full.h5" "$T/res.h5" &&
      ok "resume from the killed run's checkpoint (iteration $done_iters) to $want equals uninterrupted" ||
      fail "resume after the kill differs from the uninterrupted run"
  else
    fail "killed run: no usable checkpoint ('${done_iters}' iterations)"
  fi
fi

echo "test_cli_mpi: $fails failure(s)"
[ "$fails" -eq 0 ]
