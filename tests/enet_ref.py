"""Reference values from scikit-learn for tests/test_enet_sklearn.c.

Usage: enet_ref.py DIR

DIR/manifest.txt, one problem per line:

    name kind n p t fit_intercept has_weights alpha l1_ratio

kind is lasso, elastic_net, path (alpha holds the number of alphas of
scikit-learn's default grid), scaler, or metrics.  Arrays are raw
little-endian float64: <name>.X (n x p), <name>.y (n x t), <name>.w (n)
if has_weights.  For "metrics", X holds n x p predicted probabilities
(p classes, or 1 column for the larger of two labels), y the labels
(n x 1) and <name>.s scores (n) and <name>.r, <name>.q two n x 2 regression
arrays (truth, prediction).

Outputs (raw float64):
  lasso / elastic_net: .coef (t x p), .intercept (t), .pred (n x t)
  path: .alphas (k), .coefs (k x p)
  scaler: .mean, .scale, .var (p each), .Z (n x p transform)
  metrics: .m = [accuracy of argmax labels, log_loss, roc_auc, r2, mse, mae]
and DIR/done with the scikit-learn version.  Exit 77 without scikit-learn.
"""
import os
import sys
import warnings

try:
    import numpy as np
    import sklearn
    from sklearn.linear_model import ElasticNet, Lasso, enet_path
    from sklearn.metrics import (accuracy_score, log_loss, mean_absolute_error,
                                 mean_squared_error, r2_score, roc_auc_score)
    from sklearn.preprocessing import StandardScaler
except ImportError as e:  # pragma: no cover
    sys.stderr.write("enet_ref.py: cannot import scikit-learn: %s\n" % e)
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
    for name, kind, n, p, t, fi, hw, alpha, l1 in lines:
        n, p, t = int(n), int(p), int(t)
        fi, alpha, l1 = fi == "1", float(alpha), float(l1)
        base = os.path.join(d, name)
        X = read(base + ".X", (n, p))
        y = read(base + ".y", (n, t))
        w = read(base + ".w", (n,)) if hw == "1" else None
        if kind in ("lasso", "elastic_net"):
            yy = y[:, 0] if t == 1 else y
            if kind == "lasso":
                est = Lasso(alpha=alpha, fit_intercept=fi, tol=1e-12,
                            max_iter=1000000)
            else:
                est = ElasticNet(alpha=alpha, l1_ratio=l1, fit_intercept=fi,
                                 tol=1e-12, max_iter=1000000)
            est.fit(X, yy, sample_weight=w)
            write(base + ".coef", np.reshape(est.coef_, (t, p)))
            write(base + ".intercept", np.broadcast_to(est.intercept_, (t,)))
            write(base + ".pred", np.reshape(est.predict(X), (n, t)))
        elif kind == "path":
            Xc = X - X.mean(axis=0)
            yc = y[:, 0] - y[:, 0].mean()
            alphas, coefs, _ = enet_path(Xc, yc, l1_ratio=l1,
                                         n_alphas=int(alpha), tol=1e-12,
                                         max_iter=1000000)
            write(base + ".alphas", alphas)
            write(base + ".coefs", coefs.T)
        elif kind == "scaler":
            sc = StandardScaler().fit(X, sample_weight=w)
            write(base + ".mean", sc.mean_)
            write(base + ".scale", sc.scale_)
            write(base + ".var", sc.var_)
            write(base + ".Z", sc.transform(X))
        elif kind == "metrics":
            lab = y[:, 0]
            classes = np.unique(lab)
            P = X if p > 1 else X[:, 0]
            pred = classes[np.argmax(X, axis=1)] if p > 1 else \
                classes[(X[:, 0] > 0.5).astype(int)]
            s = read(base + ".s", (n,))
            r = read(base + ".r", (n, 2))
            q = read(base + ".q", (n, 2))
            binary = (lab == classes[-1]).astype(int)
            write(base + ".m", [accuracy_score(lab, pred, sample_weight=w),
                                log_loss(lab, P, sample_weight=w),
                                roc_auc_score(binary, s, sample_weight=w),
                                r2_score(r, q, sample_weight=w),
                                mean_squared_error(r, q, sample_weight=w),
                                mean_absolute_error(r, q, sample_weight=w)])
        else:
            raise ValueError(kind)
    with open(os.path.join(d, "done"), "w") as f:
        f.write("scikit-learn %s numpy %s\n" % (sklearn.__version__,
                                                np.__version__))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: enet_ref.py DIR\n")
        sys.exit(1)
    sys.exit(main(sys.argv[1]))
