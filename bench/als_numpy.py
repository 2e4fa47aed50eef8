"""NumPy ALS-WR reference for bench/bench_als.c: the same update on the same
split, timed per iteration.

Usage: als_numpy.py DIR [--rank K] [--reg R] [--iters N] [--biases 0|1]
                        [--weighted 0|1] [--reg-exponent E] [--seed S]
                        [--dtype float64|float32]
                        [--batch B] [--threads T]

DIR is what `bench_als ml1m ... --export DIR` or `bench_als gen ...
--export DIR` wrote (layout in bench/bench_als.c): the training ratings as
the two CSR copies clearn holds, the test ratings as triples of original
ids.  The model, the initial factors and the update are those of
algorithms/als.c as tests/als_ref.py reproduces them (the counter-based
hash of seed, side, original id and column, here vectorized over numpy
uint64; users then items each iteration; explicit ALS-WR, reg times each
row's rating count to the power E (--reg-exponent, clearn's reg_exponent;
1, plain ALS-WR, by default); with biases a constant column solved with the factors
against targets r - mu - other side's bias), written for speed rather
than as a loop over ratings: each row's Gram matrix is one matmul on the
gathered factor rows, and the k x k systems are solved in batches of B
rows by numpy.linalg.solve.  Factors are float64 (as tests/als_ref.py)
unless --dtype float32.  --threads sets OPENBLAS_NUM_THREADS (before
numpy is imported) for the BLAS under numpy; 0 leaves the default (all
cores).

Prints each iteration's seconds, the test RMSE (test pairs with a user or
item absent from training left out, as clearn's cold_start=drop), the peak
RSS, and a final "RESULT key=value ..." line for bench/run_als.sh.  A
benchmark: it prints figures and never fails on a time.
"""
import argparse
import os
import resource
import sys
import time

np = None  # imported in main(), after --threads is known

SIDE_USERS = 0x75736572
SIDE_ITEMS = 0x6974656D
M64 = (1 << 64) - 1


def mix64_int(z):
    z = (z + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def mix64(z):
    """splitmix64's finalizer on a uint64 array (wrapping arithmetic)."""
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def init(ids, k, seed, side):
    """Initial factors of algorithms/als.c: uniform [0, 1/sqrt(k))."""
    base = np.uint64(mix64_int(mix64_int(seed & M64) ^ side))
    with np.errstate(over="ignore"):
        key = mix64(base ^ ids.astype(np.uint64))
        z = mix64(key[:, None] + np.arange(k, dtype=np.uint64)[None, :])
    return (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53 / np.sqrt(k)


def load(d):
    def arr(name, dt):
        return np.fromfile(os.path.join(d, name), dtype=dt)
    with open(os.path.join(d, "meta.txt")) as f:
        nu, ni, nnz, nt = (int(w) for w in f.read().split())
    tr = {
        "u_ptr": arr("train.u_ptr", "<i8"), "u_idx": arr("train.u_idx", "<i4"),
        "u_val": arr("train.u_val", "<f4"), "i_ptr": arr("train.i_ptr", "<i8"),
        "i_idx": arr("train.i_idx", "<i4"), "i_val": arr("train.i_val", "<f4"),
        "user_ids": arr("train.user_ids", "<i8"),
        "item_ids": arr("train.item_ids", "<i8"),
    }
    te = (arr("test.users", "<i8"), arr("test.items", "<i8"),
          arr("test.values", "<f4"))
    assert len(tr["u_ptr"]) == nu + 1 and len(tr["i_ptr"]) == ni + 1
    assert len(tr["u_val"]) == nnz and len(te[2]) == nt
    return tr, te


def solve_side(ptr, idx, val, other, obias, mu, p, X, xbias):
    """Every row of one side in place: X[r] (and xbias[r]) from its
    ratings against the other side's factors."""
    k = other.shape[1]
    kp = k + (1 if p.biases else 0)
    n_rows = len(ptr) - 1
    B = p.batch
    A = np.empty((B, kp, kp), dtype=other.dtype)
    b = np.empty((B, kp), dtype=other.dtype)
    eye = np.eye(kp, dtype=other.dtype)
    for r0 in range(0, n_rows, B):
        nb = min(B, n_rows - r0)
        for j in range(nb):
            lo, hi = ptr[r0 + j], ptr[r0 + j + 1]
            ix = idx[lo:hi]
            Y = other[ix]
            t = val[lo:hi].astype(other.dtype)
            lam = p.reg * (float(hi - lo) ** p.reg_exponent
                           if p.weighted else 1.0)
            if p.biases:
                t = t - mu - obias[ix]
                s = Y.sum(axis=0)
                A[j, :k, :k] = Y.T @ Y
                A[j, :k, k] = s
                A[j, k, :k] = s
                A[j, k, k] = hi - lo
                b[j, :k] = Y.T @ t
                b[j, k] = t.sum()
            else:
                A[j] = Y.T @ Y
                b[j] = Y.T @ t
            A[j] += lam * eye
        z = np.linalg.solve(A[:nb], b[:nb, :, None])[:, :, 0]
        X[r0:r0 + nb] = z[:, :k]
        if p.biases:
            xbias[r0:r0 + nb] = z[:, k]


def rmse_of(U, V, ub, ib, mu, biases, u, i, v, block=1 << 16):
    """RMSE of the predictions for pairs (u, i) against v, in blocks."""
    se = 0.0
    for q in range(0, len(v), block):
        uu, ii = u[q:q + block], i[q:q + block]
        pred = np.einsum("ij,ij->i", U[uu].astype(np.float64),
                         V[ii].astype(np.float64))
        if biases:
            pred += mu + ub[uu] + ib[ii]
        err = pred - v[q:q + block].astype(np.float64)
        se += float(err @ err)
    return float(np.sqrt(se / len(v))) if len(v) else float("nan")


def main():
    global np
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--rank", type=int, default=32)
    ap.add_argument("--reg", type=float, default=0.1)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--biases", type=int, default=0)
    ap.add_argument("--weighted", type=int, default=1)
    ap.add_argument("--reg-exponent", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--threads", type=int, default=0)
    p = ap.parse_args()
    if p.threads > 0:
        os.environ["OPENBLAS_NUM_THREADS"] = str(p.threads)
    try:
        import numpy
    except ImportError as e:  # pragma: no cover - depends on the machine
        sys.stderr.write("als_numpy.py: cannot import numpy: %s\n" % e)
        return 77
    np = numpy

    t0 = time.perf_counter()
    tr, (tu, ti, tv) = load(p.dir)
    nu, ni = len(tr["user_ids"]), len(tr["item_ids"])
    nnz = len(tr["u_val"])
    print("%s: train %d ratings, %d users, %d items; test %d (load %.2f s); "
          "numpy %s, dtype %s, BLAS threads %s"
          % (p.dir, nnz, nu, ni, len(tv), time.perf_counter() - t0,
             np.__version__, p.dtype,
             os.environ.get("OPENBLAS_NUM_THREADS", "default")))
    dt = np.dtype(p.dtype)
    k = p.rank
    mu = float(np.mean(tr["u_val"].astype(np.float64)))
    U = init(tr["user_ids"], k, p.seed, SIDE_USERS).astype(dt)
    V = init(tr["item_ids"], k, p.seed, SIDE_ITEMS).astype(dt)
    ub = np.zeros(nu, dtype=dt)
    ib = np.zeros(ni, dtype=dt)

    secs = []
    for it in range(p.iters):
        t = time.perf_counter()
        solve_side(tr["u_ptr"], tr["u_idx"], tr["u_val"], V, ib, mu, p, U, ub)
        tu_half = time.perf_counter() - t
        solve_side(tr["i_ptr"], tr["i_idx"], tr["i_val"], U, ub, mu, p, V, ib)
        secs.append(time.perf_counter() - t)
        print("  iteration %2d: %.3f s (users %.3f s, items %.3f s)"
              % (it + 1, secs[-1], tu_half, secs[-1] - tu_half))
        sys.stdout.flush()

    # Test RMSE over pairs whose user and item were in training.
    rmse, used = float("nan"), 0
    if len(tv):
        ur = np.searchsorted(tr["user_ids"], tu)
        ir = np.searchsorted(tr["item_ids"], ti)
        ur_c = np.minimum(ur, nu - 1)
        ir_c = np.minimum(ir, ni - 1)
        ok = (ur < nu) & (ir < ni) & (tr["user_ids"][ur_c] == tu) & \
            (tr["item_ids"][ir_c] == ti)
        used = int(ok.sum())
        rmse = rmse_of(U, V, ub, ib, mu, p.biases, ur_c[ok], ir_c[ok], tv[ok])
    # Training RMSE (same definition as clearn's train_rmse).
    uu = np.repeat(np.arange(nu, dtype=np.int32), np.diff(tr["u_ptr"]))
    train_rmse = rmse_of(U, V, ub, ib, mu, p.biases, uu, tr["u_idx"],
                         tr["u_val"])
    del uu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    mean_s = sum(secs) / len(secs)
    print("numpy ALS-WR rank %d reg %g reg_exponent %g biases %d, %d "
          "iterations: %.3f s/iteration (best %.3f), test RMSE %.4f over %d "
          "ratings, train RMSE %.4f, peak RSS %.0f MB"
          % (k, p.reg, p.reg_exponent, p.biases, p.iters, mean_s, min(secs),
             rmse, used, train_rmse, peak))
    print("RESULT mode=numpy rank=%d reg=%g reg_exponent=%g biases=%d "
          "iters=%d dtype=%s s_per_iter=%.5f best_iter_s=%.5f test_rmse=%.5f "
          "train_rmse=%.5f n_test=%d peak_rss_mb=%.1f"
          % (k, p.reg, p.reg_exponent, p.biases, p.iters, p.dtype, mean_s,
             min(secs), rmse, train_rmse, used, peak))
    return 0


if __name__ == "__main__":
    sys.exit(main())
