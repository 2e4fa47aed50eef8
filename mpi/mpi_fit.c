/*
 * mpi_fit.c -- distributed fitting of the estimators' sufficient statistics.
 *
 * The algorithms never see MPI: they sum what they need through the
 * clearn__reducer hook (src/internal.h).  This file supplies a reducer
 * backed by a private duplicate of the caller's communicator, with
 * MPI_ERRORS_RETURN set on the duplicate so an MPI failure becomes a status
 * instead of an abort, and without touching the caller's communicator.
 *
 * Sums use MPI_Reduce to rank 0 followed by MPI_Bcast rather than
 * MPI_Allreduce: the standard does not promise that Allreduce gives every
 * rank the bitwise same result, and every rank must take the same branches
 * (e.g. the centering choice in linmodel.c) to stay in step.
 *
 * Status agreement: before each sum the ranks agree on the lowest failing
 * rank (MPI_Allreduce MIN); if there is one, it broadcasts its status and
 * message, and every rank returns that status, so bad input on one rank is
 * an error everywhere and never a hang.  Everything a rank decides on its
 * own before the algorithm runs (input checks, estimator kind, parameters,
 * whether weights are given) is agreed on first, because the algorithms
 * choose their sequence of sums from it; and the fitted model is installed
 * only once every rank is known to hold one, so a failure anywhere keeps
 * the previous model everywhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clearn/clearn_mpi.h"
#include "internal.h"
#include "mpi_internal.h"

/* Local checks, then agreement on them, on the shapes every rank must
 * share, on the estimator and on whether weights are given.  If some ranks
 * pass weights and others NULL, *ones receives unit weights for this rank's
 * rows (NULL means weight 1, as in the serial fit), because the algorithms
 * choose between a weighted and an unweighted sequence of sums. */
static int check_inputs(clearn__mpi_ctx *c, const clearn_estimator *est,
                        const clearn_matrix *X, const clearn_matrix *y,
                        const clearn_matrix *w, clearn_matrix **ones) {
  const char *who = est ? est->type->name : "fit";
  int rc = est == NULL ? clearn__err(CLEARN_EINVAL, "estimator is NULL")
                       : clearn__validate_xy(who, X, y, w, 1);
  long long v[6], hi[6];
  int mrc;
  *ones = NULL;
  if ((rc = clearn__mpi_agree(c, rc)) != CLEARN_OK) return rc;
  /* Max of (cols, targets, -cols, -targets, rows, has_w) in one call. */
  v[0] = X->cols;
  v[1] = y->cols;
  v[2] = -v[0];
  v[3] = -v[1];
  v[4] = X->rows;
  v[5] = w != NULL;
  mrc = MPI_Allreduce(v, hi, 6, MPI_LONG_LONG, MPI_MAX, c->comm);
  if (mrc != MPI_SUCCESS) return clearn__mpi_fail(mrc, "MPI_Allreduce (shapes)");
  if (hi[0] != -hi[2] || hi[1] != -hi[3]) {
    /* Name the lowest rank holding each extreme: the same text everywhere. */
    int d = hi[0] != -hi[2] ? 0 : 1, who_lo, who_hi, at[2], first[2];
    at[0] = v[d] == -hi[d + 2] ? c->rank : c->size;
    at[1] = v[d] == hi[d] ? c->rank : c->size;
    mrc = MPI_Allreduce(at, first, 2, MPI_INT, MPI_MIN, c->comm);
    if (mrc != MPI_SUCCESS) return clearn__mpi_fail(mrc, "MPI_Allreduce (shapes)");
    who_lo = first[0];
    who_hi = first[1];
    return clearn__err(CLEARN_ESHAPE,
                       "%s: ranks disagree on the number of %s: %lld on rank "
                       "%d but %lld on rank %d; every rank must pass the same",
                       who, d == 0 ? "columns of X" : "targets in y",
                       -hi[d + 2], who_lo, hi[d], who_hi);
  }
  if (hi[4] == 0)
    return clearn__err(CLEARN_ESHAPE,
                       "%s: X has 0 samples on every rank, need at least 1",
                       who);
  if (hi[5]) {
    int64_t i;
    if (w == NULL) rc = clearn_matrix_create(X->rows, 1, CLEARN_FLOAT64, ones);
    for (i = 0; w == NULL && rc == CLEARN_OK && i < X->rows; i++)
      ((double *)(*ones)->data)[i] = 1.0;
    if ((rc = clearn__mpi_agree(c, rc)) != CLEARN_OK) return rc;
  }
  return clearn__mpi_check_params(c, est);
}

/* clearn__reducer.max: the maximum is exact and independent of the
 * combination order, so MPI_Allreduce gives every rank the same bits. */
static int mpi_max(void *ctx, double *buf, size_t n, int local_rc) {
  clearn__mpi_ctx *c = ctx;
  int rc = clearn__mpi_agree(c, local_rc), mrc = MPI_SUCCESS;
  size_t off;
  if (rc != CLEARN_OK || n == 0) return rc;
  for (off = 0; off < n && mrc == MPI_SUCCESS; off += (1u << 27)) {
    int cnt = (int)(n - off < (1u << 27) ? n - off : (1u << 27));
    mrc = MPI_Allreduce(MPI_IN_PLACE, buf + off, cnt, MPI_DOUBLE, MPI_MAX,
                        c->comm);
  }
  if (mrc != MPI_SUCCESS) return clearn__mpi_fail(mrc, "MPI_Allreduce (max)");
  return CLEARN_OK;
}

int clearn_mpi_estimator_fit(clearn_estimator *est, MPI_Comm comm,
                             const clearn_matrix *X_local,
                             const clearn_matrix *y_local,
                             const clearn_matrix *sample_weight) {
  clearn__mpi_ctx c;
  clearn__reducer red;
  clearn_matrix *ones = NULL;
  void *model = NULL;
  int rc;
  if ((rc = clearn__mpi_open(&c, comm)) != CLEARN_OK) return clearn__est_fail(est, rc);
  red.sum = clearn__mpi_sum;
  red.ctx = &c;
  red.max = mpi_max;
  rc = check_inputs(&c, est, X_local, y_local, sample_weight, &ones);
  if (rc != CLEARN_OK) goto cleanup;
  /* Kind and parameters agree, so these checks agree too. */
  if (est->type->fit == NULL) {
    rc = clearn__err(CLEARN_EUNSUPPORTED,
                     "%s: fit(X, y) is not supported by this estimator",
                     est->type->name);
    goto cleanup;
  }
  if (est->type->check && (rc = est->type->check(est->params)) != CLEARN_OK)
    goto cleanup;
  rc = clearn__type_fit(est, X_local, y_local, ones ? ones : sample_weight,
                        &red, &model);
  rc = clearn__mpi_install(&c, est, rc, &model);
cleanup:
  if (model != NULL) est->type->model_free(model);
  clearn_matrix_free(ones);
  clearn__mpi_close(&c);
  return clearn__est_fail(est, rc);
}

int clearn_mpi_estimator_score(const clearn_estimator *est, MPI_Comm comm,
                               const clearn_matrix *X_local,
                               const clearn_matrix *y_local,
                               const clearn_matrix *sample_weight,
                               double *out) {
  clearn__mpi_ctx c;
  clearn__reducer red;
  int rc;
  if ((rc = clearn__mpi_open(&c, comm)) != CLEARN_OK) return clearn__est_fail(est, rc);
  red.sum = clearn__mpi_sum;
  red.ctx = &c;
  red.max = mpi_max;
  rc = est == NULL   ? clearn__err(CLEARN_EINVAL, "estimator is NULL")
       : out == NULL ? clearn__err(CLEARN_EINVAL, "out is NULL")
                     : clearn__check_predict(est, X_local);
  rc = clearn__mpi_agree(&c, rc);
  if (rc == CLEARN_OK)
    rc = clearn__score_with(est, X_local, y_local, sample_weight, &red, out);
  clearn__mpi_close(&c);
  return clearn__est_fail(est, rc);
}
