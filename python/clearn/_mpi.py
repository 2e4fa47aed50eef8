"""mpi4py communicators for the C MPI layer.

ctypes cannot pass an MPI_Comm (its type depends on the MPI library: a
pointer in Open MPI, an int in MPICH), so the binding passes the
communicator's Fortran handle (``comm.py2f()``, an int in every MPI) to the
``*_f`` entry points of libclearn_mpi (mpi/mpi_fhandle.c), which convert it
back with MPI_Comm_f2c.  mpi4py and libclearn_mpi must use the same MPI
library (Debian's python3-mpi4py and libopenmpi-dev do).
"""
import copy


def keep_comm_on_copy(comm):
    """Make copy.deepcopy return a communicator itself.

    scikit-learn's clone() deep-copies every parameter, and mpi4py
    communicators cannot be copied (deepcopy raises); a clone must use the
    same communicator anyway.  Registered for the communicator's type when
    an estimator's get_params first meets one (clone calls it before
    copying), through the copy module's per-type table."""
    copy._deepcopy_dispatch.setdefault(type(comm), lambda x, memo: x)


def fhandle(comm):
    """The Fortran handle of an mpi4py communicator."""
    py2f = getattr(comm, "py2f", None)
    if py2f is None:
        raise TypeError("comm must be an mpi4py communicator (e.g. "
                        "MPI.COMM_WORLD), got %r" % type(comm).__name__)
    return py2f()
