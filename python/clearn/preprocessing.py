"""StandardScaler over the C kind "standard_scaler"."""
import numpy as np
from sklearn.base import TransformerMixin
from sklearn.utils.validation import _check_sample_weight

from ._base import VALIDATE, ClearnEstimator
from ._lib import Matrix, lib


class StandardScaler(TransformerMixin, ClearnEstimator):
    """Standardize features by removing the mean and scaling to unit
    variance (C kind "standard_scaler", as scikit-learn's StandardScaler,
    without its ``copy`` option: the output is always a new array).

    Fitted: mean_ (None if not with_mean), scale_ and var_ (None if not
    with_std), n_samples_seen_, n_features_in_."""

    _kind = "standard_scaler"

    def __init__(self, *, with_mean=True, with_std=True):
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X, y=None, sample_weight=None):
        """Compute the mean and scale of X; y is ignored.  Returns self."""
        X = self._validate_data(X, **VALIDATE)
        w = None
        if sample_weight is not None:
            w = _check_sample_weight(sample_weight, X, dtype=np.float64)
        h = self._new_handle()
        mx = Matrix(X)
        mw = Matrix(w) if w is not None else None
        rc = lib.clearn_estimator_fit(h.ptr, mx.ptr, None,
                                      mw.ptr if mw else None)
        self._check_fit_status(rc, h)
        self._handle = h
        self._read_fitted(n_rows=X.shape[0])
        return self

    def _read_fitted(self, n_rows=None):
        # None exactly where scikit-learn 1.2 has None: mean_ only when
        # neither centering nor scaling, scale_ and var_ without scaling.
        both_off = not self.with_mean and not self.with_std
        self.mean_ = None if both_off else self._attr("mean").reshape(-1)
        if self.with_std:
            self.scale_ = self._attr("scale").reshape(-1)
            self.var_ = self._attr("var").reshape(-1)
        else:
            self.scale_ = self.var_ = None
        n = self._attr("n_samples_seen").reshape(-1)[0]
        if both_off and n_rows is not None:
            n = n_rows  # scikit-learn counts rows, not weights, here
        self.n_samples_seen_ = int(n) if float(n).is_integer() else float(n)
        if not hasattr(self, "n_features_in_"):
            self.n_features_in_ = int(
                self._attr("n_features_in").reshape(-1)[0])

    def _check_X(self, X):
        self._fitted_handle()
        return self._validate_data(X, **VALIDATE, reset=False)

    def transform(self, X):
        """(X - mean_) / scale_, as a new float64 array."""
        return self._call_matrix(lib.clearn_estimator_transform,
                                 self._check_X(X))

    def inverse_transform(self, X):
        """X * scale_ + mean_."""
        return self._call_matrix(lib.clearn_estimator_inverse_transform,
                                 self._check_X(X))
