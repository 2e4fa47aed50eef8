/*
 * bench_mpi_als.c -- distributed ALS: seconds per iteration, communication
 * share, peak RSS per rank and bytes exchanged, for N ranks against the
 * threaded single process, on the same HDF5 ratings file.
 *
 *   bench_mpi_als make FILE [users items nnz seed]
 *       generate ml-20m-shaped ratings (defaults: 138493 26744 20000263 1)
 *       and save them as HDF5 ratings (run once, serially)
 *   mpirun -np N bench_mpi_als fit FILE RANK ITERS THREADS [serial]
 *       every rank loads its share (clearn_mpi_ratings_load: its block of
 *       users by hyperslab), fits ALS (explicit ALS-WR, reg 0.05, float32,
 *       Cholesky) with THREADS threads per rank through
 *       clearn_mpi_fit_ratings -- or, with "serial" under -np 1, loads the
 *       whole file and calls clearn_estimator_fit_ratings (the threaded
 *       single-process baseline) -- and prints one line per rank with its
 *       peak RSS and one summary line (rank 0) with s/iteration (mean over
 *       iterations 2..ITERS), communication seconds and share, and the
 *       factor bytes every rank receives per iteration.  The first model's
 *       user factors are hashed, so runs can be checked for bitwise
 *       equality across rank counts.
 *   bench_mpi_als paper FILE NP RANK
 *       "on paper" for the Spark-style exchange (MPI_Alltoallv of only the
 *       rows each rank's ratings touch): with the same count-balanced
 *       blocks, how many other-side rows each rank needs per half-step,
 *       against the Allgatherv of every row.
 */
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "clearn/clearn_mpi.h"

static double peak_mb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss / 1024.0;
}

static void die(const char *what) {
  fprintf(stderr, "bench_mpi_als: %s: %s\n", what, clearn_last_error());
  exit(1);
}

static int cmd_make(int argc, char **argv) {
  int64_t nu = argc > 3 ? atoll(argv[3]) : 138493;
  int64_t ni = argc > 4 ? atoll(argv[4]) : 26744;
  int64_t nnz = argc > 5 ? atoll(argv[5]) : 20000263;
  uint64_t seed = argc > 6 ? strtoull(argv[6], NULL, 10) : 1;
  clearn_ratings *r = NULL;
  double t0 = MPI_Wtime();
  if (clearn_ratings_generate(nu, ni, nnz, 20, 10, 0.8, 2, seed, &r))
    die("generate");
  if (clearn_ratings_save(r, argv[2])) die("save");
  printf("%s: %lld ratings, %lld users, %lld items (%.1f s)\n", argv[2],
         (long long)clearn_ratings_nnz(r), (long long)clearn_ratings_n_users(r),
         (long long)clearn_ratings_n_items(r), MPI_Wtime() - t0);
  clearn_ratings_free(r);
  return 0;
}

/* FNV-1a of the user factors: equal across runs iff bitwise equal. */
static unsigned long long factor_hash(const clearn_estimator *est) {
  clearn_matrix *m = NULL;
  unsigned long long h = 1469598103934665603ULL;
  size_t n, i;
  const unsigned char *p;
  if (clearn_estimator_get_attr(est, "user_factors", &m)) die("get_attr");
  n = (size_t)(clearn_matrix_rows(m) * clearn_matrix_cols(m)) *
      clearn_dtype_size(clearn_matrix_dtype(m));
  p = clearn_matrix_data(m);
  for (i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
  clearn_matrix_free(m);
  return h;
}

static int cmd_fit(int argc, char **argv) {
  const char *path = argv[2];
  int k = atoi(argv[3]), iters = atoi(argv[4]), threads = atoi(argv[5]);
  int serial = argc > 6 && !strcmp(argv[6], "serial");
  int rank, size, p;
  clearn_ratings *mine = NULL;
  clearn_estimator *est = NULL;
  clearn_matrix *h = NULL;
  double t0, t_load, t_fit, mb, *all_mb, s_iter = 0, c_iter = 0, n_users,
         n_items;
  char buf[64];
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  t0 = MPI_Wtime();
  if (serial ? clearn_ratings_load(path, &mine)
             : clearn_mpi_ratings_load(path, NULL, MPI_COMM_WORLD, &mine))
    die("load");
  t_load = MPI_Wtime() - t0;
  if (clearn_estimator_create("als", &est)) die("create");
  snprintf(buf, sizeof buf, "%d", k);
  clearn_estimator_set_param_string(est, "rank", buf);
  snprintf(buf, sizeof buf, "%d", iters);
  clearn_estimator_set_param_string(est, "max_iter", buf);
  snprintf(buf, sizeof buf, "%d", threads);
  clearn_estimator_set_param_string(est, "num_threads", buf);
  clearn_estimator_set_param_string(est, "reg", "0.05");
  MPI_Barrier(MPI_COMM_WORLD);
  t0 = MPI_Wtime();
  if (serial ? clearn_estimator_fit_ratings(est, mine, NULL)
             : clearn_mpi_fit_ratings(est, MPI_COMM_WORLD, mine, NULL))
    die("fit");
  t_fit = MPI_Wtime() - t0;
  if (clearn_estimator_get_attr(est, "history", &h)) die("history");
  for (p = 1; p < iters; p++) {
    s_iter += clearn_matrix_get(h, p, 3);
    c_iter += clearn_matrix_get(h, p, 4);
  }
  s_iter /= iters - 1;
  c_iter /= iters - 1;
  {
    clearn_matrix *m = NULL;
    clearn_estimator_get_attr(est, "user_ids", &m);
    n_users = (double)clearn_matrix_cols(m);
    clearn_matrix_free(m);
    clearn_estimator_get_attr(est, "item_ids", &m);
    n_items = (double)clearn_matrix_cols(m);
    clearn_matrix_free(m);
  }
  mb = peak_mb();
  all_mb = malloc((size_t)size * sizeof *all_mb);
  MPI_Gather(&mb, 1, MPI_DOUBLE, all_mb, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    /* every rank receives the rows it does not own; with balanced blocks
     * that is about (size - 1) / size of both factor matrices */
    double bytes = size > 1 ? (n_users + n_items) * k * 4.0 *
                                  (double)(size - 1) / size
                            : 0;
    printf("%s np=%d threads/rank=%d rank=%d: load %.2f s, fit %.2f s, "
           "%.3f s/iter (iters 2..%d), comm %.3f s/iter (%.1f%%), factor "
           "bytes received per rank per iteration %.1f MB, final train RMSE "
           "%.4f, hash %016llx\n",
           serial ? "serial" : "mpi", size, threads, k, t_load, t_fit, s_iter,
           iters, c_iter, 100.0 * c_iter / s_iter, bytes / 1e6,
           clearn_matrix_get(h, iters - 1, 1), factor_hash(est));
    for (p = 0; p < size; p++)
      printf("  rank %d peak RSS %.0f MB\n", p, all_mb[p]);
  }
  free(all_mb);
  clearn_matrix_free(h);
  clearn_estimator_free(est);
  clearn_ratings_free(mine);
  return 0;
}

/* Contiguous blocks balanced by count (the rule of mpi/mpi_rec.c). */
static void blocks(const int64_t *ptr, int64_t n, int size, int64_t *off) {
  int64_t total = ptr[n], r;
  int p = 1;
  off[0] = 0;
  for (r = 0; r < n && p < size; r++)
    while (p < size && (double)ptr[r] >= (double)p * (double)total / size)
      off[p++] = r;
  while (p < size) off[p++] = n;
  off[size] = n;
}

/* Rows of the other side that the rows [r0, r1) of a CSR touch and that
 * another rank owns (other side's blocks in ooff). */
static int64_t touched(const clearn_csr *m, int64_t r0, int64_t r1,
                       const int64_t *ooff, int me, unsigned char *seen,
                       int64_t n_other) {
  int64_t q, c = 0;
  const int64_t *ptr = clearn_csr_indptr(m);
  const int32_t *idx = clearn_csr_indices(m);
  memset(seen, 0, (size_t)n_other);
  for (q = ptr[r0]; q < ptr[r1]; q++) seen[idx[q]] = 1;
  for (q = 0; q < n_other; q++)
    if (seen[q] && (q < ooff[me] || q >= ooff[me + 1])) c++;
  return c;
}

static int cmd_paper(int argc, char **argv) {
  int np = atoi(argv[3]), k = atoi(argv[4]), p;
  clearn_ratings *r = NULL;
  const clearn_csr *bu, *bi;
  int64_t nu, ni, *uoff, *ioff;
  unsigned char *seen;
  (void)argc;
  if (clearn_ratings_load(argv[2], &r)) die("load");
  bu = clearn_ratings_by_user(r);
  bi = clearn_ratings_by_item(r);
  nu = clearn_ratings_n_users(r);
  ni = clearn_ratings_n_items(r);
  uoff = malloc(((size_t)np + 1) * sizeof *uoff);
  ioff = malloc(((size_t)np + 1) * sizeof *ioff);
  seen = malloc((size_t)(nu > ni ? nu : ni));
  blocks(clearn_csr_indptr(bu), nu, np, uoff);
  blocks(clearn_csr_indptr(bi), ni, np, ioff);
  printf("np=%d rank=%d: per iteration, factor bytes each rank receives\n",
         np, k);
  for (p = 0; p < np; p++) {
    int64_t need_i = touched(bu, uoff[p], uoff[p + 1], ioff, p, seen, ni);
    int64_t need_u = touched(bi, ioff[p], ioff[p + 1], uoff, p, seen, nu);
    double all = (double)(nu - (uoff[p + 1] - uoff[p]) + ni -
                          (ioff[p + 1] - ioff[p])) * k * 4;
    double part = (double)(need_i + need_u) * k * 4;
    printf("  rank %d: %lld users, %lld items; Allgatherv %.1f MB, "
           "Alltoallv of touched rows %.1f MB (%lld item rows, %lld user "
           "rows; %.0f%%)\n",
           p, (long long)(uoff[p + 1] - uoff[p]),
           (long long)(ioff[p + 1] - ioff[p]), all / 1e6, part / 1e6,
           (long long)need_i, (long long)need_u, 100 * part / all);
  }
  free(uoff);
  free(ioff);
  free(seen);
  clearn_ratings_free(r);
  return 0;
}

int main(int argc, char **argv) {
  int rc = 2;
  MPI_Init(&argc, &argv);
  if (argc >= 3 && !strcmp(argv[1], "make"))
    rc = cmd_make(argc, argv);
  else if (argc >= 6 && !strcmp(argv[1], "fit"))
    rc = cmd_fit(argc, argv);
  else if (argc >= 5 && !strcmp(argv[1], "paper"))
    rc = cmd_paper(argc, argv);
  else
    fprintf(stderr, "usage: bench_mpi_als make FILE [users items nnz seed] | "
                    "fit FILE RANK ITERS THREADS [serial] | paper FILE NP "
                    "RANK\n");
  MPI_Finalize();
  return rc;
}
