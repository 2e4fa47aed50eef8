/*
 * test_linear_sklearn.c -- parity of linear_regression and ridge with
 * scikit-learn 1.2 (Debian's python3-sklearn).
 *
 * Usage: test_linear_sklearn SCRIPT PYTHON
 *   SCRIPT  tests/sklearn_ref.py
 *   PYTHON  interpreter with numpy + scikit-learn (CMake's
 *           CLEARN_TEST_PYTHON, /usr/bin/python3 by default)
 *
 * The problems are generated here (tu_rng, so they are the same on every
 * run), written as raw little-endian float64 files into a mkdtemp()
 * directory with a manifest, and fitted by scikit-learn in one run of
 * SCRIPT: LinearRegression, and Ridge(solver="cholesky") -- the solver
 * clearn's ridge implements.  Then clearn fits the same problems and every
 * fitted quantity is compared:
 *
 *   coef, predictions, singular values: per coefficient vector (one row of
 *     coef per target, one column of the predictions per target),
 *     max_j |clearn_j - sklearn_j| <= 1e-8 * max_j |sklearn_j|.  A norm-wise
 *     bound, because an element-wise one would demand digits that neither
 *     library has: a coefficient that is small next to the others carries
 *     the absolute error of the large ones.
 *   intercept: per target |a - b| <= 1e-8 * max(|b|, |ymean|, sum_j
 *     |xmean_j coef_j|): the intercept is ymean - xmean . coef, so it
 *     inherits the absolute error of the terms it is the difference of.
 *   score (R^2): |a - b| <= 1e-8 * max(|b|, 1).
 *   rank: equal.
 *
 * Ridge solves the normal equations, so two correct implementations --
 * or scikit-learn against itself with the rows in another order -- differ
 * by about cond(X^T X + alpha I) * eps.  That is 2e-8 for cond(X) = 1e4
 * and a tiny alpha: no implementation can promise 1e-8 there.  Such
 * problems are marked "floor": their coef and intercept differences are
 * printed, not checked (predictions, R^2 still are); the checked
 * ill-conditioned Ridge problems keep cond(X^T X + alpha I) <= 1e6 (cond(X)
 * = 1e3 with alpha = 1e-8; cond(X) = 1e4 with alpha >= 1e-2).  The column
 * "sk-self" prints scikit-learn's own spread (rows reversed) for scale.
 *
 * Ridge with alpha = 0 on a rank-deficient X is not compared: whether the
 * Cholesky factorization of the singular Gram matrix breaks down depends
 * on rounding, and scikit-learn's answer is noise of size 1e14..1e15
 * either way (a tiny pivot, or its SVD fallback, which keeps singular
 * values above an absolute 1e-15); clearn then returns noise too or
 * CLEARN_ENUMERIC pointing to linear_regression.  Use linear_regression
 * there, as the rank-deficient problems below do.
 *
 * LinearRegression matches bit for bit wherever the same LAPACK is linked,
 * because clearn centres in numpy's summation order (see
 * algorithms/linear_regression.c).  That is what makes "lr_wide" match at
 * all: with p > n and an intercept the centered X has a singular value
 * made of rounding, which scikit-learn keeps or drops depending on the last
 * bits of the means (sk-self shows its coefficients moving by percents).
 * The rank-deficient data have one dominant column so that their exactly
 * dependent columns leave singular values far below the cutoff (about
 * 0.05 eps s_max, against up to 1.5 eps s_max with all columns alike):
 * scikit-learn then reliably returns the minimum-norm solution rather than
 * coefficients of 1e13 that only the very same arithmetic reproduces.
 *
 * Without PYTHON or scikit-learn the test prints "SKIPPED: ..." on stderr
 * and exits 77, which ctest reports as skipped.  Set CLEARN_KEEP_TMP=1 to
 * keep the problem directory (it is always kept when a check fails), and
 * CLEARN_SKLEARN_SEED=<n> to draw other problems than the fixed default.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <clearn/clearn.h>

#include "linmodel.h" /* to assert which centering path a problem takes */
#include "testutil.h"

#define RTOL 1e-8
#define MAX_PROBLEMS 64
#define MAX_DATASETS 32

/* ---- problems ------------------------------------------------------------ */

typedef struct {
  int64_t n, p, t;
  double *X, *y, *w; /* w NULL = unweighted */
} dataset;

typedef struct {
  char name[48];
  const char *kind; /* "linear_regression" or "ridge" */
  const dataset *d;
  int fit_intercept;
  double alpha;
  int floor; /* 1: coef at the noise floor, printed but not checked */
} problem;

static dataset datasets[MAX_DATASETS];
static int n_datasets;
static problem problems[MAX_PROBLEMS];
static int n_problems;

static dataset *new_dataset(int64_t n, int64_t p, int64_t t, int weighted) {
  dataset *d;
  if (n_datasets == MAX_DATASETS) {
    fprintf(stderr, "too many datasets\n");
    exit(2);
  }
  d = &datasets[n_datasets++];
  d->n = n;
  d->p = p;
  d->t = t;
  d->X = calloc((size_t)(n * p), sizeof(double));
  d->y = calloc((size_t)(n * t), sizeof(double));
  d->w = weighted ? calloc((size_t)n, sizeof(double)) : NULL;
  if (!d->X || !d->y || (weighted && !d->w)) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  return d;
}

static problem *add_problem(const char *name, const char *kind,
                            const dataset *d, int fit_intercept,
                            double alpha) {
  problem *pr;
  if (n_problems == MAX_PROBLEMS) {
    fprintf(stderr, "too many problems\n");
    exit(2);
  }
  pr = &problems[n_problems++];
  snprintf(pr->name, sizeof pr->name, "%s", name);
  pr->kind = kind;
  pr->d = d;
  pr->fit_intercept = fit_intercept;
  pr->alpha = alpha;
  pr->floor = 0;
  return pr;
}

/* y = X B^T + c + noise, with B (t x p) and c drawn here. */
static void plant_targets(tu_rng *r, dataset *d, double noise) {
  int64_t i, j, k;
  double *B = malloc((size_t)(d->t * d->p) * sizeof(double));
  for (k = 0; k < d->t * d->p; k++) B[k] = 2.0 * tu_normal(r);
  for (k = 0; k < d->t; k++) {
    double c = 3.0 + k;
    for (i = 0; i < d->n; i++) {
      double v = c + noise * tu_normal(r);
      for (j = 0; j < d->p; j++) v += d->X[i * d->p + j] * B[k * d->p + j];
      d->y[i * d->t + k] = v;
    }
  }
  free(B);
}

/* Column j is mu_j + sd_j N(0, 1), mu_j uniform in mean_offset +-
 * mean_spread, sd_j uniform in [0.5, 2]. */
static void fill_gaussian(tu_rng *r, dataset *d, double mean_spread,
                          double mean_offset) {
  int64_t i, j, p = d->p;
  double *mu = malloc((size_t)p * sizeof(double));
  double *sd = malloc((size_t)p * sizeof(double));
  for (j = 0; j < p; j++) {
    mu[j] = mean_offset + mean_spread * (2.0 * tu_uniform(r) - 1.0);
    sd[j] = 0.5 + 1.5 * tu_uniform(r);
  }
  for (i = 0; i < d->n; i++)
    for (j = 0; j < p; j++) d->X[i * p + j] = mu[j] + sd[j] * tu_normal(r);
  free(mu);
  free(sd);
}

/* Q (n x k, row-major) with orthonormal columns, also orthogonal to the
 * ones vector if `centered` (so centering leaves them as they are).
 * Modified Gram-Schmidt, twice for orthogonality to working precision. */
static void orthonormal(tu_rng *r, int64_t n, int64_t k, int centered,
                        double *Q) {
  int64_t i, j, l, pass;
  for (j = 0; j < k; j++) {
    double nrm = 0;
    for (i = 0; i < n; i++) Q[i * k + j] = tu_normal(r);
    for (pass = 0; pass < 2; pass++) {
      if (centered) {
        double m = 0;
        for (i = 0; i < n; i++) m += Q[i * k + j];
        m /= (double)n;
        for (i = 0; i < n; i++) Q[i * k + j] -= m;
      }
      for (l = 0; l < j; l++) {
        double dot = 0;
        for (i = 0; i < n; i++) dot += Q[i * k + l] * Q[i * k + j];
        for (i = 0; i < n; i++) Q[i * k + j] -= dot * Q[i * k + l];
      }
    }
    for (i = 0; i < n; i++) nrm += Q[i * k + j] * Q[i * k + j];
    nrm = sqrt(nrm);
    for (i = 0; i < n; i++) Q[i * k + j] /= nrm;
  }
}

/* X = U diag(s) V^T + column means, singular values of the centered X
 * log-spaced from sqrt(n) down to sqrt(n) / cond. */
static void fill_designed(tu_rng *r, dataset *d, double cond,
                          double mean_spread) {
  int64_t n = d->n, p = d->p, i, j, k;
  double *U = malloc((size_t)(n * p) * sizeof(double));
  double *V = malloc((size_t)(p * p) * sizeof(double));
  double *s = malloc((size_t)p * sizeof(double));
  double *mu = malloc((size_t)p * sizeof(double));
  orthonormal(r, n, p, 1, U);
  orthonormal(r, p, p, 0, V);
  for (k = 0; k < p; k++)
    s[k] = sqrt((double)n) * pow(cond, -(double)k / (double)(p - 1));
  for (j = 0; j < p; j++)
    mu[j] = mean_spread * (2.0 * tu_uniform(r) - 1.0);
  for (i = 0; i < n; i++)
    for (j = 0; j < p; j++) {
      double v = mu[j];
      for (k = 0; k < p; k++) v += U[i * p + k] * s[k] * V[j * p + k];
      d->X[i * p + j] = v;
    }
  free(U);
  free(V);
  free(s);
  free(mu);
}

static void fill_weights(tu_rng *r, dataset *d, int zero_every) {
  int64_t i;
  for (i = 0; i < d->n; i++)
    d->w[i] = zero_every && i % zero_every == 3 ? 0.0
                                                : 0.1 + 2.9 * tu_uniform(r);
}

static void build_problems(unsigned long long seed) {
  tu_rng r = {seed};
  dataset *d;
  int64_t i, j;
  static const double alphas[] = {0.0, 1e-8, 1e-2, 1.0, 1e4};
  static const char *const alpha_names[] = {"0", "1e-8", "1e-2", "1", "1e4"};

  /* Well-conditioned, means within +-0.5 against a spread >= 0.5: the
   * Gram-centering fast path (it needs mean^2 <= 3 var per column). */
  d = new_dataset(500, 20, 1, 0);
  fill_gaussian(&r, d, 0.5, 0.0);
  plant_targets(&r, d, 0.5);
  add_problem("lr_well", "linear_regression", d, 1, 0);
  for (j = 0; j < 5; j++) {
    char name[48];
    snprintf(name, sizeof name, "ridge_well_alpha%s", alpha_names[j]);
    add_problem(name, "ridge", d, 1, alphas[j]);
  }
  add_problem("lr_well_nointercept", "linear_regression", d, 0, 0);
  add_problem("ridge_well_nointercept", "ridge", d, 0, 1.0);

  /* Means near 1000 against a spread of 0.5..2: centering in the Gram
   * matrix would cancel ~20 bits, so ridge centres the rows explicitly. */
  d = new_dataset(500, 10, 1, 0);
  fill_gaussian(&r, d, 3.0, 1000.0);
  plant_targets(&r, d, 0.1);
  add_problem("lr_bigmean", "linear_regression", d, 1, 0);
  add_problem("ridge_bigmean_alpha1e-8", "ridge", d, 1, 1e-8);
  add_problem("ridge_bigmean_alpha1", "ridge", d, 1, 1.0);
  /* Uncentered, mean 1000: cond(X^T X) ~ 2e7 unless alpha lifts it. */
  add_problem("ridge_bigmean_nointercept_alpha1e4", "ridge", d, 0, 1e4);
  add_problem("ridge_bigmean_nointercept_alpha1", "ridge", d, 0, 1.0)
      ->floor = 1;

  /* Ill-conditioned from a designed SVD, cond(Xc) = 1e3 and 1e4. */
  d = new_dataset(500, 20, 1, 0);
  fill_designed(&r, d, 1e3, 0.05);
  plant_targets(&r, d, 0.01);
  add_problem("lr_cond1e3", "linear_regression", d, 1, 0);
  add_problem("ridge_cond1e3_alpha1e-8", "ridge", d, 1, 1e-8);
  add_problem("ridge_cond1e3_alpha1e-2", "ridge", d, 1, 1e-2);
  d = new_dataset(500, 20, 1, 0);
  fill_designed(&r, d, 1e4, 0.05);
  plant_targets(&r, d, 0.01);
  add_problem("lr_cond1e4", "linear_regression", d, 1, 0);
  add_problem("ridge_cond1e4_alpha1e-8", "ridge", d, 1, 1e-8)->floor = 1;
  add_problem("ridge_cond1e4_alpha1e-2", "ridge", d, 1, 1e-2);
  add_problem("ridge_cond1e4_alpha1e4", "ridge", d, 1, 1e4);
  /* The same with large means: the blocked centering path. */
  d = new_dataset(500, 20, 1, 0);
  fill_designed(&r, d, 1e4, 1000.0);
  plant_targets(&r, d, 0.01);
  add_problem("lr_cond1e4_bigmean", "linear_regression", d, 1, 0);
  add_problem("ridge_cond1e4_bigmean_alpha1e-8", "ridge", d, 1, 1e-8)
      ->floor = 1;
  add_problem("ridge_cond1e4_bigmean_alpha1e-2", "ridge", d, 1, 1e-2);

  /* Rank-deficient: 12 columns, 9 independent (a duplicate and two linear
   * combinations); column 1 on a 50 times larger scale (see the top). */
  d = new_dataset(200, 12, 1, 0);
  fill_gaussian(&r, d, 1.0, 0.0);
  for (i = 0; i < d->n; i++) {
    double *x = d->X + i * 12;
    x[1] *= 50.0;
    x[9] = x[2];
    x[10] = 2.0 * x[0] - x[5];
    x[11] = x[3] + 0.5 * x[7];
  }
  plant_targets(&r, d, 0.5);
  add_problem("lr_rankdef", "linear_regression", d, 1, 0);
  add_problem("lr_rankdef_nointercept", "linear_regression", d, 0, 0);
  add_problem("ridge_rankdef_alpha1", "ridge", d, 1, 1.0);
  add_problem("ridge_rankdef_alpha1e-2", "ridge", d, 1, 1e-2);

  /* p > n: minimum-norm interpolation (rank n without intercept; with one
   * the rank is decided by rounding, see the top). */
  d = new_dataset(30, 60, 1, 0);
  fill_gaussian(&r, d, 1.0, 0.0);
  plant_targets(&r, d, 0.5);
  add_problem("lr_wide", "linear_regression", d, 1, 0);
  add_problem("lr_wide_nointercept", "linear_regression", d, 0, 0);
  add_problem("ridge_wide_alpha1", "ridge", d, 1, 1.0);

  /* Sample weights, every 10th zero. */
  d = new_dataset(300, 8, 1, 1);
  fill_gaussian(&r, d, 2.0, 0.0);
  fill_weights(&r, d, 10);
  plant_targets(&r, d, 0.5);
  add_problem("lr_weights", "linear_regression", d, 1, 0);
  add_problem("lr_weights_nointercept", "linear_regression", d, 0, 0);
  add_problem("ridge_weights_alpha0.5", "ridge", d, 1, 0.5);
  add_problem("ridge_weights_nointercept", "ridge", d, 0, 0.5);

  /* Tall, means near 1000: numpy sums a column in 8192-row chunks, and
   * ridge centres in several row blocks. */
  d = new_dataset(20000, 20, 1, 0);
  fill_gaussian(&r, d, 3.0, 1000.0);
  plant_targets(&r, d, 0.5);
  add_problem("lr_tall_bigmean", "linear_regression", d, 1, 0);
  add_problem("ridge_tall_bigmean_alpha1", "ridge", d, 1, 1.0);
  d = new_dataset(20000, 20, 1, 1);
  fill_gaussian(&r, d, 1.0, 0.0);
  fill_weights(&r, d, 10);
  plant_targets(&r, d, 0.5);
  add_problem("lr_tall_weights", "linear_regression", d, 1, 0);

  /* Multi-target, unweighted and weighted. */
  d = new_dataset(400, 15, 3, 0);
  fill_gaussian(&r, d, 1.0, 0.0);
  plant_targets(&r, d, 0.5);
  add_problem("lr_multi", "linear_regression", d, 1, 0);
  add_problem("ridge_multi_alpha2", "ridge", d, 1, 2.0);
  add_problem("ridge_multi_nointercept", "ridge", d, 0, 2.0);
  d = new_dataset(400, 15, 3, 1);
  fill_gaussian(&r, d, 3.0, 10.0);
  fill_weights(&r, d, 7);
  plant_targets(&r, d, 0.5);
  add_problem("lr_multi_weights", "linear_regression", d, 1, 0);
  add_problem("ridge_multi_weights_alpha1e-2", "ridge", d, 1, 1e-2);
}

/* ---- raw little-endian float64 files ------------------------------------ */

static int little_endian(void) {
  const uint16_t one = 1;
  return *(const unsigned char *)&one == 1;
}

static void swap8(unsigned char *b) {
  int k;
  for (k = 0; k < 4; k++) {
    unsigned char c = b[k];
    b[k] = b[7 - k];
    b[7 - k] = c;
  }
}

static char tmpdir[1024];

static void path_of(char *buf, size_t cap, const char *name, const char *ext) {
  int len = snprintf(buf, cap, "%s/%s%s", tmpdir, name, ext);
  if (len < 0 || (size_t)len >= cap) {
    fprintf(stderr, "FAIL: path %s/%s%s too long\n", tmpdir, name, ext);
    exit(1);
  }
}

static int write_f64(const char *name, const char *ext, const double *a,
                     int64_t count) {
  char path[1200];
  FILE *f;
  int64_t i;
  int ok = 1;
  path_of(path, sizeof path, name, ext);
  if ((f = fopen(path, "wb")) == NULL) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return 0;
  }
  for (i = 0; i < count && ok; i++) {
    unsigned char b[8];
    memcpy(b, &a[i], 8);
    if (!little_endian()) swap8(b);
    ok = fwrite(b, 1, 8, f) == 8;
  }
  if (fclose(f) != 0) ok = 0;
  if (!ok) fprintf(stderr, "%s: write failed\n", path);
  return ok;
}

/* Read exactly count values; the file must hold no more and no fewer. */
static double *read_f64(const char *name, const char *ext, int64_t count) {
  char path[1200];
  FILE *f;
  int64_t i;
  unsigned char b[8];
  double *a = malloc((size_t)(count > 0 ? count : 1) * sizeof(double));
  path_of(path, sizeof path, name, ext);
  if (a == NULL || (f = fopen(path, "rb")) == NULL) {
    fprintf(stderr, "%s: cannot read\n", path);
    free(a);
    return NULL;
  }
  for (i = 0; i < count; i++) {
    if (fread(b, 1, 8, f) != 8) break;
    if (!little_endian()) swap8(b);
    memcpy(&a[i], b, 8);
  }
  if (i < count || fread(b, 1, 1, f) != 0) {
    fprintf(stderr, "%s: expected %lld float64 values\n", path,
            (long long)count);
    fclose(f);
    free(a);
    return NULL;
  }
  fclose(f);
  return a;
}

static const char *const result_exts[] = {
    ".coef", ".intercept", ".pred", ".score", ".rank", ".singular", ".spread"};

static void remove_tmpdir(void) {
  char path[1200];
  int i, k;
  static const char *const in_exts[] = {".X", ".y", ".w"};
  for (i = 0; i < n_problems; i++) {
    for (k = 0; k < 3; k++) {
      path_of(path, sizeof path, problems[i].name, in_exts[k]);
      remove(path);
    }
    for (k = 0; k < 7; k++) {
      path_of(path, sizeof path, problems[i].name, result_exts[k]);
      remove(path);
    }
  }
  path_of(path, sizeof path, "manifest.txt", "");
  remove(path);
  path_of(path, sizeof path, "done", "");
  remove(path);
  if (rmdir(tmpdir) != 0)
    fprintf(stderr, "note: could not remove %s: %s\n", tmpdir,
            strerror(errno));
}

static int write_problems(void) {
  char path[1200];
  FILE *m;
  int i;
  path_of(path, sizeof path, "manifest.txt", "");
  if ((m = fopen(path, "w")) == NULL) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return 0;
  }
  for (i = 0; i < n_problems; i++) {
    const problem *pr = &problems[i];
    const dataset *d = pr->d;
    fprintf(m, "%s %s %lld %lld %lld %d %d %.17g\n", pr->name, pr->kind,
            (long long)d->n, (long long)d->p, (long long)d->t,
            pr->fit_intercept, d->w != NULL, pr->alpha);
    /* Each problem gets its own files: simple, and a few hundred KB. */
    if (!write_f64(pr->name, ".X", d->X, d->n * d->p) ||
        !write_f64(pr->name, ".y", d->y, d->n * d->t) ||
        (d->w && !write_f64(pr->name, ".w", d->w, d->n))) {
      fclose(m);
      return 0;
    }
  }
  return fclose(m) == 0;
}

/* ---- comparison ---------------------------------------------------------- */

/* max_j |a_j - b_j| / max_j |b_j| over count values `stride` apart (the
 * absolute difference if b is all zeros). */
static double rel_diff(const double *a, const double *b, int64_t count,
                       int64_t stride) {
  double num = 0, den = 0;
  int64_t j;
  for (j = 0; j < count; j++) {
    double d = fabs(a[j * stride] - b[j * stride]);
    if (d > num || isnan(d)) num = d;
    if (fabs(b[j * stride]) > den) den = fabs(b[j * stride]);
  }
  return den > 0 ? num / den : num;
}

typedef struct {
  double coef, intercept, pred, score, singular;
} diffs;

static void compare_problem(const problem *pr, diffs *worst) {
  const dataset *d = pr->d;
  int64_t n = d->n, p = d->p, t = d->t, k = n < p ? n : p, i, j;
  clearn_matrix *X = NULL, *y = NULL, *w = NULL, *coef = NULL, *icpt = NULL;
  clearn_matrix *pred = NULL, *rank = NULL, *sing = NULL;
  clearn_estimator *est = NULL;
  double *rcoef = read_f64(pr->name, ".coef", t * p);
  double *ricpt = read_f64(pr->name, ".intercept", t);
  double *rpred = read_f64(pr->name, ".pred", n * t);
  double *rscore = read_f64(pr->name, ".score", 1);
  int is_lr = strcmp(pr->kind, "linear_regression") == 0;
  double *rrank = is_lr ? read_f64(pr->name, ".rank", 1) : NULL;
  double *rsing = is_lr ? read_f64(pr->name, ".singular", k) : NULL;
  double *rspread = read_f64(pr->name, ".spread", 1);
  /* Where scikit-learn itself moves by more than the tolerance when only
   * the row order changes (e.g. p > n after centering: the rounding-made
   * singular value sits at LAPACK's cutoff, and the BLAS kernel OpenBLAS
   * picks for the CPU -- a different one under valgrind -- decides its
   * fate), the coefficients are not determined to 1e-8 by the problem, so
   * they are treated like a "floor" problem: predictions, R^2, rank and
   * singular values are still checked. */
  int floor = pr->floor || (rspread != NULL && rspread[0] > RTOL);
  double score = NAN, dc = 0, di = 0, dp = 0, ds = 0, dsv = 0;
  long long crank = -1;
  const double *C, *I, *P;
  int failures_before = tu_failures;

  CHECK(rcoef && ricpt && rpred && rscore && (!is_lr || (rrank && rsing)),
        "%s: reference results missing", pr->name);
  if (!(rcoef && ricpt && rpred && rscore && (!is_lr || (rrank && rsing))))
    goto cleanup;
  CHECK_OK(clearn_matrix_wrap(d->X, n, p, CLEARN_FLOAT64, &X));
  CHECK_OK(clearn_matrix_wrap(d->y, n, t, CLEARN_FLOAT64, &y));
  if (d->w) CHECK_OK(clearn_matrix_wrap(d->w, n, 1, CLEARN_FLOAT64, &w));
  CHECK_OK(clearn_estimator_create(pr->kind, &est));
  CHECK_OK(clearn_estimator_set_param_int(est, "fit_intercept",
                                          pr->fit_intercept));
  if (!is_lr) CHECK_OK(clearn_estimator_set_param_double(est, "alpha",
                                                         pr->alpha));
  {
    int rc = clearn_estimator_fit(est, X, y, w);
    CHECK(rc == CLEARN_OK, "%s: fit failed: %s", pr->name,
          clearn_estimator_errmsg(est));
    if (rc != CLEARN_OK) goto cleanup;
  }
  CHECK_OK(clearn_estimator_get_attr(est, "coef", &coef));
  CHECK_OK(clearn_estimator_get_attr(est, "intercept", &icpt));
  CHECK_OK(clearn_estimator_predict(est, X, &pred));
  CHECK_OK(clearn_estimator_score(est, X, y, w, &score));
  if (!coef || !icpt || !pred) goto cleanup;
  CHECK(clearn_matrix_rows(coef) == t && clearn_matrix_cols(coef) == p,
        "%s: coef is %lld x %lld", pr->name, (long long)clearn_matrix_rows(coef),
        (long long)clearn_matrix_cols(coef));
  CHECK(clearn_matrix_rows(icpt) == 1 && clearn_matrix_cols(icpt) == t,
        "%s: intercept is %lld x %lld", pr->name,
        (long long)clearn_matrix_rows(icpt), (long long)clearn_matrix_cols(icpt));
  C = clearn_matrix_data(coef);
  I = clearn_matrix_data(icpt);
  P = clearn_matrix_data(pred);

  for (j = 0; j < t; j++) {
    /* Scale of the terms the intercept is the difference of. */
    double sw = 0, ym = 0, terms = 0, scale, e;
    for (i = 0; i < n; i++) {
      double wi = d->w ? d->w[i] : 1.0;
      sw += wi;
      ym += wi * d->y[i * t + j];
    }
    ym /= sw;
    for (int64_t c = 0; c < p && pr->fit_intercept; c++) {
      double xm = 0;
      for (i = 0; i < n; i++) xm += (d->w ? d->w[i] : 1.0) * d->X[i * p + c];
      terms += fabs(xm / sw * rcoef[j * p + c]);
    }
    scale = fabs(ricpt[j]);
    if (pr->fit_intercept && fabs(ym) > scale) scale = fabs(ym);
    if (terms > scale) scale = terms;

    e = rel_diff(C + j * p, rcoef + j * p, p, 1);
    if (e > dc || isnan(e)) dc = e;
    CHECK(floor || e <= RTOL, "%s: coef[%lld] differs from "
          "scikit-learn by %.3g (norm-wise relative)", pr->name,
          (long long)j, e);
    e = scale > 0 ? fabs(I[j] - ricpt[j]) / scale : fabs(I[j] - ricpt[j]);
    if (e > di || isnan(e)) di = e;
    CHECK(floor || e <= RTOL, "%s: intercept[%lld] = %.17g, "
          "scikit-learn %.17g (relative %.3g)", pr->name, (long long)j, I[j],
          ricpt[j], e);
    e = rel_diff(P + j, rpred + j, n, t);
    if (e > dp || isnan(e)) dp = e;
    CHECK(e <= RTOL, "%s: predictions of target %lld differ by %.3g "
          "(norm-wise relative)", pr->name, (long long)j, e);
  }
  ds = fabs(score - rscore[0]) / (fabs(rscore[0]) > 1 ? fabs(rscore[0]) : 1);
  CHECK(ds <= RTOL, "%s: R^2 %.17g, scikit-learn %.17g", pr->name, score,
        rscore[0]);

  if (is_lr) {
    const int64_t *rk;
    CHECK_OK(clearn_estimator_get_attr(est, "rank", &rank));
    CHECK_OK(clearn_estimator_get_attr(est, "singular", &sing));
    if (!rank || !sing) goto cleanup;
    rk = clearn_matrix_data(rank);
    crank = (long long)rk[0];
    CHECK(rk[0] == (int64_t)rrank[0], "%s: rank %lld, scikit-learn %g",
          pr->name, (long long)rk[0], rrank[0]);
    CHECK(clearn_matrix_cols(sing) == k, "%s: %lld singular values, "
          "scikit-learn %lld", pr->name, (long long)clearn_matrix_cols(sing),
          (long long)k);
    if (clearn_matrix_cols(sing) == k) {
      dsv = rel_diff(clearn_matrix_data(sing), rsing, k, 1);
      CHECK(dsv <= RTOL, "%s: singular values differ by %.3g (norm-wise "
            "relative)", pr->name, dsv);
    }
  }

cleanup:
  printf("%-36s %-5s %8.1e %8.1e %8.1e %8.1e %8.1e", pr->name,
         floor ? "floor" : "", dc, di, dp, ds,
         rspread ? rspread[0] : NAN);
  if (is_lr)
    printf(" %8.1e %3lld/%-3lld", dsv, crank, (long long)k);
  printf("%s\n", tu_failures > failures_before ? "  FAIL" : "");
  if (!floor && dc > worst->coef) worst->coef = dc;
  if (!floor && di > worst->intercept) worst->intercept = di;
  if (dp > worst->pred) worst->pred = dp;
  if (ds > worst->score) worst->score = ds;
  if (dsv > worst->singular) worst->singular = dsv;
  clearn_matrix_free(X);
  clearn_matrix_free(y);
  clearn_matrix_free(w);
  clearn_matrix_free(coef);
  clearn_matrix_free(icpt);
  clearn_matrix_free(pred);
  clearn_matrix_free(rank);
  clearn_matrix_free(sing);
  clearn_estimator_free(est);
  free(rcoef);
  free(ricpt);
  free(rpred);
  free(rscore);
  free(rspread);
  free(rrank);
  free(rsing);
}

/* The centering paths of src/linmodel.c.  The first pass shifts by the
 * mean of the first 1024 rows, which handles large means (all the sklearn
 * problems take it); rows whose first 1024 are unrepresentative (sorted by
 * a feature with a large mean) force the second pass.  Both are checked
 * against centered sums computed here directly. */
static void check_stats(const double *X, const double *y, int64_t n,
                        int64_t p, int want, const char *name) {
  clearn_matrix *Xm = NULL, *ym = NULL;
  clearn__linstats s;
  double *mean = calloc((size_t)p, sizeof(double)), ym_ = 0, worst = 0;
  int64_t i, j, k;
  for (i = 0; i < n; i++) {
    for (j = 0; j < p; j++) mean[j] += X[i * p + j] / (double)n;
    ym_ += y[i] / (double)n;
  }
  CHECK_OK(clearn_matrix_wrap(X, n, p, CLEARN_FLOAT64, &Xm));
  CHECK_OK(clearn_matrix_wrap(y, n, 1, CLEARN_FLOAT64, &ym));
  if (Xm && ym && clearn__linstats_compute(Xm, ym, NULL, 1, NULL, &s) ==
                      CLEARN_OK) {
    CHECK(s.used_blocked == want, "%s: expected the %s centering path", name,
          want ? "second (exact mean)" : "one-pass shifted");
    for (j = 0; j < p; j++) {
      double bj = 0;
      for (k = j; k < p; k++) {
        double g = 0;
        for (i = 0; i < n; i++)
          g += (X[i * p + j] - mean[j]) * (X[i * p + k] - mean[k]);
        if (fabs(s.G[j * p + k] - g) / (fabs(g) + 1e-300) > worst)
          worst = fabs(s.G[j * p + k] - g) / (fabs(g) + 1e-300);
      }
      for (i = 0; i < n; i++) bj += (X[i * p + j] - mean[j]) * (y[i] - ym_);
      CHECK_CLOSE(s.b[j], bj, 1e-9, 1e-9 * fabs(bj));
      CHECK_CLOSE(s.xmean[j], mean[j], 1e-12, 0);
    }
    CHECK(worst < 1e-9, "%s: centered Gram off by %.3g relative", name, worst);
    CHECK_CLOSE(s.ymean[0], ym_, 1e-12, 0);
    clearn__linstats_free(&s);
  }
  clearn_matrix_free(Xm);
  clearn_matrix_free(ym);
  free(mean);
}

static void check_paths(void) {
  enum { N = 8000, P = 3 };
  static double X[N * P], y[N];
  tu_rng r = {2024};
  int i, j;
  for (i = 0; i < n_problems; i++) {
    const problem *pr = &problems[i];
    if (strcmp(pr->kind, "ridge") != 0 || !pr->fit_intercept ||
        pr->d->w != NULL || pr->d->t != 1 ||
        (!strstr(pr->name, "bigmean") && !strstr(pr->name, "well")))
      continue;
    check_stats(pr->d->X, pr->d->y, pr->d->n, pr->d->p, 0, pr->name);
  }
  /* Sorted so that the first 1024 rows sit far below the mean: feature 0
   * steps from 1e4 to 1.1e4 after them (mean offset^2 > 3 variances). */
  for (i = 0; i < N; i++) {
    for (j = 0; j < P; j++)
      X[i * P + j] = (j == 0 ? 1e4 + (i >= 1024 ? 1000.0 : 0.0) : 1000.0) +
                     tu_normal(&r);
    y[i] = 2.0 * X[i * P] - X[i * P + 1] + tu_normal(&r);
  }
  check_stats(X, y, N, P, 1, "sorted_bigmean");
}

int main(int argc, char **argv) {
  const char *script, *python, *base, *seed_text;
  char cmd[8192];
  int status, i;
  diffs worst = {0, 0, 0, 0, 0};

  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s SCRIPT PYTHON\n", argv[0]);
    return 2;
  }
  script = argv[1];
  python = argc == 3 ? argv[2] : "";
  if (python[0] == '\0')
    TEST_SKIP("no Python given (CLEARN_TEST_PYTHON is empty): scikit-learn "
              "parity not checked");
  if (access(python, X_OK) != 0)
    TEST_SKIP("%s not found or not executable (%s): scikit-learn parity "
              "not checked; install python3-sklearn or set "
              "-DCLEARN_TEST_PYTHON=/path/to/python",
              python, strerror(errno));
  if (access(script, R_OK) != 0) {
    fprintf(stderr, "FAIL: %s: %s\n", script, strerror(errno));
    return 1;
  }
  if (strchr(script, '\'') || strchr(python, '\'')) {
    fprintf(stderr, "FAIL: paths with a single quote are not supported\n");
    return 1;
  }

  seed_text = getenv("CLEARN_SKLEARN_SEED");
  build_problems(seed_text && *seed_text ? strtoull(seed_text, NULL, 0)
                                         : 20240611ULL);
  base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/clearn-sklearn-XXXXXX",
           base && *base ? base : "/tmp");
  if (mkdtemp(tmpdir) == NULL) {
    fprintf(stderr, "FAIL: mkdtemp %s: %s\n", tmpdir, strerror(errno));
    return 1;
  }
  if (!write_problems()) {
    fprintf(stderr, "FAIL: cannot write the problems into %s\n", tmpdir);
    remove_tmpdir();
    return 1;
  }

  snprintf(cmd, sizeof cmd, "'%s' '%s' '%s'", python, script, tmpdir);
  fflush(stdout);
  status = system(cmd);
  if (status == -1 || !WIFEXITED(status)) {
    fprintf(stderr, "FAIL: could not run %s\n", cmd);
    remove_tmpdir();
    return 1;
  }
  if (WEXITSTATUS(status) == 77) {
    remove_tmpdir();
    TEST_SKIP("%s cannot import numpy/scikit-learn: scikit-learn parity "
              "not checked; install python3-sklearn",
              python);
  }
  if (WEXITSTATUS(status) != 0) {
    fprintf(stderr, "FAIL: %s exited with status %d (problems kept in %s)\n",
            cmd, WEXITSTATUS(status), tmpdir);
    return 1;
  }
  {
    char path[1200], version[128] = "";
    FILE *f;
    path_of(path, sizeof path, "done", "");
    if ((f = fopen(path, "r")) != NULL) {
      if (fgets(version, sizeof version, f) == NULL) version[0] = '\0';
      fclose(f);
    }
    printf("reference: %s", version[0] ? version : "(unknown version)\n");
    if (strncmp(version, "scikit-learn 1.2.", 17) != 0)
      fprintf(stderr, "note: parity is specified against scikit-learn 1.2 "
              "(Debian 12's python3-sklearn); this reference is another "
              "version\n");
  }

  check_paths();
  printf("norm-wise relative difference from scikit-learn per problem "
         "(sk-self: scikit-learn\nagainst itself on reversed rows; sv: "
         "singular values; rank: clearn's / min(n, p)):\n");
  printf("%-36s %-5s %8s %8s %8s %8s %8s %8s %7s\n", "problem", "", "coef",
         "icpt", "pred", "R2", "sk-self", "sv", "rank");
  for (i = 0; i < n_problems; i++) compare_problem(&problems[i], &worst);
  printf("worst checked: coef %.2e  intercept %.2e  pred %.2e  R2 %.2e  "
         "singular %.2e (tolerance %.0e)\n",
         worst.coef, worst.intercept, worst.pred, worst.score, worst.singular,
         RTOL);

  if (tu_failures == 0 && !getenv("CLEARN_KEEP_TMP"))
    remove_tmpdir();
  else
    fprintf(stderr, "problems and reference results kept in %s\n", tmpdir);
  for (i = 0; i < n_datasets; i++) {
    free(datasets[i].X);
    free(datasets[i].y);
    free(datasets[i].w);
  }
  return TEST_SUMMARY();
}
