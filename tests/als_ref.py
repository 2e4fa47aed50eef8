"""NumPy reference of clearn's ALS updates, for tests/test_als.c.

Usage: als_ref.py DIR

DIR/manifest.txt lists one problem per line (whitespace separated):

    name rank reg weighted_reg biases implicit alpha iterations seed [e]

(e: reg_exponent, 1 when absent; a weighted row's L2 weight is
reg * count^e)

and DIR/<name>.users, DIR/<name>.items (int64) and DIR/<name>.values
(float32) hold its ratings, raw little-endian.  This runs the same
iterations as algorithms/als.c from the same initial factors -- the
counter-based hash of (seed, side, original id, column) documented there,
reproduced here with Python integers -- with every row solved by
numpy.linalg.solve in float64, and writes, as raw little-endian float64:

    <name>.U   n_users x rank   rows in ascending user id order
    <name>.V   n_items x rank
    <name>.ub, <name>.ib        biases (biases = 1 only)
    <name>.loss  1              training loss after the last iteration

and finally DIR/done with the NumPy version.  Exit status: 0 on success,
77 if numpy cannot be imported (the C test then skips), 1 otherwise.
"""
import math
import os
import sys

try:
    import numpy as np
except ImportError as e:  # pragma: no cover - depends on the machine
    sys.stderr.write("als_ref.py: cannot import numpy: %s\n" % e)
    sys.exit(77)

M64 = (1 << 64) - 1
SIDE_USERS = 0x75736572
SIDE_ITEMS = 0x6974656D


def mix64(z):
    z = (z + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def init(ids, k, seed, side):
    base = mix64(mix64(seed & M64) ^ side)
    scale = 1.0 / math.sqrt(k)
    out = np.empty((len(ids), k))
    for r, i in enumerate(ids):
        key = mix64(base ^ (int(i) & M64))
        for j in range(k):
            out[r, j] = float(mix64((key + j) & M64) >> 11) * 2.0 ** -53 * scale
    return out


def solve_side(rows, other, obias, k, p, mu, YtY):
    """rows: list of (indices into other, values) per row of this side."""
    kp = k + (1 if p["biases"] else 0)
    X = np.zeros((len(rows), k))
    xb = np.zeros(len(rows))
    for r, (idx, v) in enumerate(rows):
        Y = other[idx]
        if p["biases"]:
            Y = np.hstack([Y, np.ones((len(idx), 1))])
        if p["weighted"]:  # ALS-WR: implicit counts positive ratings only
            n = np.count_nonzero(v > 0) if p["implicit"] else len(idx)
            lam = p["reg"] * float(n) ** p["rexp"]
        else:
            lam = p["reg"]
        if p["implicit"]:
            c1 = p["alpha"] * np.abs(v)
            t = np.where(v > 0, 1.0 + c1, 0.0)
            A = YtY + Y.T @ (c1[:, None] * Y) + lam * np.eye(kp)
        else:
            t = v - mu - obias[idx] if p["biases"] else v
            A = Y.T @ Y + lam * np.eye(kp)
        z = np.linalg.solve(A, Y.T @ t)
        X[r] = z[:k]
        if p["biases"]:
            xb[r] = z[k]
    return X, xb


def run(d, name, p):
    users = np.fromfile(os.path.join(d, name + ".users"), dtype="<i8")
    items = np.fromfile(os.path.join(d, name + ".items"), dtype="<i8")
    vals = np.fromfile(os.path.join(d, name + ".values"), dtype="<f4")
    vals = vals.astype(np.float64)
    uids, uix = np.unique(users, return_inverse=True)
    iids, iix = np.unique(items, return_inverse=True)
    k = p["rank"]
    by_user = [[] for _ in uids]
    by_item = [[] for _ in iids]
    for q in range(len(vals)):
        by_user[uix[q]].append(q)
        by_item[iix[q]].append(q)
    urows = [(iix[np.array(q, dtype=np.int64)], vals[q]) for q in by_user]
    irows = [(uix[np.array(q, dtype=np.int64)], vals[q]) for q in by_item]
    mu = float(np.mean(vals))
    U = init(uids, k, p["seed"], SIDE_USERS)
    V = init(iids, k, p["seed"], SIDE_ITEMS)
    ub = np.zeros(len(uids))
    ib = np.zeros(len(iids))
    for _ in range(p["iters"]):
        U, ub = solve_side(urows, V, ib, k, p, mu, V.T @ V)
        V, ib = solve_side(irows, U, ub, k, p, mu, U.T @ U)
    # Training loss (documented in algorithms/als.c), computed directly:
    # for implicit feedback over the dense grid of every (user, item).
    def wcount(rows):
        if not p["weighted"]:
            return np.ones(len(rows))
        n = np.array([np.count_nonzero(v > 0) if p["implicit"] else len(v)
                      for _, v in rows], dtype=np.float64)
        return n ** p["rexp"]
    S = U @ V.T
    if p["implicit"]:
        C = np.ones_like(S)
        P = np.zeros_like(S)
        C[uix, iix] = 1.0 + p["alpha"] * np.abs(vals)
        P[uix, iix] = (vals > 0).astype(np.float64)
        fit = np.sum(C * (P - S) ** 2)
    else:
        pred = S[uix, iix] + (mu + ub[uix] + ib[iix] if p["biases"] else 0.0)
        fit = np.sum((vals - pred) ** 2)
    pen = np.sum(wcount(urows) * (np.sum(U * U, axis=1) + ub * ub)) + \
        np.sum(wcount(irows) * (np.sum(V * V, axis=1) + ib * ib))
    np.array([(fit + p["reg"] * pen) / len(vals)]).astype("<f8").tofile(
        os.path.join(d, name + ".loss"))
    U.astype("<f8").tofile(os.path.join(d, name + ".U"))
    V.astype("<f8").tofile(os.path.join(d, name + ".V"))
    if p["biases"]:
        ub.astype("<f8").tofile(os.path.join(d, name + ".ub"))
        ib.astype("<f8").tofile(os.path.join(d, name + ".ib"))


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: als_ref.py DIR\n")
        return 1
    d = sys.argv[1]
    with open(os.path.join(d, "manifest.txt")) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            p = {
                "rank": int(w[1]),
                "reg": float(w[2]),
                "weighted": w[3] == "1",
                "biases": w[4] == "1",
                "implicit": w[5] == "1",
                "alpha": float(w[6]),
                "iters": int(w[7]),
                "seed": int(w[8]),
                "rexp": float(w[9]) if len(w) > 9 else 1.0,
            }
            run(d, w[0], p)
    with open(os.path.join(d, "done"), "w") as f:
        f.write("numpy %s\n" % np.__version__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
