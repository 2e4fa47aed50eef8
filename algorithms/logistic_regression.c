/*
 * logistic_regression.c -- L2-regularized logistic regression, binary and
 * multinomial, as scikit-learn's LogisticRegression (lbfgs, penalty="l2",
 * multi_class="auto").
 *
 * Objective (scikit-learn 1.2's scaling, so tol means the same):
 *   F(W, b) = sum_i s_i loss_i + ||W||^2 / (2 C),
 * with the logistic loss for 2 classes (one coefficient row, the positive
 * class being the larger label) and the softmax cross-entropy over K rows
 * for K > 2; s_i = sample weight times class weight; b is not penalized.
 *
 * The objective is a clearn__objective (src/optimize.h) served to either
 * L-BFGS or trust-region Newton.  Its value call makes ONE pass over X:
 * each cache-sized block of rows gets its margins X_b W^T, then the loss
 * and the residuals, then its gradient contribution X_b^T R while the block
 * is still in cache -- the memory traffic of a single read of X per
 * function evaluation, which is the floor for a first-order method.  It
 * caches the curvature weights (p(1-p) per row for 2 classes, the
 * probabilities for K) so a Hessian-vector product is again one fused pass.
 * Blocks are grouped into a fixed number of pieces run on clearn's threads
 * and summed in piece order, so the result does not depend on the thread
 * count; every sum then goes through the reducer, which makes the same code
 * the distributed fit.
 *
 * Labels arrive as float64 holding integers (exact up to 2^53); the
 * classes are their sorted distinct values, gathered over all participants.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "optimize.h"

#define WHO "logistic_regression"

typedef struct {
  double C;
  int fit_intercept;
  int solver;       /* 0 lbfgs, 1 tron */
  int class_weight; /* 0 none, 1 balanced */
  double tol;
  int64_t max_iter;
} lr_params;

static const clearn__param_spec lr_param_specs[] = {
    {"C", CLEARN_PARAM_DOUBLE, offsetof(lr_params, C), "1.0", 0.0, 1.0 / 0.0, 1,
     1, NULL, "inverse of the L2 regularization strength (scikit-learn's C)"},
    {"fit_intercept", CLEARN_PARAM_BOOL, offsetof(lr_params, fit_intercept),
     "true", 0, 1, 0, 0, NULL, "fit an unpenalized intercept per class"},
    {"solver", CLEARN_PARAM_STRING, offsetof(lr_params, solver), "lbfgs", 0, 0,
     0, 0, "lbfgs|tron",
     "lbfgs (scikit-learn's default) or tron (trust-region Newton with "
     "conjugate gradients, as LIBLINEAR)"},
    {"class_weight", CLEARN_PARAM_STRING, offsetof(lr_params, class_weight),
     "none", 0, 0, 0, 0, "none|balanced",
     "balanced: weight class k by n / (K n_k); for other per-class weights "
     "pass sample weights"},
    {"tol", CLEARN_PARAM_DOUBLE, offsetof(lr_params, tol), "0.0001", 0.0,
     1.0 / 0.0, 0, 1, NULL,
     "stop when max |gradient| <= tol, or when an iteration lowers the "
     "objective by <= min(2.2e-16 * 1e7, tol^2) relative (scipy's L-BFGS-B "
     "rules)"},
    {"max_iter", CLEARN_PARAM_INT, offsetof(lr_params, max_iter), "100", 1, 1e9,
     0, 0, NULL, "maximum solver iterations"},
};

static const char *const lr_attrs[] = {"coef", "intercept", "classes",
                                       "n_features_in", "n_iter"};

typedef struct {
  int64_t p, K;      /* features, classes */
  int64_t rows;      /* coefficient rows: 1 if K == 2, else K */
  double *coef;      /* rows x p */
  double *intercept; /* rows */
  int64_t *classes;  /* K, ascending */
  int64_t n_iter;
} lr_model;

static void lr_model_free(void *model) {
  lr_model *m = model;
  if (m == NULL)
    return;
  free(m->coef);
  free(m->intercept);
  free(m->classes);
  free(m);
}

static int lr_model_alloc(int64_t p, int64_t K, lr_model **out) {
  lr_model *m = calloc(1, sizeof *m);
  *out = NULL;
  if (m == NULL)
    return clearn__err(CLEARN_ENOMEM, "out of memory");
  m->p = p;
  m->K = K;
  m->rows = K == 2 ? 1 : K;
  m->coef = clearn__calloc((size_t)(m->rows * p), sizeof(double));
  m->intercept = clearn__calloc((size_t)m->rows, sizeof(double));
  m->classes = clearn__calloc((size_t)K, sizeof(int64_t));
  if (!m->coef || !m->intercept || !m->classes) {
    lr_model_free(m);
    return clearn__err(CLEARN_ENOMEM, "out of memory");
  }
  *out = m;
  return CLEARN_OK;
}

/* ---- labels ---------------------------------------------------------------
 */

/* Position of v in the ascending a[0..n), or -1. */
static int64_t find_label(const double *a, int64_t n, double v) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (a[mid] < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && a[lo] == v ? lo : -1;
}

/* Sorted distinct labels of this participant (*out owned, *k of them),
 * checking that each is an integer exactly representable. */
static int local_labels(const clearn_matrix *y, double **out, int64_t *k) {
  const double *Y = CLEARN__F64(y);
  int64_t n = y->rows, i, cap = 16, cnt = 0;
  double *a = clearn__malloc((size_t)cap, sizeof(double)), last = 0;
  *out = NULL;
  *k = 0;
  if (a == NULL)
    return clearn__err(CLEARN_ENOMEM, "out of memory");
  for (i = 0; i < n; i++) {
    double v = Y[i];
    int64_t lo = 0, hi = cnt;
    if (v != floor(v) || fabs(v) > 9007199254740992.0) {
      free(a);
      return clearn__err(CLEARN_EINVAL,
                         WHO ": y[%lld] = %.17g is not a class label (labels "
                             "are integers with |label| <= 2^53)",
                         (long long)i, v);
    }
    if (cnt > 0 && v == last)
      continue; /* runs of one label are common */
    last = v;
    while (lo < hi) {
      int64_t mid = lo + (hi - lo) / 2;
      if (a[mid] < v)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo < cnt && a[lo] == v)
      continue;
    if (cnt == cap) {
      double *b = realloc(a, (size_t)(cap *= 2) * sizeof(double));
      if (b == NULL) {
        free(a);
        return clearn__err(CLEARN_ENOMEM, "out of memory");
      }
      a = b;
    }
    memmove(a + lo + 1, a + lo, (size_t)(cnt - lo) * sizeof(double));
    a[lo] = v;
    cnt++;
  }
  *out = a;
  *k = cnt;
  return CLEARN_OK;
}

/* The union of every participant's labels, ascending: one maximum per
 * class over the negated next-larger label (a participant without one
 * offers -inf). */
static int global_labels(const clearn__reducer *red, double *loc, int64_t nloc,
                         int rc, double **out, int64_t *k) {
  double cur = -INFINITY, *a = NULL;
  int64_t cnt = 0, cap = 0, j = 0;
  *out = NULL;
  *k = 0;
  if (red == NULL) {
    if (rc == CLEARN_OK) {
      *out = loc;
      *k = nloc;
    }
    return rc;
  }
  for (;;) {
    double v = -INFINITY;
    while (loc && j < nloc && loc[j] <= cur)
      j++;
    if (rc == CLEARN_OK && loc && j < nloc)
      v = -loc[j];
    rc = clearn__reduce_max(red, &v, 1, rc);
    if (rc != CLEARN_OK || v == -INFINITY)
      break;
    if (cnt == cap) {
      double *b =
          realloc(a, (size_t)(cap = cap ? 2 * cap : 16) * sizeof(double));
      if (b == NULL) {
        rc = clearn__err(CLEARN_ENOMEM, "out of memory");
        continue; /* reported in the next round, which then ends */
      }
      a = b;
    }
    cur = a[cnt++] = -v;
  }
  free(loc);
  if (rc != CLEARN_OK) {
    free(a);
    return rc;
  }
  *out = a;
  *k = cnt;
  return CLEARN_OK;
}

/* ---- the objective ----------------------------------------------------------
 */

typedef struct {
  const double *X;
  int64_t n, p, R; /* rows of coefficients: 1 (binary) or K */
  int fi;          /* intercept */
  const int32_t *cls;
  const double *sw; /* per-row weight, NULL = 1 */
  double C;
  int64_t nv; /* variables: R p (+ R) */
  int64_t B, nb, np;
  double *cache; /* binary: n curvature weights; multinomial: n x K probs */
  double *part;  /* np x (1 + nv) partial sums */
  double *g;     /* 1 + nv: reduced [f, gradient] at the current point */
  double *h;     /* 1 + nv: reduced Hessian-vector product */
  const clearn__reducer *red;
} lr_obj;

static double sigmoid(double z) {
  if (z >= 0)
    return 1.0 / (1.0 + exp(-z));
  {
    double e = exp(z);
    return e / (1.0 + e);
  }
}

/* One piece of blocks: acc = [f, dW (R x p), db (R)] for value (mode 0),
 * or [unused, HW, Hb] for a Hessian-vector product with direction v
 * (mode 1).  Z is scratch for B x R values. */
static int piece_pass(const lr_obj *o, int64_t piece, const double *v, int mode,
                      double *acc, double *Z) {
  int64_t b0 = piece * o->nb / o->np, b1 = (piece + 1) * o->nb / o->np, b;
  int64_t p = o->p, R = o->R, K = R == 1 ? 2 : R;
  const double *Wv = v, *bv = o->fi ? v + R * p : NULL;
  double *dW = acc + 1, *db = acc + 1 + R * p;
  int rc = CLEARN_OK;
  for (b = b0; b < b1 && rc == CLEARN_OK; b++) {
    int64_t i0 = b * o->B, rows = o->n - i0 < o->B ? o->n - i0 : o->B, r, k;
    const double *Xb = o->X + i0 * p;
    if (R == 1) {
      rc = clearn__dgemv_n(rows, p, 1.0, Xb, p, Wv, 0.0, Z);
      for (r = 0; r < rows; r++) {
        int64_t i = i0 + r;
        double z = Z[r] + (bv ? bv[0] : 0.0), s = o->sw ? o->sw[i] : 1.0;
        if (mode == 0) {
          /* One exp serves the loss and the probability. */
          double y = o->cls[i] == 1 ? 1.0 : 0.0, e = exp(-fabs(z)),
                 pr = z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
          acc[0] += s * ((z > 0 ? z : 0.0) + log1p(e) - y * z);
          o->cache[i] = s * pr * (1.0 - pr);
          Z[r] = s * (pr - y);
        } else {
          Z[r] = o->cache[i] * z;
        }
        if (bv)
          db[0] += Z[r];
      }
      if (rc == CLEARN_OK)
        rc = clearn__dgemv_t(rows, p, 1.0, Xb, p, Z, 1.0, dW);
    } else {
      rc = clearn__dgemm_nt(rows, K, p, 1.0, Xb, p, Wv, p, 0.0, Z);
      for (r = 0; r < rows && rc == CLEARN_OK; r++) {
        int64_t i = i0 + r;
        double *z = Z + r * K, *P = o->cache + i * K,
               s = o->sw ? o->sw[i] : 1.0;
        if (bv)
          for (k = 0; k < K; k++)
            z[k] += bv[k];
        if (mode == 0) {
          double mx = z[0], sum = 0, lse;
          int64_t c = o->cls[i];
          for (k = 1; k < K; k++)
            mx = z[k] > mx ? z[k] : mx;
          for (k = 0; k < K; k++)
            sum += (P[k] = exp(z[k] - mx));
          lse = mx + log(sum);
          acc[0] += s * (lse - z[c]);
          for (k = 0; k < K; k++) {
            P[k] /= sum;
            z[k] = s * (P[k] - (k == c ? 1.0 : 0.0));
          }
        } else {
          double pu = 0;
          for (k = 0; k < K; k++)
            pu += P[k] * z[k];
          for (k = 0; k < K; k++)
            z[k] = s * P[k] * (z[k] - pu);
        }
        if (bv)
          for (k = 0; k < K; k++)
            db[k] += z[k];
      }
      if (rc == CLEARN_OK)
        rc = clearn__dgemm_tn(rows, K, p, 1.0, Z, K, Xb, p, 1.0, dW);
    }
  }
  return rc;
}

/* Run every piece (on clearn's threads), add the pieces in order into
 * dst (1 + nv) and sum over participants. */
static int full_pass(lr_obj *o, const double *v, int mode, double *dst) {
  int64_t q = 1 + o->nv, piece, j;
  int failed = 0, nt = clearn__threads(), prev, rc;
  if (nt > o->np)
    nt = (int)o->np;
  if (nt < 1)
    nt = 1;
  memset(o->part, 0, (size_t)(o->np * q) * sizeof(double));
  prev = clearn__blas_serial_begin();
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)                  \
    reduction(|                                                                \
              : failed)
  for (piece = 0; piece < o->np; piece++) {
    double *Z =
        malloc((size_t)(o->B * (o->R == 1 ? 1 : o->R)) * sizeof(double));
    if (Z == NULL ||
        piece_pass(o, piece, v, mode, o->part + piece * q, Z) != CLEARN_OK)
      failed = 1;
    free(Z);
  }
  clearn__blas_serial_end(prev);
  memset(dst, 0, (size_t)q * sizeof(double));
  for (piece = 0; piece < o->np; piece++)
    for (j = 0; j < q; j++)
      dst[j] += o->part[piece * q + j];
  rc = failed ? clearn__err(CLEARN_ENOMEM, WHO ": out of memory (row blocks)")
              : CLEARN_OK;
  return clearn__reduce_sum(o->red, dst, (size_t)q, rc);
}

static int obj_value(void *ctx, const double *w, double *f) {
  lr_obj *o = ctx;
  int64_t j, nw = o->R * o->p;
  double pen = 0;
  int rc = full_pass(o, w, 0, o->g);
  if (rc != CLEARN_OK)
    return rc;
  for (j = 0; j < nw; j++) {
    pen += w[j] * w[j];
    o->g[1 + j] += w[j] / o->C;
  }
  *f = o->g[0] + 0.5 * pen / o->C;
  return CLEARN_OK;
}

static int obj_gradient(void *ctx, const double *w, double *g) {
  lr_obj *o = ctx;
  (void)w;
  memcpy(g, o->g + 1, (size_t)o->nv * sizeof(double));
  return CLEARN_OK;
}

static int obj_hessvec(void *ctx, const double *s, double *Hs) {
  lr_obj *o = ctx;
  int64_t j, nw = o->R * o->p;
  int rc = full_pass(o, s, 1, o->h);
  if (rc == CLEARN_OK)
    for (j = 0; j < o->nv; j++)
      Hs[j] = o->h[1 + j] + (j < nw ? s[j] / o->C : 0);
  return rc;
}

/* ---- fit --------------------------------------------------------------------
 */

static int lr_fit(const void *params, const clearn_matrix *X,
                  const clearn_matrix *y, const clearn_matrix *w,
                  const clearn__reducer *red, void **model) {
  const lr_params *lp = params;
  int64_t n = X->rows, p = X->cols, K = 0, nloc = 0, i, k;
  double *loc = NULL, *labels = NULL, *wbuf = NULL, *cnt = NULL;
  int32_t *cls = NULL;
  lr_obj o;
  lr_model *m = NULL;
  clearn__objective obj;
  clearn__optim_opts opts;
  clearn__optim_result res;
  double *wv = NULL;
  int rc = CLEARN_OK;
  memset(&o, 0, sizeof o);
  /* Local checks feed the first collective instead of returning early. */
  if (y->cols != 1)
    rc = clearn__err(CLEARN_ESHAPE,
                     WHO ": y has %lld columns; pass the class labels as one "
                         "column (n x 1)",
                     (long long)y->cols);
  if (rc == CLEARN_OK)
    rc = local_labels(y, &loc, &nloc);
  if ((rc = global_labels(red, loc, nloc, rc, &labels, &K)) != CLEARN_OK)
    return rc;
  if (K < 2) {
    rc = clearn__err(CLEARN_EINVAL,
                     WHO ": y holds one class only (label %.17g); need samples "
                         "of at least 2 classes",
                     K ? labels[0] : 0.0);
    goto cleanup;
  }
  if (K > INT32_MAX) {
    rc = clearn__err(CLEARN_EINVAL, WHO ": too many classes (%lld)",
                     (long long)K);
    goto cleanup;
  }
  cls = clearn__malloc((size_t)(n ? n : 1), sizeof(int32_t));
  cnt = clearn__calloc((size_t)K, sizeof(double));
  if (cls == NULL || cnt == NULL)
    rc = clearn__err(CLEARN_ENOMEM, "out of memory");
  for (i = 0; rc == CLEARN_OK && i < n; i++) {
    cls[i] = (int32_t)find_label(labels, K, CLEARN__F64(y)[i]);
    cnt[cls[i]] += 1.0;
  }
  if (lp->class_weight == 1) {
    /* scikit-learn's "balanced": n / (K n_k) from unweighted counts. */
    double total = 0;
    rc = clearn__reduce_sum(red, cnt, (size_t)K, rc);
    if (rc != CLEARN_OK)
      goto cleanup;
    for (k = 0; k < K; k++)
      total += cnt[k];
    if ((wbuf = clearn__malloc((size_t)(n ? n : 1), sizeof(double))) == NULL)
      rc = clearn__err(CLEARN_ENOMEM, "out of memory");
    for (i = 0; rc == CLEARN_OK && i < n; i++)
      wbuf[i] =
          (w ? CLEARN__F64(w)[i] : 1.0) * total / ((double)K * cnt[cls[i]]);
  }
  o.X = CLEARN__F64(X);
  o.n = n;
  o.p = p;
  o.R = K == 2 ? 1 : K;
  o.fi = lp->fit_intercept;
  o.cls = cls;
  o.sw = wbuf ? wbuf : (w ? CLEARN__F64(w) : NULL);
  o.C = lp->C;
  o.nv = o.R * p + (o.fi ? o.R : 0);
  o.B = (1 << 15) / (p + o.R);
  if (o.B < 16)
    o.B = 16;
  o.nb = (n + o.B - 1) / o.B;
  o.np = o.nb < 16 ? o.nb : 16;
  o.red = red;
  if (rc == CLEARN_OK) {
    o.cache = clearn__malloc((size_t)(n ? n * (o.R == 1 ? 1 : o.R) : 1),
                             sizeof(double));
    o.part = clearn__malloc((size_t)((o.np ? o.np : 1) * (1 + o.nv)),
                            sizeof(double));
    o.g = clearn__malloc((size_t)(1 + o.nv), sizeof(double));
    o.h = clearn__malloc((size_t)(1 + o.nv), sizeof(double));
    wv = clearn__calloc((size_t)o.nv, sizeof(double));
    if (!o.cache || !o.part || !o.g || !o.h || !wv)
      rc = clearn__err(CLEARN_ENOMEM,
                       WHO ": cannot allocate the solver state for %lld rows",
                       (long long)n);
  }
  /* Every participant agrees on the set-up before the solver's sums. */
  if ((rc = clearn__reduce_sum(red, NULL, 0, rc)) != CLEARN_OK)
    goto cleanup;

  obj.n = o.nv;
  obj.ctx = &o;
  obj.value = obj_value;
  obj.gradient = obj_gradient;
  obj.hessvec = obj_hessvec;
  opts.gtol = lp->tol;
  opts.ftol = lp->tol * lp->tol < 2.220446049250313e-09 ? lp->tol * lp->tol
                                                        : 2.220446049250313e-09;
  opts.max_iter = lp->max_iter;
  opts.memory = 10;
  rc = lp->solver == 0 ? clearn__lbfgs(&obj, wv, &opts, &res)
                       : clearn__tron(&obj, wv, &opts, &res);
  if (rc != CLEARN_OK)
    goto cleanup;
  for (i = 0; i < o.nv; i++)
    if (!isfinite(wv[i])) {
      rc = clearn__err(CLEARN_ENUMERIC,
                       WHO ": the solver diverged (non-finite coefficients)");
      goto cleanup;
    }
  if ((rc = lr_model_alloc(p, K, &m)) != CLEARN_OK)
    goto cleanup;
  memcpy(m->coef, wv, (size_t)(o.R * p) * sizeof(double));
  if (o.fi)
    memcpy(m->intercept, wv + o.R * p, (size_t)o.R * sizeof(double));
  for (k = 0; k < K; k++)
    m->classes[k] = (int64_t)labels[k];
  m->n_iter = res.n_iter;
  *model = m;
  if (!res.converged && res.stalled)
    rc =
        clearn__err(CLEARN_ENOTCONVERGED,
                    WHO ": %s stopped after %lld iterations: no step lowers "
                        "the objective any more (max |gradient| = %.3g > tol = "
                        "%g, below what rounding allows here); the model is "
                        "usable",
                    lp->solver == 0 ? "lbfgs" : "tron", (long long)res.n_iter,
                    res.gmax, lp->tol);
  else if (!res.converged)
    rc =
        clearn__err(CLEARN_ENOTCONVERGED,
                    WHO ": %s did not converge in max_iter = %lld "
                        "iterations (max |gradient| = %.3g > tol = %g); the "
                        "model is usable; raise max_iter or scale the features "
                        "(standard_scaler)",
                    lp->solver == 0 ? "lbfgs" : "tron", (long long)lp->max_iter,
                    res.gmax, lp->tol);
cleanup:
  free(labels);
  free(cls);
  free(cnt);
  free(wbuf);
  free(o.cache);
  free(o.part);
  free(o.g);
  free(o.h);
  free(wv);
  return rc;
}

/* ---- prediction -------------------------------------------------------------
 */

/* m x R margins X coef^T + intercept. */
static int margins(const lr_model *m, const clearn_matrix *X,
                   clearn_matrix **out) {
  int64_t n = X->rows, R = m->rows, i, k;
  double *Z;
  int rc = clearn_matrix_create(n, R, CLEARN_FLOAT64, out);
  if (rc != CLEARN_OK)
    return rc;
  Z = (*out)->data;
  for (i = 0; i < n; i++)
    for (k = 0; k < R; k++)
      Z[i * R + k] = m->intercept[k];
  rc = clearn__dgemm_nt(n, R, m->p, 1.0, CLEARN__F64(X), m->p, m->coef, m->p,
                        1.0, Z);
  if (rc != CLEARN_OK) {
    clearn_matrix_free(*out);
    *out = NULL;
  }
  return rc;
}

static int lr_decision(const void *params, const void *model,
                       const clearn_matrix *X, clearn_matrix **out) {
  (void)params;
  return margins(model, X, out);
}

static int lr_proba(const void *params, const void *model,
                    const clearn_matrix *X, clearn_matrix **out) {
  const lr_model *m = model;
  clearn_matrix *Zm = NULL;
  int64_t n = X->rows, K = m->K, i, k;
  double *P, *Z;
  int rc = margins(m, X, &Zm);
  (void)params;
  if (rc == CLEARN_OK)
    rc = clearn_matrix_create(n, K, CLEARN_FLOAT64, out);
  if (rc != CLEARN_OK) {
    clearn_matrix_free(Zm);
    return rc;
  }
  P = (*out)->data;
  Z = Zm->data;
  for (i = 0; i < n; i++) {
    if (K == 2) {
      P[2 * i + 1] = sigmoid(Z[i]);
      P[2 * i] = 1.0 - P[2 * i + 1];
    } else {
      double mx = Z[i * K], sum = 0;
      for (k = 1; k < K; k++)
        mx = Z[i * K + k] > mx ? Z[i * K + k] : mx;
      for (k = 0; k < K; k++)
        sum += (P[i * K + k] = exp(Z[i * K + k] - mx));
      for (k = 0; k < K; k++)
        P[i * K + k] /= sum;
    }
  }
  clearn_matrix_free(Zm);
  return CLEARN_OK;
}

static int lr_predict(const void *params, const void *model,
                      const clearn_matrix *X, clearn_matrix **out) {
  const lr_model *m = model;
  clearn_matrix *Zm = NULL;
  int64_t n = X->rows, R = m->rows, i, k;
  double *Y;
  const double *Z;
  int rc = margins(m, X, &Zm);
  (void)params;
  if (rc == CLEARN_OK)
    rc = clearn_matrix_create(n, 1, CLEARN_FLOAT64, out);
  if (rc != CLEARN_OK) {
    clearn_matrix_free(Zm);
    return rc;
  }
  Y = (*out)->data;
  Z = Zm->data;
  for (i = 0; i < n; i++) {
    int64_t best = 0;
    if (R == 1)
      best = Z[i] > 0 ? 1 : 0;
    else
      for (k = 1; k < R; k++)
        if (Z[i * R + k] > Z[i * R + best])
          best = k;
    Y[i] = (double)m->classes[best];
  }
  clearn_matrix_free(Zm);
  return CLEARN_OK;
}

static int64_t lr_n_features(const void *model) {
  return ((const lr_model *)model)->p;
}

static int copy_out(const void *src, int64_t rows, int64_t cols,
                    clearn_dtype dt, clearn_matrix **out) {
  int rc = clearn_matrix_create(rows, cols, dt, out);
  if (rc == CLEARN_OK && rows * cols > 0)
    memcpy((*out)->data, src, (size_t)(rows * cols) * clearn_dtype_size(dt));
  return rc;
}

static int lr_get_attr(const void *model, const char *name,
                       clearn_matrix **out) {
  const lr_model *m = model;
  if (strcmp(name, "coef") == 0)
    return copy_out(m->coef, m->rows, m->p, CLEARN_FLOAT64, out);
  if (strcmp(name, "intercept") == 0)
    return copy_out(m->intercept, 1, m->rows, CLEARN_FLOAT64, out);
  if (strcmp(name, "classes") == 0)
    return copy_out(m->classes, 1, m->K, CLEARN_INT64, out);
  if (strcmp(name, "n_features_in") == 0)
    return copy_out(&m->p, 1, 1, CLEARN_INT64, out);
  if (strcmp(name, "n_iter") == 0)
    return copy_out(&m->n_iter, 1, 1, CLEARN_INT64, out);
  return clearn__err(CLEARN_EINVAL, "unknown attribute '%s'", name);
}

/* ---- persistence ------------------------------------------------------------
 */

static int lr_save(const void *model, hid_t g) {
  const lr_model *m = model;
  int rc = clearn__h5_write(g, "coef", m->coef, m->rows, m->p, CLEARN_FLOAT64);
  if (rc == CLEARN_OK)
    rc = clearn__h5_write(g, "intercept", m->intercept, 1, m->rows,
                          CLEARN_FLOAT64);
  if (rc == CLEARN_OK)
    rc = clearn__h5_write(g, "classes", m->classes, 1, m->K, CLEARN_INT64);
  if (rc == CLEARN_OK)
    rc = clearn__h5_attr_write_i64(g, "n_iter", m->n_iter);
  return rc;
}

static int lr_load(hid_t g, void **model) {
  clearn_matrix *cl = NULL, *coef = NULL, *icpt = NULL;
  lr_model *m = NULL;
  int64_t K = 0, k;
  int rc = clearn__h5_read(g, "classes", CLEARN_INT64, 1, -1, &cl);
  if (rc == CLEARN_OK) {
    K = cl->cols;
    if (K < 2)
      rc = clearn__err(CLEARN_EFORMAT,
                       "dataset 'classes' has %lld labels, need >= 2",
                       (long long)K);
    for (k = 1; rc == CLEARN_OK && k < K; k++)
      if (((int64_t *)cl->data)[k] <= ((int64_t *)cl->data)[k - 1])
        rc = clearn__err(CLEARN_EFORMAT,
                         "dataset 'classes' is not strictly ascending");
  }
  if (rc == CLEARN_OK)
    rc = clearn__h5_read(g, "coef", CLEARN_FLOAT64, K == 2 ? 1 : K, -1, &coef);
  if (rc == CLEARN_OK)
    rc = clearn__h5_read(g, "intercept", CLEARN_FLOAT64, 1, coef->rows, &icpt);
  if (rc == CLEARN_OK)
    rc = lr_model_alloc(coef->cols, K, &m);
  if (rc == CLEARN_OK)
    rc = clearn__h5_attr_read_i64(g, "n_iter", &m->n_iter);
  if (rc == CLEARN_OK) {
    if (coef->rows * coef->cols > 0)
      memcpy(m->coef, coef->data,
             (size_t)(coef->rows * coef->cols) * sizeof(double));
    memcpy(m->intercept, icpt->data, (size_t)coef->rows * sizeof(double));
    memcpy(m->classes, cl->data, (size_t)K * sizeof(int64_t));
    if ((rc = clearn__check_finite(coef, "model", "coef")) == CLEARN_OK)
      rc = clearn__check_finite(icpt, "model", "intercept");
    if (rc == CLEARN_ENUMERIC)
      rc = CLEARN_EFORMAT;
  }
  clearn_matrix_free(cl);
  clearn_matrix_free(coef);
  clearn_matrix_free(icpt);
  if (rc != CLEARN_OK) {
    lr_model_free(m);
    return rc;
  }
  *model = m;
  return CLEARN_OK;
}

const clearn__estimator_type clearn__logistic_regression_type = {
    "logistic_regression",
    "L2-regularized logistic regression, binary or multinomial (L-BFGS or "
    "trust-region Newton)",
    lr_param_specs,
    (int)(sizeof lr_param_specs / sizeof lr_param_specs[0]),
    sizeof(lr_params),
    lr_attrs,
    (int)(sizeof lr_attrs / sizeof lr_attrs[0]),
    NULL,
    lr_fit,
    lr_predict,
    lr_n_features,
    lr_get_attr,
    lr_save,
    lr_load,
    lr_model_free,
    NULL, /* not a recommender */
};

const clearn__estimator_ext clearn__logistic_regression_ext = {
    &clearn__logistic_regression_type,
    1, /* classifier */
    lr_proba,
    lr_decision,
    0,
    NULL,
    NULL,
    NULL, /* no warm start */
    NULL, /* no path */
};
