"""scikit-learn side of bench/run_logistic.sh.

usage: logistic_sklearn.py FILE P [TOL] [C] [REPS]

FILE is written by `bench_logistic gen` (X n x P float64, then y n float64,
raw little-endian).  Fits LogisticRegression(solver="lbfgs") REPS times and
prints one RESULT line: best time, iterations, scikit-learn's objective
  sum_i log(1 + exp(-s_i (x_i w + b))) + ||w||^2 / (2 C)
(computed as bench_logistic computes it), mean log loss, peak RSS.
"""
import resource
import sys
import time
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression


def main():
    path, p = sys.argv[1], int(sys.argv[2])
    tol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-4
    C = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
    reps = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    a = np.fromfile(path, dtype="<f8")
    n = a.size // (p + 1)
    X = a[: n * p].reshape(n, p)
    y = a[n * p:]
    warnings.simplefilter("ignore")
    best, est = 1e30, None
    for r in range(reps):
        t0 = time.perf_counter()
        est = LogisticRegression(solver="lbfgs", tol=tol, C=C, max_iter=100)
        est.fit(X, y)
        t = time.perf_counter() - t0
        print("sklearn rep %d: %.3f s" % (r, t), flush=True)
        best = min(best, t)
    z = X @ est.coef_[0] + est.intercept_[0]
    m = np.where(y > 0.5, z, -z)
    s = np.sum(np.logaddexp(0.0, -m))
    F = s + 0.5 * np.dot(est.coef_[0], est.coef_[0]) / C
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("RESULT mode=sklearn n=%d p=%d best_s=%.4f iters=%d objective=%.10g "
          "logloss=%.10g peak_rss_mb=%.0f x_mb=%.0f"
          % (n, p, best, est.n_iter_[0], F, s / n, rss, n * p * 8 / 1048576.0))


if __name__ == "__main__":
    main()
