"""clearn's linear models against scikit-learn: its estimator checks, the
same coefficients and predictions, errors carrying the C message, pickling
and model files, zero-copy inputs, and the GIL released during C calls."""
import io
import pickle
import threading
import time

import numpy as np
import pytest
from sklearn import linear_model as sk
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

import clearn
from clearn import _lib

# scikit-learn's reference solver at tol 1e-10 warns; the values are fine.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
from clearn._base import ClearnEstimator

LINEAR = [clearn.LinearRegression, clearn.Ridge, clearn.Lasso,
          clearn.ElasticNet, clearn.LogisticRegression]


@parametrize_with_checks([cls() for cls in LINEAR + [clearn.StandardScaler]])
def test_sklearn_check_estimator(estimator, check):
    check(estimator)


def _regression(n=300, p=7, t=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    coef = rng.standard_normal((p,) if t is None else (p, t))
    y = X @ coef + 0.3 + 0.1 * rng.standard_normal(coef.shape[1:] and (n, t) or n)
    return X, y, rng.uniform(0.2, 3.0, n)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("t", [None, 3])
def test_regression_parity(fit_intercept, weighted, t):
    X, y, w = _regression(t=t)
    w = w if weighted else None
    for ours, ref in [
            (clearn.LinearRegression(fit_intercept=fit_intercept),
             sk.LinearRegression(fit_intercept=fit_intercept)),
            (clearn.Ridge(alpha=2.5, fit_intercept=fit_intercept),
             sk.Ridge(alpha=2.5, fit_intercept=fit_intercept,
                      solver="cholesky"))]:
        assert ours.fit(X, y, sample_weight=w) is ours
        ref.fit(X, y, sample_weight=w)
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-9,
                                   atol=1e-12)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_,
                                   rtol=1e-9, atol=1e-12)
        assert np.shape(ours.intercept_) == np.shape(ref.intercept_)
        np.testing.assert_allclose(ours.predict(X), ref.predict(X),
                                   rtol=1e-9, atol=1e-12)
        assert ours.score(X, y, w) == pytest.approx(ref.score(X, y, w),
                                                    rel=1e-12)
        assert ours.n_features_in_ == 7


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("selection", ["cyclic", "random"])
def test_lasso_elastic_net_parity(weighted, selection):
    X, y, w = _regression(p=12)
    w = w if weighted else None
    for ours, ref in [
            (clearn.Lasso(alpha=0.05, tol=1e-10, max_iter=100000,
                          selection=selection),
             sk.Lasso(alpha=0.05, tol=1e-10, max_iter=100000,
                      selection=selection, random_state=0)),
            (clearn.ElasticNet(alpha=0.1, l1_ratio=0.3, tol=1e-10,
                               max_iter=100000, selection=selection),
             sk.ElasticNet(alpha=0.1, l1_ratio=0.3, tol=1e-10,
                           max_iter=100000, selection=selection,
                           random_state=0))]:
        ours.fit(X, y, sample_weight=w)
        ref.fit(X, y, sample_weight=w)
        # Both run to the same optimum at tol 1e-10 (the random orders
        # differ, the minimizer does not).
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6,
                                   atol=1e-8)
        assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-7)
        np.testing.assert_allclose(ours.predict(X), ref.predict(X),
                                   rtol=1e-7, atol=1e-8)
        assert ours.n_iter_ >= 1 and ours.dual_gap_ >= 0


def test_lasso_warm_start_and_not_converged():
    X, y, _ = _regression(p=12)
    est = clearn.Lasso(alpha=0.01, warm_start=True, max_iter=1, tol=1e-12)
    with pytest.warns(clearn._lib.ConvergenceWarning, match="lasso"):
        est.fit(X, y)
    first = est.coef_.copy()
    est.set_params(max_iter=100000)
    est.fit(X, y)  # continues from `first`
    ref = sk.Lasso(alpha=0.01, tol=1e-12, max_iter=100000).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-9)
    assert not np.allclose(first, ref.coef_)


@pytest.mark.parametrize("with_mean", [True, False])
@pytest.mark.parametrize("with_std", [True, False])
def test_standard_scaler_parity(with_mean, with_std):
    from sklearn.preprocessing import StandardScaler
    X, _, w = _regression()
    X = X * [1, 10, 0.1, 5, 1, 1, 3] + 4
    ours = clearn.StandardScaler(with_mean=with_mean, with_std=with_std)
    ref = StandardScaler(with_mean=with_mean, with_std=with_std)
    Z = ours.fit(X, sample_weight=w).transform(X)
    np.testing.assert_allclose(Z, ref.fit(X, sample_weight=w).transform(X),
                               rtol=1e-12, atol=1e-12)
    for a in ("mean_", "scale_", "var_"):
        if getattr(ref, a) is None:
            assert getattr(ours, a) is None
        else:
            np.testing.assert_allclose(getattr(ours, a), getattr(ref, a),
                                       rtol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(Z), X, rtol=1e-12)
    np.testing.assert_allclose(ours.n_samples_seen_, ref.n_samples_seen_)


def test_linear_regression_rank_deficient():
    X, y, _ = _regression(n=50, p=4)
    X = np.hstack([X, X[:, :1] * 2.0])  # a dependent column
    ours = clearn.LinearRegression().fit(X, y)
    ref = sk.LinearRegression().fit(X, y)
    assert ours.rank_ == ref.rank_ == 4
    np.testing.assert_allclose(ours.singular_, ref.singular_, rtol=1e-10)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8, atol=1e-10)


def _classification(K, n=400, p=5, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    W = rng.standard_normal((p, K)) * 1.5
    y = np.argmax(X @ W + rng.gumbel(size=(n, K)), axis=1)
    return X, y, rng.uniform(0.5, 2.0, n)


@pytest.mark.parametrize("K", [2, 3])
@pytest.mark.parametrize("class_weight", [None, "balanced"])
@pytest.mark.parametrize("solver", ["lbfgs", "tron"])
def test_logistic_parity(K, class_weight, solver):
    X, y, w = _classification(K)
    ours = clearn.LogisticRegression(C=0.7, class_weight=class_weight,
                                     solver=solver, tol=1e-10, max_iter=500)
    ref = sk.LogisticRegression(C=0.7, class_weight=class_weight,
                                solver="newton-cg", tol=1e-10, max_iter=500)
    ours.fit(X, y, sample_weight=w)
    ref.fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ours.decision_function(X),
                               ref.decision_function(X), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    assert ours.n_iter_.shape == (1,) and ours.n_iter_[0] >= 1


def test_logistic_labels_and_dict_class_weight():
    X, y, _ = _classification(3)
    names = np.array(["cat", "dog", "eel"])[y]
    cw = {"cat": 1.0, "dog": 3.0, "eel": 0.5}
    ours = clearn.LogisticRegression(class_weight=cw, tol=1e-10).fit(X, names)
    ref = sk.LogisticRegression(class_weight=cw, solver="newton-cg",
                                tol=1e-10).fit(X, names)
    np.testing.assert_array_equal(ours.classes_, ["cat", "dog", "eel"])
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    # Integral labels that are not 0..K-1 go to C unchanged.
    ours = clearn.LogisticRegression().fit(X, y * 10 - 7)
    np.testing.assert_array_equal(ours.classes_, [-7, 3, 13])
    assert set(ours.predict(X)) <= {-7, 3, 13}


# ---- parameters ---------------------------------------------------------

def _classes():
    return [c for c in vars(clearn).values()
            if isinstance(c, type) and issubclass(c, ClearnEstimator)]


@pytest.mark.parametrize("cls", _classes(), ids=lambda c: c.__name__)
def test_init_lists_the_c_parameters_with_c_defaults(cls):
    """Every parameter of the C kind is an __init__ argument whose default
    is the C default; the rest are the documented Python-only ones."""
    params = cls().get_params()
    listing = _lib.param_listing(cls._kind)
    for name, typ, default, _rng, _help in listing:
        assert name in params, "%s lacks C parameter %s" % (cls.__name__,
                                                            name)
        want = cls._param_from_text(name, typ, default)
        assert params[name] == want, (name, params[name], want)
    extra = set(params) - {row[0] for row in listing}
    assert extra <= set(cls._python_params), extra


def test_get_set_params_clone():
    r = clearn.Ridge(alpha=3.0)
    assert r.get_params() == {"alpha": 3.0, "fit_intercept": True,
                              "comm": None}
    assert r.set_params(alpha=0.5, fit_intercept=False) is r
    c = clone(r)
    assert c is not r and c.get_params() == r.get_params()
    X, y, _ = _regression()
    r.fit(X, y)
    assert not hasattr(clone(r), "coef_")


def test_not_fitted():
    X, _, _ = _regression()
    for cls in LINEAR:
        with pytest.raises(clearn.NotFittedError, match="not fitted yet"):
            cls().predict(X)


# ---- errors carry the C message ----------------------------------------

def test_errors_carry_the_c_message():
    X, y, _ = _regression()
    with pytest.raises(ValueError) as e:
        clearn.Ridge(alpha=-1).fit(X, y)
    assert str(e.value) == "ridge: parameter 'alpha' = -1: must be >= 0"
    assert e.value.status == _lib.EPARAM
    assert e.value.status_name == "CLEARN_EPARAM"
    assert isinstance(e.value, clearn.ClearnValueError)
    # C's parser reports the text it was given and the allowed choices.
    with pytest.raises(ValueError, match="logistic_regression: parameter "
                       "'solver'.*newton.*lbfgs\\|tron"):
        clearn.LogisticRegression(solver="newton").fit(X, y > 0)
    with pytest.raises(ValueError, match="y holds one class only"):
        clearn.LogisticRegression().fit(X, np.ones(len(X)))
    # Non-finite input is found by C (one pass over X, not two), whose
    # message names the element.
    Xn = X.copy()
    Xn[17, 3] = np.inf
    with pytest.raises(ValueError) as e:
        clearn.Ridge().fit(Xn, y)
    assert str(e.value) == ("ridge: X[17, 3] = inf is not finite (input "
                            "contains NaN or infinity)")
    assert e.value.status == _lib.ENUMERIC
    with pytest.raises(clearn.ClearnIOError) as e:
        clearn.Ridge.load("/nonexistent/dir/model.h5")
    assert "cannot open '/nonexistent/dir/model.h5'" in str(e.value)
    assert e.value.status == _lib.EIO


def test_lasso_kind_errors_name_the_kinds():
    with pytest.raises(ValueError, match="unknown estimator kind 'nope' "
                       "\\(known: .*ridge"):
        _lib.Handle.create("nope")


# ---- persistence ----------------------------------------------------------

@pytest.mark.parametrize("cls", LINEAR + [clearn.StandardScaler],
                         ids=lambda c: c.__name__)
def test_pickle_and_save_load(cls, tmp_path):
    if cls is clearn.StandardScaler:
        X, y, w = _regression()
        est = cls(with_mean=False)
    elif cls is clearn.LogisticRegression:
        X, y, w = _classification(3)
        est = cls(C=0.3)
    else:
        X, y, w = _regression()
        est = cls()
    est.fit(X, y, sample_weight=w)
    out = (lambda e, X: e.transform(X)) if cls is clearn.StandardScaler \
        else (lambda e, X: e.predict(X))
    back = pickle.loads(pickle.dumps(est))
    assert back.get_params() == est.get_params()
    np.testing.assert_array_equal(out(back, X), out(est, X))
    # The pickle holds the C model file bytes; unpickled, the C handle is a
    # new one, not shared.
    assert back._handle.ptr.value != est._handle.ptr.value
    path = tmp_path / "m.h5"
    est.save(path)
    loaded = cls.load(path)
    assert loaded.get_params() == est.get_params()
    np.testing.assert_array_equal(out(loaded, X), out(est, X))
    # The bytes are the model file: h5py reads the schema.
    h5py = pytest.importorskip("h5py")
    blob = est._to_bytes()
    with h5py.File(io.BytesIO(blob), "r") as f:
        assert f.attrs["format"] == b"clearn.model"
        assert f.attrs["kind"] == cls._kind.encode()
        assert f.attrs["schema_version"] == 1
    # Unfitted estimators pickle too (parameters only).
    u = pickle.loads(pickle.dumps(cls()))
    assert u.get_params() == cls().get_params()


def test_load_wrong_kind_and_corrupt_bytes(tmp_path):
    from clearn._base import loads_handle
    X, y, _ = _regression()
    r = clearn.Ridge().fit(X, y)
    r.save(tmp_path / "r.h5")
    with pytest.raises(ValueError, match="holds a 'ridge' model, expected "
                       "'linear_regression'") as e:
        clearn.LinearRegression.load(tmp_path / "r.h5")
    assert e.value.status == _lib.EKIND
    blob = bytearray(r._to_bytes())
    with pytest.raises(clearn.ClearnFormatError, match="not an HDF5 model "
                       "image") as e:
        loads_handle(b"garbage" * 10, "ridge")
    assert e.value.status == _lib.EFORMAT
    with pytest.raises(clearn.ClearnFormatError, match="truncated or "
                       "corrupt"):
        loads_handle(bytes(blob[: len(blob) // 2]), "ridge")
    # The bytes carry the model file's schema version: a newer one is
    # refused (CLEARN_EVERSION) with the C message, for pickles as for files.
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "r.h5", "r+") as f:
        f.attrs["schema_version"] = np.int64(99)
    newer = (tmp_path / "r.h5").read_bytes()
    with pytest.raises(clearn.ClearnFormatError, match="schema version 99 "
                       "is not supported") as e:
        loads_handle(newer, "ridge")
    assert e.value.status == _lib.EVERSION
    state = r.__getstate__()
    state["_clearn_model"] = newer
    with pytest.raises(clearn.ClearnFormatError, match="schema version 99"):
        clearn.Ridge().__setstate__(state)
    state["_clearn_model"] = bytes(blob[:100])
    with pytest.raises(clearn.ClearnFormatError):
        clearn.Ridge().__setstate__(state)


# ---- arrays -----------------------------------------------------------------

def test_zero_copy_views():
    X = np.ascontiguousarray(np.random.default_rng(0).random((50, 3)))
    m = _lib.Matrix(X)
    assert _lib.lib.clearn_matrix_data(m.ptr) == X.ctypes.data
    m.free()
    f32 = X.astype(np.float32)
    m = _lib.Matrix(f32)
    assert _lib.lib.clearn_matrix_data(m.ptr) == f32.ctypes.data
    assert _lib.lib.clearn_matrix_dtype(m.ptr) == _lib.FLOAT32
    m.free()
    # sklearn's validation keeps a C-contiguous float64 array as it is, so
    # fit passes the caller's buffer to C.
    r = clearn.Ridge()
    Xv = r._validate_data(X, dtype=np.float64, order="C")
    assert Xv is X or Xv.ctypes.data == X.ctypes.data


def test_read_only_and_memmap(tmp_path):
    X, y, _ = _regression()
    path = tmp_path / "X.npy"
    np.save(path, X)
    Xm = np.load(path, mmap_mode="r")
    assert not Xm.flags.writeable
    a = clearn.Ridge().fit(Xm, y)
    b = clearn.Ridge().fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.predict(Xm), b.predict(X))
    X.setflags(write=False)
    np.testing.assert_array_equal(clearn.Ridge().fit(X, y).coef_, b.coef_)


def test_float32_and_fortran_inputs_match():
    X, y, _ = _regression()
    X32 = X.astype(np.float32)
    a = clearn.Ridge().fit(X32, y)
    b = clearn.Ridge().fit(X32.astype(np.float64), y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    c = clearn.Ridge().fit(np.asfortranarray(X), y)
    np.testing.assert_array_equal(c.coef_, clearn.Ridge().fit(X, y).coef_)


# ---- threads -----------------------------------------------------------------

def _gil_probe(work):
    """Run work() in a thread while this thread counts; return the C-call
    duration seen by the worker and the longest pause of the counter
    during it."""
    times = []
    span = {}
    done = threading.Event()

    def run():
        span["t0"] = time.perf_counter()
        work()
        span["t1"] = time.perf_counter()
        done.set()

    t = threading.Thread(target=run)
    t.start()
    while not done.is_set():
        times.append(time.perf_counter())
    t.join()
    ts = np.array([x for x in times if span["t0"] <= x <= span["t1"]])
    gaps = np.diff(np.concatenate([[span["t0"]], ts, [span["t1"]]]))
    return span["t1"] - span["t0"], gaps.max(), len(ts)


def test_gil_released_during_fit():
    """A fit of several tenths of a second in one thread: the other thread
    keeps counting throughout (with the GIL held it would stall for the
    whole C call)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30_000, 100))  # ~0.5 s of SVD on one thread
    y = X[:, 0] + rng.standard_normal(len(X))
    old = clearn.get_num_threads()
    clearn.set_num_threads(1)  # leave a core to the counting thread
    try:
        est = clearn.LinearRegression()
        duration, gap, n = _gil_probe(lambda: est.fit(X, y))
        assert duration > 0.2, "fit too short to tell (%.3f s)" % duration
        assert n > 1000
        assert gap < 0.25 * duration, (gap, duration)
    finally:
        clearn.set_num_threads(old)


def test_concurrent_fits_in_threads():
    """Distinct estimators fitted from several threads at once (the C
    library allows distinct handles on distinct threads; the GIL is not
    held): each gets its own data's model."""
    from concurrent.futures import ThreadPoolExecutor
    problems = [_regression(n=2000, p=20, seed=s) for s in range(6)]

    def fit(k):
        X, y, w = problems[k]
        return clearn.Ridge(alpha=0.1 * (k + 1)).fit(X, y, sample_weight=w)

    with ThreadPoolExecutor(4) as pool:
        models = list(pool.map(fit, range(6)))
    for k, (X, y, w) in enumerate(problems):
        ref = sk.Ridge(alpha=0.1 * (k + 1), solver="cholesky").fit(
            X, y, sample_weight=w)
        np.testing.assert_allclose(models[k].coef_, ref.coef_, rtol=1e-9)
