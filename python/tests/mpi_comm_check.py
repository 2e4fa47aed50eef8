"""Run under mpirun (python/tests/test_mpi.py does, with 2 ranks): every
rank fits on its own share with comm=MPI.COMM_WORLD and must end with the
serial fit's model on all the data, computed here on every rank."""
import sys

import numpy as np
from mpi4py import MPI

import clearn

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()


def share(n):
    """This rank's contiguous block of n rows (uneven blocks)."""
    bounds = np.linspace(0, n, size + 1).astype(int)
    return slice(bounds[rank], bounds[rank + 1])


rng = np.random.default_rng(42)  # the same data on every rank
X = rng.standard_normal((1003, 6))
y = X @ rng.standard_normal(6) + 0.5 + 0.1 * rng.standard_normal(1003)
w = rng.uniform(0.5, 2.0, 1003)
labels = (X[:, 0] + 0.3 * rng.standard_normal(1003) > 0).astype(int)
s = share(len(X))

for cls, kw, target in [(clearn.Ridge, dict(alpha=0.7), y),
                        (clearn.Lasso, dict(alpha=0.01, tol=1e-10), y),
                        (clearn.ElasticNet, dict(alpha=0.02, tol=1e-10), y),
                        (clearn.LogisticRegression, dict(C=0.5, tol=1e-10),
                         labels)]:
    serial = cls(**kw).fit(X, target, sample_weight=w)
    dist = cls(**kw, comm=comm).fit(X[s], target[s], sample_weight=w[s])
    np.testing.assert_allclose(dist.coef_, serial.coef_, rtol=1e-9,
                               atol=1e-11, err_msg=cls.__name__)
    np.testing.assert_allclose(dist.intercept_, serial.intercept_,
                               rtol=1e-9, atol=1e-11)
    # score with comm: the score over every rank's rows.
    assert dist.score(X[s], target[s], w[s]) == \
        __import__("pytest").approx(serial.score(X, target, w), rel=1e-10)
    # Every rank holds the same model, bitwise.
    coefs = comm.allgather(np.asarray(dist.coef_).tobytes())
    assert len(set(coefs)) == 1, cls.__name__
    print("rank %d: %s distributed == serial" % (rank, cls.__name__))

# clone keeps the communicator (the same object); a pickle drops it (a
# communicator lives in one process) and unpickles as a serial model.
import pickle  # noqa: E402

from sklearn.base import clone  # noqa: E402

c = clone(clearn.Ridge(alpha=0.7, comm=comm))
assert c.comm is comm
c.fit(X[s], y[s], sample_weight=w[s])
back = pickle.loads(pickle.dumps(c))
assert back.comm is None and c.comm is comm
np.testing.assert_array_equal(back.predict(X), c.predict(X))

# A C error on one configuration is an error on every rank, with the C
# message; the communicator stays usable.
try:
    clearn.Ridge(alpha=-1, comm=comm).fit(X[s], y[s])
    raise AssertionError("alpha=-1 accepted")
except ValueError as e:
    assert "ridge: parameter 'alpha' = -1: must be >= 0" in str(e), str(e)
try:
    clearn.LinearRegression(comm=comm).fit(X[s], y[s])
    raise AssertionError("distributed LinearRegression accepted")
except clearn.ClearnUnsupportedError as e:
    assert "linear_regression" in str(e), str(e)

# ALS: shares by user (each user's ratings on one rank), bitwise the
# serial factors; the callback runs on every rank.
u, i, r = clearn.datasets.make_ratings(n_users=400, n_items=300,
                                       n_ratings=15000, min_per_user=5,
                                       seed=5, as_frame=False)
users = np.unique(u)
mine = np.isin(u, users[share(len(users))])
iters = []
serial = clearn.ALS(rank=6, max_iter=4, biases=True).fit(u, i, r)
dist = clearn.ALS(rank=6, max_iter=4, biases=True, comm=comm,
                  callback=lambda it, rec: iters.append(it)).fit(
                      u[mine], i[mine], r[mine])
np.testing.assert_array_equal(dist.user_factors_, serial.user_factors_)
np.testing.assert_array_equal(dist.item_factors_, serial.item_factors_)
np.testing.assert_array_equal(dist.user_ids_, serial.user_ids_)
np.testing.assert_array_equal(dist.history_["train_rmse"],
                              serial.history_["train_rmse"])
assert iters == [1, 2, 3, 4], iters
if size > 1:
    assert np.all(dist.history_["comm_seconds"] > 0)
np.testing.assert_array_equal(dist.recommend(u[0], 10)[0],
                              serial.recommend(u[0], 10)[0])
print("rank %d: ALS distributed == serial (bitwise)" % rank)
comm.Barrier()
if rank == 0:
    print("mpi comm check: all ranks passed (np %d)" % size)
sys.stdout.flush()
