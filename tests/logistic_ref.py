"""Reference values from scikit-learn for tests/test_logistic_sklearn.c.

Usage: logistic_ref.py DIR

DIR/manifest.txt lists one problem per line (whitespace separated):

    name n p fit_intercept has_weights C class_weight

class_weight is "none" or "balanced".  The arrays are raw little-endian
float64, row-major: DIR/<name>.X (n x p), DIR/<name>.y (n, integral labels)
and, if has_weights is 1, DIR/<name>.w (n).

Each problem is fitted by LogisticRegression(solver="newton-cg", tol=1e-8)
-- an exact Newton method run to a tight gradient tolerance, so its
coefficients are the optimum to many digits, whatever solver clearn uses --
and this writes, as raw little-endian float64:
    <name>.coef       R x p   coef_ (R = 1 for 2 classes, else K)
    <name>.intercept  R
    <name>.classes    K
    <name>.proba      n x K   predict_proba(X)
    <name>.decision   n x R   decision_function(X)
    <name>.pred       n       predict(X)
    <name>.score      1       score(X, y, sample_weight)
and finally DIR/done with the scikit-learn version.

Exit status: 0 on success, 77 if numpy or scikit-learn cannot be imported,
1 on any other error.
"""
import os
import sys
import warnings

try:
    import numpy as np
    import sklearn
    from sklearn.linear_model import LogisticRegression
except ImportError as e:  # pragma: no cover - depends on the machine
    sys.stderr.write("logistic_ref.py: cannot import numpy/scikit-learn: %s\n" % e)
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
    warnings.simplefilter("ignore")
    with open(os.path.join(d, "manifest.txt")) as f:
        lines = [l.split() for l in f if l.strip()]
    for name, n, p, fi, hw, C, cw in lines:
        n, p = int(n), int(p)
        base = os.path.join(d, name)
        X = read(base + ".X", (n, p))
        y = read(base + ".y", (n,)).astype(np.int64)
        w = read(base + ".w", (n,)) if hw == "1" else None
        est = LogisticRegression(solver="newton-cg", tol=1e-8, max_iter=1000,
                                 C=float(C), fit_intercept=fi == "1",
                                 class_weight=None if cw == "none" else cw)
        est.fit(X, y, sample_weight=w)
        write(base + ".coef", est.coef_)
        write(base + ".intercept", np.broadcast_to(est.intercept_,
                                                   (est.coef_.shape[0],)))
        write(base + ".classes", est.classes_)
        write(base + ".proba", est.predict_proba(X))
        write(base + ".decision", np.reshape(est.decision_function(X),
                                             (n, est.coef_.shape[0])))
        write(base + ".pred", est.predict(X))
        write(base + ".score", [est.score(X, y, sample_weight=w)])
    with open(os.path.join(d, "done"), "w") as f:
        f.write("scikit-learn %s numpy %s\n" % (sklearn.__version__,
                                                np.__version__))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: logistic_ref.py DIR\n")
        sys.exit(1)
    sys.exit(main(sys.argv[1]))
