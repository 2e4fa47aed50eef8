#!/usr/bin/python3
"""scikit-learn side of the Ridge benchmark (bench/bench_ridge.c).

Loads the data file written by `bench_ridge gen` into ordinary in-memory
numpy arrays (np.fromfile, no memmap: what a user holding the data has),
fits Ridge(alpha, solver="cholesky") best of --reps, reports the peak RSS of
this process, and compares the coefficients with clearn's (the file written
by `bench_ridge fit --coef`).

Prints figures and a "RESULT key=value ..." line for run_ridge.sh; never
fails on a time.

usage: ridge_sklearn.py DATAFILE [--coef CLEARN_COEF] [--reps 3] [--alpha 1]
"""
import argparse
import resource
import sys
import time

import numpy as np
import sklearn
from sklearn.linear_model import Ridge

MAGIC = 0x48434E424E524C43  # "CLRNBNCH", the header's first word
HEADER_WORDS = 8


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB


def load(path):
    with open(path, "rb") as f:
        h = np.fromfile(f, dtype="<i8", count=HEADER_WORDS)
        if len(h) != HEADER_WORDS or h[0] != MAGIC or h[1] != 1:
            sys.exit(f"ridge_sklearn.py: {path} is not a bench_ridge data file")
        n, p = int(h[2]), int(h[3])
        mean = h[5:6].view("<f8")[0]
        X = np.fromfile(f, dtype="<f8", count=n * p).reshape(n, p)
        y = np.fromfile(f, dtype="<f8", count=n)
    if X.size != n * p or y.size != n:
        sys.exit(f"ridge_sklearn.py: {path} is truncated")
    return X, y, mean


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--coef", help="clearn coef file (p values, intercept)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--alpha", type=float, default=1.0)
    a = ap.parse_args()

    rss0 = peak_rss_bytes()
    X, y, mean = load(a.data)
    n, p = X.shape
    print(f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
          f"X {n} x {p} float64 ({X.nbytes / 1e9:.2f} GB), "
          f"C-contiguous {X.flags['C_CONTIGUOUS']}")
    best, model = float("inf"), None
    for r in range(a.reps):
        m = Ridge(alpha=a.alpha, solver="cholesky", fit_intercept=True)
        t0 = time.perf_counter()
        m.fit(X, y)
        t = time.perf_counter() - t0
        print(f"sklearn rep {r + 1}: {t:.4f} s")
        best = min(best, t)
        model = m
    coef, icpt = np.ravel(model.coef_), float(model.intercept_)
    print(f"coef[0..2] = {coef[0]:.12g} {coef[1]:.12g} {coef[2]:.12g}, "
          f"intercept = {icpt:.12g}")
    extra = ""
    if a.coef:
        c = np.fromfile(a.coef, dtype="<f8")
        if c.size != p + 1:
            sys.exit(f"ridge_sklearn.py: {a.coef} holds {c.size} values, "
                     f"expected {p + 1}")
        rel = np.abs(c[:p] - coef) / np.maximum(np.abs(coef), 1e-300)
        irel = abs(c[p] - icpt) / max(abs(icpt), 1e-300)
        extra = (f" coef_max_rel_diff={rel.max():.3g}"
                 f" coef_norm_rel_diff="
                 f"{np.linalg.norm(c[:p] - coef) / np.linalg.norm(coef):.3g}"
                 f" intercept_rel_diff={irel:.3g}")
    print(f"RESULT mode=sklearn n={n} p={p} mean={mean:g} best_s={best:.4f} "
          f"peak_rss_bytes={peak_rss_bytes()} "
          f"rss_before_load_bytes={rss0} x_bytes={X.nbytes}{extra}")


if __name__ == "__main__":
    main()
