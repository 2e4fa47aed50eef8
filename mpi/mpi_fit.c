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
 * an error everywhere and never a hang.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clearn/clearn_mpi.h"
#include "internal.h"

typedef struct {
  MPI_Comm comm; /* private duplicate */
  int rank, size;
} mpi_ctx;

static int mpi_fail(int mpirc, const char *what) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(mpirc, msg, &len);
  return clearn__err(CLEARN_EMPI, "MPI: %s failed: %s", what, msg);
}

/* Collective agreement on status; see the file comment. */
static int agree(mpi_ctx *c, int local_rc) {
  int mine = local_rc != CLEARN_OK ? c->rank : c->size, first = c->size;
  int mrc = MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, c->comm);
  struct {
    int code;
    char msg[1000];
  } pkt;
  if (mrc != MPI_SUCCESS) return mpi_fail(mrc, "MPI_Allreduce (status)");
  if (first == c->size) return CLEARN_OK;
  if (c->rank == first) {
    pkt.code = local_rc;
    snprintf(pkt.msg, sizeof pkt.msg, "%s", clearn__errmsg());
  }
  mrc = MPI_Bcast(&pkt, (int)sizeof pkt, MPI_BYTE, first, c->comm);
  if (mrc != MPI_SUCCESS) return mpi_fail(mrc, "MPI_Bcast (status)");
  if (c->rank == first) return local_rc;
  return clearn__err(pkt.code, "rank %d: %s", first, pkt.msg);
}

static int mpi_sum(void *ctx, double *buf, size_t n, int local_rc) {
  mpi_ctx *c = ctx;
  double *tmp = NULL;
  int rc = agree(c, local_rc), mrc = MPI_SUCCESS;
  size_t off;
  if (rc != CLEARN_OK || n == 0) return rc;
  /* MPI counts are int: reduce in pieces of at most 2^27 doubles. */
  if (c->rank == 0) tmp = clearn__malloc(n < (1u << 27) ? n : (1u << 27), sizeof(double));
  rc = agree(c, c->rank == 0 && tmp == NULL
                    ? clearn__err(CLEARN_ENOMEM, "MPI reduce: out of memory")
                    : CLEARN_OK);
  if (rc != CLEARN_OK) {
    free(tmp);
    return rc;
  }
  for (off = 0; off < n && mrc == MPI_SUCCESS; off += (1u << 27)) {
    int cnt = (int)(n - off < (1u << 27) ? n - off : (1u << 27));
    mrc = MPI_Reduce(buf + off, tmp, cnt, MPI_DOUBLE, MPI_SUM, 0, c->comm);
    if (mrc == MPI_SUCCESS && c->rank == 0)
      memcpy(buf + off, tmp, (size_t)cnt * sizeof(double));
    if (mrc == MPI_SUCCESS)
      mrc = MPI_Bcast(buf + off, cnt, MPI_DOUBLE, 0, c->comm);
  }
  free(tmp);
  if (mrc != MPI_SUCCESS) return mpi_fail(mrc, "MPI_Reduce/MPI_Bcast");
  return CLEARN_OK;
}

/* Duplicate comm with MPI_ERRORS_RETURN (collective). */
static int ctx_open(mpi_ctx *c, MPI_Comm comm) {
  int mrc, flag = 0;
  MPI_Initialized(&flag);
  if (!flag)
    return clearn__err(CLEARN_EMPI, "MPI is not initialized: call MPI_Init "
                       "before clearn's distributed calls");
  if (comm == MPI_COMM_NULL)
    return clearn__err(CLEARN_EINVAL, "communicator is MPI_COMM_NULL");
  if ((mrc = MPI_Comm_dup(comm, &c->comm)) != MPI_SUCCESS)
    return mpi_fail(mrc, "MPI_Comm_dup");
  MPI_Comm_set_errhandler(c->comm, MPI_ERRORS_RETURN);
  MPI_Comm_rank(c->comm, &c->rank);
  MPI_Comm_size(c->comm, &c->size);
  return CLEARN_OK;
}

static void ctx_close(mpi_ctx *c) { MPI_Comm_free(&c->comm); }

/* Local checks, then agreement on them and on the shapes and parameters
 * every rank must share. */
static int check_inputs(mpi_ctx *c, const clearn_estimator *est,
                        const clearn_matrix *X, const clearn_matrix *y,
                        const clearn_matrix *w) {
  const char *who = est->type->name;
  int rc = clearn__validate_xy(who, X, y, w, 1);
  long long dims[4], lo[4], hi[4];
  unsigned char *p0;
  int mrc, same = 1, all_same = 0;
  rc = agree(c, rc);
  if (rc != CLEARN_OK) return rc;
  dims[0] = X->cols;
  dims[1] = y->cols;
  dims[2] = -dims[0];
  dims[3] = -dims[1];
  mrc = MPI_Allreduce(dims, hi, 4, MPI_LONG_LONG, MPI_MAX, c->comm);
  if (mrc != MPI_SUCCESS) return mpi_fail(mrc, "MPI_Allreduce (shapes)");
  lo[0] = -hi[2];
  lo[1] = -hi[3];
  if (lo[0] != hi[0] || lo[1] != hi[1])
    return clearn__err(CLEARN_ESHAPE,
                       "%s: ranks disagree on shapes: X has %lld to %lld "
                       "columns and y %lld to %lld targets across ranks",
                       who, lo[0], hi[0], lo[1], hi[1]);
  /* Parameters must be the same everywhere: compare with rank 0's. */
  p0 = malloc(est->type->params_size ? est->type->params_size : 1);
  if (p0 == NULL) rc = clearn__err(CLEARN_ENOMEM, "out of memory");
  rc = agree(c, rc);
  if (rc != CLEARN_OK) {
    free(p0);
    return rc;
  }
  memcpy(p0, est->params, est->type->params_size);
  mrc = MPI_Bcast(p0, (int)est->type->params_size, MPI_BYTE, 0, c->comm);
  if (mrc == MPI_SUCCESS)
    same = memcmp(p0, est->params, est->type->params_size) == 0;
  free(p0);
  if (mrc == MPI_SUCCESS)
    mrc = MPI_Allreduce(&same, &all_same, 1, MPI_INT, MPI_MIN, c->comm);
  if (mrc != MPI_SUCCESS) return mpi_fail(mrc, "MPI_Bcast (parameters)");
  if (!all_same)
    return clearn__err(CLEARN_EINVAL,
                       "%s: estimator parameters differ between ranks; set "
                       "the same parameters on every rank",
                       who);
  return CLEARN_OK;
}

int clearn_mpi_estimator_fit(clearn_estimator *est, MPI_Comm comm,
                             const clearn_matrix *X_local,
                             const clearn_matrix *y_local,
                             const clearn_matrix *sample_weight) {
  mpi_ctx c;
  clearn__reducer red;
  int rc;
  if (est == NULL) return clearn__err(CLEARN_EINVAL, "estimator is NULL");
  if ((rc = ctx_open(&c, comm)) != CLEARN_OK) return clearn__est_fail(est, rc);
  red.sum = mpi_sum;
  red.ctx = &c;
  rc = check_inputs(&c, est, X_local, y_local, sample_weight);
  if (rc == CLEARN_OK)
    rc = clearn__fit_with(est, X_local, y_local, sample_weight, &red);
  ctx_close(&c);
  return clearn__est_fail(est, rc);
}

int clearn_mpi_estimator_score(const clearn_estimator *est, MPI_Comm comm,
                               const clearn_matrix *X_local,
                               const clearn_matrix *y_local,
                               const clearn_matrix *sample_weight,
                               double *out) {
  mpi_ctx c;
  clearn__reducer red;
  int rc;
  if (est == NULL) return clearn__err(CLEARN_EINVAL, "estimator is NULL");
  if ((rc = ctx_open(&c, comm)) != CLEARN_OK) return clearn__est_fail(est, rc);
  red.sum = mpi_sum;
  red.ctx = &c;
  rc = out == NULL ? clearn__err(CLEARN_EINVAL, "out is NULL")
                   : clearn__check_predict(est, X_local);
  rc = agree(&c, rc);
  if (rc == CLEARN_OK)
    rc = clearn__score_with(est, X_local, y_local, sample_weight, &red, out);
  ctx_close(&c);
  return clearn__est_fail(est, rc);
}
