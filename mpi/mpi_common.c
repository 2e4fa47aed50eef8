/*
 * mpi_common.c -- the communicator, status and parameter agreement shared
 * by the distributed calls (mpi_fit.c, mpi_rec.c).
 *
 * Status agreement: before each collective step the ranks agree on the
 * lowest failing rank (MPI_Allreduce MIN); if there is one, it broadcasts
 * its status and message, and every rank returns that status, so bad input
 * on one rank is an error everywhere and never a hang.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

int clearn__mpi_fail(int mpirc, const char *what) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(mpirc, msg, &len);
  return clearn__err(CLEARN_EMPI, "MPI: %s failed: %s", what, msg);
}

/* Collective agreement on status; see the file comment. */
int clearn__mpi_agree(clearn__mpi_ctx *c, int local_rc) {
  int mine = local_rc != CLEARN_OK ? c->rank : c->size, first = c->size;
  int mrc = MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, c->comm);
  struct {
    int code;
    char msg[1000];
  } pkt;
  if (mrc != MPI_SUCCESS) return clearn__mpi_fail(mrc, "MPI_Allreduce (status)");
  if (first == c->size) return CLEARN_OK;
  if (c->rank == first) {
    pkt.code = local_rc;
    snprintf(pkt.msg, sizeof pkt.msg, "%s", clearn__errmsg());
  }
  mrc = MPI_Bcast(&pkt, (int)sizeof pkt, MPI_BYTE, first, c->comm);
  if (mrc != MPI_SUCCESS) return clearn__mpi_fail(mrc, "MPI_Bcast (status)");
  if (c->rank == first) return local_rc;
  return clearn__err(pkt.code, "rank %d: %s", first, pkt.msg);
}

int clearn__mpi_sum(void *ctx, double *buf, size_t n, int local_rc) {
  clearn__mpi_ctx *c = ctx;
  double *tmp = NULL;
  int rc = clearn__mpi_agree(c, local_rc), mrc = MPI_SUCCESS;
  size_t off;
  if (rc != CLEARN_OK || n == 0) return rc;
  /* MPI counts are int: reduce in pieces of at most 2^27 doubles. */
  if (c->rank == 0) tmp = clearn__malloc(n < (1u << 27) ? n : (1u << 27), sizeof(double));
  rc = clearn__mpi_agree(c, c->rank == 0 && tmp == NULL
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
  if (mrc != MPI_SUCCESS) return clearn__mpi_fail(mrc, "MPI_Reduce/MPI_Bcast");
  return CLEARN_OK;
}

/* Duplicate comm with MPI_ERRORS_RETURN (collective).  Fails only on
 * conditions every member of comm sees alike. */
int clearn__mpi_open(clearn__mpi_ctx *c, MPI_Comm comm) {
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
    return clearn__mpi_fail(mrc, "MPI_Comm_dup");
  MPI_Comm_set_errhandler(c->comm, MPI_ERRORS_RETURN);
  MPI_Comm_rank(c->comm, &c->rank);
  MPI_Comm_size(c->comm, &c->size);
  c->seconds = 0;
  return CLEARN_OK;
}

void clearn__mpi_close(clearn__mpi_ctx *c) { MPI_Comm_free(&c->comm); }

/* Same kind and parameters as rank 0?  Compared in two steps so ranks
 * holding different kinds (params blocks of different sizes) never post
 * mismatched broadcasts.  Parameters compare by value through their text
 * form, which round-trips exactly (so padding bytes do not matter).  A
 * difference is an error on the differing rank, naming the parameter, and
 * clearn__mpi_agree() spreads it. */
int clearn__mpi_check_params(clearn__mpi_ctx *c, const clearn_estimator *est) {
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
    rc = clearn__mpi_fail(mrc, "MPI_Bcast (estimator kind)");
  else if (memcmp(&hdr, &mine, sizeof hdr) != 0)
    rc = clearn__err(CLEARN_EINVAL,
                     "estimator kind '%s' differs from rank 0's '%s'; every "
                     "rank must fit the same kind",
                     t->name, hdr.kind);
  if ((rc = clearn__mpi_agree(c, rc)) != CLEARN_OK) return rc;

  if ((p0 = malloc(t->params_size ? t->params_size : 1)) == NULL)
    rc = clearn__err(CLEARN_ENOMEM, "out of memory");
  if ((rc = clearn__mpi_agree(c, rc)) != CLEARN_OK) {
    free(p0);
    return rc;
  }
  memcpy(p0, est->params, t->params_size);
  mrc = MPI_Bcast(p0, (int)t->params_size, MPI_BYTE, 0, c->comm);
  if (mrc != MPI_SUCCESS) rc = clearn__mpi_fail(mrc, "MPI_Bcast (parameters)");
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
  return clearn__mpi_agree(c, rc);
}


int clearn__mpi_install(clearn__mpi_ctx *c, clearn_estimator *est, int rc,
                        void **model) {
  long long v[3], hi[3];
  int mrc;
  v[0] = rc;
  v[1] = -(long long)rc;
  v[2] = *model == NULL;
  mrc = MPI_Allreduce(v, hi, 3, MPI_LONG_LONG, MPI_MAX, c->comm);
  if (mrc != MPI_SUCCESS) {
    rc = clearn__mpi_fail(mrc, "MPI_Allreduce (fit status)");
  } else if (hi[0] != -hi[1]) {
    /* Ranks ended differently; usually they already agree (the failure
     * came through a collective) and keep their own message. */
    rc = clearn__mpi_agree(c, rc);
  }
  /* ENOTCONVERGED still delivers a usable model. */
  if (mrc == MPI_SUCCESS && hi[2] == 0 &&
      (rc == CLEARN_OK || rc == CLEARN_ENOTCONVERGED)) {
    clearn__est_set_model(est, *model);
    *model = NULL;
  }
  return rc;
}
