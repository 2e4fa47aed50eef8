"""clearn: scikit-learn-compatible estimators over the clearn C library.

    import clearn
    clearn.Ridge(alpha=0.5).fit(X, y).predict(X)

The estimators follow scikit-learn's conventions (get_params/set_params,
clone, fit returns self, fitted attributes ending in "_", pickling) and
run in the C library loaded with ctypes (see clearn._lib for where it is
looked for); the GIL is released during every C call.
"""
from ._lib import (ClearnError, ClearnFormatError, ClearnIOError,
                   ClearnMemoryError, ClearnMPIError, ClearnNotFittedError,
                   ClearnUnsupportedError, ClearnValueError, NotFittedError,
                   kinds, library_path, version)
from .linear_model import (ElasticNet, Lasso, LinearRegression,
                           LogisticRegression, Ridge)
from .preprocessing import StandardScaler
from .recommender import ALS
from . import datasets

__version__ = "0.1.0"

__all__ = ["LinearRegression", "Ridge", "Lasso", "ElasticNet",
           "LogisticRegression", "StandardScaler", "ALS", "datasets",
           "ClearnError", "ClearnValueError", "ClearnNotFittedError",
           "ClearnIOError", "ClearnFormatError", "ClearnMemoryError",
           "ClearnUnsupportedError", "ClearnMPIError", "NotFittedError",
           "kinds", "version", "library_path", "set_num_threads",
           "get_num_threads"]


def set_num_threads(n):
    """Threads of clearn's BLAS and parallel loops (n <= 0: all cores)."""
    from ._lib import lib, raise_for
    raise_for(lib.clearn_set_num_threads(int(n)))


def get_num_threads():
    from ._lib import lib
    return lib.clearn_get_num_threads()
