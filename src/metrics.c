/*
 * metrics.c -- regression metrics.
 *
 * R^2 is computed in two passes (weighted mean, then squared deviations)
 * rather than from raw sums of y and y^2, which cancel catastrophically
 * when the targets have a large mean.  Each pass produces a few sums that
 * go through the reduction hook, so the same code scores distributed rows.
 */
#include <stdlib.h>

#include "internal.h"

int clearn__reduce_sum(const clearn__reducer *r, double *buf, size_t n,
                       int local_rc) {
  if (r == NULL || r->sum == NULL) return local_rc;
  return r->sum(r->ctx, buf, n, local_rc);
}

int clearn__reduce_max(const clearn__reducer *r, double *buf, size_t n,
                       int local_rc) {
  if (r == NULL) return local_rc;
  if (r->max == NULL) {
    /* Still agree on the status through the sum. */
    int rc = r->sum(r->ctx, NULL, 0, local_rc);
    return rc != CLEARN_OK ? rc
                           : clearn__err(CLEARN_EUNSUPPORTED,
                                         "this reduction layer has no maximum");
  }
  return r->max(r->ctx, buf, n, local_rc);
}

int clearn__accuracy(const clearn_matrix *y, const clearn_matrix *yhat,
                     const clearn_matrix *w, const clearn__reducer *red,
                     double *out) {
  int64_t n = y->rows, i;
  const double *Y = CLEARN__F64(y), *P = CLEARN__F64(yhat);
  const double *W = w ? CLEARN__F64(w) : NULL;
  double acc[2] = {0, 0};
  int rc;
  for (i = 0; i < n; i++) {
    double wi = W ? W[i] : 1.0;
    acc[0] += wi;
    if (Y[i] == P[i]) acc[1] += wi;
  }
  if ((rc = clearn__reduce_sum(red, acc, 2, CLEARN_OK)) != CLEARN_OK)
    return rc;
  if (acc[0] <= 0)
    return clearn__err(CLEARN_EINVAL, "accuracy: total sample weight is zero");
  *out = acc[1] / acc[0];
  return CLEARN_OK;
}

int clearn__r2(const clearn_matrix *y, const clearn_matrix *yhat,
               const clearn_matrix *w, const clearn__reducer *red,
               double *out) {
  int64_t n = y->rows, t = y->cols, i, j;
  const double *Y = CLEARN__F64(y), *P = CLEARN__F64(yhat);
  const double *W = w ? CLEARN__F64(w) : NULL;
  /* acc[0] = sum w; acc[1 + j] = sum w y_j; then per target the residual
   * and total sums of squares. */
  double *acc = clearn__calloc((size_t)(1 + 3 * t), sizeof(double));
  double *mean, *res, *tot, score = 0.0;
  int rc;
  if (acc == NULL) {
    /* Still take part in the collective, reporting the failure. */
    double dummy = 0;
    return clearn__reduce_sum(red, &dummy, 1,
                              clearn__err(CLEARN_ENOMEM, "r2: out of memory"));
  }
  mean = acc + 1;
  res = acc + 1 + t;
  tot = acc + 1 + 2 * t;
  for (i = 0; i < n; i++) {
    double wi = W ? W[i] : 1.0;
    acc[0] += wi;
    for (j = 0; j < t; j++) mean[j] += wi * Y[i * t + j];
  }
  if ((rc = clearn__reduce_sum(red, acc, (size_t)(1 + t), CLEARN_OK)) !=
      CLEARN_OK)
    goto cleanup;
  if (acc[0] <= 0) {
    rc = clearn__err(CLEARN_EINVAL, "r2: total sample weight is zero");
    goto cleanup;
  }
  for (j = 0; j < t; j++) mean[j] /= acc[0];
  for (i = 0; i < n; i++) {
    double wi = W ? W[i] : 1.0;
    for (j = 0; j < t; j++) {
      double d = Y[i * t + j] - P[i * t + j], c = Y[i * t + j] - mean[j];
      res[j] += wi * d * d;
      tot[j] += wi * c * c;
    }
  }
  if ((rc = clearn__reduce_sum(red, res, (size_t)(2 * t), CLEARN_OK)) !=
      CLEARN_OK)
    goto cleanup;
  for (j = 0; j < t; j++) {
    if (tot[j] != 0.0)
      score += 1.0 - res[j] / tot[j];
    else
      score += res[j] == 0.0 ? 1.0 : 0.0;
  }
  *out = score / (double)t;
cleanup:
  free(acc);
  return rc;
}
