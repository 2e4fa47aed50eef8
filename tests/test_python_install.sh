#!/bin/sh
# The documented offline install of the Python package: a virtual
# environment over Debian's python3 that reuses its numpy and scikit-learn
# (--system-site-packages), then pip without network or build isolation.
# The installed package must find libclearn.so through the dynamic loader
# (here LD_LIBRARY_PATH, as after `cmake --install` into a prefix on it):
# CLEARN_LIBRARY is unset.
#
# Usage: test_python_install.sh PYTHON LIBDIR SRCDIR WORKDIR
set -eu
py="$1" libdir="$2" src="$3" work="$4"
if [ ! -x "$py" ] || ! "$py" -c 'import numpy, sklearn, venv, setuptools, wheel' 2>/dev/null; then
  echo "SKIPPED: $py with numpy, scikit-learn, venv, setuptools and wheel needed" >&2
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
cp -r "$src/python" "$work/src"   # pip writes build files beside the source
"$py" -m venv --system-site-packages "$work/venv"
"$work/venv/bin/python" -m pip install -q --no-build-isolation --no-index "$work/src"
cd "$work"
unset CLEARN_LIBRARY PYTHONPATH || true
LD_LIBRARY_PATH="$libdir" "$work/venv/bin/python" - "$work" <<'PY'
import sys
import numpy as np
import clearn
assert clearn.__file__.startswith(sys.argv[1] + "/venv/"), clearn.__file__
assert clearn.library_path == "libclearn.so.0", clearn.library_path
X = np.arange(20.0).reshape(10, 2)
y = X @ [1.0, -2.0] + 3
r = clearn.Ridge(alpha=1e-9).fit(X, y)
np.testing.assert_allclose(r.predict(X), y, rtol=1e-6)
print("installed clearn", clearn.version(), "from", clearn.__file__)
PY
