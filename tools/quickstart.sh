#!/bin/sh
# One command on a fresh Debian 12 machine: install the Debian packages,
# build clearn, and run the main job on the embedded default data.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
echo
# The main job runs under mpirun: 2 ranks (1 on a 1-core machine), each
# with 1 thread, training on the embedded default; the model equals the
# single-process one bitwise.
np=2
[ "$(nproc)" -ge 2 ] || np=1
if [ "$(id -u)" -eq 0 ]; then
  # Open MPI refuses to run as root unless told twice.
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
echo "== mpirun -np $np clearn train als (embedded default: generated ml-1m-shaped ratings) =="
mpirun -np "$np" -x OMP_NUM_THREADS=1 build/tools/clearn train als \
  --rank 32 --reg 0.05 --iters 10 --test-fraction 0.1 --seed 42 \
  --checkpoint build/als-checkpoints --checkpoint-every 5 \
  --model build/als-demo.h5
echo
build/tools/clearn info build/als-demo.h5
echo
build/tools/clearn recommend --model build/als-demo.h5 --user 1 -n 5
