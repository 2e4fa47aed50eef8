/*
 * metrics.c -- metrics: the internal R^2 and accuracy that estimators'
 * score uses (through the reducer), and the public clearn_metric_* calls
 * (clearn/metrics.h).  ROC AUC sorts by score and integrates the weighted
 * step curve with ties as trapezoids, as scikit-learn's roc_auc_score.
 *
 * R^2 is computed in two passes (weighted mean, then squared deviations)
 * rather than from raw sums of y and y^2, which cancel catastrophically
 * when the targets have a large mean.  Each pass produces a few sums that
 * go through the reduction hook, so the same code scores distributed rows.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- public metrics -------------------------------------------------------- */

/* y and p float64 with the same rows (p's columns = cols, or any if
 * cols < 0), finite; w NULL or n x 1, finite, >= 0, positive sum. */
static int metric_check(const char *who, const clearn_matrix *y,
                        const clearn_matrix *p, int64_t cols,
                        const clearn_matrix *w) {
  int rc;
  int64_t i;
  double sw = 0;
  if ((rc = clearn__check_f64(y, who, "y_true", -1, -1)) != CLEARN_OK ||
      (rc = clearn__check_f64(p, who, "y_pred", y->rows, cols)) != CLEARN_OK ||
      (rc = clearn__check_finite(y, who, "y_true")) != CLEARN_OK ||
      (rc = clearn__check_finite(p, who, "y_pred")) != CLEARN_OK)
    return rc;
  if (y->rows == 0)
    return clearn__err(CLEARN_ESHAPE, "%s: y_true has 0 samples", who);
  if (w == NULL) return CLEARN_OK;
  if ((rc = clearn__check_f64(w, who, "sample_weight", y->rows, 1)) !=
          CLEARN_OK ||
      (rc = clearn__check_finite(w, who, "sample_weight")) != CLEARN_OK)
    return rc;
  for (i = 0; i < w->rows; i++) {
    if (CLEARN__F64(w)[i] < 0)
      return clearn__err(CLEARN_EINVAL,
                         "%s: sample_weight[%lld] = %g is negative", who,
                         (long long)i, CLEARN__F64(w)[i]);
    sw += CLEARN__F64(w)[i];
  }
  if (!(sw > 0))
    return clearn__err(CLEARN_EINVAL, "%s: sample weights sum to zero", who);
  return CLEARN_OK;
}

int clearn_metric_accuracy(const clearn_matrix *y_true,
                           const clearn_matrix *y_pred,
                           const clearn_matrix *sample_weight, double *out) {
  int rc;
  if (out == NULL) return clearn__err(CLEARN_EINVAL, "accuracy: out is NULL");
  if ((rc = metric_check("accuracy", y_true, y_pred, 1, sample_weight)) !=
      CLEARN_OK)
    return rc;
  if (y_true->cols != 1)
    return clearn__err(CLEARN_ESHAPE, "accuracy: y_true has %lld columns, "
                       "need 1", (long long)y_true->cols);
  return clearn__accuracy(y_true, y_pred, sample_weight, NULL, out);
}

int clearn_metric_r2(const clearn_matrix *y_true, const clearn_matrix *y_pred,
                     const clearn_matrix *sample_weight, double *out) {
  int rc;
  if (out == NULL) return clearn__err(CLEARN_EINVAL, "r2: out is NULL");
  if (y_true == NULL)
    return clearn__err(CLEARN_EINVAL, "r2: y_true is NULL");
  if ((rc = metric_check("r2", y_true, y_pred, y_true->cols, sample_weight)) !=
      CLEARN_OK)
    return rc;
  return clearn__r2(y_true, y_pred, sample_weight, NULL, out);
}

/* Mean over columns of the weighted mean of |e|^power. */
static int mean_error(const char *who, const clearn_matrix *y,
                      const clearn_matrix *p, const clearn_matrix *w,
                      int power, double *out) {
  int64_t n, t, i, j;
  double sw = 0, total = 0;
  int rc;
  if (out == NULL) return clearn__err(CLEARN_EINVAL, "%s: out is NULL", who);
  if (y == NULL) return clearn__err(CLEARN_EINVAL, "%s: y_true is NULL", who);
  if ((rc = metric_check(who, y, p, y->cols, w)) != CLEARN_OK) return rc;
  n = y->rows;
  t = y->cols;
  for (j = 0; j < t; j++) {
    double s = 0;
    sw = 0;
    for (i = 0; i < n; i++) {
      double wi = w ? CLEARN__F64(w)[i] : 1.0,
             e = CLEARN__F64(y)[i * t + j] - CLEARN__F64(p)[i * t + j];
      s += wi * (power == 2 ? e * e : fabs(e));
      sw += wi;
    }
    total += s / sw;
  }
  *out = total / (double)t;
  return CLEARN_OK;
}

int clearn_metric_mse(const clearn_matrix *y_true, const clearn_matrix *y_pred,
                      const clearn_matrix *sample_weight, double *out) {
  return mean_error("mse", y_true, y_pred, sample_weight, 2, out);
}

int clearn_metric_mae(const clearn_matrix *y_true, const clearn_matrix *y_pred,
                      const clearn_matrix *sample_weight, double *out) {
  return mean_error("mae", y_true, y_pred, sample_weight, 1, out);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Sorted distinct values of y (n x 1) into *labels (owned), *k of them;
 * labels must be integral. */
static int distinct_labels(const char *who, const clearn_matrix *y,
                           double **labels, int64_t *k) {
  int64_t n = y->rows, i, m = 0;
  double *a = clearn__malloc((size_t)n, sizeof(double));
  if (a == NULL) return clearn__err(CLEARN_ENOMEM, "out of memory");
  for (i = 0; i < n; i++) {
    double v = CLEARN__F64(y)[i];
    if (v != floor(v)) {
      free(a);
      return clearn__err(CLEARN_EINVAL,
                         "%s: y_true[%lld] = %.17g is not a class label", who,
                         (long long)i, v);
    }
    a[i] = v;
  }
  qsort(a, (size_t)n, sizeof(double), cmp_double);
  for (i = 0; i < n; i++)
    if (i == 0 || a[i] != a[m - 1]) a[m++] = a[i];
  *labels = a;
  *k = m;
  return CLEARN_OK;
}

int clearn_metric_log_loss(const clearn_matrix *y_true,
                           const clearn_matrix *proba,
                           const clearn_matrix *sample_weight, double *out) {
  const double eps = 2.220446049250313e-16;
  double *labels = NULL, sw = 0, s = 0;
  int64_t K = 0, n, c, i, k;
  int rc;
  if (out == NULL) return clearn__err(CLEARN_EINVAL, "log_loss: out is NULL");
  if ((rc = metric_check("log_loss", y_true, proba, -1, sample_weight)) !=
      CLEARN_OK)
    return rc;
  if (y_true->cols != 1)
    return clearn__err(CLEARN_ESHAPE, "log_loss: y_true has %lld columns, "
                       "need 1", (long long)y_true->cols);
  if ((rc = distinct_labels("log_loss", y_true, &labels, &K)) != CLEARN_OK)
    return rc;
  n = y_true->rows;
  c = proba->cols;
  if (!(c == K || (c == 1 && K == 2)) || K < 2) {
    free(labels);
    return clearn__err(CLEARN_ESHAPE,
                       "log_loss: y_true has %lld distinct labels but the "
                       "probabilities have %lld columns",
                       (long long)K, (long long)c);
  }
  for (i = 0; i < n; i++) {
    double yi = CLEARN__F64(y_true)[i], wi = sample_weight
                                                 ? CLEARN__F64(sample_weight)[i]
                                                 : 1.0,
           row = 0, pk = 0;
    const double *P = CLEARN__F64(proba) + i * c;
    int64_t lo = 0, hi = K - 1;
    while (lo < hi) { /* index of yi in labels */
      int64_t mid = (lo + hi) / 2;
      if (labels[mid] < yi)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (c == 1) {
      double p1 = fmin(fmax(P[0], eps), 1 - eps);
      pk = lo == 1 ? p1 : 1 - p1;
    } else {
      /* clip, then renormalize, as scikit-learn 1.2 */
      for (k = 0; k < c; k++) row += fmin(fmax(P[k], eps), 1 - eps);
      pk = fmin(fmax(P[lo], eps), 1 - eps) / row;
    }
    s -= wi * log(pk);
    sw += wi;
  }
  free(labels);
  *out = s / sw;
  return CLEARN_OK;
}

typedef struct {
  double score, pos, w;
} auc_item;

static int cmp_auc(const void *a, const void *b) {
  double x = ((const auc_item *)a)->score, y = ((const auc_item *)b)->score;
  return x > y ? -1 : x < y; /* descending */
}

int clearn_metric_roc_auc(const clearn_matrix *y_true,
                          const clearn_matrix *score,
                          const clearn_matrix *sample_weight, double *out) {
  double *labels = NULL, tp = 0, fp = 0, area = 0;
  auc_item *it;
  int64_t K = 0, n, i;
  int rc;
  if (out == NULL) return clearn__err(CLEARN_EINVAL, "roc_auc: out is NULL");
  if ((rc = metric_check("roc_auc", y_true, score, 1, sample_weight)) !=
      CLEARN_OK)
    return rc;
  if (y_true->cols != 1)
    return clearn__err(CLEARN_ESHAPE, "roc_auc: y_true has %lld columns, "
                       "need 1", (long long)y_true->cols);
  if ((rc = distinct_labels("roc_auc", y_true, &labels, &K)) != CLEARN_OK)
    return rc;
  if (K != 2) {
    free(labels);
    if (K < 2)
      return clearn__err(CLEARN_EINVAL,
                         "roc_auc: Only one class present in y_true. ROC AUC "
                         "score is not defined in that case.");
    return clearn__err(CLEARN_EINVAL,
                       "roc_auc: y_true has %lld labels; binary only",
                       (long long)K);
  }
  n = y_true->rows;
  if ((it = clearn__malloc((size_t)n, sizeof *it)) == NULL) {
    free(labels);
    return clearn__err(CLEARN_ENOMEM, "out of memory");
  }
  for (i = 0; i < n; i++) {
    it[i].score = CLEARN__F64(score)[i];
    it[i].pos = CLEARN__F64(y_true)[i] == labels[1];
    it[i].w = sample_weight ? CLEARN__F64(sample_weight)[i] : 1.0;
  }
  free(labels);
  qsort(it, (size_t)n, sizeof *it, cmp_auc);
  /* Walk the thresholds; a group of tied scores is one trapezoid. */
  for (i = 0; i < n;) {
    double tp0 = tp, fp0 = fp, s = it[i].score;
    for (; i < n && it[i].score == s; i++) {
      if (it[i].pos)
        tp += it[i].w;
      else
        fp += it[i].w;
    }
    area += (fp - fp0) * (tp + tp0) * 0.5;
  }
  free(it);
  if (!(tp > 0) || !(fp > 0))
    return clearn__err(CLEARN_EINVAL,
                       "roc_auc: one class has zero total weight; ROC AUC is "
                       "not defined");
  *out = area / (tp * fp);
  return CLEARN_OK;
}
