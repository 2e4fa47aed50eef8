"""mpi4py communicators for the C MPI layer.

ctypes cannot pass an MPI_Comm (its type depends on the MPI library: a
pointer in Open MPI, an int in MPICH), so the binding passes the
communicator's Fortran handle (``comm.py2f()``, an int in every MPI) to the
``*_f`` entry points of libclearn_mpi (mpi/mpi_fhandle.c), which convert it
back with MPI_Comm_f2c.  mpi4py and libclearn_mpi must use the same MPI
library (Debian's python3-mpi4py and libopenmpi-dev do).
"""


def fhandle(comm):
    """The Fortran handle of an mpi4py communicator."""
    py2f = getattr(comm, "py2f", None)
    if py2f is None:
        raise TypeError("comm must be an mpi4py communicator (e.g. "
                        "MPI.COMM_WORLD), got %r" % type(comm).__name__)
    return py2f()
