"""Loading libclearn.so, the ctypes prototypes of the C API, and errors.

Why ctypes (as XGBoost and LightGBM do) and not a C extension: nothing is
compiled against Python's headers, so the package is pure Python and works
with any CPython 3 that can load the shared library; and every call through
a ``ctypes.CDLL`` function releases the GIL for its duration, so fits and
predictions in one thread never stop the other Python threads.

The library is found, in order, at
  1. ``$CLEARN_LIBRARY`` (a path to libclearn.so),
  2. a libclearn.so copied into the package directory,
  3. the build tree of the source checkout the package sits in
     (``<repo>/build/libclearn.so``),
  4. the dynamic loader's search path (``ldconfig``, ``LD_LIBRARY_PATH``)
     and the usual install prefixes (/usr/local/lib, /usr/lib).
libclearn_mpi.so (only for ``comm=``) is looked for at
``$CLEARN_MPI_LIBRARY``, then beside libclearn.so, then on the loader's
path.
"""
import ctypes
import ctypes.util
import os
import threading

import numpy as np

try:  # scikit-learn's own classes, so sklearn's tools recognise them
    from sklearn.exceptions import ConvergenceWarning, NotFittedError
except ImportError:  # pragma: no cover - sklearn is a hard dependency
    class NotFittedError(ValueError, AttributeError):
        """Estimator used before fit."""

    class ConvergenceWarning(UserWarning):
        """Iterative fit stopped at max_iter."""

c_void_p = ctypes.c_void_p
c_char_p = ctypes.c_char_p
c_int = ctypes.c_int
c_int64 = ctypes.c_int64
c_double = ctypes.c_double
c_size_t = ctypes.c_size_t
P = ctypes.POINTER

# Status codes (include/clearn/core.h): fixed numeric values.
OK = 0
EINVAL, ENOMEM, EPARAM, ENOTFITTED, ESHAPE, EIO, EFORMAT, EKIND = 1, 2, 3, 4, 5, 6, 7, 8
EVERSION, ENUMERIC, EUNSUPPORTED, EMPI, ENOTCONVERGED = 9, 10, 11, 12, 13
STATUS_NAMES = {
    EINVAL: "CLEARN_EINVAL", ENOMEM: "CLEARN_ENOMEM", EPARAM: "CLEARN_EPARAM",
    ENOTFITTED: "CLEARN_ENOTFITTED", ESHAPE: "CLEARN_ESHAPE",
    EIO: "CLEARN_EIO", EFORMAT: "CLEARN_EFORMAT", EKIND: "CLEARN_EKIND",
    EVERSION: "CLEARN_EVERSION", ENUMERIC: "CLEARN_ENUMERIC",
    EUNSUPPORTED: "CLEARN_EUNSUPPORTED", EMPI: "CLEARN_EMPI",
    ENOTCONVERGED: "CLEARN_ENOTCONVERGED",
}
FLOAT64, FLOAT32, INT64, INT32 = 1, 2, 3, 4
PARAM_BOOL, PARAM_INT, PARAM_DOUBLE, PARAM_STRING = 1, 2, 3, 4

PROGRESS_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_int, P(c_char_p),
                               P(c_double), c_int)


# ---- errors ---------------------------------------------------------------

class ClearnError(Exception):
    """Base of every exception raised for a C status.

    ``status`` is the numeric code, ``status_name`` its CLEARN_* name; the
    message is the C library's context message.  Each concrete class also
    derives from the matching built-in exception, so ``except ValueError``
    works as with scikit-learn.
    """

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status
        self.status_name = STATUS_NAMES.get(status, "unknown")


class ClearnValueError(ClearnError, ValueError):
    """Invalid argument, parameter, shape, kind or non-finite data."""


class ClearnNotFittedError(ClearnError, NotFittedError):
    """Estimator used before fit (CLEARN_ENOTFITTED)."""


class ClearnIOError(ClearnError, OSError):
    """A file could not be opened, read or written (CLEARN_EIO)."""


class ClearnFormatError(ClearnError, ValueError):
    """Not a clearn file, corrupt, or a newer schema (EFORMAT, EVERSION)."""


class ClearnMemoryError(ClearnError, MemoryError):
    """Allocation failed (CLEARN_ENOMEM)."""


class ClearnUnsupportedError(ClearnError, NotImplementedError):
    """The estimator kind does not offer the call (CLEARN_EUNSUPPORTED)."""


class ClearnMPIError(ClearnError, RuntimeError):
    """An MPI call or a peer rank failed (CLEARN_EMPI)."""


_EXC = {
    EINVAL: ClearnValueError, EPARAM: ClearnValueError,
    ESHAPE: ClearnValueError, EKIND: ClearnValueError,
    ENUMERIC: ClearnValueError, ENOTFITTED: ClearnNotFittedError,
    EIO: ClearnIOError, EFORMAT: ClearnFormatError,
    EVERSION: ClearnFormatError, ENOMEM: ClearnMemoryError,
    EUNSUPPORTED: ClearnUnsupportedError, EMPI: ClearnMPIError,
}


# ---- locating and loading the library ---------------------------------------

def _candidates():
    env = os.environ.get("CLEARN_LIBRARY")
    if env:
        return [env]  # an explicit choice is never second-guessed
    here = os.path.dirname(os.path.abspath(__file__))
    out = []
    for name in sorted(os.listdir(here)):
        if name.startswith("libclearn.so"):
            out.append(os.path.join(here, name))
    repo = os.path.dirname(os.path.dirname(here))
    out.append(os.path.join(repo, "build", "libclearn.so"))
    found = ctypes.util.find_library("clearn")
    if found:
        out.append(found)
    out += ["libclearn.so.0", "/usr/local/lib/libclearn.so.0",
            "/usr/local/lib/x86_64-linux-gnu/libclearn.so.0"]
    return out


def _load():
    errors = []
    for path in _candidates():
        if os.path.isabs(path) and not os.path.exists(path):
            errors.append("%s: no such file" % path)
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            errors.append(str(e))
    raise ImportError(
        "clearn: cannot load libclearn.so (build the C library with cmake "
        "and set CLEARN_LIBRARY=/path/to/libclearn.so); tried:\n  "
        + "\n  ".join(errors))


lib, library_path = _load()


def _proto(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_proto("clearn_version_string", c_char_p)
_proto("clearn_version_number", c_int)
_proto("clearn_status_str", c_char_p, c_int)
_proto("clearn_last_error", c_char_p)
_proto("clearn_set_num_threads", c_int, c_int)
_proto("clearn_get_num_threads", c_int)
# matrices
_proto("clearn_matrix_wrap", c_int, c_void_p, c_int64, c_int64, c_int,
       P(c_void_p))
_proto("clearn_matrix_free", None, c_void_p)
_proto("clearn_matrix_rows", c_int64, c_void_p)
_proto("clearn_matrix_cols", c_int64, c_void_p)
_proto("clearn_matrix_dtype", c_int, c_void_p)
_proto("clearn_matrix_data", c_void_p, c_void_p)
# estimators
_proto("clearn_kind_count", c_int)
_proto("clearn_kind_name", c_char_p, c_int)
_proto("clearn_estimator_create", c_int, c_char_p, P(c_void_p))
_proto("clearn_estimator_free", None, c_void_p)
_proto("clearn_estimator_kind", c_char_p, c_void_p)
_proto("clearn_estimator_errmsg", c_char_p, c_void_p)
_proto("clearn_estimator_set_param_string", c_int, c_void_p, c_char_p,
       c_char_p)
_proto("clearn_estimator_get_param_string", c_int, c_void_p, c_char_p,
       c_char_p, c_size_t, P(c_size_t))
_proto("clearn_estimator_param_count", c_int, c_void_p)
_proto("clearn_estimator_param_info", c_int, c_void_p, c_int, P(c_char_p),
       P(c_int), P(c_char_p), P(c_char_p), P(c_char_p))
_proto("clearn_estimator_fit", c_int, c_void_p, c_void_p, c_void_p, c_void_p)
for _n in ("predict", "predict_proba", "decision_function", "transform",
           "inverse_transform"):
    _proto("clearn_estimator_" + _n, c_int, c_void_p, c_void_p, P(c_void_p))
_proto("clearn_estimator_score", c_int, c_void_p, c_void_p, c_void_p,
       c_void_p, P(c_double))
_proto("clearn_estimator_is_fitted", c_int, c_void_p)
_proto("clearn_estimator_attr_count", c_int, c_void_p)
_proto("clearn_estimator_attr_name", c_char_p, c_void_p, c_int)
_proto("clearn_estimator_get_attr", c_int, c_void_p, c_char_p, P(c_void_p))
_proto("clearn_estimator_save", c_int, c_void_p, c_char_p)
_proto("clearn_estimator_load", c_int, c_char_p, c_char_p, P(c_void_p))
HAVE_BYTES = hasattr(lib, "clearn_estimator_save_bytes")
if HAVE_BYTES:
    _proto("clearn_estimator_save_bytes", c_int, c_void_p, P(c_void_p),
           P(c_size_t))
    _proto("clearn_estimator_load_bytes", c_int, c_void_p, c_size_t, c_char_p,
           P(c_void_p))
    _proto("clearn_free", None, c_void_p)
# ratings and recommenders
_proto("clearn_ratings_from_triples", c_int, c_void_p, c_void_p, c_void_p,
       c_int64, P(c_void_p))
_proto("clearn_ratings_free", None, c_void_p)
_proto("clearn_ratings_nnz", c_int64, c_void_p)
_proto("clearn_ratings_n_users", c_int64, c_void_p)
_proto("clearn_ratings_n_items", c_int64, c_void_p)
_proto("clearn_ratings_triples", c_int, c_void_p, c_void_p, c_void_p,
       c_void_p)
_proto("clearn_ratings_load_text", c_int, c_char_p, c_char_p, c_int,
       P(c_int64), P(c_void_p))
_proto("clearn_ratings_load", c_int, c_char_p, P(c_void_p))
_proto("clearn_ratings_generate", c_int, c_int64, c_int64, c_int64, c_int64,
       c_int, c_double, c_int, ctypes.c_uint64, P(c_void_p))
_proto("clearn_ratings_split_hash", c_int, c_void_p, c_double,
       ctypes.c_uint64, P(c_void_p), P(c_void_p))
_proto("clearn_estimator_set_progress", c_int, c_void_p, PROGRESS_FN,
       c_void_p)
_proto("clearn_estimator_fit_ratings", c_int, c_void_p, c_void_p, c_void_p)
_proto("clearn_estimator_predict_pairs", c_int, c_void_p, c_void_p, c_void_p,
       c_int64, c_void_p)
_proto("clearn_estimator_score_ratings", c_int, c_void_p, c_void_p, c_char_p,
       P(c_double), P(c_int64))
_proto("clearn_estimator_recommend", c_int, c_void_p, c_void_p, c_int64,
       c_int64, c_void_p, c_void_p, c_void_p)
_proto("clearn_estimator_similar_items", c_int, c_void_p, c_int64, c_int64,
       c_void_p, c_void_p)


def version():
    """Version string of the loaded C library, e.g. "0.1.0"."""
    return lib.clearn_version_string().decode()


def status_str(status):
    return lib.clearn_status_str(status).decode()


def last_error():
    """The calling thread's last C error message ("" if none)."""
    return lib.clearn_last_error().decode(errors="replace")


def raise_for(rc, handle=None, what=None):
    """Raise the exception for status rc, carrying the C message.

    The message comes from the handle when there is one (it outlives later
    calls on other handles), else from the thread's last-error slot; ctypes
    runs the call on the calling OS thread, so that slot is ours."""
    if rc == OK:
        return
    msg = ""
    if handle:
        msg = lib.clearn_estimator_errmsg(handle).decode(errors="replace")
    if not msg:
        msg = last_error()
    if not msg:
        msg = status_str(rc)
    if what:
        msg = "%s: %s" % (what, msg)
    if rc == ENUMERIC and msg.endswith("is not finite"):
        # scikit-learn's wording too, which its checks (and users) look for
        msg += " (input contains NaN or infinity)"
    raise _EXC.get(rc, ClearnError)(msg, rc)


# ---- arrays <-> clearn_matrix ---------------------------------------------

_DTYPES = {np.dtype(np.float64): FLOAT64, np.dtype(np.float32): FLOAT32,
           np.dtype(np.int64): INT64, np.dtype(np.int32): INT32}
_NP = {FLOAT64: np.float64, FLOAT32: np.float32, INT64: np.int64,
       INT32: np.int32}


class Matrix:
    """A borrowed clearn_matrix view of a C-contiguous numpy array.

    The array is not copied: clearn reads it in place (const), so read-only
    arrays and memory maps work.  The view keeps a reference to the array
    for as long as the handle lives."""

    __slots__ = ("ptr", "array")

    def __init__(self, array):
        a = np.asarray(array)
        if a.ndim == 1:
            a = a.reshape(-1, 1)
        if a.ndim != 2 or not a.flags.c_contiguous or a.dtype not in _DTYPES:
            raise TypeError("Matrix needs a C-contiguous 2-D array of "
                            "float64/float32/int64/int32")
        self.array = a
        self.ptr = c_void_p()
        data = a.ctypes.data if a.size else None
        rc = lib.clearn_matrix_wrap(data, a.shape[0], a.shape[1],
                                    _DTYPES[a.dtype], ctypes.byref(self.ptr))
        raise_for(rc)

    def free(self):
        if self.ptr:
            lib.clearn_matrix_free(self.ptr)
            self.ptr = c_void_p()

    def __del__(self):
        self.free()


class _OwnedMatrix:
    """Owner of a clearn_matrix that C returned (OWNED): numpy arrays made
    from it view its storage through __array_interface__ and keep it alive
    as their base; the storage is freed with the last view."""

    def __init__(self, ptr):
        self.ptr = ptr
        rows = lib.clearn_matrix_rows(ptr)
        cols = lib.clearn_matrix_cols(ptr)
        data = lib.clearn_matrix_data(ptr)
        dt = np.dtype(_NP[lib.clearn_matrix_dtype(ptr)])
        self.__array_interface__ = {
            "shape": (rows, cols), "typestr": dt.str, "version": 3,
            # numpy refuses a NULL pointer even for an empty array
            "data": (data or _EMPTY.ctypes.data, False)}

    def __del__(self):
        if self.ptr:
            lib.clearn_matrix_free(self.ptr)
            self.ptr = None


_EMPTY = np.zeros(1)


def take_matrix(ptr):
    """A numpy array over an OWNED clearn_matrix, without a copy; the
    matrix is freed when the array (and every view of it) is gone."""
    try:
        holder = _OwnedMatrix(ptr)
    except BaseException:
        lib.clearn_matrix_free(ptr)
        raise
    return np.asarray(holder)


class Handle:
    """Owns one clearn_estimator*; frees it when garbage-collected."""

    __slots__ = ("ptr", "__weakref__")

    def __init__(self, ptr):
        self.ptr = ptr

    @classmethod
    def create(cls, kind):
        p = c_void_p()
        raise_for(lib.clearn_estimator_create(kind.encode(), ctypes.byref(p)))
        return cls(p)

    @property
    def kind(self):
        return lib.clearn_estimator_kind(self.ptr).decode()

    def __del__(self):
        if self.ptr:
            lib.clearn_estimator_free(self.ptr)
            self.ptr = None


_info_lock = threading.Lock()
_param_cache = {}


def param_listing(kind):
    """[(name, type, default_text, range_text, help)] of a kind, from C."""
    with _info_lock:
        if kind in _param_cache:
            return _param_cache[kind]
        h = Handle.create(kind)
        out = []
        for i in range(lib.clearn_estimator_param_count(h.ptr)):
            name, dflt, rng, hlp = c_char_p(), c_char_p(), c_char_p(), c_char_p()
            typ = c_int()
            raise_for(lib.clearn_estimator_param_info(
                h.ptr, i, ctypes.byref(name), ctypes.byref(typ),
                ctypes.byref(dflt), ctypes.byref(rng), ctypes.byref(hlp)), h.ptr)
            out.append((name.value.decode(), typ.value, dflt.value.decode(),
                        rng.value.decode(), hlp.value.decode()))
        _param_cache[kind] = out
        return out


def kinds():
    """Names of the estimator kinds registered in the C library."""
    return [lib.clearn_kind_name(i).decode()
            for i in range(lib.clearn_kind_count())]


def parse_default(typ, text):
    """A C default text as the Python value a class's __init__ uses."""
    if typ == PARAM_BOOL:
        return text == "true"
    if typ == PARAM_INT:
        return int(text)
    if typ == PARAM_DOUBLE:
        return float(text)
    return text


def format_param(typ, value):
    """A Python parameter value as text for clearn_estimator_set_param_string
    (parsed and range-checked by C, so its messages name the value)."""
    if typ == PARAM_BOOL:
        if isinstance(value, (bool, np.bool_)) or value in (0, 1):
            return "true" if value else "false"
        return str(value)
    if typ == PARAM_DOUBLE and isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


# ---- the MPI layer (optional) ---------------------------------------------

_mpi_lib = None


def mpi_lib():
    """libclearn_mpi.so with the Fortran-handle entry points, loaded on
    first use (only a comm= fit needs it)."""
    global _mpi_lib
    if _mpi_lib is not None:
        return _mpi_lib
    cands = []
    if os.environ.get("CLEARN_MPI_LIBRARY"):
        cands.append(os.environ["CLEARN_MPI_LIBRARY"])
    if os.path.isabs(library_path):
        cands.append(os.path.join(os.path.dirname(library_path),
                                  "libclearn_mpi.so"))
    cands += ["libclearn_mpi.so.0"]
    errors = []
    for c in cands:
        try:
            m = ctypes.CDLL(c, mode=ctypes.RTLD_GLOBAL)
            break
        except OSError as e:
            errors.append(str(e))
    else:
        raise ImportError("clearn: cannot load libclearn_mpi.so (built with "
                          "-DCLEARN_MPI=ON); tried:\n  " + "\n  ".join(errors))
    if not hasattr(m, "clearn_mpi_estimator_fit_f"):
        raise ImportError("clearn: %s lacks clearn_mpi_estimator_fit_f "
                          "(older clearn)" % c)
    for name, args in (
            ("clearn_mpi_estimator_fit_f",
             [c_void_p, c_int, c_void_p, c_void_p, c_void_p]),
            ("clearn_mpi_estimator_score_f",
             [c_void_p, c_int, c_void_p, c_void_p, c_void_p, P(c_double)]),
            ("clearn_mpi_fit_ratings_f", [c_void_p, c_int, c_void_p, c_void_p])):
        f = getattr(m, name)
        f.restype = c_int
        f.argtypes = args
    _mpi_lib = m
    return m
