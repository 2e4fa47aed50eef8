#!/bin/sh
# Install clearn's Debian 12 build and test dependencies (needs root or sudo).
# Skips apt entirely when every package is already installed.
set -eu
PKGS="build-essential cmake pkg-config libopenblas-dev liblapacke-dev
libopenmpi-dev openmpi-bin libhdf5-dev hdf5-tools
python3 python3-numpy python3-scipy python3-sklearn python3-h5py
liblinear-dev liblinear-tools
python3-pytest python3-pandas python3-matplotlib python3-mpi4py
python3-nbclient python3-nbformat python3-ipykernel
python3-setuptools python3-wheel python3-venv"
# --fuzz: also what tools/fuzz.sh needs (clang with libFuzzer and libomp).
if [ "${1:-}" = "--fuzz" ]; then
  PKGS="$PKGS clang libclang-rt-14-dev libomp-dev"
fi
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "install-deps: all Debian packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing$missing"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
