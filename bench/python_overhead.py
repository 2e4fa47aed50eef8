"""Python-level overhead of clearn.Ridge and clearn.LogisticRegression.

For each model, on the same X (n x p, C-contiguous float64) and y:
  C direct   the C calls alone through ctypes (clearn_matrix_wrap +
             clearn_estimator_create/set_param/fit + get_attr), with no
             validation: what a C program pays
  clearn     the Python class: scikit-learn's input validation
             (_validate_data, finite check), parameters, the same C calls,
             fitted attributes
  sklearn    scikit-learn 1.2 with the matching solver
(Ridge(solver="cholesky"), LogisticRegression(solver="lbfgs")), best of
--reps fits, the first two run alternately (sklearn: --sk-reps).  Also
"python side": the seconds a clearn fit spends outside the C fit call
(timed around the ctypes call), which a loaded host cannot blur the way it
blurs the difference of two totals.  Benchmarks print figures and never
fail.

Usage (from the repository root, after building):
  PYTHONPATH=python CLEARN_LIBRARY=build/libclearn.so \\
    /usr/bin/python3 bench/python_overhead.py [--n 1000000] [--p 100]
"""
import argparse
import ctypes
import time

import numpy as np

import clearn
from clearn import _lib


def c_direct(kind, params, X, y):
    h = _lib.Handle.create(kind)
    for k, v in params.items():
        _lib.raise_for(_lib.lib.clearn_estimator_set_param_string(
            h.ptr, k.encode(), str(v).encode()), h.ptr)
    mx, my = _lib.Matrix(X), _lib.Matrix(y)
    rc = _lib.lib.clearn_estimator_fit(h.ptr, mx.ptr, my.ptr, None)
    if rc not in (0, _lib.ENOTCONVERGED):
        _lib.raise_for(rc, h.ptr)
    out = ctypes.c_void_p()
    _lib.raise_for(_lib.lib.clearn_estimator_get_attr(
        h.ptr, b"coef", ctypes.byref(out)), h.ptr)
    return _lib.take_matrix(out)


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def best_interleaved(fns, reps):
    """Best of reps for each of fns, run alternately so that a change of
    load on a shared host hits them alike."""
    t = [[] for _ in fns]
    for _ in range(reps):
        for k, fn in enumerate(fns):
            t[k].append(timed(fn))
    return [min(x) for x in t]


def python_side(make, X, y, reps):
    """Seconds a clearn fit spends outside the C fit call (validation,
    parameters, handles, fitted attributes): the fit's total minus the time
    inside clearn_estimator_fit, timed around the ctypes call itself, so a
    busy host inflates both alike.  Best of reps."""
    real = _lib.lib.clearn_estimator_fit
    inside = []

    def wrapped(*args):
        t0 = time.perf_counter()
        rc = real(*args)
        inside.append(time.perf_counter() - t0)
        return rc

    _lib.lib.clearn_estimator_fit = wrapped
    try:
        out = []
        for _ in range(reps):
            del inside[:]
            total = timed(lambda: make().fit(X, y))
            out.append((total - sum(inside), sum(inside)))
    finally:
        _lib.lib.clearn_estimator_fit = real
    return min(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--p", type=int, default=100)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--sk-reps", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0,
                    help="clearn threads (0: all cores)")
    a = ap.parse_args()
    clearn.set_num_threads(a.threads)
    from sklearn import linear_model as sk
    rng = np.random.default_rng(0)
    X = rng.standard_normal((a.n, a.p))
    beta = rng.standard_normal(a.p)
    y = X @ beta + rng.standard_normal(a.n)
    labels = (X @ beta + 2 * rng.logistic(size=a.n) > 0).astype(np.float64)
    print("python_overhead: n=%d p=%d, clearn %s threads, %s"
          % (a.n, a.p, clearn.get_num_threads(), clearn.library_path))
    cases = [
        ("ridge", {"alpha": 1.0}, y, lambda: clearn.Ridge(alpha=1.0),
         lambda: sk.Ridge(alpha=1.0, solver="cholesky")),
        ("logistic_regression", {"C": 1.0, "tol": 1e-4, "max_iter": 100},
         labels, lambda: clearn.LogisticRegression(C=1.0),
         lambda: sk.LogisticRegression(C=1.0))]
    for kind, params, target, ours, ref in cases:
        yc = np.ascontiguousarray(target.reshape(-1, 1))
        t_c, t_py = best_interleaved(
            [lambda: c_direct(kind, params, X, yc),
             lambda: ours().fit(X, target)], a.reps)
        t_sk = min(timed(lambda: ref().fit(X, target))
                   for _ in range(a.sk_reps))
        py_s, c_s = python_side(ours, X, target, a.reps)
        print("%-20s C direct %7.3f s  clearn %7.3f s (%+5.1f%%)  "
              "python side %.4f s = %.2f%% of its C fit  sklearn %7.3f s "
              "(%.1fx clearn)"
              % (kind, t_c, t_py, 100 * (t_py / t_c - 1), py_s,
                 100 * py_s / c_s, t_sk, t_sk / t_py))


if __name__ == "__main__":
    main()
