/*
 * elastic_net.c -- Lasso and ElasticNet by coordinate descent, as
 * scikit-learn's (cd_fast.enet_coordinate_descent_gram):
 *
 *   min (1 / (2 sum w)) sum_i w_i (y_i - x_i b - c)^2
 *       + alpha l1_ratio ||b||_1 + alpha (1 - l1_ratio) / 2 ||b||^2
 *
 * The descent runs on the centered, weighted Gram matrix Q = Xc^T W Xc and
 * q = Xc^T W yc (src/linmodel.c: one DSYRK pass over X, no copy), not on X:
 * a sweep then costs p^2 instead of n p, the path over many alphas reuses
 * one Gram matrix, and the distributed fit is the serial one after a single
 * sum of Q and q over the ranks.  Stopping is scikit-learn's: after a sweep
 * whose largest coefficient change is below tol relative to the largest
 * coefficient (or at max_iter), the duality gap is computed and the
 * descent stops when it is below tol * ||yc||_W^2.  A gap still above it at
 * max_iter is CLEARN_ENOTCONVERGED with the model installed.
 *
 * Coordinates are visited cyclically or, with selection = "random", in an
 * order drawn from random_state (xoshiro256**; not scikit-learn's stream,
 * so random runs agree with it only at convergence).  warm_start = true
 * starts from the current coefficients.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "linmodel.h"
#include "rng.h"

typedef struct {
  double alpha;
  double l1_ratio;
  int fit_intercept;
  double tol;
  int64_t max_iter;
  int selection; /* 0 cyclic, 1 random */
  int64_t random_state;
  int warm_start;
  const char *who; /* set by the kind's wrapper, not a parameter */
} enet_params;

#define INF (1.0 / 0.0)

/* Both kinds' parameters; lasso lists all but the last (l1_ratio, which
 * its wrappers fix at 1). */
static const clearn__param_spec enet_param_specs[] = {
    {"alpha", CLEARN_PARAM_DOUBLE, offsetof(enet_params, alpha), "1.0", 0.0,
     INF, 0, 1, NULL, "regularization strength (scikit-learn's alpha)"},
    {"fit_intercept", CLEARN_PARAM_BOOL, offsetof(enet_params, fit_intercept),
     "true", 0, 1, 0, 0, NULL, "fit an unpenalized intercept (centre X and y)"},
    {"tol", CLEARN_PARAM_DOUBLE, offsetof(enet_params, tol), "0.0001", 0.0, INF,
     0, 1, NULL,
     "stop when the duality gap <= tol * ||y - mean||^2 (checked after a "
     "sweep changing no coefficient by more than tol relative)"},
    {"max_iter", CLEARN_PARAM_INT, offsetof(enet_params, max_iter), "1000", 1,
     1e9, 0, 0, NULL, "maximum sweeps over the coordinates"},
    {"selection", CLEARN_PARAM_STRING, offsetof(enet_params, selection),
     "cyclic", 0, 0, 0, 0, "cyclic|random",
     "visit the coordinates in order or in random order"},
    {"random_state", CLEARN_PARAM_INT, offsetof(enet_params, random_state), "0",
     0, 9.2e18, 0, 0, NULL, "seed of the random selection"},
    {"warm_start", CLEARN_PARAM_BOOL, offsetof(enet_params, warm_start),
     "false", 0, 1, 0, 0, NULL,
     "start from the coefficients of the previous fit"},
    {"l1_ratio", CLEARN_PARAM_DOUBLE, offsetof(enet_params, l1_ratio), "0.5",
     0.0, 1.0, 0, 0, NULL,
     "mix of the penalties: 1 = Lasso (L1), 0 = ridge (L2)"},
};

#define N_ENET_PARAMS                                                          \
  ((int)(sizeof enet_param_specs / sizeof enet_param_specs[0]))

static const char *const enet_attrs[] = {"coef", "intercept", "n_features_in",
                                         "n_iter", "dual_gap"};

typedef struct {
  clearn__linmodel *lm;
  int64_t n_iter;   /* sweeps of the last target's descent (max over t) */
  double *dual_gap; /* t, on the scale of scikit-learn's dual_gap_ */
} enet_model;

static void enet_model_free(void *model) {
  enet_model *m = model;
  if (m == NULL)
    return;
  clearn__linmodel_free(m->lm);
  free(m->dual_gap);
  free(m);
}

static int enet_model_alloc(int64_t p, int64_t t, enet_model **out) {
  enet_model *m = calloc(1, sizeof *m);
  int rc;
  *out = NULL;
  if (m == NULL)
    return clearn__err(CLEARN_ENOMEM, "out of memory");
  if ((rc = clearn__linmodel_alloc(p, t, &m->lm)) != CLEARN_OK ||
      (m->dual_gap = clearn__calloc((size_t)t, sizeof(double))) == NULL) {
    enet_model_free(m);
    return rc != CLEARN_OK ? rc : clearn__err(CLEARN_ENOMEM, "out of memory");
  }
  *out = m;
  return CLEARN_OK;
}

/* ---- coordinate descent on the Gram matrix ------------------------------- */

typedef struct {
  int64_t n_iter;
  double gap, gap_tol;
  int converged;
} cd_result;

/* scikit-learn's enet_coordinate_descent_gram on the full p x p Q, with
 * l1 = alpha l1_ratio sum w and l2 = alpha (1 - l1_ratio) sum w; H is
 * scratch (p).  w is the start and the result. */
static void cd_gram(int64_t p, const double *Q, const double *q, double yy,
                    double l1, double l2, double tol, int64_t max_iter,
                    int random, clearn__rng *rng, double *w, double *H,
                    cd_result *res) {
  int64_t it, f, i, j;
  double gtol = tol * yy;
  memset(res, 0, sizeof *res);
  res->gap_tol = gtol;
  for (i = 0; i < p; i++) {
    double s = 0;
    for (j = 0; j < p; j++)
      s += Q[i * p + j] * w[j];
    H[i] = s;
  }
  for (it = 0; it < max_iter; it++) {
    double wmax = 0, dwmax = 0;
    for (f = 0; f < p; f++) {
      int64_t ii = random ? (int64_t)(clearn__rng_next(rng) % (uint64_t)p) : f;
      double wi = w[ii], tmp, d;
      const double *Qi = Q + ii * p;
      if (Q[ii * p + ii] == 0)
        continue;
      if (wi != 0)
        for (j = 0; j < p; j++)
          H[j] -= wi * Qi[j];
      tmp = q[ii] - H[ii];
      w[ii] = (tmp > 0   ? 1.0
               : tmp < 0 ? -1.0
                         : 0.0) *
              fmax(fabs(tmp) - l1, 0) / (Q[ii * p + ii] + l2);
      if (w[ii] != 0)
        for (j = 0; j < p; j++)
          H[j] += w[ii] * Qi[j];
      d = fabs(w[ii] - wi);
      if (d > dwmax)
        dwmax = d;
      if (fabs(w[ii]) > wmax)
        wmax = fabs(w[ii]);
    }
    res->n_iter = it + 1;
    if (wmax == 0 || dwmax / wmax < tol || it == max_iter - 1) {
      double qw = 0, dual = 0, rn2, wn2 = 0, l1n = 0, c, gap;
      for (j = 0; j < p; j++) {
        double xta = q[j] - H[j] - l2 * w[j];
        qw += w[j] * q[j];
        if (fabs(xta) > dual)
          dual = fabs(xta);
        wn2 += w[j] * w[j];
        l1n += fabs(w[j]);
      }
      {
        double wH = 0;
        for (j = 0; j < p; j++)
          wH += w[j] * H[j];
        rn2 = yy + wH - 2 * qw;
      }
      if (dual > l1) {
        c = l1 / dual;
        gap = 0.5 * (rn2 + rn2 * c * c);
      } else {
        c = 1.0;
        gap = rn2;
      }
      gap += l1 * l1n - c * yy + c * qw + 0.5 * l2 * (1 + c * c) * wn2;
      res->gap = gap;
      if (gap < gtol) {
        res->converged = 1;
        break;
      }
    }
  }
}

/* Statistics of (X, y, w) summed over red, with Q mirrored to full. */
static int gram_stats(const enet_params *ep, const clearn_matrix *X,
                      const clearn_matrix *y, const clearn_matrix *w,
                      const clearn__reducer *red, clearn__linstats *s) {
  int64_t p = X->cols, i, j;
  int rc = clearn__linstats_compute(X, y, w, ep->fit_intercept, red, s);
  if (rc != CLEARN_OK)
    return rc;
  for (i = 0; i < p; i++)
    for (j = 0; j < i; j++)
      s->G[i * p + j] = s->G[j * p + i];
  return CLEARN_OK;
}

static int enet_fit_from(const void *params, const void *prev,
                         const clearn_matrix *X, const clearn_matrix *y,
                         const clearn_matrix *w, const clearn__reducer *red,
                         void **model) {
  const enet_params *ep = params;
  const enet_model *pm = prev;
  clearn__linstats s;
  enet_model *m = NULL;
  clearn__rng rng;
  int64_t p = X->cols, t = y->cols, k, j;
  double *q = NULL, *H = NULL, worst_gap = 0, worst_tol = 0;
  int rc, all_conv = 1;
  if ((rc = gram_stats(ep, X, y, w, red, &s)) != CLEARN_OK)
    return rc;
  clearn__rng_seed(&rng, (uint64_t)ep->random_state);
  if ((rc = enet_model_alloc(p, t, &m)) != CLEARN_OK)
    goto cleanup;
  q = clearn__malloc((size_t)(p ? p : 1), sizeof(double));
  H = clearn__malloc((size_t)(p ? p : 1), sizeof(double));
  if (q == NULL || H == NULL) {
    rc = clearn__err(CLEARN_ENOMEM, "out of memory");
    goto cleanup;
  }
  for (k = 0; k < t; k++) {
    double *b = m->lm->coef + k * p, c;
    cd_result res;
    for (j = 0; j < p; j++)
      q[j] = s.b[j * t + k];
    if (ep->warm_start && pm && pm->lm->n_features == p &&
        pm->lm->n_targets == t)
      memcpy(b, pm->lm->coef + k * p, (size_t)p * sizeof(double));
    cd_gram(p, s.G, q, s.yy[k], ep->alpha * ep->l1_ratio * s.sw,
            ep->alpha * (1.0 - ep->l1_ratio) * s.sw, ep->tol, ep->max_iter,
            ep->selection == 1, &rng, b, H, &res);
    /* scikit-learn reports the gap of the objective divided by n. */
    m->dual_gap[k] = res.gap / s.sw;
    if (res.n_iter > m->n_iter)
      m->n_iter = res.n_iter;
    if (!res.converged) {
      all_conv = 0;
      worst_gap = res.gap / s.sw;
      worst_tol = res.gap_tol / s.sw;
    }
    c = s.ymean[k];
    for (j = 0; j < p; j++)
      c -= s.xmean[j] * b[j];
    m->lm->intercept[k] = ep->fit_intercept ? c : 0.0;
  }
  *model = m;
  m = NULL;
  if (!all_conv)
    rc = clearn__err(CLEARN_ENOTCONVERGED,
                     "%s: coordinate descent did not converge in max_iter = "
                     "%lld sweeps (duality gap %.3g > tolerance %.3g); the "
                     "model is usable; raise max_iter or tol, or scale the "
                     "features",
                     ep->who, (long long)ep->max_iter, worst_gap, worst_tol);
cleanup:
  enet_model_free(m);
  free(q);
  free(H);
  clearn__linstats_free(&s);
  return rc;
}

/* Path over k alphas (descending, each warm-started from the previous) on
 * one Gram matrix; alphas NULL: scikit-learn's grid of k values from
 * alpha_max (all coefficients zero) down to 1e-3 alpha_max.  One target.
 * coefs k x p and intercepts k are written; *last is the model at the last
 * alpha; alphas_out (k) receives the alphas used.  ENOTCONVERGED if any
 * alpha did not converge (all are still computed). */
static int enet_path(const void *params, const clearn_matrix *X,
                     const clearn_matrix *y, const clearn_matrix *w,
                     const double *alphas, int64_t k,
                     const clearn__reducer *red, double *alphas_out,
                     double *coefs, double *intercepts, void **last) {
  const enet_params *ep = params;
  const char *who = ep->who;
  clearn__linstats s;
  enet_model *m = NULL;
  clearn__rng rng;
  int64_t p = X->cols, a, j;
  double *H = NULL, *b = NULL, amax = 0;
  int rc, bad = -1;
  if (y->cols != 1)
    return clearn__reduce_sum(
        red, NULL, 0,
        clearn__err(CLEARN_ESHAPE, "%s: path: y has %lld targets, need 1", who,
                    (long long)y->cols));
  if (alphas == NULL && ep->l1_ratio == 0)
    return clearn__reduce_sum(
        red, NULL, 0,
        clearn__err(CLEARN_EPARAM,
                    "%s: path: the automatic alpha grid needs "
                    "l1_ratio > 0; pass the alphas",
                    who));
  if ((rc = gram_stats(ep, X, y, w, red, &s)) != CLEARN_OK)
    return rc;
  clearn__rng_seed(&rng, (uint64_t)ep->random_state);
  H = clearn__malloc((size_t)(p ? p : 1), sizeof(double));
  b = clearn__calloc((size_t)(p ? p : 1), sizeof(double));
  if (H == NULL || b == NULL) {
    rc = clearn__err(CLEARN_ENOMEM, "out of memory");
    goto cleanup;
  }
  for (j = 0; j < p; j++)
    amax = fmax(amax, fabs(s.b[j]));
  amax /= s.sw * (ep->l1_ratio > 0 ? ep->l1_ratio : 1.0);
  for (a = 0; a < k; a++) {
    double al, c;
    cd_result res;
    if (alphas)
      al = alphas[a];
    else if (k == 1)
      al = amax;
    else /* numpy's logspace(log10(amax * 1e-3), log10(amax), k)[::-1] */
      al = pow(10.0, log10(amax) - 3.0 * (double)a / (double)(k - 1));
    alphas_out[a] = al;
    cd_gram(p, s.G, s.b, s.yy[0], al * ep->l1_ratio * s.sw,
            al * (1.0 - ep->l1_ratio) * s.sw, ep->tol, ep->max_iter,
            ep->selection == 1, &rng, b, H, &res);
    if (!res.converged && bad < 0)
      bad = (int)a;
    memcpy(coefs + a * p, b, (size_t)p * sizeof(double));
    c = s.ymean[0];
    for (j = 0; j < p; j++)
      c -= s.xmean[j] * b[j];
    intercepts[a] = ep->fit_intercept ? c : 0.0;
    if (a == k - 1) {
      if ((rc = enet_model_alloc(p, 1, &m)) != CLEARN_OK)
        goto cleanup;
      memcpy(m->lm->coef, b, (size_t)p * sizeof(double));
      m->lm->intercept[0] = intercepts[a];
      m->n_iter = res.n_iter;
      m->dual_gap[0] = res.gap / s.sw;
    }
  }
  *last = m;
  m = NULL;
  if (bad >= 0)
    rc = clearn__err(CLEARN_ENOTCONVERGED,
                     "%s: path: coordinate descent did not converge in "
                     "max_iter = %lld sweeps at alpha = %g (index %d); the "
                     "coefficients are returned",
                     who, (long long)ep->max_iter, alphas_out[bad], bad);
cleanup:
  enet_model_free(m);
  free(H);
  free(b);
  clearn__linstats_free(&s);
  return rc;
}

/* Wrappers: the kind's name, and l1_ratio = 1 for lasso. */
static enet_params as_kind(const void *params, int lasso) {
  enet_params ep = *(const enet_params *)params;
  ep.who = lasso ? "lasso" : "elastic_net";
  if (lasso)
    ep.l1_ratio = 1.0;
  return ep;
}

static int enet_fit_from_k(const void *params, const void *prev,
                           const clearn_matrix *X, const clearn_matrix *y,
                           const clearn_matrix *w, const clearn__reducer *red,
                           void **model) {
  enet_params ep = as_kind(params, 0);
  return enet_fit_from(&ep, prev, X, y, w, red, model);
}

static int lasso_fit_from(const void *params, const void *prev,
                          const clearn_matrix *X, const clearn_matrix *y,
                          const clearn_matrix *w, const clearn__reducer *red,
                          void **model) {
  enet_params ep = as_kind(params, 1);
  return enet_fit_from(&ep, prev, X, y, w, red, model);
}

static int enet_fit(const void *params, const clearn_matrix *X,
                    const clearn_matrix *y, const clearn_matrix *w,
                    const clearn__reducer *red, void **model) {
  return enet_fit_from_k(params, NULL, X, y, w, red, model);
}

static int lasso_fit(const void *params, const clearn_matrix *X,
                     const clearn_matrix *y, const clearn_matrix *w,
                     const clearn__reducer *red, void **model) {
  return lasso_fit_from(params, NULL, X, y, w, red, model);
}

static int enet_path_k(const void *params, const clearn_matrix *X,
                       const clearn_matrix *y, const clearn_matrix *w,
                       const double *alphas, int64_t k,
                       const clearn__reducer *red, double *alphas_out,
                       double *coefs, double *intercepts, void **last) {
  enet_params ep = as_kind(params, 0);
  return enet_path(&ep, X, y, w, alphas, k, red, alphas_out, coefs, intercepts,
                   last);
}

static int lasso_path(const void *params, const clearn_matrix *X,
                      const clearn_matrix *y, const clearn_matrix *w,
                      const double *alphas, int64_t k,
                      const clearn__reducer *red, double *alphas_out,
                      double *coefs, double *intercepts, void **last) {
  enet_params ep = as_kind(params, 1);
  return enet_path(&ep, X, y, w, alphas, k, red, alphas_out, coefs, intercepts,
                   last);
}

static int enet_predict(const void *params, const void *model,
                        const clearn_matrix *X, clearn_matrix **out) {
  return clearn__linmodel_predict(params, ((const enet_model *)model)->lm, X,
                                  out);
}

static int64_t enet_n_features(const void *model) {
  return ((const enet_model *)model)->lm->n_features;
}

static int enet_get_attr(const void *model, const char *name,
                         clearn_matrix **out) {
  const enet_model *m = model;
  int rc;
  if (strcmp(name, "n_iter") == 0) {
    if ((rc = clearn_matrix_create(1, 1, CLEARN_INT64, out)) == CLEARN_OK)
      *(int64_t *)(*out)->data = m->n_iter;
    return rc;
  }
  if (strcmp(name, "dual_gap") == 0) {
    if ((rc = clearn_matrix_create(1, m->lm->n_targets, CLEARN_FLOAT64, out)) ==
        CLEARN_OK)
      memcpy((*out)->data, m->dual_gap,
             (size_t)m->lm->n_targets * sizeof(double));
    return rc;
  }
  return clearn__linmodel_get_attr(m->lm, name, out);
}

static int enet_save(const void *model, hid_t g) {
  const enet_model *m = model;
  int rc = clearn__linmodel_save(m->lm, g);
  if (rc == CLEARN_OK)
    rc = clearn__h5_attr_write_i64(g, "n_iter", m->n_iter);
  if (rc == CLEARN_OK)
    rc = clearn__h5_write(g, "dual_gap", m->dual_gap, 1, m->lm->n_targets,
                          CLEARN_FLOAT64);
  return rc;
}

static int enet_load(hid_t g, void **model) {
  enet_model *m = calloc(1, sizeof *m);
  clearn_matrix *gap = NULL;
  void *lm = NULL;
  int rc;
  if (m == NULL)
    return clearn__err(CLEARN_ENOMEM, "out of memory");
  rc = clearn__linmodel_load(g, &lm);
  m->lm = lm;
  if (rc == CLEARN_OK)
    rc = clearn__h5_attr_read_i64(g, "n_iter", &m->n_iter);
  if (rc == CLEARN_OK)
    rc = clearn__h5_read(g, "dual_gap", CLEARN_FLOAT64, 1, m->lm->n_targets,
                         &gap);
  if (rc == CLEARN_OK) {
    m->dual_gap = gap->data; /* adopt the owned buffer */
    gap->data = NULL;
  }
  clearn_matrix_free(gap);
  if (rc != CLEARN_OK) {
    enet_model_free(m);
    return rc;
  }
  *model = m;
  return CLEARN_OK;
}

const clearn__estimator_type clearn__elastic_net_type = {
    "elastic_net",
    "linear regression with combined L1 and L2 penalties (coordinate "
    "descent)",
    enet_param_specs,
    N_ENET_PARAMS,
    sizeof(enet_params),
    enet_attrs,
    (int)(sizeof enet_attrs / sizeof enet_attrs[0]),
    NULL,
    enet_fit,
    enet_predict,
    enet_n_features,
    enet_get_attr,
    enet_save,
    enet_load,
    enet_model_free,
    NULL, /* not a recommender */
};

const clearn__estimator_type clearn__lasso_type = {
    "lasso",
    "linear regression with an L1 penalty (coordinate descent)",
    enet_param_specs,
    N_ENET_PARAMS - 1, /* all but l1_ratio */
    sizeof(enet_params),
    enet_attrs,
    (int)(sizeof enet_attrs / sizeof enet_attrs[0]),
    NULL,
    lasso_fit,
    enet_predict,
    enet_n_features,
    enet_get_attr,
    enet_save,
    enet_load,
    enet_model_free,
    NULL, /* not a recommender */
};

const clearn__estimator_ext clearn__elastic_net_ext = {
    &clearn__elastic_net_type, 0,           NULL, NULL, 0, NULL, NULL,
    enet_fit_from_k,           enet_path_k,
};

const clearn__estimator_ext clearn__lasso_ext = {
    &clearn__lasso_type, 0,          NULL, NULL, 0, NULL, NULL,
    lasso_fit_from,      lasso_path,
};
