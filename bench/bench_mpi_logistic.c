/*
 * bench_mpi_logistic.c -- distributed logistic regression: each rank reads
 * its contiguous block of rows of a file written by `bench_logistic gen`
 * and the ranks fit together with clearn_mpi_estimator_fit.
 *
 * usage: mpiexec -n NP bench_mpi_logistic FILE [--p P] [--solver S]
 *            [--tol T] [--reps R]
 *
 * Prints, from rank 0, the best fit time over R runs (after a barrier, so
 * every rank starts together), the iterations and the coefficients' max
 * difference from a fit on the whole file is left to run_logistic.sh (it
 * compares the objectives).  Never fails on a time.
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "clearn/clearn_mpi.h"

static const char *opt(int argc, char **argv, const char *name,
                       const char *dflt) {
  int i;
  for (i = 0; i + 1 < argc; i++)
    if (strcmp(argv[i], name) == 0)
      return argv[i + 1];
  return dflt;
}

int main(int argc, char **argv) {
  int rank, size, r, reps, rc = 0;
  int64_t p, n, lo, hi, rows;
  long long bytes;
  double *X, *y, best = 1e30;
  FILE *f;
  clearn_matrix *Xm, *ym, *coef = NULL, *it = NULL;
  clearn_estimator *e = NULL;
  struct rusage ru;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc < 2) {
    if (rank == 0)
      fprintf(stderr, "usage: %s FILE [options]\n", argv[0]);
    MPI_Finalize();
    return 2;
  }
  p = atoll(opt(argc, argv, "--p", "100"));
  reps = atoi(opt(argc, argv, "--reps", "3"));
  if ((f = fopen(argv[1], "rb")) == NULL) {
    perror(argv[1]);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  fseek(f, 0, SEEK_END);
  bytes = ftell(f);
  n = bytes / 8 / (p + 1);
  lo = n * rank / size;
  hi = n * (rank + 1) / size;
  rows = hi - lo;
  X = malloc((size_t)(rows * p) * 8);
  y = malloc((size_t)(rows ? rows : 1) * 8);
  fseek(f, (long)(lo * p * 8), SEEK_SET);
  if (fread(X, 8, (size_t)(rows * p), f) != (size_t)(rows * p))
    rc = 1;
  fseek(f, (long)((n * p + lo) * 8), SEEK_SET);
  if (fread(y, 8, (size_t)rows, f) != (size_t)rows)
    rc = 1;
  fclose(f);
  if (rc)
    MPI_Abort(MPI_COMM_WORLD, 1);
  clearn_matrix_wrap(X, rows, p, CLEARN_FLOAT64, &Xm);
  clearn_matrix_wrap(y, rows, 1, CLEARN_FLOAT64, &ym);
  clearn_estimator_create("logistic_regression", &e);
  clearn_estimator_set_param_string(e, "solver",
                                    opt(argc, argv, "--solver", "lbfgs"));
  clearn_estimator_set_param_double(e, "tol",
                                    atof(opt(argc, argv, "--tol", "1e-4")));
  for (r = 0; r < reps; r++) {
    double t0, t;
    MPI_Barrier(MPI_COMM_WORLD);
    t0 = MPI_Wtime();
    rc = clearn_mpi_estimator_fit(e, MPI_COMM_WORLD, Xm, ym, NULL);
    t = MPI_Wtime() - t0;
    MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    if (rc != CLEARN_OK && rc != CLEARN_ENOTCONVERGED) {
      if (rank == 0)
        fprintf(stderr, "fit: %s\n", clearn_last_error());
      break;
    }
    if (t < best)
      best = t;
  }
  clearn_estimator_get_attr(e, "coef", &coef);
  clearn_estimator_get_attr(e, "n_iter", &it);
  getrusage(RUSAGE_SELF, &ru);
  if (rank == 0 && coef && it)
    printf("RESULT mode=mpi np=%d n=%lld p=%lld threads=%d best_s=%.4f "
           "iters=%lld coef0=%.12g peak_rss_mb_rank0=%.0f\n",
           size, (long long)n, (long long)p, clearn_get_num_threads(), best,
           (long long)*(const int64_t *)clearn_matrix_data(it),
           ((const double *)clearn_matrix_data(coef))[0],
           (double)ru.ru_maxrss / 1024.0);
  clearn_matrix_free(coef), clearn_matrix_free(it);
  clearn_matrix_free(Xm), clearn_matrix_free(ym);
  clearn_estimator_free(e);
  free(X), free(y);
  MPI_Finalize();
  return rc == CLEARN_OK || rc == CLEARN_ENOTCONVERGED ? 0 : 1;
}
