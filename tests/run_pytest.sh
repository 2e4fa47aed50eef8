#!/bin/sh
# Run part of the Python binding's pytest suite (python/tests) for ctest.
#
# Usage: run_pytest.sh PYTHON LIBCLEARN LIBCLEARN_MPI PKGDIR pytest-args...
#
# The package is used straight from the source tree (PYTHONPATH=PKGDIR)
# with this build's library (CLEARN_LIBRARY), so nothing is installed.
# Exit 77 (ctest: skipped), after saying why, when PYTHON or one of the
# packages every test needs (numpy, scikit-learn, pytest) is missing;
# tests needing an optional package (pandas, mpi4py, nbclient) skip
# themselves and pytest's -rs lists them with the reason.
set -u
py="$1" lib="$2" mpilib="$3" pkg="$4"
shift 4
if [ ! -x "$py" ]; then
  echo "SKIPPED: $py not found (Debian's python3 with numpy, scikit-learn, pytest)" >&2
  exit 77
fi
if ! missing="$("$py" -c 'import numpy, sklearn, pytest' 2>&1)"; then
  echo "SKIPPED: $py lacks a package the Python tests need" \
       "(apt-get install python3-numpy python3-sklearn python3-pytest): $missing" >&2
  exit 77
fi
CLEARN_LIBRARY="$lib" CLEARN_MPI_LIBRARY="$mpilib" PYTHONPATH="$pkg" \
PYTHONDONTWRITEBYTECODE=1 \
  exec "$py" -m pytest -q -rs -p no:cacheprovider "$@"
