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

/* Duplicate comm with MPI_ERRORS_RETURN (collective).  Fails only on
 * conditions every member of comm sees alike. */
static int ctx_open(mpi_ctx *c, MPI_Comm comm) {
  int mrc, flag = 0, done = 0;
  MPI_Initialized(&flag);
  MPI_Finalized(&done);
  if (!flag || done)
    return clearn__err(CLEARN_EMPI, "MPI is %s: clearn's distributed calls "
                       "run between MPI_Init and MPI_Finalize",
                       done ? "already finalized" : "not initialized");
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

/* Same kind and parameters as rank 0?  Compared in two steps so ranks
 * holding different kinds (params blocks of different sizes) never post
 * mismatched broadcasts.  Parameters compare by value through their text
 * form, which round-trips exactly (so padding bytes do not matter).  A
 * difference is an error on the differing rank, naming the parameter, and
 * agree() spreads it. */
static int check_params(mpi_ctx *c, const clearn_estimator *est) {
  const clearn__estimator_type *t = est->type;
  struct {
    char kind[64];
    unsigned long long size;
  } hdr, mine;
  unsigned char *p0 = NULL;
  int mrc, i, rc = CLEARN_OK;
  memset(&mine, 0, sizeof mine);
  snprintf(mine.kind, sizeof mine.kind, "%s", t->name);
  mine.size = t->params_size;
  hdr = mine;
  mrc = MPI_Bcast(&hdr, (int)sizeof hdr, MPI_BYTE, 0, c->comm);
  if (mrc != MPI_SUCCESS)
    rc = mpi_fail(mrc, "MPI_Bcast (estimator kind)");
  else if (memcmp(&hdr, &mine, sizeof hdr) != 0)
    rc = clearn__err(CLEARN_EINVAL,
                     "estimator kind '%s' differs from rank 0's '%s'; every "
                     "rank must fit the same kind",
                     t->name, hdr.kind);
  if ((rc = agree(c, rc)) != CLEARN_OK) return rc;

  if ((p0 = malloc(t->params_size ? t->params_size : 1)) == NULL)
    rc = clearn__err(CLEARN_ENOMEM, "out of memory");
  if ((rc = agree(c, rc)) != CLEARN_OK) {
    free(p0);
    return rc;
  }
  memcpy(p0, est->params, t->params_size);
  mrc = MPI_Bcast(p0, (int)t->params_size, MPI_BYTE, 0, c->comm);
  if (mrc != MPI_SUCCESS) rc = mpi_fail(mrc, "MPI_Bcast (parameters)");
  for (i = 0; rc == CLEARN_OK && i < t->n_params; i++) {
    char here[128], there[128];
    clearn__param_format(&t->params[i], est->params, here, sizeof here);
    clearn__param_format(&t->params[i], p0, there, sizeof there);
    if (strcmp(here, there) != 0)
      rc = clearn__err(CLEARN_EINVAL,
                       "%s: parameter '%s' = %s differs from rank 0's %s; "
                       "set the same parameters on every rank",
                       t->name, t->params[i].name, here, there);
  }
  free(p0);
  return agree(c, rc);
}

/* Local checks, then agreement on them, on the shapes every rank must
 * share, on the estimator and on whether weights are given.  If some ranks
 * pass weights and others NULL, *ones receives unit weights for this rank's
 * rows (NULL means weight 1, as in the serial fit), because the algorithms
 * choose between a weighted and an unweighted sequence of sums. */
static int check_inputs(mpi_ctx *c, const clearn_estimator *est,
                        const clearn_matrix *X, const clearn_matrix *y,
                        const clearn_matrix *w, clearn_matrix **ones) {
  const char *who = est ? est->type->name : "fit";
  int rc = est == NULL ? clearn__err(CLEARN_EINVAL, "estimator is NULL")
                       : clearn__validate_xy(who, X, y, w, 1);
  long long v[6], hi[6];
  int mrc;
  *ones = NULL;
  if ((rc = agree(c, rc)) != CLEARN_OK) return rc;
  /* Max of (cols, targets, -cols, -targets, rows, has_w) in one call. */
  v[0] = X->cols;
  v[1] = y->cols;
  v[2] = -v[0];
  v[3] = -v[1];
  v[4] = X->rows;
  v[5] = w != NULL;
  mrc = MPI_Allreduce(v, hi, 6, MPI_LONG_LONG, MPI_MAX, c->comm);
  if (mrc != MPI_SUCCESS) return mpi_fail(mrc, "MPI_Allreduce (shapes)");
  if (hi[0] != -hi[2] || hi[1] != -hi[3]) {
    /* Name the lowest rank holding each extreme: the same text everywhere. */
    int d = hi[0] != -hi[2] ? 0 : 1, who_lo, who_hi, at[2], first[2];
    at[0] = v[d] == -hi[d + 2] ? c->rank : c->size;
    at[1] = v[d] == hi[d] ? c->rank : c->size;
    mrc = MPI_Allreduce(at, first, 2, MPI_INT, MPI_MIN, c->comm);
    if (mrc != MPI_SUCCESS) return mpi_fail(mrc, "MPI_Allreduce (shapes)");
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
    if ((rc = agree(c, rc)) != CLEARN_OK) return rc;
  }
  return check_params(c, est);
}

int clearn_mpi_estimator_fit(clearn_estimator *est, MPI_Comm comm,
                             const clearn_matrix *X_local,
                             const clearn_matrix *y_local,
                             const clearn_matrix *sample_weight) {
  mpi_ctx c;
  clearn__reducer red;
  clearn_matrix *ones = NULL;
  void *model = NULL;
  long long v[3], hi[3];
  int rc, mrc;
  if ((rc = ctx_open(&c, comm)) != CLEARN_OK) return clearn__est_fail(est, rc);
  red.sum = mpi_sum;
  red.ctx = &c;
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
  rc = est->type->fit(est->params, X_local, y_local,
                      ones ? ones : sample_weight, &red, &model);
  /* A rank can still fail after the last sum (e.g. allocating the model):
   * agree on the outcome before installing anything. */
  v[0] = rc;
  v[1] = -(long long)rc;
  v[2] = model == NULL;
  mrc = MPI_Allreduce(v, hi, 3, MPI_LONG_LONG, MPI_MAX, c.comm);
  if (mrc != MPI_SUCCESS) {
    rc = mpi_fail(mrc, "MPI_Allreduce (fit status)");
  } else if (hi[0] != -hi[1]) {
    /* Ranks ended differently; usually they already agree (the failure
     * came through a sum) and keep their own message. */
    rc = agree(&c, rc);
  }
  /* ENOTCONVERGED still delivers a usable model. */
  if (mrc == MPI_SUCCESS && hi[2] == 0 &&
      (rc == CLEARN_OK || rc == CLEARN_ENOTCONVERGED)) {
    clearn__est_set_model(est, model);
    model = NULL;
  }
cleanup:
  if (model != NULL) est->type->model_free(model);
  clearn_matrix_free(ones);
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
  if ((rc = ctx_open(&c, comm)) != CLEARN_OK) return clearn__est_fail(est, rc);
  red.sum = mpi_sum;
  red.ctx = &c;
  rc = est == NULL   ? clearn__err(CLEARN_EINVAL, "estimator is NULL")
       : out == NULL ? clearn__err(CLEARN_EINVAL, "out is NULL")
                     : clearn__check_predict(est, X_local);
  rc = agree(&c, rc);
  if (rc == CLEARN_OK)
    rc = clearn__score_with(est, X_local, y_local, sample_weight, &red, out);
  ctx_close(&c);
  return clearn__est_fail(est, rc);
}
