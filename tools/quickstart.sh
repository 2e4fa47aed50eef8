#!/bin/sh
# One command on a fresh Debian 12 machine: install the Debian packages,
# build clearn, and run the main job on the embedded default data.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
echo
echo "== clearn train als (embedded default: generated ml-1m-shaped ratings) =="
build/tools/clearn train als --rank 32 --reg 0.05 --max_iter 10 \
  --test-fraction 0.1 --seed 42 --model build/als-demo.h5
echo
build/tools/clearn info build/als-demo.h5
