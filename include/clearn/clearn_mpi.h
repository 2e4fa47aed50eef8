/*
 * clearn/clearn_mpi.h -- distributed fitting over MPI.
 *
 * The distributed calls take the same estimator handle as the serial API
 * and an explicit communicator; any communicator works, including a user's
 * sub-communicator.  clearn never calls MPI_Init or MPI_Finalize: the caller
 * initializes MPI first.
 *
 * Every call here is COLLECTIVE over comm: all ranks of comm must make it,
 * in the same order, with the same kind of estimator and the same
 * parameters.  All ranks return the same status: bad input on one rank is
 * an error on every rank, never a hang.  The failing rank gets its own
 * message; the others get it prefixed with that rank's number in comm
 * ("rank 3: ridge: X[59, 2] = nan is not finite").  A failed call leaves
 * the estimator as it was on every rank (a failed fit keeps the previous
 * model).
 *
 * The caller's communicator is never modified: each call works on a
 * private duplicate (MPI_Comm_dup) with MPI_ERRORS_RETURN, so an MPI error
 * inside clearn becomes CLEARN_EMPI instead of an abort, and comm remains
 * usable after any error.
 *
 * Errors that need no communication and are therefore LOCAL (every rank
 * sees them alike only if every rank passes the same thing): comm ==
 * MPI_COMM_NULL is CLEARN_EINVAL; MPI not initialized, or already
 * finalized, is CLEARN_EMPI.
 *
 * Threads: the calls make MPI calls from the calling thread; calling them
 * concurrently from several threads needs MPI_THREAD_MULTIPLE.
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
 * rows (X_local n_i x p, y_local n_i x t, optional sample_weight n_i x 1).
 * n_i may be 0 on some ranks but not on all (CLEARN_ESHAPE); p and t must
 * agree (CLEARN_ESHAPE naming a rank with each value).  sample_weight NULL
 * on some ranks and given on others means unit weights on the former.
 * Another estimator kind or another parameter value than on rank 0:
 * CLEARN_EINVAL naming the parameter.  Inputs are borrowed, as in
 * clearn_estimator_fit().
 *
 * The fitted model equals the serial fit on the concatenated rows up to
 * floating-point summation order.  Every rank solves from bitwise the same
 * sums, so the models are bitwise the same wherever the ranks run the same
 * BLAS/LAPACK build on the same kind of CPU.
 * Kinds that cannot be fitted this way (linear_regression, whose SVD needs
 * all rows in one process) return CLEARN_EUNSUPPORTED on every rank. */
CLEARN_API int clearn_mpi_estimator_fit(clearn_estimator *est, MPI_Comm comm,
                                        const clearn_matrix *X_local,
                                        const clearn_matrix *y_local,
                                        const clearn_matrix *sample_weight);

/* R^2 score (as clearn_estimator_score()) over the rows distributed over
 * comm; every rank receives the same global value in *out.  est must be
 * fitted on every rank with the same model, e.g. by
 * clearn_mpi_estimator_fit(); any fitted kind can be scored this way.  On
 * failure *out is not written. */
CLEARN_API int clearn_mpi_estimator_score(const clearn_estimator *est,
                                          MPI_Comm comm,
                                          const clearn_matrix *X_local,
                                          const clearn_matrix *y_local,
                                          const clearn_matrix *sample_weight,
                                          double *out);

/* ---- recommenders (ALS) ----------------------------------------------------
 * Each rank passes its own share of the ratings: any subset, the shares
 * disjoint, their union the data set (a rank may pass NULL: no ratings).
 * The ranks exchange the ratings so that each updates a contiguous block
 * of users and of items balanced by rating count, and after every
 * half-iteration the updated blocks are gathered on every rank
 * (MPI_Allgatherv), so each rank ends with the whole model: predict,
 * recommend and save work on any rank.  Validation ratings (valid_local,
 * NULL on every rank for none) are scored every iteration as in the serial
 * fit.
 *
 * The factors are bitwise those of clearn_estimator_fit_ratings() on the
 * union of the shares, for any number of ranks and threads, as long as the
 * repeated (user, item) pairs of the data, if any, sit on one rank (the
 * shares made by clearn_mpi_ratings_load and _scatter guarantee it): every
 * row is solved from the same ratings in the same order, and every loss is
 * summed over rows in row order.  The history's comm_seconds column holds
 * the seconds each iteration spent in MPI calls (including waiting for the
 * slowest rank).  Checkpoints (clearn_estimator_set_checkpoint, set alike
 * on every rank) are written by rank 0.  The estimator's kind and
 * parameters must agree on all ranks (CLEARN_EINVAL naming the parameter);
 * the progress callback runs on every rank after every iteration, and if
 * any rank's callback asks to stop, all stop.  A failure on any rank is
 * returned on every rank and keeps the previous model everywhere. */
CLEARN_API int clearn_mpi_fit_ratings(clearn_estimator *est, MPI_Comm comm,
                                      const clearn_ratings *train_local,
                                      const clearn_ratings *valid_local);

/* clearn_estimator_resume_ratings() over comm: every rank holds the same
 * model (e.g. each loaded the same checkpoint file) and passes its share
 * of the same ratings it was fitted on. */
CLEARN_API int clearn_mpi_resume_ratings(clearn_estimator *est,
                                         MPI_Comm comm,
                                         const clearn_ratings *train_local,
                                         const clearn_ratings *valid_local);

/* This rank's share of a ratings file.  An HDF5 ratings file
 * (clearn_ratings_save, `clearn convert`) is read by every rank for its
 * own block of users; a text file (format as clearn_ratings_load_text, or
 * "hdf5" to insist on HDF5) is parsed by rank 0 and scattered as
 * clearn_mpi_ratings_scatter does.  Errors (a missing file, a malformed
 * line) are returned on every rank with rank 0's message. */
CLEARN_API int clearn_mpi_ratings_load(const char *path, const char *format,
                                       MPI_Comm comm, clearn_ratings **local);

/* Scatter `all` (significant on root only) in contiguous blocks of users
 * balanced by rating count: block p starts at the first user (in id order)
 * whose preceding users hold at least p * nnz / size ratings.  Every rank
 * receives its block as a new ratings object (possibly empty). */
CLEARN_API int clearn_mpi_ratings_scatter(const clearn_ratings *all, int root,
                                          MPI_Comm comm,
                                          clearn_ratings **local);

/* ---- Fortran communicator handles (for bindings) -----------------------
 * The calls above with the communicator given by its Fortran handle
 * (MPI_Comm_c2f(comm); mpi4py: comm.py2f()), for languages that cannot
 * name MPI_Comm, whose C type depends on the MPI library; the handle is an
 * integer in every MPI.  Each converts it with MPI_Comm_f2c and makes the
 * call above, with its contract (collective, same status on every rank).
 * Before MPI_Init or after MPI_Finalize, where MPI_Comm_f2c is undefined:
 * CLEARN_EMPI (local).  Implemented in mpi/mpi_fhandle.c. */
CLEARN_API int clearn_mpi_estimator_fit_f(clearn_estimator *est,
                                          MPI_Fint comm,
                                          const clearn_matrix *X_local,
                                          const clearn_matrix *y_local,
                                          const clearn_matrix *sample_weight);
CLEARN_API int clearn_mpi_estimator_score_f(const clearn_estimator *est,
                                            MPI_Fint comm,
                                            const clearn_matrix *X_local,
                                            const clearn_matrix *y_local,
                                            const clearn_matrix *sample_weight,
                                            double *out);
CLEARN_API int clearn_mpi_fit_ratings_f(clearn_estimator *est, MPI_Fint comm,
                                        const clearn_ratings *train_local,
                                        const clearn_ratings *valid_local);

#ifdef __cplusplus
}
#endif
#endif /* CLEARN_CLEARN_MPI_H */
