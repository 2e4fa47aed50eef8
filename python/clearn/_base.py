"""The generic estimator over a clearn_estimator handle.

A subclass names its C kind (``_kind``) and lists its parameters in
``__init__`` (scikit-learn needs the explicit signature); everything else is
generic and driven by the C parameter listing
(clearn_estimator_param_count / _param_info): at fit every parameter the C
kind lists is passed by name as text, so C parses and range-checks it and
its message names the parameter, the value and the allowed range.  Python-
only parameters (``comm``, ``callback``, ``verbose``) are listed in
``_python_params``.  A new C kind therefore needs a thin class: its
``__init__`` and, where it differs, how fitted attributes are read.
"""
import ctypes
import warnings

import numpy as np
from sklearn.base import BaseEstimator

from . import _lib, _mpi
from ._lib import (ConvergenceWarning, Handle, Matrix, lib, raise_for,
                   take_matrix)


# scikit-learn's validation of X as the C calls take it: C-contiguous
# float64 (kept as it is, without a copy, when it already is).  Its finite
# check is left to C, which makes it anyway (on clearn's threads): one pass
# over X instead of two; C's error names the first bad element.
VALIDATE = {"dtype": np.float64, "order": "C", "force_all_finite": False}


class ClearnEstimator(BaseEstimator):
    """Base of the clearn estimators (not for direct use)."""

    _kind = None
    _python_params = ()

    # ---- parameters -------------------------------------------------------

    @classmethod
    def _c_param_listing(cls):
        return _lib.param_listing(cls._kind)

    @classmethod
    def _param_from_text(cls, name, typ, text):
        """The Python value of a C parameter's text (the inverse of
        _param_to_text); subclasses map "none" to None and the like."""
        return _lib.parse_default(typ, text)

    def _param_to_text(self, name, typ, value):
        """Text for C of one parameter; subclasses map Python-side values
        (None, dicts) here."""
        return _lib.format_param(typ, value)

    def _new_handle(self):
        """An unfitted C estimator carrying this object's parameters."""
        h = Handle.create(self._kind)
        self._set_c_params(h)
        return h

    def _set_c_params(self, h):
        params = self.get_params(deep=False)
        for name, typ, _d, _r, _h in self._c_param_listing():
            if name not in params:
                continue
            text = self._param_to_text(name, typ, params[name])
            if text is None:
                continue
            rc = lib.clearn_estimator_set_param_string(
                h.ptr, name.encode(), str(text).encode())
            raise_for(rc, h.ptr)

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        comm = params.get("comm")
        if comm is not None:
            _mpi.keep_comm_on_copy(comm)
        return params

    # ---- fitted state -------------------------------------------------------

    def _fitted_handle(self):
        h = self.__dict__.get("_handle")
        if h is None:
            raise _lib.ClearnNotFittedError(
                "This %s instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
                % type(self).__name__, _lib.ENOTFITTED)
        return h

    def _attr(self, name):
        """OWNED copy of a C fitted attribute as a numpy array."""
        h = self._fitted_handle()
        out = ctypes.c_void_p()
        raise_for(lib.clearn_estimator_get_attr(h.ptr, name.encode(),
                                                ctypes.byref(out)), h.ptr)
        return take_matrix(out)

    @staticmethod
    def _check_fit_status(rc, h):
        if rc == _lib.ENOTCONVERGED:
            msg = lib.clearn_estimator_errmsg(h.ptr).decode(errors="replace")
            warnings.warn(msg or "clearn: the solver did not converge",
                          ConvergenceWarning)
            return
        raise_for(rc, h.ptr)

    def _call_matrix(self, fn, X):
        """One of predict / predict_proba / decision_function / transform."""
        h = self._fitted_handle()
        m = Matrix(X)
        out = ctypes.c_void_p()
        rc = fn(h.ptr, m.ptr, ctypes.byref(out))
        m.free()
        raise_for(rc, h.ptr)
        return take_matrix(out)

    # ---- persistence --------------------------------------------------------

    def _to_bytes(self):
        return dumps_handle(self._fitted_handle())

    def save(self, path):
        """Write the fitted model to an HDF5 model file (the C library's
        clearn_estimator_save: docs/model-format.md), readable by ``load``,
        the ``clearn`` command line and any program using the C API."""
        h = self._fitted_handle()
        raise_for(lib.clearn_estimator_save(h.ptr, str(path).encode()), h.ptr)

    @classmethod
    def load(cls, path):
        """An estimator of this class from a clearn HDF5 model file (written
        by ``save``, the C API or the ``clearn`` command line); a file of
        another kind raises ValueError (CLEARN_EKIND)."""
        h = load_handle(path, cls._kind)
        est = cls(**params_from_handle(cls, h))
        est._handle = h
        est._read_fitted()
        return est

    def __getstate__(self):
        # A copy: on Python 3.11 object.__getstate__ (which sklearn's calls)
        # returns the instance's own __dict__.
        state = dict(super().__getstate__())
        if state.get("comm") is not None:
            state["comm"] = None  # a communicator lives in one process
        h = state.pop("_handle", None)
        if h is not None:
            state["_clearn_model"] = dumps_handle(h)
        return state

    def __setstate__(self, state):
        blob = state.pop("_clearn_model", None)
        super().__setstate__(state)
        if blob is not None:
            self._handle = loads_handle(blob, self._kind)

    def _more_tags(self):
        return {"X_types": ["2darray"]}


def dumps_handle(h):
    """The model file bytes of a handle (clearn_estimator_save_bytes)."""
    if not _lib.HAVE_BYTES:
        raise _lib.ClearnUnsupportedError(
            "this libclearn has no clearn_estimator_save_bytes (older "
            "version): pickling needs it", _lib.EUNSUPPORTED)
    buf, n = ctypes.c_void_p(), ctypes.c_size_t()
    raise_for(lib.clearn_estimator_save_bytes(h.ptr, ctypes.byref(buf),
                                              ctypes.byref(n)), h.ptr)
    try:
        return ctypes.string_at(buf, n.value)
    finally:
        lib.clearn_free(buf)


def loads_handle(blob, kind):
    """A handle from model file bytes, which must hold `kind`."""
    if not _lib.HAVE_BYTES:
        raise _lib.ClearnUnsupportedError(
            "this libclearn has no clearn_estimator_load_bytes (older "
            "version): unpickling needs it", _lib.EUNSUPPORTED)
    p = ctypes.c_void_p()
    raise_for(lib.clearn_estimator_load_bytes(blob, len(blob),
                                              kind.encode() if kind else None,
                                              ctypes.byref(p)))
    return Handle(p)


def load_handle(path, kind):
    p = ctypes.c_void_p()
    raise_for(lib.clearn_estimator_load(str(path).encode(),
                                        kind.encode() if kind else None,
                                        ctypes.byref(p)))
    return Handle(p)


def params_from_handle(cls, h):
    """Constructor arguments of cls read back from a (loaded) handle."""
    kwargs = {}
    init = cls().get_params(deep=False)
    for name, typ, _d, _r, _h in _lib.param_listing(cls._kind):
        if name not in init:
            continue
        buf = ctypes.create_string_buffer(256)
        raise_for(lib.clearn_estimator_get_param_string(
            h.ptr, name.encode(), buf, 256, None), h.ptr)
        kwargs[name] = cls._param_from_text(name, typ, buf.value.decode())
    return kwargs


def as_f64(a):
    """C-contiguous float64 without a copy when it already is one."""
    return np.ascontiguousarray(a, dtype=np.float64)
