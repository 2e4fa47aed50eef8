"""recommend_numpy.py -- the top-k recommendation of every user with NumPy,
on the factors and training ratings `bench_als recommend --export DIR`
wrote, timed and checked against clearn's answer from the same run.

Scores are U V^T in float32 (one matmul per block of users, as clearn
does), the user's training items set to -inf, the k best taken with
argpartition and sorted (ties to the smaller item row, as clearn).
Prints one RESULT line; never fails on a time.

usage: /usr/bin/python3 bench/recommend_numpy.py DIR [--block B]
"""
import argparse
import os
import resource
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--block", type=int, default=1024)
    a = ap.parse_args()
    nu, ni, rank, k = (int(x) for x in open(os.path.join(a.dir, "meta.txt")).read().split())
    f = lambda name, dt: np.fromfile(os.path.join(a.dir, name), dtype=dt)
    U = f("U", np.float32).reshape(nu, rank)
    V = f("V", np.float32).reshape(ni, rank)
    ptr = f("u_ptr", np.int64)
    idx = f("u_idx", np.int32)
    item_ids = f("item_ids", np.int64)
    theirs = f("top_items", np.int64).reshape(nu, k)
    their_sc = f("top_scores", np.float64).reshape(nu, k)

    t0 = time.perf_counter()
    top = np.empty((nu, k), dtype=np.int64)
    top_sc = np.empty((nu, k), dtype=np.float64)
    VT = np.ascontiguousarray(V.T)
    for b0 in range(0, nu, a.block):
        b1 = min(nu, b0 + a.block)
        S = U[b0:b1] @ VT                                  # float32 GEMM
        rows = np.repeat(np.arange(b1 - b0), np.diff(ptr[b0:b1 + 1]))
        S[rows, idx[ptr[b0]:ptr[b1]]] = -np.inf             # training items
        part = np.argpartition(-S, k - 1, axis=1)[:, :k]
        ps = np.take_along_axis(S, part, axis=1)
        order = np.lexsort((part, -ps), axis=1)             # score desc, row asc
        top[b0:b1] = item_ids[np.take_along_axis(part, order, axis=1)]
        top_sc[b0:b1] = np.take_along_axis(ps, order, axis=1)
    secs = time.perf_counter() - t0

    same_rows = int(np.sum(np.all(top == theirs, axis=1)))
    same_sets = int(sum(set(x) == set(y) for x, y in zip(top, theirs)))
    diff = float(np.max(np.abs(np.sort(top_sc, axis=1) - np.sort(their_sc, axis=1))))
    # lists that differ with the same scores: a tie at the k-th place, which
    # clearn breaks toward the smaller item row and argpartition arbitrarily
    ties = int(np.sum(~np.all(top == theirs, axis=1) &
                      np.all(top_sc == their_sc, axis=1)))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"numpy: top {k} of {ni} items for {nu} users in {secs:.3f} s "
          f"({nu / secs:.0f} users/s, blocks of {a.block}); the same ordered "
          f"list as clearn for {same_rows} users, the same set for "
          f"{same_sets}, differing only in a tie at the k-th score for {ties}; "
          f"max |score difference| {diff:.3g}")
    print(f"RESULT mode=recommend_numpy users={nu} items={ni} k={k} "
          f"seconds={secs:.4f} users_per_s={nu / secs:.0f} same_rows={same_rows} "
          f"same_sets={same_sets} tie_only={ties} max_score_diff={diff:.3g} "
          f"peak_rss_mb={rss:.1f}")


if __name__ == "__main__":
    main()
