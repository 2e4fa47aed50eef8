/*
 * clearn/clearn_mpi.h -- distributed fitting over MPI.
 *
 * The distributed calls take the same estimator handle as the serial API
 * and an explicit communicator; any communicator works, including a user's
 * sub-communicator.  clearn never calls MPI_Init or MPI_Finalize: the caller
 * initializes MPI first.
 *
 * Every call here is COLLECTIVE over comm: all ranks of comm must make it,
 * in the same order, with the same parameters set on their estimators.  All
 * ranks return the same status: bad input on one rank is an error on every
 * rank (the message on the other ranks names the failing rank), never a
 * hang.
 *
 * Link with clearn_mpi (CMake target clearn::clearn_mpi, pkg-config
 * clearn-mpi) in addition to clearn.
 */
#ifndef CLEARN_CLEARN_MPI_H
#define CLEARN_CLEARN_MPI_H

#include <mpi.h>

#include "clearn/clearn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fit est on rows distributed over comm: each rank passes its own block of
 * rows (X_local n_i x p, y_local n_i x t, optional weights n_i x 1; n_i may
 * be 0 on some ranks, p and t must agree).  The fitted model equals the
 * serial fit on the concatenated rows up to floating-point summation order
 * and is present on every rank afterwards.  Kinds that cannot be fitted
 * this way return CLEARN_EUNSUPPORTED (on every rank). */
CLEARN_API int clearn_mpi_estimator_fit(clearn_estimator *est, MPI_Comm comm,
                                        const clearn_matrix *X_local,
                                        const clearn_matrix *y_local,
                                        const clearn_matrix *sample_weight);

/* R^2 score over the distributed rows; every rank receives the global
 * value. */
CLEARN_API int clearn_mpi_estimator_score(const clearn_estimator *est,
                                          MPI_Comm comm,
                                          const clearn_matrix *X_local,
                                          const clearn_matrix *y_local,
                                          const clearn_matrix *sample_weight,
                                          double *out);

#ifdef __cplusplus
}
#endif
#endif /* CLEARN_CLEARN_MPI_H */
