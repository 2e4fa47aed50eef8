/*
 * test_mpi_linmod.c -- logistic_regression, lasso and elastic_net fitted
 * over MPI ranks equal the serial fit.  Run by ctest under mpiexec with 1,
 * 2 and 3 ranks (tests/mpi_linmod.cmake).
 *
 * Every rank generates the same full data set and takes a contiguous block
 * of rows of uneven size.  The rows are sorted by class, so with 2 or more
 * ranks some rank sees only one class (or, with 3, none at all): the class
 * set must be the union over ranks, and "balanced" class weights must come
 * from the global counts.  Checked, for binary and multinomial problems,
 * both solvers, with and without intercept, sample weights and balanced
 * class weights:
 *   - coef and intercept equal the serial fit's to 1e-8 (norm-wise
 *     relative) and are bitwise the same on every rank;
 *   - classes equal; the distributed accuracy equals the serial one (to
 *     1e-13: weighted sums in another order);
 *   - lasso / elastic_net (weighted, with and without intercept): coef and
 *     intercept equal the serial fit's to 1e-8 and bitwise the same on every
 *     rank;
 *   - each rank loads its own rows of X and y from HDF5 files
 *     (clearn_matrix_load_h5_rows) and the fit equals the serial one;
 *   - a label that is not an integer on the last rank: CLEARN_EINVAL on
 *     every rank, the others' message naming that rank; one class over all
 *     ranks: CLEARN_EINVAL; max_iter too small: CLEARN_ENOTCONVERGED on
 *     every rank with the model installed.
 */
#include <mpi.h>
#include <stdint.h>
#include <unistd.h>

#include "clearn/clearn_mpi.h"
#include "testutil.h"

static int g_rank, g_size;

#define RCHECK(cond, fmt, ...)                                                 \
  CHECK(cond, "[rank %d/%d] " fmt, g_rank, g_size, __VA_ARGS__)

typedef struct {
  int64_t n, p;
  double *X, *y, *w;
} dataset;

/* K classes from planted scores with noise; rows sorted by label. */
static void make_data(dataset *d, int64_t n, int64_t p, int K,
                      unsigned long long seed) {
  tu_rng r = {seed};
  double B[6 * 8];
  int64_t i, j, k, at = 0;
  double *X = malloc((size_t)(n * p) * sizeof(double));
  int *lab = malloc((size_t)n * sizeof(int));
  d->n = n;
  d->p = p;
  d->X = malloc((size_t)(n * p) * sizeof(double));
  d->y = malloc((size_t)n * sizeof(double));
  d->w = malloc((size_t)n * sizeof(double));
  for (k = 0; k < K * p; k++)
    B[k] = tu_normal(&r);
  for (i = 0; i < n; i++) {
    double best = -1e300;
    for (j = 0; j < p; j++)
      X[i * p + j] = 1.0 + (double)j * tu_normal(&r);
    for (k = 0; k < K; k++) {
      double s = 0;
      for (j = 0; j < p; j++)
        s += B[k * p + j] * X[i * p + j];
      s -= log(-log(tu_uniform(&r)));
      if (s > best)
        best = s, lab[i] = (int)k;
    }
  }
  for (k = 0; k < K; k++)
    for (i = 0; i < n; i++)
      if (lab[i] == k) {
        memcpy(d->X + at * p, X + i * p, (size_t)p * sizeof(double));
        d->y[at] = 10.0 * (double)k - 7.0;
        d->w[at] = 0.2 + 1.8 * tu_uniform(&r);
        at++;
      }
  free(X);
  free(lab);
}

/* This rank's block: uneven sizes; with 3+ ranks rank 1 holds no rows. */
static void block(int64_t n, int64_t *lo, int64_t *hi) {
  int64_t cut[64], r;
  double tot = 0, acc = 0;
  for (r = 0; r < g_size; r++)
    tot += (g_size >= 3 && r == 1) ? 0 : (double)(r + 1);
  cut[0] = 0;
  for (r = 0; r < g_size; r++) {
    acc += (g_size >= 3 && r == 1) ? 0 : (double)(r + 1);
    cut[r + 1] = (int64_t)((double)n * acc / tot);
  }
  *lo = cut[g_rank];
  *hi = cut[g_rank + 1];
}

static clearn_estimator *make(const char *solver, int fi, const char *cw,
                              double C) {
  clearn_estimator *e = NULL;
  CHECK_OK(clearn_estimator_create("logistic_regression", &e));
  CHECK_OK(clearn_estimator_set_param_string(e, "solver", solver));
  CHECK_OK(clearn_estimator_set_param_int(e, "fit_intercept", fi));
  CHECK_OK(clearn_estimator_set_param_string(e, "class_weight", cw));
  CHECK_OK(clearn_estimator_set_param_double(e, "C", C));
  CHECK_OK(clearn_estimator_set_param_double(e, "tol", 1e-10));
  CHECK_OK(clearn_estimator_set_param_int(e, "max_iter", 1000));
  return e;
}

/* max |a - b| / max(max |b|, 1) */
static double reldiff(const clearn_matrix *a, const clearn_matrix *b) {
  const double *x = clearn_matrix_data(a), *y = clearn_matrix_data(b);
  int64_t n = clearn_matrix_rows(a) * clearn_matrix_cols(a), i;
  double m = 0, s = 1;
  for (i = 0; i < n; i++) {
    m = fmax(m, fabs(x[i] - y[i]));
    s = fmax(s, fabs(y[i]));
  }
  return m / s;
}

/* Bitwise equal on every rank: compare with rank 0's copy. */
static int same_everywhere(const clearn_matrix *m) {
  int64_t n = clearn_matrix_rows(m) * clearn_matrix_cols(m);
  double *c = malloc((size_t)(n ? n : 1) * sizeof(double));
  int same, all;
  memcpy(c, clearn_matrix_data(m), (size_t)n * sizeof(double));
  MPI_Bcast(c, (int)n, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  same = memcmp(c, clearn_matrix_data(m), (size_t)n * sizeof(double)) == 0;
  MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  free(c);
  return all;
}

static void run_case(const dataset *d, const char *solver, int fi,
                     const char *cw, int weighted, double C) {
  clearn_estimator *s = make(solver, fi, cw, C), *m = make(solver, fi, cw, C);
  clearn_matrix *X, *y, *w = NULL, *Xl, *yl, *wl = NULL;
  clearn_matrix *cs = NULL, *cm = NULL, *is = NULL, *im = NULL, *ks = NULL,
                *km = NULL;
  int64_t lo, hi;
  double as = -1, am = -2, dc, di;
  block(d->n, &lo, &hi);
  clearn_matrix_wrap(d->X, d->n, d->p, CLEARN_FLOAT64, &X);
  clearn_matrix_wrap(d->y, d->n, 1, CLEARN_FLOAT64, &y);
  clearn_matrix_wrap(d->X + lo * d->p, hi - lo, d->p, CLEARN_FLOAT64, &Xl);
  clearn_matrix_wrap(d->y + lo, hi - lo, 1, CLEARN_FLOAT64, &yl);
  if (weighted) {
    clearn_matrix_wrap(d->w, d->n, 1, CLEARN_FLOAT64, &w);
    clearn_matrix_wrap(d->w + lo, hi - lo, 1, CLEARN_FLOAT64, &wl);
  }
  CHECK_OK(clearn_estimator_fit(s, X, y, w));
  CHECK_OK(clearn_mpi_estimator_fit(m, MPI_COMM_WORLD, Xl, yl, wl));
  CHECK_OK(clearn_estimator_get_attr(s, "coef", &cs));
  CHECK_OK(clearn_estimator_get_attr(m, "coef", &cm));
  CHECK_OK(clearn_estimator_get_attr(s, "intercept", &is));
  CHECK_OK(clearn_estimator_get_attr(m, "intercept", &im));
  CHECK_OK(clearn_estimator_get_attr(s, "classes", &ks));
  CHECK_OK(clearn_estimator_get_attr(m, "classes", &km));
  CHECK_OK(clearn_estimator_score(s, X, y, w, &as));
  CHECK_OK(clearn_mpi_estimator_score(m, MPI_COMM_WORLD, Xl, yl, wl, &am));
  if (cs && cm && is && im && ks && km) {
    dc = reldiff(cm, cs);
    di = reldiff(im, is);
    if (g_rank == 0)
      printf("np=%d %-5s K=%lld fi=%d %-8s w=%d: coef %.1e intercept %.1e "
             "accuracy %.4f\n",
             g_size, solver, (long long)clearn_matrix_cols(ks), fi, cw,
             weighted, dc, di, am);
    RCHECK(dc <= 1e-8, "%s: coef differs from serial by %.3g", solver, dc);
    RCHECK(di <= 1e-8, "%s: intercept differs from serial by %.3g", solver, di);
    RCHECK(clearn_matrix_cols(ks) == clearn_matrix_cols(km) &&
               memcmp(clearn_matrix_data(ks), clearn_matrix_data(km),
                      (size_t)clearn_matrix_cols(ks) * 8) == 0,
           "%s: classes differ", solver);
    RCHECK(same_everywhere(cm) && same_everywhere(im),
           "%s: ranks hold different models", solver);
    /* Weighted sums in another order: equal to rounding. */
    RCHECK(fabs(as - am) <= 1e-13, "%s: accuracy %.17g vs serial %.17g", solver,
           am, as);
  }
  clearn_matrix_free(cs), clearn_matrix_free(cm), clearn_matrix_free(is),
      clearn_matrix_free(im), clearn_matrix_free(ks), clearn_matrix_free(km);
  clearn_matrix_free(X), clearn_matrix_free(y), clearn_matrix_free(w);
  clearn_matrix_free(Xl), clearn_matrix_free(yl), clearn_matrix_free(wl);
  clearn_estimator_free(s), clearn_estimator_free(m);
}

static void run_enet(const dataset *d, const char *kind, int fi, int weighted) {
  clearn_estimator *s = NULL, *m = NULL;
  clearn_matrix *X, *y, *w = NULL, *Xl, *yl, *wl = NULL, *cs = NULL, *cm = NULL,
                        *is = NULL, *im = NULL;
  int64_t lo, hi;
  int k;
  block(d->n, &lo, &hi);
  for (k = 0; k < 2; k++) {
    clearn_estimator **e = k ? &m : &s;
    CHECK_OK(clearn_estimator_create(kind, e));
    CHECK_OK(clearn_estimator_set_param_double(*e, "alpha", 0.05));
    CHECK_OK(clearn_estimator_set_param_int(*e, "fit_intercept", fi));
    CHECK_OK(clearn_estimator_set_param_double(*e, "tol", 1e-12));
  }
  clearn_matrix_wrap(d->X, d->n, d->p, CLEARN_FLOAT64, &X);
  clearn_matrix_wrap(d->y, d->n, 1, CLEARN_FLOAT64, &y);
  clearn_matrix_wrap(d->X + lo * d->p, hi - lo, d->p, CLEARN_FLOAT64, &Xl);
  clearn_matrix_wrap(d->y + lo, hi - lo, 1, CLEARN_FLOAT64, &yl);
  if (weighted) {
    clearn_matrix_wrap(d->w, d->n, 1, CLEARN_FLOAT64, &w);
    clearn_matrix_wrap(d->w + lo, hi - lo, 1, CLEARN_FLOAT64, &wl);
  }
  CHECK_OK(clearn_estimator_fit(s, X, y, w));
  CHECK_OK(clearn_mpi_estimator_fit(m, MPI_COMM_WORLD, Xl, yl, wl));
  CHECK_OK(clearn_estimator_get_attr(s, "coef", &cs));
  CHECK_OK(clearn_estimator_get_attr(m, "coef", &cm));
  CHECK_OK(clearn_estimator_get_attr(s, "intercept", &is));
  CHECK_OK(clearn_estimator_get_attr(m, "intercept", &im));
  if (cs && cm && is && im) {
    double dc = reldiff(cm, cs), di = reldiff(im, is);
    if (g_rank == 0)
      printf("np=%d %-11s fi=%d w=%d: coef %.1e intercept %.1e\n", g_size, kind,
             fi, weighted, dc, di);
    RCHECK(dc <= 1e-8 && di <= 1e-8, "%s: differs from serial by %.3g / %.3g",
           kind, dc, di);
    RCHECK(same_everywhere(cm) && same_everywhere(im),
           "%s: ranks hold different models", kind);
  }
  clearn_matrix_free(cs), clearn_matrix_free(cm), clearn_matrix_free(is),
      clearn_matrix_free(im);
  clearn_matrix_free(X), clearn_matrix_free(y), clearn_matrix_free(w);
  clearn_matrix_free(Xl), clearn_matrix_free(yl), clearn_matrix_free(wl);
  clearn_estimator_free(s), clearn_estimator_free(m);
}

/* Each rank loads its own rows of X and y from one HDF5 file and the
 * distributed fit equals the serial fit on the arrays in memory. */
static void from_h5(const dataset *d) {
  char path[256];
  clearn_matrix *X, *y, *Xl = NULL, *yl = NULL, *cs = NULL, *cm = NULL;
  clearn_estimator *s = make("lbfgs", 1, "none", 1.0),
                   *m = make("lbfgs", 1, "none", 1.0);
  int64_t rows = -1, cols = -1, lo, hi;
  int rc = CLEARN_OK;
  long pid = (long)getpid(); /* rank 0's: one file name per run */
  MPI_Bcast(&pid, 1, MPI_LONG, 0, MPI_COMM_WORLD);
  snprintf(path, sizeof path, "%s/clearn_mpi_linmod_%ld_%d.h5",
           getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
           pid, g_size);
  clearn_matrix_wrap(d->X, d->n, d->p, CLEARN_FLOAT64, &X);
  clearn_matrix_wrap(d->y, d->n, 1, CLEARN_FLOAT64, &y);
  if (g_rank == 0) {
    char ypath[300];
    snprintf(ypath, sizeof ypath, "%s.y", path);
    CHECK_OK(clearn_matrix_save_h5(X, path, "X"));
    CHECK_OK(clearn_matrix_save_h5(y, ypath, "y"));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  CHECK_OK(clearn_matrix_h5_shape(path, "X", &rows, &cols));
  RCHECK(rows == d->n && cols == d->p, "shape %lld x %lld", (long long)rows,
         (long long)cols);
  lo = rows * g_rank / g_size;
  hi = rows * (g_rank + 1) / g_size;
  CHECK_OK(clearn_matrix_load_h5_rows(path, "X", lo, hi - lo, &Xl));
  {
    char ypath[300];
    snprintf(ypath, sizeof ypath, "%s.y", path);
    CHECK_OK(clearn_matrix_load_h5_rows(ypath, "y", lo, hi - lo, &yl));
    CHECK_RC(clearn_matrix_load_h5_rows(ypath, "y", rows - 2, 5, &cm),
             CLEARN_EINVAL);
    {
      char want[400];
      snprintf(want, sizeof want,
               "'%s': rows [%lld, %lld) are outside dataset 'y' of %lld rows",
               ypath, (long long)(rows - 2), (long long)(rows + 3),
               (long long)rows);
      CHECK_STR(clearn_last_error(), want);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (g_rank == 0)
      remove(ypath);
  }
  if (Xl && yl) {
    RCHECK(clearn_matrix_rows(Xl) == hi - lo &&
               memcmp(clearn_matrix_data(Xl), d->X + lo * d->p,
                      (size_t)((hi - lo) * d->p) * 8) == 0,
           "%s", "rows read back bitwise");
    rc = clearn_mpi_estimator_fit(m, MPI_COMM_WORLD, Xl, yl, NULL);
    CHECK_RC(rc, CLEARN_OK);
    CHECK_OK(clearn_estimator_fit(s, X, y, NULL));
    CHECK_OK(clearn_estimator_get_attr(s, "coef", &cs));
    CHECK_OK(clearn_estimator_get_attr(m, "coef", &cm));
    if (cs && cm) {
      double dc = reldiff(cm, cs);
      if (g_rank == 0)
        printf("np=%d rows from HDF5: coef %.1e from the serial fit\n", g_size,
               dc);
      RCHECK(dc <= 1e-8, "HDF5 rows: coef differs by %.3g", dc);
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (g_rank == 0)
    remove(path);
  clearn_matrix_free(X), clearn_matrix_free(y), clearn_matrix_free(Xl),
      clearn_matrix_free(yl), clearn_matrix_free(cs), clearn_matrix_free(cm);
  clearn_estimator_free(s), clearn_estimator_free(m);
}

static void errors(const dataset *d) {
  clearn_estimator *e = make("lbfgs", 1, "none", 1.0);
  clearn_matrix *Xl, *yl;
  int64_t lo, hi, i, last = g_size - 1;
  double *yc = malloc((size_t)d->n * sizeof(double));
  char want[256];
  block(d->n, &lo, &hi);
  memcpy(yc, d->y, (size_t)d->n * sizeof(double));
  clearn_matrix_wrap(d->X + lo * d->p, hi - lo, d->p, CLEARN_FLOAT64, &Xl);
  clearn_matrix_wrap(yc + lo, hi - lo, 1, CLEARN_FLOAT64, &yl);

  /* A non-integral label on the last rank (its local row 1). */
  if (g_rank == last)
    yc[lo + 1] = 2.5;
  CHECK_RC(clearn_mpi_estimator_fit(e, MPI_COMM_WORLD, Xl, yl, NULL),
           CLEARN_EINVAL);
  if (g_rank == last)
    want[0] = '\0';
  else
    snprintf(want, sizeof want, "rank %d: ", (int)last);
  snprintf(want + strlen(want), sizeof want - strlen(want),
           "logistic_regression: y[1] = 2.5 is not a class label (labels "
           "are integers with |label| <= 2^53)");
  RCHECK(strcmp(clearn_last_error(), want) == 0, "message: %s",
         clearn_last_error());
  RCHECK(!clearn_estimator_is_fitted(e), "%s", "no model after a failure");

  /* One class over all ranks. */
  for (i = 0; i < d->n; i++)
    yc[i] = 4;
  CHECK_RC(clearn_mpi_estimator_fit(e, MPI_COMM_WORLD, Xl, yl, NULL),
           CLEARN_EINVAL);
  CHECK_STR(clearn_last_error(), "logistic_regression: y holds one class only "
                                 "(label 4); need samples of at least 2 "
                                 "classes");

  /* Not converged: every rank says so and holds the model. */
  memcpy(yc, d->y, (size_t)d->n * sizeof(double));
  CHECK_OK(clearn_estimator_set_param_int(e, "max_iter", 2));
  CHECK_RC(clearn_mpi_estimator_fit(e, MPI_COMM_WORLD, Xl, yl, NULL),
           CLEARN_ENOTCONVERGED);
  RCHECK(clearn_estimator_is_fitted(e), "%s", "model installed");
  clearn_matrix_free(Xl), clearn_matrix_free(yl);
  clearn_estimator_free(e);
  free(yc);
}

int main(int argc, char **argv) {
  dataset bin, multi;
  int fails, total;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  make_data(&bin, 600, 5, 2, 11);
  make_data(&multi, 700, 6, 4, 12);
  run_case(&bin, "lbfgs", 1, "none", 0, 1.0);
  run_case(&bin, "tron", 1, "balanced", 1, 0.5);
  run_case(&bin, "lbfgs", 0, "none", 1, 10.0);
  run_case(&multi, "lbfgs", 1, "balanced", 1, 1.0);
  run_case(&multi, "tron", 1, "none", 0, 2.0);
  run_case(&multi, "tron", 0, "balanced", 0, 1.0);
  run_enet(&multi, "lasso", 1, 0);
  run_enet(&multi, "elastic_net", 1, 1);
  run_enet(&bin, "elastic_net", 0, 1);
  from_h5(&bin);
  errors(&bin);
  fails = tu_failures;
  MPI_Allreduce(&fails, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (g_rank == 0)
    printf("np=%d: %d failures over all ranks\n", g_size, total);
  free(bin.X), free(bin.y), free(bin.w), free(multi.X), free(multi.y),
      free(multi.w);
  MPI_Finalize();
  return total ? 1 : 0;
}
