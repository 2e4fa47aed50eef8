#!/bin/sh
# run_mpi_als.sh -- distributed ALS at ml-20m's shape: the threaded single
# process (2 threads), np = 1 and np = 2 (1 thread per rank), then the
# bytes a Spark-style Alltoallv exchange would send, on paper.
#
# usage: bench/run_mpi_als.sh BUILD_DIR
# Environment: DATA (/tmp/clearn-mpi-bench/ml20m-shape.h5, made once),
# RANK (64), ITERS (10), MAKE_ARGS (the generator's size: users items nnz
# seed; default ml-20m's shape).
set -eu
BUILD=$1
BIN=$BUILD/bench/bench_mpi_als
[ -x "$BIN" ] || BIN=$BUILD/bench_mpi_als
DATA=${DATA:-/tmp/clearn-mpi-bench/ml20m-shape.h5}
RANK=${RANK:-64}
ITERS=${ITERS:-10}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$(dirname "$DATA")"
[ -f "$DATA" ] || mpirun -np 1 "$BIN" make "$DATA" ${MAKE_ARGS:-}
echo "== threaded single process (2 threads)"
mpirun -np 1 -x OMP_NUM_THREADS=2 "$BIN" fit "$DATA" "$RANK" "$ITERS" 2 serial
echo "== np = 1, 1 thread"
mpirun -np 1 -x OMP_NUM_THREADS=1 "$BIN" fit "$DATA" "$RANK" "$ITERS" 1
echo "== np = 2, 1 thread per rank"
mpirun -np 2 --bind-to core -x OMP_NUM_THREADS=1 "$BIN" fit "$DATA" "$RANK" "$ITERS" 1
echo "== on paper: Alltoallv of touched rows, np = 2 and 4"
mpirun -np 1 "$BIN" paper "$DATA" 2 "$RANK"
mpirun -np 1 "$BIN" paper "$DATA" 4 "$RANK"
