"""Reference values from scikit-learn for tests/test_linear_sklearn.c.

Usage: sklearn_ref.py DIR

DIR/manifest.txt lists one problem per line (whitespace separated):

    name estimator n p t fit_intercept has_weights alpha

estimator is "linear_regression" or "ridge".  The problem's arrays are raw
little-endian float64, row-major: DIR/<name>.X (n x p), DIR/<name>.y (n x t)
and, if has_weights is 1, DIR/<name>.w (n).  A 1-target problem is passed to
scikit-learn with a 1-D y (its most common use, where coef_ is 1-D).

For every problem this writes, again as raw little-endian float64:
    <name>.coef       t x p     coef_ reshaped to 2-D
    <name>.intercept  t         intercept_
    <name>.pred       n x t     predict(X)
    <name>.score      1         score(X, y, sample_weight)
    <name>.rank       1         rank_ (linear_regression only)
    <name>.singular   min(n, p) singular_ (linear_regression only)
    <name>.spread     1         how far scikit-learn moves from its own coef_
                                when the rows are given in reverse order
                                (norm-wise relative): the noise floor of
                                the problem, printed next to clearn's
                                difference, never checked
and finally DIR/done containing the scikit-learn version.

Exit status: 0 on success, 77 if numpy or scikit-learn cannot be imported
(the C test then reports itself skipped), 1 on any other error.
"""
import os
import sys
import warnings

try:
    import numpy as np
    import sklearn
    from sklearn.linear_model import LinearRegression, Ridge
except ImportError as e:  # pragma: no cover - depends on the machine
    sys.stderr.write("sklearn_ref.py: cannot import numpy/scikit-learn: %s\n" % e)
    sys.exit(77)

F64 = np.dtype("<f8")


def read(path, shape):
    a = np.fromfile(path, dtype=F64)
    if a.size != int(np.prod(shape)):
        raise ValueError("%s: %d values, expected %s" % (path, a.size, shape))
    return a.reshape(shape).astype(np.float64)


def write(path, a):
    np.ascontiguousarray(np.asarray(a, dtype=np.float64)).astype(F64).tofile(path)


def main(d):
    # Ill-conditioned Gram matrices make scipy warn (LinAlgWarning); the
    # value is still what scikit-learn returns, which is what we compare.
    warnings.simplefilter("ignore")
    with open(os.path.join(d, "manifest.txt")) as f:
        lines = [l.split() for l in f if l.strip()]
    for fields in lines:
        name, kind = fields[0], fields[1]
        n, p, t = (int(v) for v in fields[2:5])
        fit_intercept = fields[5] == "1"
        has_w = fields[6] == "1"
        alpha = float(fields[7])
        base = os.path.join(d, name)
        X = read(base + ".X", (n, p))
        y = read(base + ".y", (n, t))
        if t == 1:
            y = y[:, 0]
        w = read(base + ".w", (n,)) if has_w else None
        if kind == "linear_regression":
            make = lambda: LinearRegression(fit_intercept=fit_intercept)
        elif kind == "ridge":
            make = lambda: Ridge(alpha=alpha, fit_intercept=fit_intercept,
                                 solver="cholesky")
        else:
            raise ValueError("unknown estimator %r" % kind)
        est = make().fit(X, y, sample_weight=w)
        rev = make().fit(np.ascontiguousarray(X[::-1]),
                         np.ascontiguousarray(y[::-1]),
                         sample_weight=None if w is None
                         else np.ascontiguousarray(w[::-1]))
        c, cr = np.reshape(est.coef_, (t, p)), np.reshape(rev.coef_, (t, p))
        spread = max(np.abs(cr[k] - c[k]).max() / max(np.abs(c[k]).max(),
                                                       1e-300)
                     for k in range(t))
        write(base + ".spread", [spread])
        write(base + ".coef", np.reshape(est.coef_, (t, p)))
        write(base + ".intercept", np.broadcast_to(est.intercept_, (t,)))
        write(base + ".pred", np.reshape(est.predict(X), (n, t)))
        write(base + ".score", [est.score(X, y, sample_weight=w)])
        if kind == "linear_regression":
            write(base + ".rank", [est.rank_])
            write(base + ".singular", est.singular_)
    with open(os.path.join(d, "done"), "w") as f:
        f.write("scikit-learn %s numpy %s\n" % (sklearn.__version__,
                                                np.__version__))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: sklearn_ref.py DIR\n")
        sys.exit(1)
    sys.exit(main(sys.argv[1]))
