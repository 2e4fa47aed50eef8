"""Gibbs-sampled (Bayesian) matrix factorization on an exported ml-1m split:
the reference and feasibility study for a sampled ALS in clearn.

Usage: bpmf_numpy.py DIR [--rank K] [--sweeps S] [--burn B] [--alpha A]
                         [--sample-alpha 0|1] [--hyper nw|ng] [--center 0|1]
                         [--warm N] [--warm-reg R] [--valid 0|1] [--vseed V]
                         [--seed S] [--threads T]

DIR is what `bench_als ml1m FILE ... --export DIR` wrote (layout in
bench/bench_als.c): the 90 % training part as clearn's two CSR copies, the
10 % test part as triples of original ids; so the split is exactly the one
bench_als scores (clearn_ratings_split_random, seed 42).

--valid 1 (default) fits on a 90/10 split of the training part (NumPy
permutation, seed --vseed) and scores the held-out 10 % of the training part
only: that is where settings are chosen.  --valid 0 fits on the whole
training part and scores the test part.

The model is BPMF (Salakhutdinov and Mnih, ICML 2008): r_ui ~ N(m + x_u . y_i,
1 / alpha), m the training mean when --center 1 (0 otherwise), rows x_u ~
N(mu_U, Lambda_U^-1), and (mu_U, Lambda_U) under a Normal-Wishart prior (mu0
0, beta0 2, W0 I, nu0 K) with --hyper nw, or per dimension mu_f ~ N(0, 1 /
(beta0 lambda_f)), lambda_f ~ Gamma(1 + n/2 ...) (libFM's MCMC) with --hyper
ng; the same for the items.  One sweep draws the user hyper-parameters,
every user row from its Gaussian conditional, then the item side likewise:

    P = Lambda + alpha sum_i y_i y_i^T = L L^T
    x = P^-1 (alpha sum_i (r_ui - m) y_i + Lambda mu + L z),  z ~ N(0, I)

(P^-1 L z = L^-T z, so a draw is one Cholesky factor and one solve, the
same work as an exact ALS row update plus a k x k triangular product), and
with --sample-alpha 1 the noise precision from its Gamma conditional.  Test
predictions are averaged over the sweeps after the burn-in, which is what a
model of rank S*K made of the S concatenated draws (each scaled by
1/sqrt(S)) predicts.  --warm N starts from N sweeps of exact ALS (plain L2,
--warm-reg) instead of small random factors.

Prints the RMSE of the running average after every sweep and a final
"RESULT ..." line.  A benchmark: prints figures, never fails on a time.
"""
import argparse
import os
import sys
import time

np = None


def load(d):
    def arr(name, dt):
        return np.fromfile(os.path.join(d, name), dtype=dt)
    tr = {
        "u_ptr": arr("train.u_ptr", "<i8"), "u_idx": arr("train.u_idx", "<i4"),
        "u_val": arr("train.u_val", "<f4"),
        "user_ids": arr("train.user_ids", "<i8"),
        "item_ids": arr("train.item_ids", "<i8"),
    }
    te = (arr("test.users", "<i8"), arr("test.items", "<i8"),
          arr("test.values", "<f4"))
    return tr, te


def csr(rows, cols, vals, n):
    o = np.argsort(rows, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(ptr, rows + 1, 1)
    return np.cumsum(ptr), cols[o], vals[o]


def wishart(rng, W, nu):
    """A draw from Wishart(W, nu) (Bartlett)."""
    k = W.shape[0]
    C = np.linalg.cholesky(W)
    A = np.zeros((k, k))
    for i in range(k):
        A[i, i] = np.sqrt(rng.chisquare(nu - i))
        A[i, :i] = rng.standard_normal(i)
    CA = C @ A
    return CA @ CA.T


def draw_hyper(rng, X, p):
    """(mu, Lambda) of one side from their conditional given its rows."""
    n, k = X.shape
    beta0, nu0 = 2.0, float(k)
    xbar = X.mean(axis=0)
    if p.hyper == "nw":
        S = np.cov(X.T, bias=True)
        Winv = np.eye(k) + n * S + beta0 * n / (beta0 + n) * np.outer(xbar, xbar)
        Winv = 0.5 * (Winv + Winv.T)
        Lam = wishart(rng, np.linalg.inv(Winv), nu0 + n)
        mus = n * xbar / (beta0 + n)
        Lc = np.linalg.cholesky((beta0 + n) * Lam)
        mu = mus + np.linalg.solve(Lc.T, rng.standard_normal(k))
        return mu, Lam
    # libFM: per dimension lambda_f ~ Gamma((alpha0 + n + 1) / 2,
    # rate (beta0_g + sum (x - mu)^2 + beta0 mu^2) / 2), then mu_f.
    ss = ((X - xbar) ** 2).sum(axis=0) + n * xbar ** 2 * beta0 / (beta0 + n)
    lam = rng.gamma((1.0 + n + 1) / 2.0, 2.0 / (1.0 + ss))
    mu = n * xbar / (beta0 + n) + rng.standard_normal(k) / np.sqrt(
        (beta0 + n) * lam)
    return mu, np.diag(lam)


def draw_side(rng, ptr, idx, val, Y, mu, Lam, alpha, X, batch=1024, wexp=None):
    n, k = X.shape
    lm = Lam @ mu
    for r0 in range(0, n, batch):
        nb = min(batch, n - r0)
        P = np.empty((nb, k, k))
        b = np.empty((nb, k))
        for j in range(nb):
            lo, hi = ptr[r0 + j], ptr[r0 + j + 1]
            Yr = Y[idx[lo:hi]]
            P[j] = alpha * (Yr.T @ Yr) + (
                Lam if wexp is None else Lam * float(hi - lo) ** wexp)
            b[j] = alpha * (Yr.T @ val[lo:hi]) + lm
        if rng is None:  # the posterior mean (ALS warm start)
            X[r0:r0 + nb] = np.linalg.solve(P, b[:, :, None])[:, :, 0]
            continue
        L = np.linalg.cholesky(P)
        z = rng.standard_normal((nb, k))
        b += np.einsum("nij,nj->ni", L, z)
        X[r0:r0 + nb] = np.linalg.solve(P, b[:, :, None])[:, :, 0]


def main():
    global np
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--rank", type=int, default=10)
    ap.add_argument("--sweeps", type=int, default=50)
    ap.add_argument("--burn", type=int, default=5)
    ap.add_argument("--alpha", type=float, default=2.0)
    ap.add_argument("--sample-alpha", type=int, default=0)
    ap.add_argument("--hyper", default="nw", choices=["nw", "ng"])
    ap.add_argument("--center", type=int, default=1)
    ap.add_argument("--warm", type=int, default=0)
    ap.add_argument("--warm-reg", type=float, default=10.0)
    ap.add_argument("--warm-exp", type=float, default=None)
    ap.add_argument("--valid", type=int, default=1)
    ap.add_argument("--vseed", type=int, default=7)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    p = ap.parse_args()
    if p.threads > 0:
        os.environ["OPENBLAS_NUM_THREADS"] = str(p.threads)
    import numpy
    np = numpy

    tr, (tu, ti, tv) = load(p.dir)
    nu, ni = len(tr["user_ids"]), len(tr["item_ids"])
    u = np.repeat(np.arange(nu), np.diff(tr["u_ptr"]))
    i = tr["u_idx"].astype(np.int64)
    v = tr["u_val"].astype(np.float64)
    if p.valid:
        perm = np.random.default_rng(p.vseed).permutation(len(v))
        nv = len(v) // 10
        hu, hi, hv = u[perm[:nv]], i[perm[:nv]], v[perm[:nv]]
        keep = np.sort(perm[nv:])
        u, i, v = u[keep], i[keep], v[keep]
        what = "validation (10 %% of the training part, seed %d)" % p.vseed
    else:
        ur = np.searchsorted(tr["user_ids"], tu)
        ir = np.searchsorted(tr["item_ids"], ti)
        ok = (ur < nu) & (ir < ni)
        ok[ok] &= (tr["user_ids"][ur[ok]] == tu[ok]) & \
            (tr["item_ids"][ir[ok]] == ti[ok])
        hu, hi, hv = ur[ok], ir[ok], tv[ok].astype(np.float64)
        what = "test (cold pairs dropped)"
    m = float(v.mean()) if p.center else 0.0
    up, ux, uv = csr(u, i, v - m, nu)
    ip, ix, iv = csr(i, u, v - m, ni)

    rng = np.random.default_rng(p.seed)
    k = p.rank
    U = 0.1 * rng.standard_normal((nu, k))
    V = 0.1 * rng.standard_normal((ni, k))
    eye = np.eye(k)
    for _ in range(p.warm):
        draw_side(None, up, ux, uv, V, np.zeros(k), p.warm_reg * eye, 1.0, U,
                  wexp=p.warm_exp)
        draw_side(None, ip, ix, iv, U, np.zeros(k), p.warm_reg * eye, 1.0, V,
                  wexp=p.warm_exp)
    alpha = p.alpha
    acc = np.zeros(len(hv))
    n_acc = 0
    t0 = time.perf_counter()
    best = (np.inf, 0)
    for s in range(p.sweeps):
        mu_u, lam_u = draw_hyper(rng, U, p)
        draw_side(rng, up, ux, uv, V, mu_u, lam_u, alpha, U)
        mu_v, lam_v = draw_hyper(rng, V, p)
        draw_side(rng, ip, ix, iv, U, mu_v, lam_v, alpha, V)
        res = uv - np.einsum("ij,ij->i", U[u], V[ux])  # u is sorted
        train_rmse = float(np.sqrt(np.mean(res ** 2)))
        if p.sample_alpha:
            alpha = rng.gamma(1.0 + len(res) / 2.0,
                              1.0 / (1.0 + 0.5 * float(res @ res)))
        pred = m + np.einsum("ij,ij->i", U[hu], V[hi])
        one = float(np.sqrt(np.mean((pred - hv) ** 2)))
        if s >= p.burn:
            acc += pred
            n_acc += 1
            avg = float(np.sqrt(np.mean((acc / n_acc - hv) ** 2)))
        else:
            avg = one
        if avg < best[0]:
            best = (avg, s + 1)
        print("  sweep %3d: train %.4f  this draw %.4f  average %.5f  "
              "(%d averaged, alpha %.3f, %.1f s)"
              % (s + 1, train_rmse, one, avg, n_acc, alpha,
                 time.perf_counter() - t0))
        sys.stdout.flush()
    print("RESULT mode=bpmf_numpy scored=%s rank=%d sweeps=%d burn=%d "
          "hyper=%s rmse=%.5f best_rmse=%.5f best_sweep=%d alpha=%.3f"
          % ("valid" if p.valid else "test", k, p.sweeps, p.burn, p.hyper,
             avg, best[0], best[1], alpha))
    return 0


if __name__ == "__main__":
    sys.exit(main())
