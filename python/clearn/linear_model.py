"""Linear models over the C kinds linear_regression, ridge,
logistic_regression (and lasso / elastic_net when the library has them).

Inputs go through scikit-learn's own validation (``_validate_data``), so
the classes accept what scikit-learn accepts (lists, DataFrames with
feature names, read-only arrays, memmaps) and reject what it rejects with
its messages.  A C-contiguous float64 X is passed to C in place, without a
copy; other dtypes and layouts are converted once.  With ``comm`` (an
mpi4py communicator) each rank passes its own rows and the fit runs over
the ranks (clearn_mpi_estimator_fit); every rank ends with the same model.
"""
import ctypes

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, column_or_1d

from . import _lib
from ._base import VALIDATE, ClearnEstimator, as_f64
from ._lib import Matrix, lib, raise_for


class _LinearBase(ClearnEstimator):
    """fit / predict / score and persistence shared by the linear models."""

    _python_params = ("comm",)

    def _fit_c(self, X, Y, w):
        """Fit a new handle on X (n x p), Y (n x t), w (n,) or None; with
        warm_start, refit the current handle (C starts from its model)."""
        h = self.__dict__.get("_handle")
        if h is not None and getattr(self, "warm_start", False):
            self._set_c_params(h)
        else:
            h = self._new_handle()
        mx, my = Matrix(X), Matrix(Y)
        mw = Matrix(w) if w is not None else None
        comm = getattr(self, "comm", None)
        if comm is not None:
            from ._mpi import fhandle
            rc = _lib.mpi_lib().clearn_mpi_estimator_fit_f(
                h.ptr, fhandle(comm), mx.ptr, my.ptr, mw.ptr if mw else None)
        else:
            rc = lib.clearn_estimator_fit(h.ptr, mx.ptr, my.ptr,
                                          mw.ptr if mw else None)
        self._check_fit_status(rc, h)
        return h

    def _score_c(self, X, Y, sample_weight):
        h = self._fitted_handle()
        w = None
        if sample_weight is not None:
            w = _check_sample_weight(sample_weight, X, dtype=np.float64)
        mx, my = Matrix(X), Matrix(Y.reshape(len(Y), -1))
        mw = Matrix(w) if w is not None else None
        out = ctypes.c_double()
        if getattr(self, "comm", None) is not None:
            from ._mpi import fhandle
            rc = _lib.mpi_lib().clearn_mpi_estimator_score_f(
                h.ptr, fhandle(self.comm), mx.ptr, my.ptr,
                mw.ptr if mw else None, ctypes.byref(out))
        else:
            rc = lib.clearn_estimator_score(h.ptr, mx.ptr, my.ptr,
                                            mw.ptr if mw else None,
                                            ctypes.byref(out))
        raise_for(rc, h.ptr)
        return out.value



class _LinearRegressorBase(RegressorMixin, _LinearBase):

    def _more_tags(self):
        return {"multioutput": True}

    def fit(self, X, y, sample_weight=None):
        """Fit on X (n_samples, n_features) and y (n_samples,) or
        (n_samples, n_targets); returns self."""
        X, y = self._validate_data(X, y, **VALIDATE, multi_output=True,
                                   y_numeric=True)
        Y = as_f64(y)
        self._y_ndim = Y.ndim
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        w = None
        if sample_weight is not None:
            w = _check_sample_weight(sample_weight, X, dtype=np.float64)
        self._handle = self._fit_c(X, Y, w)
        self._read_fitted()
        return self

    def _read_fitted(self):
        coef = self._attr("coef")
        intercept = self._attr("intercept").reshape(-1)
        if not hasattr(self, "_y_ndim"):
            self._y_ndim = 1 if coef.shape[0] == 1 else 2
        if self._y_ndim == 1:
            self.coef_ = coef[0].copy()
            self.intercept_ = float(intercept[0])
        else:
            self.coef_ = coef
            # scikit-learn's scalar 0.0 when no intercept is fitted
            self.intercept_ = intercept if self.fit_intercept else 0.0
        if not hasattr(self, "n_features_in_"):
            self.n_features_in_ = coef.shape[1]

    def predict(self, X):
        """Predicted values: (n_samples,) or (n_samples, n_targets)."""
        self._fitted_handle()
        X = self._validate_data(X, **VALIDATE, reset=False)
        out = self._call_matrix(lib.clearn_estimator_predict, X)
        return out.reshape(-1) if self._y_ndim == 1 else out

    def score(self, X, y, sample_weight=None):
        """R^2 (scikit-learn's r2_score, uniform average over targets),
        computed by the C library.  With ``comm``, each rank passes its own
        rows and every rank gets the R^2 over all of them (collective)."""
        X = self._validate_data(X, **VALIDATE, reset=False)
        return self._score_c(X, as_f64(y), sample_weight)


class LinearRegression(_LinearRegressorBase):
    """Ordinary least squares (C kind "linear_regression": minimum-norm
    solution by SVD, as scikit-learn's LinearRegression).

    Fitted attributes: coef_, intercept_, rank_, singular_, n_features_in_.
    Not available with ``comm`` (the SVD needs all rows in one process)."""

    _kind = "linear_regression"

    def __init__(self, *, fit_intercept=True, comm=None):
        self.fit_intercept = fit_intercept
        self.comm = comm

    def _read_fitted(self):
        super()._read_fitted()
        self.rank_ = int(self._attr("rank").reshape(-1)[0])
        self.singular_ = self._attr("singular").reshape(-1)


class Ridge(_LinearRegressorBase):
    """L2-regularized least squares (C kind "ridge", as scikit-learn's
    Ridge(solver="cholesky")).  Fitted: coef_, intercept_, n_features_in_."""

    _kind = "ridge"

    def __init__(self, alpha=1.0, *, fit_intercept=True, comm=None):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.comm = comm


class _CoordinateDescent(_LinearRegressorBase):
    """n_iter_ and dual_gap_ of the coordinate-descent kinds."""

    def _read_fitted(self):
        super()._read_fitted()
        n_iter = self._attr("n_iter").reshape(-1)
        gap = self._attr("dual_gap").reshape(-1)
        if self._y_ndim == 1:
            self.n_iter_, self.dual_gap_ = int(n_iter[0]), float(gap[0])
        else:
            self.n_iter_, self.dual_gap_ = n_iter.astype(int), gap


class Lasso(_CoordinateDescent):
    """L1-regularized least squares by coordinate descent (C kind "lasso",
    as scikit-learn's Lasso).  ``random_state`` is an integer seed (used
    with selection="random"), 0 by default as in C.  Fitted: coef_,
    intercept_, n_iter_, dual_gap_, n_features_in_."""

    _kind = "lasso"

    def __init__(self, alpha=1.0, *, fit_intercept=True, tol=1e-4,
                 max_iter=1000, selection="cyclic", random_state=0,
                 warm_start=False, comm=None):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.selection = selection
        self.random_state = random_state
        self.warm_start = warm_start
        self.comm = comm


class ElasticNet(_CoordinateDescent):
    """L1 + L2 regularized least squares (C kind "elastic_net", as
    scikit-learn's ElasticNet).  Fitted as Lasso."""

    _kind = "elastic_net"

    def __init__(self, alpha=1.0, *, l1_ratio=0.5, fit_intercept=True,
                 tol=1e-4, max_iter=1000, selection="cyclic", random_state=0,
                 warm_start=False, comm=None):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.selection = selection
        self.random_state = random_state
        self.warm_start = warm_start
        self.comm = comm


class LogisticRegression(ClassifierMixin, _LinearBase):
    """Binary and multinomial L2 logistic regression (C kind
    "logistic_regression", as scikit-learn's LogisticRegression).

    Labels may be any values scikit-learn accepts (ints, strings): they are
    mapped to 0..K-1 for C and back.  ``class_weight`` is None, "balanced"
    (computed in C) or a dict {label: weight} (applied as sample weights).
    Fitted: coef_ (1 or K, p), intercept_, classes_, n_iter_ (1,),
    n_features_in_."""

    _kind = "logistic_regression"

    def __init__(self, C=1.0, *, fit_intercept=True, solver="lbfgs",
                 class_weight=None, tol=1e-4, max_iter=100, comm=None):
        self.C = C
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.class_weight = class_weight
        self.tol = tol
        self.max_iter = max_iter
        self.comm = comm

    def _param_to_text(self, name, typ, value):
        if name == "class_weight":
            # A dict becomes sample weights; C sees "none".
            if value is None or isinstance(value, dict):
                return "none"
        return super()._param_to_text(name, typ, value)

    @classmethod
    def _param_from_text(cls, name, typ, text):
        if name == "class_weight" and text == "none":
            return None
        return _lib.parse_default(typ, text)

    def fit(self, X, y, sample_weight=None):
        """Fit on X (n_samples, n_features) and labels y; returns self."""
        X, y = self._validate_data(X, y, **VALIDATE)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        w = None
        if sample_weight is not None:
            w = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if isinstance(self.class_weight, dict):
            cw = np.ones(len(classes))
            for k, v in self.class_weight.items():
                where = np.flatnonzero(classes == k)
                if where.size:
                    cw[where[0]] = v
            w = cw[codes] * (w if w is not None else 1.0)
        self.classes_ = classes
        # Integral labels go to C as they are (so a saved model keeps them);
        # others (strings, 0.5) as their codes 0..K-1, mapped back here.
        self._codes = not (classes.dtype.kind in "iub" or (
            classes.dtype.kind == "f" and np.all(np.mod(classes, 1) == 0)
            and np.all(np.abs(classes) <= 2.0**53)))
        yc = codes if self._codes else y
        self._handle = self._fit_c(X, as_f64(yc).reshape(-1, 1), w)
        self._read_fitted(keep_classes=True)
        return self

    def _read_fitted(self, keep_classes=False):
        self.coef_ = self._attr("coef")
        self.intercept_ = self._attr("intercept").reshape(-1)
        self.n_iter_ = self._attr("n_iter").reshape(-1).astype(np.int32)
        if not keep_classes:  # a loaded model: C's classes are the labels
            self.classes_ = self._attr("classes").reshape(-1)
            self._codes = False
        if not hasattr(self, "n_features_in_"):
            self.n_features_in_ = self.coef_.shape[1]

    def _check_X(self, X):
        self._fitted_handle()
        return self._validate_data(X, **VALIDATE, reset=False)

    def decision_function(self, X):
        """Margins: (n_samples,) for two classes, else (n_samples, K)."""
        out = self._call_matrix(lib.clearn_estimator_decision_function,
                                self._check_X(X))
        return out.reshape(-1) if out.shape[1] == 1 else out

    def predict_proba(self, X):
        """Class probabilities (n_samples, K), columns in classes_ order."""
        return self._call_matrix(lib.clearn_estimator_predict_proba,
                                 self._check_X(X))

    def score(self, X, y, sample_weight=None):
        """Accuracy (weighted, as scikit-learn's accuracy_score).  With
        ``comm``, each rank passes its own rows and every rank gets the
        accuracy over all of them, computed by C (collective)."""
        if getattr(self, "comm", None) is None:
            return super().score(X, y, sample_weight=sample_weight)
        X = self._check_X(X)
        y = column_or_1d(y)
        if self._codes:  # labels as the codes C was fitted on (-1: unseen)
            pos = np.searchsorted(self.classes_, y)
            pos = np.minimum(pos, len(self.classes_) - 1)
            y = np.where(self.classes_[pos] == y, pos, -1)
        return self._score_c(X, as_f64(y), sample_weight)

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predicted labels (values of classes_)."""
        codes = self._call_matrix(lib.clearn_estimator_predict,
                                  self._check_X(X)).reshape(-1)
        if self._codes:
            return self.classes_[codes.astype(np.intp)]
        return codes.astype(self.classes_.dtype)
