#!/bin/sh
# One command on a fresh Debian 12 machine: install the Debian packages,
# build clearn, and run the main job on the embedded default data.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
echo
echo "== clearn train ridge (embedded default: generated regression) =="
build/tools/clearn train ridge --alpha 1.0 --model build/ridge-demo.h5
echo
build/tools/clearn info build/ridge-demo.h5
