/*
 * mpi_internal.h -- what the files of mpi/ share: a private duplicate of
 * the caller's communicator, status agreement, sums, parameter agreement.
 * Not installed.
 */
#ifndef CLEARN_MPI_INTERNAL_H
#define CLEARN_MPI_INTERNAL_H

#include <mpi.h>

#include "internal.h"

typedef struct clearn__mpi_ctx {
  MPI_Comm comm; /* private duplicate, MPI_ERRORS_RETURN */
  int rank, size;
  double seconds; /* time spent in communication calls (clearn__mpi_time) */
} clearn__mpi_ctx;

/* CLEARN_EMPI with MPI's message for what failed. */
int clearn__mpi_fail(int mpirc, const char *what);
/* Collective agreement on status: if any rank passes an error, every rank
 * returns the lowest failing rank's status, the others with its message
 * prefixed "rank N: ". */
int clearn__mpi_agree(clearn__mpi_ctx *c, int local_rc);
/* clearn__reducer.sum over the ranks (Reduce + Bcast: bitwise the same
 * everywhere). */
int clearn__mpi_sum(void *ctx, double *buf, size_t n, int local_rc);
/* Duplicate comm (collective); fails alike on every rank. */
int clearn__mpi_open(clearn__mpi_ctx *c, MPI_Comm comm);
void clearn__mpi_close(clearn__mpi_ctx *c);
/* Same kind and parameter values as rank 0 (collective, agreed). */
int clearn__mpi_check_params(clearn__mpi_ctx *c, const clearn_estimator *est);

/* After a fit (collective): agree on its outcome -- a rank can still fail
 * after the last collective, e.g. allocating the model -- and install the
 * model only if every rank holds one, so a failure anywhere keeps the
 * previous model everywhere.  Returns the agreed status; *model is NULL
 * once installed (the caller frees what is left). */
int clearn__mpi_install(clearn__mpi_ctx *c, clearn_estimator *est, int rc,
                        void **model);

#endif /* CLEARN_MPI_INTERNAL_H */
