/*
 * linear_regression.c -- ordinary least squares, minimum-norm solution.
 *
 * As scikit-learn's LinearRegression: centre X and y (weighted means),
 * scale rows by sqrt(w), and solve with LAPACK's divide-and-conquer SVD
 * least-squares driver (dgelsd, what scipy.linalg.lstsq calls) with the
 * cutoff rcond = machine epsilon, the same as scipy's default.  The SVD
 * handles rank-deficient and ill-conditioned X: singular values below the
 * cutoff are dropped and the minimum-norm solution is returned, together
 * with the effective rank and the singular values.
 *
 * dgelsd overwrites its input, so this estimator copies X once (as
 * scikit-learn does); use ridge for the copy-free Gram-matrix path.
 *
 * The (weighted) means are summed in numpy's order (see col_sum), so the
 * centered matrix handed to dgelsd is bit for bit the one scikit-learn
 * hands it.  That matters more than it seems: once X is centered it is
 * rank-deficient whenever p >= n (and whenever a column is a combination
 * of others), and its "zero" singular value is then made of the rounding
 * left in the column means.  Whether it clears the cutoff, and the part of
 * the coefficients along its direction, depend on the last bit of those
 * means -- scikit-learn's own coefficients move by percents when the rows
 * are merely permuted.  Summing as numpy does is the only way to return
 * the same model on such problems (tests/test_linear_sklearn.c).
 */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "linmodel.h"

typedef struct {
  int fit_intercept;
} linreg_params;

static const clearn__param_spec linreg_param_specs[] = {
    {"fit_intercept", CLEARN_PARAM_BOOL,
     offsetof(linreg_params, fit_intercept), "true", 0, 1, 0, 0, NULL,
     "fit an intercept (centre X and y) or pass through the origin"},
};

static const char *const linreg_attrs[] = {"coef", "intercept",
                                           "n_features_in", "rank",
                                           "singular"};

/* numpy's pairwise summation (umath/loops_utils.h.src, numpy 1.24): below
 * 8 terms a plain loop, up to 128 eight interleaved accumulators, above
 * that two halves split at a multiple of 8.  Term i is a[i] * (w ? w[i] :
 * 1), the product numpy forms before summing. */
static double pairwise_sum(const double *a, const double *w, int64_t n) {
  int64_t i, k;
  if (n < 8) {
    double r = 0.0;
    for (i = 0; i < n; i++) r += a[i] * (w ? w[i] : 1.0);
    return r;
  }
  if (n <= 128) {
    double r[8], res;
    for (k = 0; k < 8; k++) r[k] = a[k] * (w ? w[k] : 1.0);
    for (i = 8; i < n - n % 8; i += 8)
      for (k = 0; k < 8; k++) r[k] += a[i + k] * (w ? w[i + k] : 1.0);
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[i] * (w ? w[i] : 1.0);
    return res;
  } else {
    int64_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, w, n2) +
           pairwise_sum(a + n2, w ? w + n2 : NULL, n - n2);
  }
}

/* Column sums of the n x k row-major A (weighted by w if not NULL) into
 * out, in the order np.average(A, axis=0, weights=w) adds them: with one
 * column the reduction runs over a contiguous vector, pairwise within
 * chunks of numpy's 8192-element buffer; with several it runs row after
 * row, a plain running sum per column. */
static void col_sum(const double *A, int64_t n, int64_t k, const double *w,
                    double *out) {
  int64_t i, j;
  for (j = 0; j < k; j++) out[j] = 0.0;
  if (k == 1) {
    for (i = 0; i < n; i += 8192)
      out[0] += pairwise_sum(A + i, w ? w + i : NULL,
                             n - i < 8192 ? n - i : 8192);
    return;
  }
  for (i = 0; i < n; i++) {
    double wi = w ? w[i] : 1.0;
    for (j = 0; j < k; j++) out[j] += A[i * k + j] * wi;
  }
}

static int linreg_fit(const void *params, const clearn_matrix *X,
                      const clearn_matrix *y, const clearn_matrix *w,
                      const clearn__reducer *red, void **model) {
  const linreg_params *lp = params;
  int64_t n = X->rows, p = X->cols, t = y->cols, ldb = n > p ? n : p, i, j;
  int64_t k = n < p ? n : p, rank = 0;
  const double *Xd = CLEARN__F64(X), *Yd = CLEARN__F64(y);
  const double *W = w ? CLEARN__F64(w) : NULL;
  double *A = NULL, *B = NULL, *sv = NULL, *xm = NULL, *ym = NULL, sw = 0;
  clearn__linmodel *m = NULL;
  int rc = CLEARN_OK;
  if (red != NULL)
    return clearn__err(CLEARN_EUNSUPPORTED,
                       "linear_regression: the SVD solver needs all rows in "
                       "one process; use ridge (alpha may be tiny) for a "
                       "distributed fit");
  A = clearn__malloc((size_t)n * (size_t)p, sizeof(double));
  B = clearn__calloc((size_t)ldb * (size_t)t, sizeof(double));
  sv = clearn__calloc((size_t)(k ? k : 1), sizeof(double));
  xm = clearn__calloc((size_t)p, sizeof(double));
  ym = clearn__calloc((size_t)t, sizeof(double));
  if (!A || !B || !sv || !xm || !ym) {
    rc = clearn__err(CLEARN_ENOMEM,
                     "linear_regression: cannot allocate a %lld x %lld copy "
                     "of X",
                     (long long)n, (long long)p);
    goto cleanup;
  }
  if (W)
    col_sum(W, n, 1, NULL, &sw);
  else
    sw = (double)n;
  if (!(sw > 0)) {
    rc = clearn__err(CLEARN_EINVAL,
                     "linear_regression: sample weights sum to zero");
    goto cleanup;
  }
  if (lp->fit_intercept) {
    col_sum(Xd, n, p, W, xm);
    col_sum(Yd, n, t, W, ym);
    for (j = 0; j < p; j++) xm[j] /= sw;
    for (j = 0; j < t; j++) ym[j] /= sw;
  }
  /* Column-major copies for LAPACK, centered and scaled by sqrt(w). */
  for (i = 0; i < n; i++) {
    double s = W ? sqrt(W[i]) : 1.0;
    for (j = 0; j < p; j++) A[j * n + i] = s * (Xd[i * p + j] - xm[j]);
    for (j = 0; j < t; j++) B[j * ldb + i] = s * (Yd[i * t + j] - ym[j]);
  }
  /* scipy.linalg.lstsq's default cutoff is numpy's eps (2^-52); LAPACK's
   * "rcond < 0" would mean 2^-53, so pass it explicitly. */
  if ((rc = clearn__dgelsd(n, p, t, A, B, DBL_EPSILON, sv, &rank)) != CLEARN_OK)
    goto cleanup;
  if ((rc = clearn__linmodel_alloc(p, t, &m)) != CLEARN_OK) goto cleanup;
  for (i = 0; i < t; i++) {
    double c = ym[i];
    for (j = 0; j < p; j++) {
      m->coef[i * p + j] = B[i * ldb + j];
      c -= xm[j] * B[i * ldb + j];
    }
    m->intercept[i] = lp->fit_intercept ? c : 0.0;
  }
  m->rank = rank;
  m->singular = sv;
  m->n_singular = k;
  sv = NULL;
  *model = m;
cleanup:
  free(A);
  free(B);
  free(sv);
  free(xm);
  free(ym);
  return rc;
}

const clearn__estimator_type clearn__linear_regression_type = {
    "linear_regression",
    "ordinary least squares, minimum-norm solution by SVD (LAPACK dgelsd)",
    linreg_param_specs,
    (int)(sizeof linreg_param_specs / sizeof linreg_param_specs[0]),
    sizeof(linreg_params),
    linreg_attrs,
    (int)(sizeof linreg_attrs / sizeof linreg_attrs[0]),
    NULL,
    linreg_fit,
    clearn__linmodel_predict,
    clearn__linmodel_n_features,
    clearn__linmodel_get_attr,
    clearn__linmodel_save,
    clearn__linmodel_load,
    clearn__linmodel_free,
    NULL, /* not a recommender */
};
