/*
 * mpi_fhandle.c -- the MPI entry points taking a communicator's Fortran
 * handle (MPI_Fint) instead of an MPI_Comm.
 *
 * For bindings that cannot name MPI_Comm: its C type differs between MPI
 * libraries (a pointer in Open MPI, an int in MPICH), while the Fortran
 * handle is an integer in all of them and every MPI converts it with
 * MPI_Comm_f2c.  Python's mpi4py gives it as comm.py2f(), and ctypes
 * passes it as a plain int.  Each call converts and forwards; nothing else.
 */
#include "clearn/clearn_mpi.h"
#include "mpi_internal.h"

/* MPI_Comm_f2c is only defined between MPI_Init and MPI_Finalize. */
static int comm_from_f(MPI_Fint f, MPI_Comm *out) {
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  if (!init || fin)
    return clearn__err(CLEARN_EMPI, "MPI is %s (with mpi4py: import "
                                    "mpi4py.MPI before the fit)",
                       fin ? "already finalized" : "not initialized");
  *out = MPI_Comm_f2c(f);
  return CLEARN_OK;
}

int clearn_mpi_estimator_fit_f(clearn_estimator *est, MPI_Fint comm,
                               const clearn_matrix *X_local,
                               const clearn_matrix *y_local,
                               const clearn_matrix *sample_weight) {
  MPI_Comm c = MPI_COMM_NULL;
  int rc = comm_from_f(comm, &c);
  if (rc != CLEARN_OK) return rc;
  return clearn_mpi_estimator_fit(est, c, X_local, y_local, sample_weight);
}

int clearn_mpi_estimator_score_f(const clearn_estimator *est, MPI_Fint comm,
                                 const clearn_matrix *X_local,
                                 const clearn_matrix *y_local,
                                 const clearn_matrix *sample_weight,
                                 double *out) {
  MPI_Comm c = MPI_COMM_NULL;
  int rc = comm_from_f(comm, &c);
  if (rc != CLEARN_OK) return rc;
  return clearn_mpi_estimator_score(est, c, X_local, y_local, sample_weight,
                                    out);
}

int clearn_mpi_fit_ratings_f(clearn_estimator *est, MPI_Fint comm,
                             const clearn_ratings *train_local,
                             const clearn_ratings *valid_local) {
  MPI_Comm c = MPI_COMM_NULL;
  int rc = comm_from_f(comm, &c);
  if (rc != CLEARN_OK) return rc;
  return clearn_mpi_fit_ratings(est, c, train_local, valid_local);
}
