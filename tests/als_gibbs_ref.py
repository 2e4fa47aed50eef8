"""NumPy reference of the pieces of clearn's Gibbs-sampled ALS
(algorithms/als_gibbs.c), for tests/test_als_gibbs.c.

Usage: als_gibbs_ref.py DIR

DIR holds raw little-endian arrays written by the C test:

    row.meta      int64 [k, n, n_rows]: the other side has n_rows rows of k
    row.O         float64 n_rows x k   the other side's factors
    row.idx       int32 n              the rated rows
    row.val       float32 n            the ratings
    row.par       float64 [mu, alpha]
    row.Lam       float64 k x k        prior precision (symmetric)
    row.lmu       float64 k            Lam times the prior mean
    row.z         float64 k            the normal draws
    nw.meta       int64 [k, n]
    nw.X          float64 n x k        one side's rows
    normal.meta   int64 [seed, sweep, side, id, count]

and this writes, as raw float64:

    row.x       the draw  P^-1 (alpha Y^T (v - mu) + lmu) + R^-1 z, with
                P = Lam + alpha Y^T Y = R^T R (R upper, numpy's Cholesky
                transposed), Y = O[idx]
    row.mean    the same without z
    nw.mean, nw.Winv, nw.nu   the Normal-Wishart conditional of BPMF
                (mu0 0, beta0 2, W0 I, nu0 k): mean n xbar / (2 + n),
                Winv = I + n S + 2 n / (2 + n) xbar xbar^T, nu = k + n
    normal.z    the row stream's normals j = 0 .. count - 1: splitmix64's
                finalizer over (seed, sweep, side, id) as the C file
                documents, then Box-Muller on the pair of uniforms of
                j // 2, the cosine for even j, the sine for odd

Exit status: 0 on success, 77 if numpy cannot be imported, 1 otherwise.
"""
import math
import os
import sys

try:
    import numpy as np
except ImportError as e:  # pragma: no cover - depends on the machine
    sys.stderr.write("als_gibbs_ref.py: cannot import numpy: %s\n" % e)
    sys.exit(77)

M64 = (1 << 64) - 1
TAG_ROW = 0x67696262726F77


def mix64(z):
    z = (z + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def main():
    d = sys.argv[1]

    def arr(name, dt):
        return np.fromfile(os.path.join(d, name), dtype=dt)

    def out(name, a):
        np.asarray(a, dtype="<f8").tofile(os.path.join(d, name))

    k, n, nr = (int(v) for v in arr("row.meta", "<i8"))
    O = arr("row.O", "<f8").reshape(nr, k)
    idx = arr("row.idx", "<i4")
    val = arr("row.val", "<f4").astype(np.float64)
    mu, alpha = arr("row.par", "<f8")
    Lam = arr("row.Lam", "<f8").reshape(k, k)
    lmu = arr("row.lmu", "<f8")
    z = arr("row.z", "<f8")
    Y = O[idx]
    P = Lam + alpha * Y.T @ Y
    b = alpha * Y.T @ (val - mu) + lmu
    R = np.linalg.cholesky(P).T
    mean = np.linalg.solve(P, b)
    out("row.mean", mean)
    out("row.x", mean + np.linalg.solve(R, z))

    k, n = (int(v) for v in arr("nw.meta", "<i8"))
    X = arr("nw.X", "<f8").reshape(n, k)
    xbar = X.mean(axis=0)
    S = (X - xbar).T @ (X - xbar) / n
    out("nw.mean", n * xbar / (2.0 + n))
    out("nw.Winv", np.eye(k) + n * S + 2.0 * n / (2.0 + n) * np.outer(xbar, xbar))
    out("nw.nu", [k + n])

    seed, sweep, side, rid, count = (int(v) for v in arr("normal.meta", "<i8"))
    base = mix64((mix64(mix64((seed ^ TAG_ROW) & M64) + sweep & M64)) ^ side)
    key = mix64(base ^ (rid & M64))
    zs = []
    for j in range(count):
        m = j // 2
        a = mix64((key + 2 * m) & M64)
        c = mix64((key + 2 * m + 1) & M64)
        u1 = ((a >> 11) + 0.5) * 2.0 ** -53
        t = 6.283185307179586 * ((c >> 11) * 2.0 ** -53)
        r = math.sqrt(-2.0 * math.log(u1))
        zs.append(r * (math.cos(t) if j % 2 == 0 else math.sin(t)))
    out("normal.z", zs)
    with open(os.path.join(d, "done"), "w") as f:
        f.write(np.__version__ + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
