/*
 * ridge.c -- Ridge regression: min ||W^(1/2) (y - X b - c)||^2 + alpha ||b||^2.
 *
 * Solved through the normal equations (Xc^T W Xc + alpha I) b = Xc^T W yc
 * with one DSYRK for the Gram matrix and a Cholesky solve, as
 * scikit-learn's solver="cholesky".  The Gram matrix costs n p^2 flops of
 * level-3 BLAS, the solve only p^3/3, and the statistics need no copy of X
 * (see src/linmodel.c), so the fit runs at the DSYRK's speed with peak
 * memory X plus O(p^2).  The same statistics summed over MPI ranks give the
 * distributed fit.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "linmodel.h"

typedef struct {
  double alpha;
  int fit_intercept;
} ridge_params;

static const clearn__param_spec ridge_param_specs[] = {
    {"alpha", CLEARN_PARAM_DOUBLE, offsetof(ridge_params, alpha), "1.0", 0.0,
     1.0 / 0.0, 0, 1, NULL,
     "L2 regularization strength (scikit-learn's alpha)"},
    {"fit_intercept", CLEARN_PARAM_BOOL, offsetof(ridge_params, fit_intercept),
     "true", 0, 1, 0, 0, NULL,
     "fit an intercept (centre X and y) or pass through the origin"},
};

static const char *const ridge_attrs[] = {"coef", "intercept",
                                          "n_features_in"};

static int ridge_fit(const void *params, const clearn_matrix *X,
                     const clearn_matrix *y, const clearn_matrix *w,
                     const clearn__reducer *red, void **model) {
  const ridge_params *rp = params;
  clearn__linstats s;
  clearn__linmodel *m = NULL;
  int64_t p = X->cols, t = y->cols, i, j;
  int rc = clearn__linstats_compute(X, y, w, rp->fit_intercept, red, &s);
  if (rc != CLEARN_OK) return rc;
  for (j = 0; j < p; j++) s.G[j * p + j] += rp->alpha;
  /* s.b (p x t) becomes the solution b^T in place. */
  if ((rc = clearn__dposv(p, t, s.G, s.b)) != CLEARN_OK) {
    rc = clearn__err(CLEARN_ENUMERIC,
                     "ridge: X^T X + alpha I is singular (alpha = %g); use "
                     "alpha > 0 or linear_regression for rank-deficient X",
                     rp->alpha);
    goto cleanup;
  }
  if ((rc = clearn__linmodel_alloc(p, t, &m)) != CLEARN_OK) goto cleanup;
  for (i = 0; i < t; i++) {
    double c = s.ymean[i];
    for (j = 0; j < p; j++) {
      m->coef[i * p + j] = s.b[j * t + i];
      c -= s.xmean[j] * s.b[j * t + i];
    }
    m->intercept[i] = rp->fit_intercept ? c : 0.0;
  }
  *model = m;
cleanup:
  clearn__linstats_free(&s);
  return rc;
}

const clearn__estimator_type clearn__ridge_type = {
    "ridge",
    "linear least squares with L2 regularization (Cholesky solver)",
    ridge_param_specs,
    (int)(sizeof ridge_param_specs / sizeof ridge_param_specs[0]),
    sizeof(ridge_params),
    ridge_attrs,
    (int)(sizeof ridge_attrs / sizeof ridge_attrs[0]),
    NULL,
    ridge_fit,
    clearn__linmodel_predict,
    clearn__linmodel_n_features,
    clearn__linmodel_get_attr,
    clearn__linmodel_save,
    clearn__linmodel_load,
    clearn__linmodel_free,
    NULL, /* not a recommender */
};
