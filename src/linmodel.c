/*
 * linmodel.c -- what every linear regressor shares: the fitted model
 * (coef t x p, intercept t), prediction, persistence, attributes, and the
 * centered normal-equation statistics.
 *
 * The statistics take one pass over X and never copy it.  Each cache-sized
 * block of rows is shifted by an estimate of the mean (the mean of the
 * first 1024 rows), scaled by sqrt(w) as scikit-learn scales the whole
 * matrix, and augmented with a column of sqrt(w) and the shifted targets;
 * one DSYRK of these augmented blocks yields the shifted Gram matrix, the
 * column sums, X^T y and sum w together.  Exact centering then costs only a
 * rank-one correction in the p x p matrix, which cancels nothing when the
 * shift is near the mean; when it is not (rows sorted by a feature), a
 * second pass shifts by the exact mean.  Blocks are spread over clearn's
 * threads with single-threaded BLAS, in a fixed number of pieces summed in
 * order.  All sums pass through the reduction hook, so distributed rows
 * reuse this code.
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
  free(s->yy);
  memset(s, 0, sizeof *s);
}

/* Rows per block: about 1 MiB of the augmented rows, so a block stays in
 * cache between the copy and the DSYRK that consumes it. */
static int64_t block_rows(int64_t q) {
  int64_t r = (int64_t)(1 << 17) / (q > 0 ? q : 1);
  return r < 64 ? 64 : r;
}

/* Partial Gram matrices are summed in a fixed number of pieces, fixed by
 * the problem and not by the thread count, so the result is the same
 * whatever the number of threads; their memory is bounded. */
static int64_t n_pieces(int64_t q, int64_t n_blocks) {
  int64_t cap = (int64_t)(64 << 20) / (q * q * 8 > 0 ? q * q * 8 : 1), k = 8;
  if (k > cap) k = cap;
  if (k > n_blocks) k = n_blocks;
  return k < 1 ? 1 : k;
}

/* One pass over X: H (q x q, upper) = Z^T Z for the augmented rows
 *   z_i = sqrt(w_i) [x_i - sx, 1, y_i - sy],  q = p + 1 + t,
 * which holds the shifted Gram, the column sums, X^T y and sum w at once.
 * Pieces of row blocks run on clearn's threads with single-threaded BLAS
 * (OpenBLAS threads each small DSYRK poorly); the pieces are then added in
 * order. */
static int shifted_gram(const clearn_matrix *X, const clearn_matrix *y,
                        const clearn_matrix *w, const double *sx,
                        const double *sy, double *H) {
  int64_t n = X->rows, p = X->cols, t = y->cols, q = p + 1 + t;
  int64_t B = block_rows(q), nb = (n + B - 1) / B, np = n_pieces(q, nb);
  const double *Xd = CLEARN__F64(X), *Yd = CLEARN__F64(y);
  const double *W = w ? CLEARN__F64(w) : NULL;
  double *Hp = clearn__calloc((size_t)(np * q * q), sizeof(double));
  int failed = 0, prev, nt = clearn__threads();
  int64_t piece, i, j;
  if (Hp == NULL) return clearn__err(CLEARN_ENOMEM, "out of memory");
  if (nt > np) nt = (int)np;
  prev = clearn__blas_serial_begin();
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) reduction(| : failed)
  for (piece = 0; piece < np; piece++) {
    double *Z = clearn__malloc((size_t)(B * q), sizeof(double));
    int64_t b0 = piece * nb / np, b1 = (piece + 1) * nb / np, b;
    if (Z == NULL) {
      failed = 1;
      continue;
    }
    for (b = b0; b < b1; b++) {
      int64_t i0 = b * B, rows = n - i0 < B ? n - i0 : B, r, c;
      for (r = 0; r < rows; r++) {
        double sw = W ? sqrt(W[i0 + r]) : 1.0, *z = Z + r * q;
        const double *xr = Xd + (i0 + r) * p, *yr = Yd + (i0 + r) * t;
        for (c = 0; c < p; c++) z[c] = sw * (xr[c] - sx[c]);
        z[p] = sw;
        for (c = 0; c < t; c++) z[p + 1 + c] = sw * (yr[c] - sy[c]);
      }
      if (clearn__dsyrk_tn(rows, q, 1.0, Z, q, 1.0, Hp + piece * q * q) !=
          CLEARN_OK)
        failed = 1;
    }
    free(Z);
  }
  clearn__blas_serial_end(prev);
  if (failed) {
    free(Hp);
    return clearn__err(CLEARN_ENOMEM, "out of memory (Gram blocks)");
  }
  for (piece = 0; piece < np; piece++)
    for (i = 0; i < q; i++)
      for (j = i; j < q; j++) H[i * q + j] += Hp[piece * q * q + i * q + j];
  free(Hp);
  return CLEARN_OK;
}

int clearn__linstats_compute(const clearn_matrix *X, const clearn_matrix *y,
                             const clearn_matrix *w, int fit_intercept,
                             const clearn__reducer *red, clearn__linstats *s) {
  int64_t n = X->rows, p = X->cols, t = y->cols, q = p + 1 + t, i, j;
  int64_t m = n < 1024 ? n : 1024, pass;
  const double *Xd = CLEARN__F64(X), *Yd = CLEARN__F64(y);
  double *H = NULL, *shift = NULL; /* shift = [sx (p), sy (t), count] */
  int rc = CLEARN_OK;
  /* Every participant reaches the same collectives: a local failure is
   * passed into the next reduction instead of jumping past it. */
  memset(s, 0, sizeof *s);
  s->p = p;
  s->t = t;
  s->xmean = clearn__calloc((size_t)p, sizeof(double));
  s->ymean = clearn__calloc((size_t)t, sizeof(double));
  s->G = clearn__calloc((size_t)(p * p), sizeof(double));
  s->b = clearn__calloc((size_t)(p * t), sizeof(double));
  s->yy = clearn__calloc((size_t)t, sizeof(double));
  H = clearn__calloc((size_t)(q * q), sizeof(double));
  shift = clearn__calloc((size_t)(p + t + 1), sizeof(double));
  if (!s->xmean || !s->ymean || !s->G || !s->b || !s->yy || !H || !shift)
    rc = clearn__err(CLEARN_ENOMEM, "cannot allocate the %lld x %lld Gram "
                     "matrix", (long long)p, (long long)p);

  /* The shift: the mean of the first rows (of every participant), close
   * enough to the true mean that centering in the Gram matrix afterwards
   * cancels almost nothing.  Without an intercept nothing is centered. */
  if (rc == CLEARN_OK && fit_intercept) {
    for (i = 0; i < m; i++) {
      for (j = 0; j < p; j++) shift[j] += Xd[i * p + j];
      for (j = 0; j < t; j++) shift[p + j] += Yd[i * t + j];
    }
    shift[p + t] = (double)m;
  }
  rc = clearn__reduce_sum(red, shift, (size_t)(p + t + 1), rc);
  if (rc != CLEARN_OK) goto cleanup;
  if (shift[p + t] > 0)
    for (j = 0; j < p + t; j++) shift[j] /= shift[p + t];

  /* Pass 1 with that shift; pass 2 only when the shift proved far from the
   * mean (rows sorted by a feature, say): centering then would cancel more
   * than 2 bits of some diagonal entry, so the Gram is recomputed around
   * the exact mean.  H is identical everywhere, so is the choice. */
  for (pass = 0; pass < 2; pass++) {
    double sw, *d, *dy;
    int redo = 0;
    memset(H, 0, (size_t)(q * q) * sizeof(double));
    rc = shifted_gram(X, y, w, shift, shift + p, H);
    rc = clearn__reduce_sum(red, H, (size_t)(q * q), rc);
    if (rc != CLEARN_OK) goto cleanup;
    sw = H[p * q + p];
    if (!(sw > 0)) {
      rc = clearn__err(CLEARN_EINVAL, "sample weights sum to zero");
      goto cleanup;
    }
    /* Offsets of the weighted means from the shift. */
    d = s->xmean;
    dy = s->ymean;
    for (j = 0; j < p; j++) d[j] = fit_intercept ? H[j * q + p] / sw : 0.0;
    for (j = 0; j < t; j++)
      dy[j] = fit_intercept ? H[p * q + p + 1 + j] / sw : 0.0;
    for (j = 0; j < p && pass == 0; j++)
      if (sw * d[j] * d[j] > 0.75 * H[j * q + j]) redo = 1;
    if (redo) {
      s->used_blocked = 1;
      for (j = 0; j < p; j++) shift[j] += d[j];
      for (j = 0; j < t; j++) shift[p + j] += dy[j];
      continue;
    }
    s->sw = sw;
    for (i = 0; i < p; i++) {
      for (j = i; j < p; j++) s->G[i * p + j] = H[i * q + j] - sw * d[i] * d[j];
      for (j = 0; j < t; j++)
        s->b[i * t + j] = H[i * q + p + 1 + j] - sw * d[i] * dy[j];
    }
    for (j = 0; j < t; j++)
      s->yy[j] = H[(p + 1 + j) * q + p + 1 + j] - sw * dy[j] * dy[j];
    for (j = 0; j < p; j++) s->xmean[j] = shift[j] + d[j];
    for (j = 0; j < t; j++) s->ymean[j] = shift[p + j] + dy[j];
    break;
  }
cleanup:
  free(H);
  free(shift);
  if (rc != CLEARN_OK) clearn__linstats_free(s);
  return rc;
}
