"""ALS matrix factorization over the C kind "als".

Ratings come in as (user, item, rating) triples in any of these forms:

    als.fit(users, items, ratings)          # three 1-D arrays
    als.fit(df)                             # DataFrame: user/item/rating columns
    als.fit(sparse)                         # scipy.sparse: rows users, cols items
    als.fit(X, y)                           # X (n, 2) (user, item) pairs, y ratings

The last form is scikit-learn's (X, y), so cross-validation and
GridSearchCV split the ratings like any rows; ``score`` is the negative RMSE
(greater is better, as scikit-learn's scorers).  Ids are the original ids
throughout: integer ids go to C unchanged (int64); other ids (strings) are
numbered in sorted order and mapped back on output.
"""
import ctypes
import signal
import sys
import threading

import numpy as np

from . import _lib
from ._base import ClearnEstimator
from ._lib import PROGRESS_FN, lib, raise_for

_DF_COLUMNS = [("user", "item", "rating"), ("userId", "movieId", "rating"),
               ("user_id", "item_id", "rating"), ("user", "item", "score")]
HISTORY_COLUMNS = ("train_loss", "train_rmse", "valid_rmse", "seconds",
                   "comm_seconds")


class Ratings:
    """A C clearn_ratings object built from triples (C copies them)."""

    __slots__ = ("ptr",)

    def __init__(self, users, items, values):
        users = np.ascontiguousarray(users, dtype=np.int64)
        items = np.ascontiguousarray(items, dtype=np.int64)
        values = np.ascontiguousarray(values, dtype=np.float32)
        if not (users.ndim == items.ndim == values.ndim == 1) or not (
                len(users) == len(items) == len(values)):
            raise ValueError("users, items and ratings must be 1-D arrays of "
                             "one length, got shapes %s, %s, %s"
                             % (users.shape, items.shape, values.shape))
        self.ptr = ctypes.c_void_p()
        raise_for(lib.clearn_ratings_from_triples(
            users.ctypes.data, items.ctypes.data, values.ctypes.data,
            len(users), ctypes.byref(self.ptr)))

    @classmethod
    def adopt(cls, ptr):
        r = cls.__new__(cls)
        r.ptr = ptr
        return r

    def __len__(self):
        return lib.clearn_ratings_nnz(self.ptr)

    def triples(self):
        n = len(self)
        u = np.empty(n, np.int64)
        i = np.empty(n, np.int64)
        v = np.empty(n, np.float32)
        raise_for(lib.clearn_ratings_triples(self.ptr, u.ctypes.data,
                                             i.ctypes.data, v.ctypes.data))
        return u, i, v

    def __del__(self):
        if self.ptr:
            lib.clearn_ratings_free(self.ptr)
            self.ptr = None


def _triples(X, y=None, ratings=None, columns=None):
    """(users, items, ratings) from any accepted input form."""
    if hasattr(X, "columns") and hasattr(X, "iloc"):  # pandas DataFrame
        cols = columns
        if cols is None:
            for c in _DF_COLUMNS:
                if all(k in X.columns for k in c):
                    cols = c
                    break
        if cols is None:
            raise ValueError("DataFrame needs user, item and rating columns "
                             "(one of %s) or columns=(user, item, rating); "
                             "it has %s" % (_DF_COLUMNS, list(X.columns)))
        return (X[cols[0]].to_numpy(), X[cols[1]].to_numpy(),
                X[cols[2]].to_numpy())
    if hasattr(X, "tocoo") and y is None:  # scipy.sparse
        coo = X.tocoo()
        return coo.row, coo.col, coo.data
    if ratings is not None:
        return np.asarray(X), np.asarray(y), np.asarray(ratings)
    X = np.asarray(X)
    if X.ndim == 2 and X.shape[1] == 2 and y is not None:
        return X[:, 0], X[:, 1], np.asarray(y)
    if X.ndim == 2 and X.shape[1] == 3 and y is None:
        return X[:, 0], X[:, 1], X[:, 2]
    raise ValueError("ratings must be (users, items, ratings), a DataFrame, "
                     "a scipy.sparse matrix, (X (n, 2) pairs, y) or an "
                     "(n, 3) array; got X of shape %s" % (X.shape,))


def _pairs(X, items=None):
    """(users, items) for prediction."""
    if items is not None:
        return np.asarray(X).reshape(-1), np.asarray(items).reshape(-1)
    if hasattr(X, "columns") and hasattr(X, "iloc"):
        for c in _DF_COLUMNS:
            if c[0] in X.columns and c[1] in X.columns:
                return X[c[0]].to_numpy(), X[c[1]].to_numpy()
        return X.iloc[:, 0].to_numpy(), X.iloc[:, 1].to_numpy()
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] < 2:
        raise ValueError("pairs must be an (n, 2) array of (user, item) or "
                         "predict(users, items); got shape %s" % (X.shape,))
    return X[:, 0], X[:, 1]


class _IdMap:
    """Original ids <-> the int64 ids C sees.  Integer ids map to
    themselves; other ids (strings) to their rank among the sorted fitted
    ids, and unseen ones to -1 - (a number no fitted id has)."""

    def __init__(self, ids):
        ids = np.asarray(ids)
        self.identity = ids.dtype.kind in "iub" or (
            ids.dtype.kind == "f" and bool(np.all(np.mod(ids, 1) == 0)))
        self.labels = None if self.identity else np.unique(ids)

    def encode(self, ids):
        ids = np.asarray(ids)
        if self.identity:
            if ids.dtype.kind not in "iub":
                if ids.dtype.kind == "f" and np.all(np.mod(ids, 1) == 0):
                    return ids.astype(np.int64)
                raise ValueError("the model was fitted on integer ids; got "
                                 "ids of dtype %s" % ids.dtype)
            return ids.astype(np.int64, copy=False)
        pos = np.searchsorted(self.labels, ids)
        pos = np.minimum(pos, len(self.labels) - 1)
        found = self.labels[pos] == ids
        return np.where(found, pos, -1).astype(np.int64)

    def decode(self, ids):
        ids = np.asarray(ids)
        if self.identity:
            return ids
        out = np.empty(ids.shape, dtype=self.labels.dtype)
        ok = ids >= 0
        out[ok] = self.labels[ids[ok]]
        if not ok.all():  # -1 = no item: None in an object array
            out = out.astype(object)
            out[~ok] = None
        return out


class ALS(ClearnEstimator):
    """Matrix factorization by alternating least squares (C kind "als":
    explicit ALS-WR as Spark's, or implicit feedback as Hu-Koren-Volinsky).

    Parameters are the C kind's (defaults too: ``rank=10, reg=0.1,
    reg_exponent=1.0, max_iter=10`` ...; with weighted_reg a row's L2
    weight is reg * count**reg_exponent; ``solver="gibbs"`` samples a
    Bayesian factorization and averages max_iter - burn_in draws, so
    user_factors_ then has (max_iter - burn_in) * rank columns), plus
    comm      an mpi4py communicator: fit over its ranks, each passing its
              own share of the ratings (clearn_mpi_fit_ratings); every rank
              ends with the whole model, the same as a serial fit.
    callback  called after every iteration as callback(iteration, record)
              with record a dict of HISTORY_COLUMNS; return True to stop.
    verbose   print one line per iteration to stdout.

    Fitted attributes: user_factors_ (n_users, rank), item_factors_,
    user_ids_ and item_ids_ (the original id of each factor row),
    user_bias_, item_bias_, global_mean_ (with biases=True or
    solver="gibbs", whose model is the global mean plus the average of its
    draws' dot products, with zero biases), history_ (a
    dict of per-iteration arrays: train_loss, train_rmse, valid_rmse,
    seconds, comm_seconds), n_iter_.
    """

    _kind = "als"
    _python_params = ("comm", "callback", "verbose")

    def __init__(self, rank=10, *, reg=0.1, reg_exponent=1.0, max_iter=10,
                 tol=0.0, seed=0, implicit=False, alpha=1.0, weighted_reg=True,
                 biases=False, solver="cholesky", cg_steps=3, burn_in=5,
                 nonnegative=False, num_threads=0, dtype="float32",
                 cold_start="nan", train_metrics=True, comm=None,
                 callback=None, verbose=False):
        self.rank = rank
        self.reg = reg
        self.reg_exponent = reg_exponent
        self.max_iter = max_iter
        self.tol = tol
        self.seed = seed
        self.implicit = implicit
        self.alpha = alpha
        self.weighted_reg = weighted_reg
        self.biases = biases
        self.solver = solver
        self.cg_steps = cg_steps
        self.burn_in = burn_in
        self.nonnegative = nonnegative
        self.num_threads = num_threads
        self.dtype = dtype
        self.cold_start = cold_start
        self.train_metrics = train_metrics
        self.comm = comm
        self.callback = callback
        self.verbose = verbose

    # ---- fit -------------------------------------------------------------

    def fit(self, X, y=None, ratings=None, *, validation=None, columns=None):
        """Fit on ratings (see the module doc for the forms); validation
        (same forms, as a tuple for arrays) is scored every iteration into
        history_["valid_rmse"].  Returns self."""
        u, i, r = _triples(X, y, ratings, columns)
        self._users = _IdMap(u)
        self._items = _IdMap(i)
        train = Ratings(self._users.encode(u), self._items.encode(i), r)
        valid = None
        if validation is not None:
            if isinstance(validation, tuple):
                vu, vi, vr = _triples(*validation, columns=columns)
            else:
                vu, vi, vr = _triples(validation, columns=columns)
            valid = Ratings(self._users.encode(vu), self._items.encode(vi),
                            vr)
        h = self._new_handle()
        self._fit_ratings(h, train, valid)
        self._handle = h
        self._read_fitted()
        return self

    def _progress(self, interrupted):
        """A ctypes callback for clearn_estimator_set_progress.  Installed
        for every fit, even without callback or verbose: it is the Python
        code that runs after each iteration, so Ctrl-C can stop a long fit
        there (see _fit_ratings)."""
        failure = []

        def on_iteration(_user_data, iteration, names, values, n):
            if interrupted:
                return 1
            try:
                rec = {names[k].decode(): values[k] for k in range(n)}
                if self.verbose:
                    print("als iter %3d  train_rmse %.5f  valid_rmse %.5f  "
                          "%.3f s" % (iteration, rec.get("train_rmse", np.nan),
                                      rec.get("valid_rmse", np.nan),
                                      rec.get("seconds", np.nan)))
                    sys.stdout.flush()
                if self.callback is not None and self.callback(iteration, rec):
                    return 1
                return 0
            except BaseException as e:  # stop the fit, raise it afterwards
                failure.append(e)
                return 1

        return PROGRESS_FN(on_iteration), failure

    def _fit_ratings(self, h, train, valid):
        # Ctrl-C during the C fit: Python runs the SIGINT handler at the
        # start of the next progress callback, where a KeyboardInterrupt
        # would escape into ctypes (which prints and drops it).  So, while
        # the fit runs, the handler only records the interrupt; the callback
        # then stops the fit and it is raised here.  Only in the main thread
        # and over Python's default handler.
        interrupted = []
        old_handler = None
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT)
                is signal.default_int_handler):
            old_handler = signal.signal(
                signal.SIGINT, lambda *a: interrupted.append(True))
        fn, failure = self._progress(interrupted)
        raise_for(lib.clearn_estimator_set_progress(h.ptr, fn, None), h.ptr)
        try:
            if self.comm is not None:
                from ._mpi import fhandle
                rc = _lib.mpi_lib().clearn_mpi_fit_ratings_f(
                    h.ptr, fhandle(self.comm), train.ptr,
                    valid.ptr if valid is not None else None)
            else:
                rc = lib.clearn_estimator_fit_ratings(
                    h.ptr, train.ptr, valid.ptr if valid is not None else None)
        finally:
            lib.clearn_estimator_set_progress(h.ptr, PROGRESS_FN(), None)
            if old_handler is not None:
                signal.signal(signal.SIGINT, old_handler)
        if interrupted:
            raise KeyboardInterrupt
        if failure:
            raise failure[0]
        self._check_fit_status(rc, h)

    def _read_fitted(self):
        self.user_factors_ = self._attr("user_factors")
        self.item_factors_ = self._attr("item_factors")
        uid = self._attr("user_ids").reshape(-1)
        iid = self._attr("item_ids").reshape(-1)
        if not hasattr(self, "_users"):  # loaded from a file: integer ids
            self._users, self._items = _IdMap(uid), _IdMap(iid)
        self.user_ids_ = self._users.decode(uid)
        self.item_ids_ = self._items.decode(iid)
        if self.biases or self.solver == "gibbs":  # gibbs: zero biases
            self.user_bias_ = self._attr("user_bias").reshape(-1)
            self.item_bias_ = self._attr("item_bias").reshape(-1)
            self.global_mean_ = float(self._attr("global_mean").reshape(-1)[0])
        hist = self._attr("history")
        self.history_ = {name: hist[:, k].copy()
                         for k, name in enumerate(HISTORY_COLUMNS)}
        self.n_iter_ = int(self._attr("n_iter").reshape(-1)[0])

    # ---- use ---------------------------------------------------------------

    def predict(self, X, items=None):
        """Predicted ratings for (user, item) pairs: predict(users, items),
        or predict(X) with X an (n, 2) array or a DataFrame.  Unseen users
        or items follow cold_start ("nan": NaN)."""
        h = self._fitted_handle()
        users, items = _pairs(X, items)
        u = np.ascontiguousarray(self._users.encode(users))
        i = np.ascontiguousarray(self._items.encode(items))
        if len(u) != len(i):
            raise ValueError("%d users but %d items" % (len(u), len(i)))
        out = np.empty(len(u), np.float64)
        raise_for(lib.clearn_estimator_predict_pairs(
            h.ptr, u.ctypes.data, i.ctypes.data, len(u), out.ctypes.data),
            h.ptr)
        return out

    def score(self, X, y=None, ratings=None, *, metric="rmse"):
        """Negative RMSE (or MAE with metric="mae") of the predictions for
        the given ratings, computed in C (clearn_estimator_score_ratings);
        unseen users and items as cold_start says ("drop" leaves them out,
        "nan" makes the score NaN).  Greater is better, so scikit-learn's
        model selection maximizes it."""
        h = self._fitted_handle()
        u, i, r = _triples(X, y, ratings)
        test = Ratings(self._users.encode(u), self._items.encode(i), r)
        out = ctypes.c_double()
        raise_for(lib.clearn_estimator_score_ratings(
            h.ptr, test.ptr, metric.encode(), ctypes.byref(out), None),
            h.ptr)
        return -out.value

    def recommend_all(self, n=10, users=None, filter_seen=True):
        """Top-n items for each user (default: every fitted user, in
        user_ids_ order): (items (n_users, n), scores (n_users, n)), best
        first.  filter_seen leaves out the items each user rated in the
        training data.  Missing slots hold item -1 (None for string ids)
        and score NaN."""
        h = self._fitted_handle()
        if users is None:
            u = np.ascontiguousarray(self._attr("user_ids").reshape(-1),
                                     dtype=np.int64)
        else:
            u = np.ascontiguousarray(
                self._users.encode(np.asarray(users).reshape(-1)))
        items = np.empty((len(u), n), np.int64)
        scores = np.empty((len(u), n), np.float64)
        exclude = None if filter_seen else Ratings([], [], [])
        raise_for(lib.clearn_estimator_recommend(
            h.ptr, u.ctypes.data, len(u), n,
            exclude.ptr if exclude is not None else None, items.ctypes.data,
            scores.ctypes.data), h.ptr)
        return self._items.decode(items), scores

    def recommend(self, user, n=10, filter_seen=True):
        """Top-n (items, scores) for one user, best first."""
        items, scores = self.recommend_all(n, users=[user],
                                           filter_seen=filter_seen)
        return items[0], scores[0]

    def similar_items(self, item, n=10):
        """The n items most similar to `item` (cosine of the item factors,
        the item itself left out): (items, scores)."""
        h = self._fitted_handle()
        it = int(self._items.encode(np.asarray([item]))[0])
        items = np.empty(n, np.int64)
        scores = np.empty(n, np.float64)
        raise_for(lib.clearn_estimator_similar_items(
            h.ptr, it, n, items.ctypes.data, scores.ctypes.data), h.ptr)
        return self._items.decode(items), scores


    def _more_tags(self):
        return {"X_types": ["2darray"], "requires_y": False}
