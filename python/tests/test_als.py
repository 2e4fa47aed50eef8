"""clearn.ALS against the C estimator driven directly through the C API,
against NumPy on its own factors, its input forms, progress, persistence,
model selection, the GIL, and clearn.datasets."""
import ctypes
import os
import pickle
import time

import numpy as np
import pytest

import clearn
from clearn import _lib
from clearn.recommender import Ratings

ML100K = "/work/shared/data/movielens/ml-100k"


@pytest.fixture(scope="module")
def data():
    return clearn.datasets.make_ratings(n_users=300, n_items=200,
                                        n_ratings=12000, min_per_user=10,
                                        rank=5, noise=0.3, seed=3,
                                        as_frame=False)


def _c_fit(users, items, ratings, **params):
    """The C estimator, driven through the C API alone."""
    h = _lib.Handle.create("als")
    for k, v in params.items():
        _lib.raise_for(_lib.lib.clearn_estimator_set_param_string(
            h.ptr, k.encode(), str(v).encode()), h.ptr)
    r = Ratings(users, items, ratings)
    _lib.raise_for(_lib.lib.clearn_estimator_fit_ratings(h.ptr, r.ptr, None),
                   h.ptr)

    def attr(name):
        out = ctypes.c_void_p()
        _lib.raise_for(_lib.lib.clearn_estimator_get_attr(
            h.ptr, name.encode(), ctypes.byref(out)), h.ptr)
        return _lib.take_matrix(out)
    return {n: attr(n) for n in ("user_factors", "item_factors", "user_ids",
                                 "item_ids", "history")}


@pytest.mark.parametrize("params", [
    dict(rank=6, reg=0.05, max_iter=5),
    dict(rank=4, reg=0.1, max_iter=3, biases="true", dtype="float64"),
    dict(rank=5, max_iter=4, implicit="true", alpha=5.0, solver="cg"),
    dict(rank=5, reg=0.3, reg_exponent=0.5, max_iter=4, biases="true"),
    dict(rank=4, reg=1.0, max_iter=5, burn_in=2, solver="gibbs"),
    dict(rank=5, max_iter=3, solver="cg", train_metrics="false")])
def test_parity_with_the_c_estimator(data, params):
    u, i, r = data
    ref = _c_fit(u, i, r, **params)
    kw = {k: (v == "true" if v in ("true", "false") else v)
          for k, v in params.items()}
    est = clearn.ALS(**kw).fit(u, i, r)
    np.testing.assert_array_equal(est.user_factors_, ref["user_factors"])
    np.testing.assert_array_equal(est.item_factors_, ref["item_factors"])
    np.testing.assert_array_equal(est.user_ids_, ref["user_ids"].ravel())
    np.testing.assert_array_equal(est.item_ids_, ref["item_ids"].ravel())
    for k, name in enumerate(clearn.recommender.HISTORY_COLUMNS):
        if name != "seconds" and name != "comm_seconds":
            np.testing.assert_array_equal(est.history_[name],
                                          ref["history"][:, k])
    assert est.n_iter_ == params["max_iter"]
    assert est.user_factors_.dtype == np.dtype(params.get("dtype",
                                                          "float32"))


def test_gibbs_model_is_the_average_of_its_draws(data):
    """solver="gibbs": (max_iter - burn_in) draws side by side, predicting
    the global mean plus their average dot product."""
    u, i, r = data
    est = clearn.ALS(rank=3, reg=1.0, weighted_reg=False, max_iter=6,
                     burn_in=2, solver="gibbs", dtype="float64").fit(u, i, r)
    assert est.user_factors_.shape == (len(est.user_ids_), 4 * 3)
    assert est.item_factors_.shape == (len(est.item_ids_), 4 * 3)
    pred = est.predict(u[:50], i[:50])
    ur = np.searchsorted(est.user_ids_, u[:50])
    ir = np.searchsorted(est.item_ids_, i[:50])
    ref = est.global_mean_ + np.einsum("ij,ij->i", est.user_factors_[ur],
                                       est.item_factors_[ir])
    np.testing.assert_allclose(pred, ref, rtol=1e-12)
    np.testing.assert_allclose(est.global_mean_, np.mean(r), rtol=1e-6)


def test_predict_recommend_similar_against_numpy(data):
    u, i, r = data
    est = clearn.ALS(rank=6, reg=0.05, max_iter=5, biases=True).fit(u, i, r)
    U = est.user_factors_.astype(np.float64)
    V = est.item_factors_.astype(np.float64)
    full = (U @ V.T + est.global_mean_ + est.user_bias_[:, None]
            + est.item_bias_[None, :])
    uid, iid = est.user_ids_, est.item_ids_
    pick = np.random.default_rng(0).integers(0, len(u), 500)
    want = full[np.searchsorted(uid, u[pick]), np.searchsorted(iid, i[pick])]
    np.testing.assert_allclose(est.predict(u[pick], i[pick]), want,
                               rtol=1e-5, atol=1e-5)
    # Unseen ids: NaN (cold_start="nan").
    assert np.isnan(est.predict([uid.max() + 1], [iid[0]])[0])
    # recommend: the n best unseen items by the same scores.
    for user in uid[:20]:
        row = full[np.searchsorted(uid, user)].copy()
        seen = np.searchsorted(iid, i[u == user])
        for filt in (True, False):
            s = row.copy()
            if filt:
                s[seen] = -np.inf
            top = np.argsort(-s, kind="stable")[:10]
            items, scores = est.recommend(user, 10, filter_seen=filt)
            np.testing.assert_allclose(scores, s[top], rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(
                full[np.searchsorted(uid, user),
                     np.searchsorted(iid, items)], scores, rtol=1e-5,
                atol=1e-5)
            if filt:
                assert not set(items) & set(i[u == user])
    items, scores = est.recommend_all(5)
    assert items.shape == scores.shape == (len(uid), 5)
    np.testing.assert_array_equal(items[3], est.recommend(uid[3], 5)[0])
    # similar_items: cosine of the item factors, the item left out.
    Vn = V / np.linalg.norm(V, axis=1, keepdims=True)
    cos = Vn @ Vn[7]
    cos[7] = -np.inf
    top = np.argsort(-cos, kind="stable")[:5]
    items, scores = est.similar_items(iid[7], 5)
    np.testing.assert_allclose(scores, cos[top], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cos[np.searchsorted(iid, items)], scores,
                               rtol=1e-5, atol=1e-6)


def test_input_forms_give_one_model(data):
    pd = pytest.importorskip("pandas")
    sparse = pytest.importorskip("scipy.sparse")
    u, i, r = data
    ref = clearn.ALS(rank=4, max_iter=3).fit(u, i, r)
    df = pd.DataFrame({"userId": u, "movieId": i, "rating": r})
    forms = [((df,), {}),
             ((df.rename(columns={"userId": "a", "movieId": "b",
                                  "rating": "c"}),),
              {"columns": ("a", "b", "c")}),
             ((np.column_stack([u, i]), r), {}),
             ((np.column_stack([u, i, r]),), {}),
             ((sparse.csr_matrix((r, (u, i))),), {})]
    for args, kw in forms:
        est = clearn.ALS(rank=4, max_iter=3).fit(*args, **kw)
        np.testing.assert_array_equal(est.user_factors_, ref.user_factors_)
        np.testing.assert_array_equal(est.item_ids_, ref.item_ids_)
    with pytest.raises(ValueError, match="user, item and rating columns"):
        clearn.ALS().fit(pd.DataFrame({"x": [1]}))


def test_string_ids_in_and_out(data):
    u, i, r = data
    su = np.array(["u%05d" % x for x in u])
    si = np.array(["movie-%d" % x for x in i])
    est = clearn.ALS(rank=4, max_iter=3).fit(su, si, r)
    ref = clearn.ALS(rank=4, max_iter=3).fit(u, i, r)
    # String order differs from numeric order; the model is the same up to
    # the row order (each row's initial factors come from its id, so only
    # compare predictions of identical pairs).
    assert est.user_ids_[0].startswith("u")
    p = est.predict(su[:50], si[:50])
    assert np.all(np.isfinite(p))
    items, _ = est.recommend(su[0], 5)
    assert all(str(x).startswith("movie-") for x in items)
    assert set(items).isdisjoint(set(si[su == su[0]]))
    assert np.isnan(est.predict(["nobody"], [si[0]])[0])
    sim, _ = est.similar_items(si[0], 3)
    assert si[0] not in set(sim)
    back = pickle.loads(pickle.dumps(est))  # the id maps travel along
    np.testing.assert_array_equal(back.recommend(su[0], 5)[0], items)
    np.testing.assert_array_equal(back.predict(su[:50], si[:50]), p)
    assert ref.user_factors_.shape == est.user_factors_.shape


def test_history_validation_and_score(data):
    u, i, r = data
    n = len(u)
    cut = np.random.default_rng(1).random(n) < 0.15
    tr = (u[~cut], i[~cut], r[~cut])
    te = (u[cut], i[cut], r[cut])
    est = clearn.ALS(rank=5, reg=0.1, max_iter=6, cold_start="drop")
    est.fit(*tr, validation=te)
    h = est.history_
    assert set(h) == {"train_loss", "train_rmse", "valid_rmse", "seconds",
                      "comm_seconds"}
    assert all(len(v) == 6 for v in h.values())
    assert np.all(np.isfinite(h["valid_rmse"]))
    assert np.all(h["comm_seconds"] == 0)
    assert np.all(np.diff(h["train_loss"]) <= 1e-9 * h["train_loss"][0])
    # score is -RMSE over the pairs C can predict (cold_start="drop").
    pred = est.predict(te[0], te[1])
    ok = ~np.isnan(pred)
    rmse = np.sqrt(np.mean((pred[ok] - te[2][ok]) ** 2))
    assert est.score(*te) == pytest.approx(-rmse, rel=1e-6)
    assert est.score(*te) == pytest.approx(-h["valid_rmse"][-1], rel=1e-6)
    assert est.score(*te, metric="mae") == pytest.approx(
        -np.mean(np.abs(pred[ok] - te[2][ok])), rel=1e-6)
    # train_metrics=False: the same model and validation RMSE, no train
    # loss or RMSE (NaN), as Spark and implicit skip them for speed.
    quick = clearn.ALS(rank=5, reg=0.1, max_iter=6, cold_start="drop",
                       train_metrics=False).fit(*tr, validation=te)
    assert quick.get_params()["train_metrics"] is False
    np.testing.assert_array_equal(quick.user_factors_, est.user_factors_)
    assert np.all(np.isnan(quick.history_["train_loss"]))
    assert np.all(np.isnan(quick.history_["train_rmse"]))
    np.testing.assert_array_equal(quick.history_["valid_rmse"],
                                  h["valid_rmse"])
    with pytest.raises(clearn.ClearnError, match="'tol' > 0 needs "
                       "train_metrics = true"):
        clearn.ALS(tol=1e-3, train_metrics=False).fit(*tr)


def test_callback_verbose_and_stop(data, capsys):
    u, i, r = data
    seen = []

    def cb(it, rec):
        seen.append((it, dict(rec)))
        return it == 3  # stop after the third iteration

    est = clearn.ALS(rank=4, max_iter=10, callback=cb, verbose=True)
    est.fit(u, i, r)
    assert [s[0] for s in seen] == [1, 2, 3]
    assert est.n_iter_ == 3 and len(est.history_["train_rmse"]) == 3
    assert seen[2][1]["train_rmse"] == est.history_["train_rmse"][2]
    out = capsys.readouterr().out
    assert out.count("als iter") == 3 and "train_rmse" in out

    def bad(it, rec):
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        clearn.ALS(rank=4, max_iter=5, callback=bad).fit(u, i, r)


def test_ctrl_c_stops_a_fit_after_the_iteration(data):
    """KeyboardInterrupt (here from another thread, as Ctrl-C would) is
    raised in the progress hook after an iteration and ends the fit; the
    estimator stays unfitted."""
    import _thread
    import threading
    u, i, r = data
    est = clearn.ALS(rank=8, max_iter=100000)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    t0 = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        est.fit(u, i, r)
    timer.join()
    assert time.perf_counter() - t0 < 30  # 100000 iterations take minutes
    assert not hasattr(est, "user_factors_")


def test_errors_carry_the_c_message(data):
    u, i, r = data
    with pytest.raises(ValueError, match="^als: parameter 'rank' = 0") as e:
        clearn.ALS(rank=0).fit(u, i, r)
    assert e.value.status == _lib.EPARAM
    with pytest.raises(ValueError, match=r"^als: parameter 'reg_exponent' = "
                       r"1\.5: must be in \[0, 1\]$") as e:
        clearn.ALS(reg_exponent=1.5).fit(u, i, r)
    assert e.value.status == _lib.EPARAM
    with pytest.raises(ValueError, match="'biases' = true is not available "
                       "with implicit = true"):
        clearn.ALS(implicit=True, biases=True).fit(u, i, r)
    bad = r.copy()
    bad[5] = np.nan
    with pytest.raises(ValueError, match="not finite") as e:
        clearn.ALS().fit(u, i, bad)
    assert e.value.status == _lib.ENUMERIC
    with pytest.raises(clearn.NotFittedError):
        clearn.ALS().predict([1], [2])


def test_pickle_save_load(data, tmp_path):
    u, i, r = data
    est = clearn.ALS(rank=5, max_iter=4, biases=True, reg=0.3,
                     reg_exponent=0.75).fit(u, i, r)
    back = pickle.loads(pickle.dumps(est))
    assert back.get_params()["reg_exponent"] == 0.75
    np.testing.assert_array_equal(back.user_factors_, est.user_factors_)
    np.testing.assert_array_equal(back.recommend(u[0], 10)[0],
                                  est.recommend(u[0], 10)[0])
    np.testing.assert_array_equal(back.predict(u[:100], i[:100]),
                                  est.predict(u[:100], i[:100]))
    est.save(tmp_path / "als.h5")
    loaded = clearn.ALS.load(tmp_path / "als.h5")
    assert loaded.get_params() == est.get_params()
    np.testing.assert_array_equal(loaded.item_factors_, est.item_factors_)
    np.testing.assert_array_equal(loaded.recommend(u[0], 10)[0],
                                  est.recommend(u[0], 10)[0])
    assert loaded.global_mean_ == est.global_mean_
    for k in est.history_:
        np.testing.assert_array_equal(loaded.history_[k], est.history_[k])


def test_grid_search(data):
    from sklearn.model_selection import GridSearchCV, KFold
    u, i, r = data
    X = np.column_stack([u, i])
    gs = GridSearchCV(clearn.ALS(max_iter=4, cold_start="drop"),
                      {"rank": [2, 6], "reg": [0.05, 0.5]},
                      cv=KFold(3, shuffle=True, random_state=0))
    gs.fit(X, r)
    assert np.all(np.isfinite(gs.cv_results_["mean_test_score"]))
    assert np.all(gs.cv_results_["mean_test_score"] < 0)
    assert gs.best_params_["reg"] in (0.05, 0.5)
    assert isinstance(gs.best_estimator_, clearn.ALS)


def test_gil_released_during_als_fit():
    from test_linear import _gil_probe
    u, i, r = clearn.datasets.make_ratings(
        n_users=6000, n_items=3000, n_ratings=600_000, rank=8, seed=1,
        as_frame=False)
    est = clearn.ALS(rank=32, max_iter=4, num_threads=1)
    duration, gap, n = _gil_probe(lambda: est.fit(u, i, r))
    assert duration > 0.2, "fit too short to tell (%.3f s)" % duration
    assert n > 1000
    assert gap < 0.25 * duration, (gap, duration)


# ---- datasets -------------------------------------------------------------

def test_make_ratings():
    a = clearn.datasets.make_ratings(n_users=50, n_items=40, n_ratings=600,
                                     min_per_user=5, seed=9, as_frame=False)
    b = clearn.datasets.make_ratings(n_users=50, n_items=40, n_ratings=600,
                                     min_per_user=5, seed=9, as_frame=False)
    assert len(a[0]) == 600
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert set(np.unique(a[2])) <= {1, 2, 3, 4, 5}
    assert np.all(np.bincount(np.unique(a[0], return_inverse=True)[1]) >= 5)


def test_load_movielens_text_and_errors(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("userId,movieId,rating,timestamp\n1,10,4.5,0\n1,20,3,0\n"
                 "7,10,2,0\n")
    u, i, r = clearn.datasets.load_movielens(p, as_frame=False)
    np.testing.assert_array_equal(u, [1, 1, 7])
    np.testing.assert_array_equal(i, [10, 20, 10])
    np.testing.assert_array_equal(r, np.array([4.5, 3, 2], np.float32))
    p.write_text("userId,movieId,rating,timestamp\n1,10,4.5,0\n1,x,3,0\n")
    with pytest.raises(clearn.ClearnFormatError, match="r.csv:3") as e:
        clearn.datasets.load_movielens(p)
    assert e.value.status == _lib.EFORMAT
    with pytest.raises(clearn.ClearnIOError):
        clearn.datasets.load_movielens(tmp_path / "missing.csv")


@pytest.mark.skipif(not os.path.isdir(ML100K), reason="no ml-100k at %s"
                    % ML100K)
def test_load_movielens_100k():
    pytest.importorskip("pandas")
    df = clearn.datasets.load_movielens(ML100K)
    assert len(df) == 100_000
    assert df.user.nunique() == 943 and df.item.nunique() == 1682
    assert list(df.columns) == ["user", "item", "rating"]
    titles = clearn.datasets.movie_titles(ML100K)
    assert titles[1] == "Toy Story (1995)" and len(titles) == 1682


@pytest.mark.skipif(not os.path.isdir(os.path.dirname(ML100K)),
                    reason="no MovieLens data beside %s" % ML100K)
@pytest.mark.parametrize("name,n,users,titled", [
    ("ml-1m", 1_000_209, 6040, 3883), ("ml-latest-small", 100_836, 610, 9742)])
def test_load_movielens_layouts(name, n, users, titled):
    path = os.path.join(os.path.dirname(ML100K), name)
    if not os.path.isdir(path):
        pytest.skip("no %s" % path)
    u, i, r = clearn.datasets.load_movielens(path, as_frame=False)
    assert len(u) == n and len(np.unique(u)) == users
    assert len(clearn.datasets.movie_titles(path)) == titled
