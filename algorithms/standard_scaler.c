/*
 * standard_scaler.c -- StandardScaler: x -> (x - mean) / scale per column,
 * as scikit-learn's (with_mean, with_std, sample weights, population
 * variance, constant columns kept at scale 1).
 *
 * with_std = false leaves scale at 1; with_mean = false keeps the mean
 * as an attribute but does not subtract it.
 *
 * Two passes (weighted mean, then squared deviations from it) instead of
 * sums of x and x^2, which cancel when a column's mean is large against
 * its spread.  Both pass sums go through the reducer.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct {
  int with_mean;
  int with_std;
} scaler_params;

static const clearn__param_spec scaler_param_specs[] = {
    {"with_mean", CLEARN_PARAM_BOOL, offsetof(scaler_params, with_mean), "true",
     0, 1, 0, 0, NULL, "subtract the column means"},
    {"with_std", CLEARN_PARAM_BOOL, offsetof(scaler_params, with_std), "true",
     0, 1, 0, 0, NULL, "divide by the column standard deviations"},
};

static const char *const scaler_attrs[] = {"mean", "scale", "var",
                                           "n_features_in", "n_samples_seen"};

typedef struct {
  int64_t p;
  double *mean, *var, *scale; /* p each */
  double n_seen;              /* sum of weights (rows if unweighted) */
} scaler_model;

static void scaler_free(void *model) {
  scaler_model *m = model;
  if (m == NULL)
    return;
  free(m->mean);
  free(m->var);
  free(m->scale);
  free(m);
}

static int scaler_alloc(int64_t p, scaler_model **out) {
  scaler_model *m = calloc(1, sizeof *m);
  *out = NULL;
  if (m == NULL)
    return clearn__err(CLEARN_ENOMEM, "out of memory");
  m->p = p;
  m->mean = clearn__calloc((size_t)(p ? p : 1), sizeof(double));
  m->var = clearn__calloc((size_t)(p ? p : 1), sizeof(double));
  m->scale = clearn__calloc((size_t)(p ? p : 1), sizeof(double));
  if (!m->mean || !m->var || !m->scale) {
    scaler_free(m);
    return clearn__err(CLEARN_ENOMEM, "out of memory");
  }
  *out = m;
  return CLEARN_OK;
}

static int scaler_fit(const void *params, const clearn_matrix *X,
                      const clearn_matrix *y, const clearn_matrix *w,
                      const clearn__reducer *red, void **model) {
  const scaler_params *sp = params;
  const double *Xd = CLEARN__F64(X), *W = w ? CLEARN__F64(w) : NULL;
  int64_t n = X->rows, p = X->cols, i, j;
  scaler_model *m = NULL;
  double *acc = clearn__calloc((size_t)(p + 1), sizeof(double));
  int rc = acc ? CLEARN_OK : clearn__err(CLEARN_ENOMEM, "out of memory");
  (void)y;
  if (rc == CLEARN_OK)
    rc = scaler_alloc(p, &m);
  /* acc = [sum w x (p), sum w] */
  for (i = 0; rc == CLEARN_OK && i < n; i++) {
    double wi = W ? W[i] : 1.0;
    for (j = 0; j < p; j++)
      acc[j] += wi * Xd[i * p + j];
    acc[p] += wi;
  }
  if ((rc = clearn__reduce_sum(red, acc, (size_t)(p + 1), rc)) != CLEARN_OK)
    goto cleanup;
  if (!(acc[p] > 0)) {
    rc = clearn__err(CLEARN_EINVAL,
                     "standard_scaler: sample weights sum to zero");
    goto cleanup;
  }
  m->n_seen = acc[p];
  for (j = 0; j < p; j++)
    m->mean[j] = acc[j] / acc[p];
  memset(acc, 0, (size_t)(p + 1) * sizeof(double));
  for (i = 0; i < n; i++) {
    double wi = W ? W[i] : 1.0;
    for (j = 0; j < p; j++) {
      double d = Xd[i * p + j] - m->mean[j];
      acc[j] += wi * d * d;
    }
  }
  if ((rc = clearn__reduce_sum(red, acc, (size_t)p, rc)) != CLEARN_OK)
    goto cleanup;
  for (j = 0; j < p; j++) {
    const double eps = 2.220446049250313e-16;
    double v = acc[j] / m->n_seen, nm = m->n_seen * m->mean[j] * eps;
    /* scikit-learn's _is_constant_feature and _handle_zeros_in_scale. */
    int constant = v <= m->n_seen * eps * v + nm * nm;
    m->var[j] = v;
    m->scale[j] =
        !sp->with_std || constant || sqrt(v) < 10 * eps ? 1.0 : sqrt(v);
  }
  *model = m;
  m = NULL;
cleanup:
  scaler_free(m);
  free(acc);
  return rc;
}

static int scaler_apply(const void *params, const void *model,
                        const clearn_matrix *X, clearn_matrix **out,
                        int inverse) {
  const scaler_params *sp = params;
  const scaler_model *m = model;
  int64_t n = X->rows, p = X->cols, i, j;
  const double *Xd = CLEARN__F64(X);
  double *O;
  int rc = clearn_matrix_create(n, p, CLEARN_FLOAT64, out);
  if (rc != CLEARN_OK)
    return rc;
  O = (*out)->data;
  for (i = 0; i < n; i++)
    for (j = 0; j < p; j++) {
      double mu = sp->with_mean ? m->mean[j] : 0.0, x = Xd[i * p + j];
      O[i * p + j] = inverse ? x * m->scale[j] + mu : (x - mu) / m->scale[j];
    }
  return CLEARN_OK;
}

static int scaler_transform(const void *params, const void *model,
                            const clearn_matrix *X, clearn_matrix **out) {
  return scaler_apply(params, model, X, out, 0);
}

static int scaler_inverse(const void *params, const void *model,
                          const clearn_matrix *X, clearn_matrix **out) {
  return scaler_apply(params, model, X, out, 1);
}

static int64_t scaler_n_features(const void *model) {
  return ((const scaler_model *)model)->p;
}

static int row_out(const double *v, int64_t p, clearn_matrix **out) {
  int rc = clearn_matrix_create(1, p, CLEARN_FLOAT64, out);
  if (rc == CLEARN_OK && p > 0)
    memcpy((*out)->data, v, (size_t)p * sizeof(double));
  return rc;
}

static int scaler_get_attr(const void *model, const char *name,
                           clearn_matrix **out) {
  const scaler_model *m = model;
  int rc;
  if (strcmp(name, "mean") == 0)
    return row_out(m->mean, m->p, out);
  if (strcmp(name, "scale") == 0)
    return row_out(m->scale, m->p, out);
  if (strcmp(name, "var") == 0)
    return row_out(m->var, m->p, out);
  if (strcmp(name, "n_samples_seen") == 0)
    return row_out(&m->n_seen, 1, out);
  if (strcmp(name, "n_features_in") == 0) {
    if ((rc = clearn_matrix_create(1, 1, CLEARN_INT64, out)) == CLEARN_OK)
      *(int64_t *)(*out)->data = m->p;
    return rc;
  }
  return clearn__err(CLEARN_EINVAL, "unknown attribute '%s'", name);
}

static int scaler_save(const void *model, hid_t g) {
  const scaler_model *m = model;
  int rc = clearn__h5_write(g, "mean", m->mean, 1, m->p, CLEARN_FLOAT64);
  if (rc == CLEARN_OK)
    rc = clearn__h5_write(g, "var", m->var, 1, m->p, CLEARN_FLOAT64);
  if (rc == CLEARN_OK)
    rc = clearn__h5_write(g, "scale", m->scale, 1, m->p, CLEARN_FLOAT64);
  if (rc == CLEARN_OK)
    rc = clearn__h5_attr_write_f64(g, "n_samples_seen", m->n_seen);
  return rc;
}

static int scaler_load(hid_t g, void **model) {
  clearn_matrix *mean = NULL, *var = NULL, *scale = NULL;
  scaler_model *m = NULL;
  int64_t j;
  int rc = clearn__h5_read(g, "mean", CLEARN_FLOAT64, 1, -1, &mean);
  if (rc == CLEARN_OK)
    rc = clearn__h5_read(g, "var", CLEARN_FLOAT64, 1, mean->cols, &var);
  if (rc == CLEARN_OK)
    rc = clearn__h5_read(g, "scale", CLEARN_FLOAT64, 1, mean->cols, &scale);
  if (rc == CLEARN_OK)
    rc = scaler_alloc(mean->cols, &m);
  if (rc == CLEARN_OK)
    rc = clearn__h5_attr_read_f64(g, "n_samples_seen", &m->n_seen);
  if (rc == CLEARN_OK) {
    memcpy(m->mean, mean->data, (size_t)m->p * sizeof(double));
    memcpy(m->var, var->data, (size_t)m->p * sizeof(double));
    memcpy(m->scale, scale->data, (size_t)m->p * sizeof(double));
    for (j = 0; j < m->p && rc == CLEARN_OK; j++)
      if (!isfinite(m->mean[j]) || !(m->scale[j] > 0) || !isfinite(m->scale[j]))
        rc = clearn__err(CLEARN_EFORMAT,
                         "column %lld: mean %g / scale %g is not usable",
                         (long long)j, m->mean[j], m->scale[j]);
  }
  clearn_matrix_free(mean);
  clearn_matrix_free(var);
  clearn_matrix_free(scale);
  if (rc != CLEARN_OK) {
    scaler_free(m);
    return rc;
  }
  *model = m;
  return CLEARN_OK;
}

const clearn__estimator_type clearn__standard_scaler_type = {
    "standard_scaler",
    "standardize columns to zero mean and unit variance",
    scaler_param_specs,
    (int)(sizeof scaler_param_specs / sizeof scaler_param_specs[0]),
    sizeof(scaler_params),
    scaler_attrs,
    (int)(sizeof scaler_attrs / sizeof scaler_attrs[0]),
    NULL,
    scaler_fit,
    NULL, /* no predict: a transformer */
    scaler_n_features,
    scaler_get_attr,
    scaler_save,
    scaler_load,
    scaler_free,
    NULL, /* not a recommender */
};

const clearn__estimator_ext clearn__standard_scaler_ext = {
    &clearn__standard_scaler_type,
    0,
    NULL,
    NULL,
    1, /* y optional */
    scaler_transform,
    scaler_inverse,
    NULL,
    NULL,
};
