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
  for (i = 0; i < n; i++) sw += W ? W[i] : 1.0;
  if (!(sw > 0)) {
    rc = clearn__err(CLEARN_EINVAL,
                     "linear_regression: sample weights sum to zero");
    goto cleanup;
  }
  if (lp->fit_intercept) {
    for (i = 0; i < n; i++) {
      double wi = W ? W[i] : 1.0;
      for (j = 0; j < p; j++) xm[j] += wi * Xd[i * p + j];
      for (j = 0; j < t; j++) ym[j] += wi * Yd[i * t + j];
    }
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
};
