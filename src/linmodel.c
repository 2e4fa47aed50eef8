/*
 * linmodel.c -- what every linear regressor shares: the fitted model
 * (coef t x p, intercept t), prediction, persistence, attributes, and the
 * centered normal-equation statistics.
 *
 * The statistics are computed without copying X.  Centering is done in the
 * Gram matrix when that is numerically safe: G = X^T X from one DSYRK over
 * X as given, then Xc^T Xc = G - n m m^T.  That subtraction cancels digits
 * when a column's mean is large against its spread, so when any diagonal
 * entry would lose more than a couple of bits the Gram is recomputed from
 * explicitly centered row blocks that fit in cache (still no copy of X).
 * Weighted fits always take the blocked path, scaling each block by
 * sqrt(w) as scikit-learn does with the whole matrix.  All sums pass
 * through the reduction hook, so distributed rows reuse this code.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linmodel.h"

void clearn__linmodel_free(void *model) {
  clearn__linmodel *m = model;
  if (m == NULL) return;
  free(m->coef);
  free(m->intercept);
  free(m->singular);
  free(m);
}

int clearn__linmodel_alloc(int64_t p, int64_t t, clearn__linmodel **out) {
  clearn__linmodel *m = calloc(1, sizeof *m);
  *out = NULL;
  if (m == NULL) return clearn__err(CLEARN_ENOMEM, "out of memory");
  m->n_features = p;
  m->n_targets = t;
  m->rank = -1;
  m->coef = clearn__calloc((size_t)(p * t), sizeof(double));
  m->intercept = clearn__calloc((size_t)t, sizeof(double));
  if (m->coef == NULL || m->intercept == NULL) {
    clearn__linmodel_free(m);
    return clearn__err(CLEARN_ENOMEM, "cannot allocate %lld x %lld coef",
                       (long long)t, (long long)p);
  }
  *out = m;
  return CLEARN_OK;
}

int clearn__linmodel_predict(const void *params, const void *model,
                             const clearn_matrix *X, clearn_matrix **out) {
  const clearn__linmodel *m = model;
  int64_t n = X->rows, t = m->n_targets, i, j;
  double *Y;
  int rc;
  (void)params;
  if ((rc = clearn_matrix_create(n, t, CLEARN_FLOAT64, out)) != CLEARN_OK)
    return rc;
  Y = (*out)->data;
  for (i = 0; i < n; i++)
    for (j = 0; j < t; j++) Y[i * t + j] = m->intercept[j];
  rc = clearn__dgemm_nt(n, t, m->n_features, 1.0, CLEARN__F64(X),
                        m->n_features, m->coef, m->n_features, 1.0, Y);
  if (rc != CLEARN_OK) {
    clearn_matrix_free(*out);
    *out = NULL;
  }
  return rc;
}

int64_t clearn__linmodel_n_features(const void *model) {
  return ((const clearn__linmodel *)model)->n_features;
}

static int copy_out(const void *src, int64_t rows, int64_t cols,
                    clearn_dtype dt, clearn_matrix **out) {
  int rc = clearn_matrix_create(rows, cols, dt, out);
  if (rc == CLEARN_OK && rows * cols > 0)
    memcpy((*out)->data, src,
           (size_t)(rows * cols) * clearn_dtype_size(dt));
  return rc;
}

int clearn__linmodel_get_attr(const void *model, const char *name,
                              clearn_matrix **out) {
  const clearn__linmodel *m = model;
  if (strcmp(name, "coef") == 0)
    return copy_out(m->coef, m->n_targets, m->n_features, CLEARN_FLOAT64, out);
  if (strcmp(name, "intercept") == 0)
    return copy_out(m->intercept, 1, m->n_targets, CLEARN_FLOAT64, out);
  if (strcmp(name, "n_features_in") == 0)
    return copy_out(&m->n_features, 1, 1, CLEARN_INT64, out);
  if (strcmp(name, "rank") == 0)
    return copy_out(&m->rank, 1, 1, CLEARN_INT64, out);
  if (strcmp(name, "singular") == 0)
    return copy_out(m->singular, 1, m->n_singular, CLEARN_FLOAT64, out);
  return clearn__err(CLEARN_EINVAL, "unknown attribute '%s'", name);
}

int clearn__linmodel_save(const void *model, hid_t g) {
  const clearn__linmodel *m = model;
  int rc = clearn__h5_write(g, "coef", m->coef, m->n_targets, m->n_features,
                            CLEARN_FLOAT64);
  if (rc == CLEARN_OK)
    rc = clearn__h5_write(g, "intercept", m->intercept, 1, m->n_targets,
                          CLEARN_FLOAT64);
  if (rc == CLEARN_OK) rc = clearn__h5_attr_write_i64(g, "rank", m->rank);
  if (rc == CLEARN_OK && m->singular)
    rc = clearn__h5_write(g, "singular", m->singular, 1, m->n_singular,
                          CLEARN_FLOAT64);
  return rc;
}

int clearn__linmodel_load(hid_t g, void **model) {
  clearn_matrix *coef = NULL, *icpt = NULL, *sing = NULL;
  clearn__linmodel *m = NULL;
  htri_t has_sing = 0;
  int rc = clearn__h5_read(g, "coef", CLEARN_FLOAT64, -1, -1, &coef);
  if (rc == CLEARN_OK && coef->rows < 1)
    rc = clearn__err(CLEARN_EFORMAT, "dataset 'coef' has 0 rows (targets)");
  if (rc == CLEARN_OK)
    rc = clearn__h5_read(g, "intercept", CLEARN_FLOAT64, 1, coef->rows, &icpt);
  if (rc == CLEARN_OK)
    rc = clearn__linmodel_alloc(coef->cols, coef->rows, &m);
  if (rc == CLEARN_OK) rc = clearn__h5_attr_read_i64(g, "rank", &m->rank);
  if (rc == CLEARN_OK && (m->rank < -1 || m->rank > m->n_features))
    rc = clearn__err(CLEARN_EFORMAT,
                     "attribute 'rank' = %lld is outside [-1, %lld]",
                     (long long)m->rank, (long long)m->n_features);
  if (rc == CLEARN_OK) {
    H5E_BEGIN_TRY { has_sing = H5Lexists(g, "singular", H5P_DEFAULT); }
    H5E_END_TRY;
    if (has_sing < 0)
      rc = clearn__err(CLEARN_EFORMAT, "group 'model' cannot be read");
  }
  if (rc == CLEARN_OK && has_sing > 0 &&
      (rc = clearn__h5_read(g, "singular", CLEARN_FLOAT64, 1, -1, &sing)) ==
          CLEARN_OK) {
    if (sing->cols > m->n_features)
      rc = clearn__err(CLEARN_EFORMAT,
                       "dataset 'singular' has %lld values, more than the "
                       "%lld features",
                       (long long)sing->cols, (long long)m->n_features);
    else
      rc = clearn__check_finite(sing, "model", "singular");
    if (rc == CLEARN_OK) {
      m->singular = sing->data; /* adopt the owned buffer */
      m->n_singular = sing->cols;
      sing->data = NULL;
    }
  }
  if (rc == CLEARN_OK) {
    if (coef->rows * coef->cols > 0)
      memcpy(m->coef, coef->data,
             (size_t)(coef->rows * coef->cols) * sizeof(double));
    memcpy(m->intercept, icpt->data, (size_t)coef->rows * sizeof(double));
    if ((rc = clearn__check_finite(coef, "model", "coef")) == CLEARN_OK)
      rc = clearn__check_finite(icpt, "model", "intercept");
  }
  /* Non-finite values are a damaged file, not a numerical failure. */
  if (rc == CLEARN_ENUMERIC) rc = CLEARN_EFORMAT;
  clearn_matrix_free(coef);
  clearn_matrix_free(icpt);
  clearn_matrix_free(sing);
  if (rc != CLEARN_OK) {
    clearn__linmodel_free(m);
    return rc;
  }
  *model = m;
  return CLEARN_OK;
}

/* ---- centered normal-equation statistics ------------------------------- */

void clearn__linstats_free(clearn__linstats *s) {
  free(s->xmean);
  free(s->ymean);
  free(s->G);
  free(s->b);
  memset(s, 0, sizeof *s);
}

/* Rows per centered block: about 1 MiB of X, so a block stays in cache
 * between the copy and the DSYRK that consumes it. */
static int64_t block_rows(int64_t p) {
  int64_t r = (int64_t)(1 << 17) / (p > 0 ? p : 1);
  return r < 64 ? 64 : r;
}

/* G += Zc^T Zc and b += Zc^T Yc over centered, sqrt(w)-scaled row blocks. */
static int centered_pass(const clearn_matrix *X, const clearn_matrix *y,
                         const clearn_matrix *w, clearn__linstats *s) {
  int64_t n = X->rows, p = X->cols, t = y->cols, B = block_rows(p), i0, i, j;
  const double *Xd = CLEARN__F64(X), *Yd = CLEARN__F64(y);
  const double *W = w ? CLEARN__F64(w) : NULL;
  double *Z = clearn__malloc((size_t)(B * p), sizeof(double));
  double *Zy = clearn__malloc((size_t)(B * t), sizeof(double));
  int rc = CLEARN_OK;
  if (Z == NULL || Zy == NULL) {
    rc = clearn__err(CLEARN_ENOMEM, "out of memory");
    goto cleanup;
  }
  for (i0 = 0; i0 < n && rc == CLEARN_OK; i0 += B) {
    int64_t nb = n - i0 < B ? n - i0 : B;
    for (i = 0; i < nb; i++) {
      double sw = W ? sqrt(W[i0 + i]) : 1.0;
      const double *xr = Xd + (i0 + i) * p, *yr = Yd + (i0 + i) * t;
      for (j = 0; j < p; j++) Z[i * p + j] = sw * (xr[j] - s->xmean[j]);
      for (j = 0; j < t; j++) Zy[i * t + j] = sw * (yr[j] - s->ymean[j]);
    }
    rc = clearn__dsyrk_tn(nb, p, 1.0, Z, p, 1.0, s->G);
    if (rc == CLEARN_OK)
      rc = clearn__dgemm_tn(nb, p, t, 1.0, Z, p, Zy, t, 1.0, s->b);
  }
cleanup:
  free(Z);
  free(Zy);
  return rc;
}

int clearn__linstats_compute(const clearn_matrix *X, const clearn_matrix *y,
                             const clearn_matrix *w, int fit_intercept,
                             const clearn__reducer *red, clearn__linstats *s) {
  int64_t n = X->rows, p = X->cols, t = y->cols, i, j;
  const double *Xd = CLEARN__F64(X), *Yd = CLEARN__F64(y);
  const double *W = w ? CLEARN__F64(w) : NULL;
  double *sums = NULL; /* [sw, X col sums (p), y col sums (t)] */
  double *ones = NULL;
  int rc = CLEARN_OK, exact = w != NULL; /* not W: 0 rows have no data */
  /* Every participant reaches the same collectives: a local failure is
   * passed into the next reduction instead of jumping past it. */
  memset(s, 0, sizeof *s);
  s->p = p;
  s->t = t;
  s->xmean = clearn__calloc((size_t)p, sizeof(double));
  s->ymean = clearn__calloc((size_t)t, sizeof(double));
  s->G = clearn__calloc((size_t)(p * p), sizeof(double));
  s->b = clearn__calloc((size_t)(p * t), sizeof(double));
  sums = clearn__calloc((size_t)(1 + p + t), sizeof(double));
  if (!W && fit_intercept) ones = clearn__malloc((size_t)n, sizeof(double));
  if (!s->xmean || !s->ymean || !s->G || !s->b || !sums ||
      (!W && fit_intercept && !ones)) {
    double dummy = 0;
    rc = clearn__err(CLEARN_ENOMEM, "cannot allocate the %lld x %lld Gram "
                     "matrix", (long long)p, (long long)p);
    rc = clearn__reduce_sum(red, &dummy, 1, rc);
    goto cleanup;
  }

  /* Pass 1: weighted column sums (the means), as BLAS gemv over X. */
  if (W) {
    for (i = 0; i < n; i++) sums[0] += W[i];
  } else {
    sums[0] = (double)n;
    if (ones) for (i = 0; i < n; i++) ones[i] = 1.0;
  }
  if (fit_intercept) {
    const double *v = W ? W : ones;
    rc = clearn__dgemv_t(n, p, 1.0, Xd, p, v, 0.0, sums + 1);
    if (rc == CLEARN_OK)
      rc = clearn__dgemv_t(n, t, 1.0, Yd, t, v, 0.0, sums + 1 + p);
  }
  rc = clearn__reduce_sum(red, sums, (size_t)(1 + p + t), rc);
  if (rc != CLEARN_OK) goto cleanup;
  s->sw = sums[0];
  if (!(s->sw > 0)) { /* the same verdict on every participant */
    rc = clearn__err(CLEARN_EINVAL, "sample weights sum to zero");
    goto cleanup;
  }
  if (fit_intercept) {
    for (j = 0; j < p; j++) s->xmean[j] = sums[1 + j] / s->sw;
    for (j = 0; j < t; j++) s->ymean[j] = sums[1 + p + j] / s->sw;
  }

  /* Pass 2, fast form: one DSYRK and one GEMM over X as given. */
  if (!exact) {
    rc = clearn__dsyrk_tn(n, p, 1.0, Xd, p, 0.0, s->G);
    if (rc == CLEARN_OK)
      rc = clearn__dgemm_tn(n, p, t, 1.0, Xd, p, Yd, t, 0.0, s->b);
    rc = clearn__reduce_sum(red, s->G, (size_t)(p * p), rc);
    rc = clearn__reduce_sum(red, s->b, (size_t)(p * t), rc);
    if (rc != CLEARN_OK) goto cleanup;
    if (fit_intercept) {
      /* Centre in the Gram matrix unless that cancels more than 2 bits of
       * some diagonal entry: sw m_j^2 > 3/4 G_jj, i.e. m_j^2 > 3 var_j.
       * G is identical everywhere, so so is the choice. */
      for (j = 0; j < p && !exact; j++)
        if (s->sw * s->xmean[j] * s->xmean[j] > 0.75 * s->G[j * p + j])
          exact = 1;
      if (!exact) {
        for (i = 0; i < p; i++) {
          for (j = i; j < p; j++)
            s->G[i * p + j] -= s->sw * s->xmean[i] * s->xmean[j];
          for (j = 0; j < t; j++)
            s->b[i * t + j] -= s->sw * s->xmean[i] * s->ymean[j];
        }
      } else {
        memset(s->G, 0, (size_t)(p * p) * sizeof(double));
        memset(s->b, 0, (size_t)(p * t) * sizeof(double));
      }
    }
  }
  /* Pass 2, exact form: explicitly centered (and weighted) blocks. */
  if (exact) {
    s->used_blocked = 1;
    rc = centered_pass(X, y, w, s);
    rc = clearn__reduce_sum(red, s->G, (size_t)(p * p), rc);
    rc = clearn__reduce_sum(red, s->b, (size_t)(p * t), rc);
  }
cleanup:
  free(sums);
  free(ones);
  if (rc != CLEARN_OK) clearn__linstats_free(s);
  return rc;
}
