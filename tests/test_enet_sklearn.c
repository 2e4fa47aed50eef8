/*
 * test_enet_sklearn.c -- lasso, elastic_net, their regularization path,
 * standard_scaler and the metrics against scikit-learn 1.2.
 *
 * Usage: test_enet_sklearn SCRIPT PYTHON   (tests/enet_ref.py)
 *
 * Problems generated here are fitted by scikit-learn (Lasso / ElasticNet
 * at tol = 1e-12, enet_path, StandardScaler, the metric functions) in one
 * run of SCRIPT, then by clearn.  Checks:
 *   coef, intercept, predictions, path coefficients: max |a - b| <= 1e-6 *
 *     max(max |b|, 1) (the issue asks 1e-5);
 *   path alphas, scaler mean / scale / var / transform, metrics: 1e-12
 *     relative.
 * Then the error and status cases: bad parameters, NaN, non-convergence
 * (CLEARN_ENOTCONVERGED with the model installed), warm start (a refit
 * from the solution takes one sweep), path on another kind, metrics on
 * bad shapes or one class, transform before fit, save/load round trips.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <clearn/clearn.h>

#include "testutil.h"

#define MAXP 24
#define RTOL 1e-6

typedef struct {
  char name[40];
  const char *kind;
  int64_t n, p, t;
  int fi;
  double alpha, l1;
  double *X, *y, *w, *s, *r, *q;
} problem;

static problem probs[MAXP];
static int n_probs;
static char tmpdir[512];

static problem *add(const char *name, const char *kind, int64_t n, int64_t p,
                    int64_t t, int fi, int weighted, double alpha, double l1) {
  problem *q = &probs[n_probs++];
  memset(q, 0, sizeof *q);
  snprintf(q->name, sizeof q->name, "%s", name);
  q->kind = kind;
  q->n = n, q->p = p, q->t = t, q->fi = fi, q->alpha = alpha, q->l1 = l1;
  q->X = calloc((size_t)(n * p), sizeof(double));
  q->y = calloc((size_t)(n * t), sizeof(double));
  if (weighted)
    q->w = calloc((size_t)n, sizeof(double));
  return q;
}

/* Sparse planted coefficients (every third nonzero), columns with means
 * and scales, noise; weights with some zeros. */
static void regression(tu_rng *r, problem *q, double noise) {
  int64_t i, j, k;
  for (i = 0; i < q->n; i++) {
    for (j = 0; j < q->p; j++)
      q->X[i * q->p + j] =
          2.0 * (double)j - 3.0 + (0.5 + 0.2 * (double)j) * tu_normal(r);
    for (k = 0; k < q->t; k++) {
      double v = 1.5 + (double)k + noise * tu_normal(r);
      for (j = 0; j < q->p; j += 3)
        v += (1.0 + (double)k - 0.5 * (double)j) * q->X[i * q->p + j];
      q->y[i * q->t + k] = v;
    }
    if (q->w)
      q->w[i] = tu_uniform(r) < 0.1 ? 0.0 : 0.3 + 1.5 * tu_uniform(r);
  }
}

static void build(void) {
  tu_rng r = {424242ULL};
  problem *q;
  int64_t i, j;
  q = add("lasso_basic", "lasso", 200, 8, 1, 1, 0, 0.1, 1.0);
  regression(&r, q, 0.5);
  q = add("lasso_strong", "lasso", 200, 8, 1, 1, 0, 3.0, 1.0);
  regression(&r, q, 0.5);
  q = add("lasso_weights_noicpt", "lasso", 150, 6, 1, 0, 1, 0.05, 1.0);
  regression(&r, q, 0.5);
  q = add("lasso_wide", "lasso", 30, 50, 1, 1, 0, 0.2, 1.0);
  regression(&r, q, 0.1);
  q = add("lasso_allzero", "lasso", 100, 5, 1, 1, 0, 1e4, 1.0);
  regression(&r, q, 0.5);
  q = add("enet_basic", "elastic_net", 200, 8, 1, 1, 0, 0.1, 0.5);
  regression(&r, q, 0.5);
  q = add("enet_weights", "elastic_net", 200, 8, 1, 1, 1, 0.3, 0.2);
  regression(&r, q, 0.5);
  q = add("enet_multi", "elastic_net", 200, 6, 3, 1, 0, 0.05, 0.7);
  regression(&r, q, 0.5);
  q = add("enet_collinear", "elastic_net", 200, 7, 1, 1, 0, 0.1, 0.5);
  regression(&r, q, 0.5);
  for (i = 0; i < q->n; i++) /* exact copies and a sum of columns */
    q->X[i * 7 + 6] = q->X[i * 7 + 0],
                 q->X[i * 7 + 5] = q->X[i * 7 + 1] + q->X[i * 7 + 2];
  q = add("enet_l1small", "elastic_net", 120, 5, 1, 1, 0, 0.5, 0.05);
  regression(&r, q, 0.5);
  q = add("path_lasso", "path", 200, 8, 1, 1, 0, 12, 1.0);
  regression(&r, q, 0.5);
  q = add("path_enet", "path", 200, 8, 1, 1, 0, 9, 0.4);
  regression(&r, q, 0.5);
  q = add("scaler", "scaler", 300, 5, 1, 1, 0, 0, 0);
  regression(&r, q, 0.5);
  for (i = 0; i < q->n; i++) { /* a big mean, and a constant column */
    q->X[i * 5 + 3] = 1e6 + q->X[i * 5 + 3];
    q->X[i * 5 + 4] = 7.25;
  }
  q = add("scaler_weights", "scaler", 300, 4, 1, 1, 1, 0, 0);
  regression(&r, q, 0.5);
  /* Metrics: 4 classes with probabilities, scores with ties, regression
   * pairs; unweighted and weighted. */
  for (j = 0; j < 3; j++) {
    int64_t K = j == 2 ? 1 : 4, k;
    q = add(j == 0   ? "metrics"
            : j == 1 ? "metrics_weights"
                     : "metrics_binary",
            "metrics", 240, K, 1, 1, j >= 1, 0, 0);
    q->s = calloc((size_t)q->n, sizeof(double));
    q->r = calloc((size_t)q->n * 2, sizeof(double));
    q->q = calloc((size_t)q->n * 2, sizeof(double));
    for (i = 0; i < q->n; i++) {
      double sum = 0;
      int lab = (int)(tu_uniform(&r) * (K == 1 ? 2 : 4));
      q->y[i] = K == 1 ? (lab ? 5.0 : -2.0) : (double)(lab * 3 - 4);
      for (k = 0; k < K; k++) {
        q->X[i * K + k] = tu_uniform(&r) + (k == lab ? 0.8 : 0.0);
        sum += q->X[i * K + k];
      }
      if (K > 1)
        for (k = 0; k < K; k++)
          q->X[i * K + k] /= sum;
      else
        q->X[i] = fmin(fmax(q->X[i] / 1.8 + (lab ? 0.1 : -0.1), 0.0), 1.0);
      /* Scores on a coarse grid, so many tie. */
      q->s[i] = floor(8.0 * (tu_uniform(&r) + 0.5 * (lab == (K == 1 ? 1 : 3))));
      q->r[2 * i] = tu_normal(&r), q->r[2 * i + 1] = 10 + 3 * tu_normal(&r);
      q->q[2 * i] = q->r[2 * i] + 0.3 * tu_normal(&r);
      q->q[2 * i + 1] = q->r[2 * i + 1] + tu_normal(&r);
      if (q->w)
        q->w[i] = tu_uniform(&r) < 0.1 ? 0.0 : 0.2 + tu_uniform(&r);
    }
    if (K == 1)
      q->X[0] = 1.0, q->X[1] = 0.0; /* clipping at both ends */
  }
}

static int write_raw(const char *name, const char *ext, const double *a,
                     int64_t count) {
  char path[700];
  FILE *f;
  int ok;
  if (snprintf(path, sizeof path, "%s/%s%s", tmpdir, name, ext) >=
          (int)sizeof path ||
      (f = fopen(path, "wb")) == NULL)
    return 0;
  ok = fwrite(a, sizeof(double), (size_t)count, f) == (size_t)count;
  return fclose(f) == 0 && ok;
}

static double *read_raw(const char *name, const char *ext, int64_t count) {
  char path[700];
  FILE *f;
  double *a = malloc((size_t)(count > 0 ? count : 1) * sizeof(double));
  long size;
  if (snprintf(path, sizeof path, "%s/%s%s", tmpdir, name, ext) >=
          (int)sizeof path ||
      (f = fopen(path, "rb")) == NULL) {
    fprintf(stderr, "cannot read %s%s\n", name, ext);
    free(a);
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  if (size != (long)(count * 8) ||
      fread(a, sizeof(double), (size_t)count, f) != (size_t)count) {
    fprintf(stderr, "%s%s: expected %lld values\n", name, ext,
            (long long)count);
    free(a);
    a = NULL;
  }
  fclose(f);
  return a;
}

/* max |a - b| */
static double absdiff(const double *a, const double *b, int64_t n) {
  double m = 0;
  int64_t i;
  for (i = 0; i < n; i++)
    m = fmax(m, fabs(a[i] - b[i]));
  return m;
}

/* max |a - b| / max(max |b|, 1) */
static double relnorm(const double *a, const double *b, int64_t n) {
  double m = 0, s = 1;
  int64_t i;
  for (i = 0; i < n; i++) {
    m = fmax(m, fabs(a[i] - b[i]));
    s = fmax(s, fabs(b[i]));
  }
  return m / s;
}

static clearn_matrix *wrap(const double *d, int64_t r, int64_t c) {
  clearn_matrix *m = NULL;
  if (d)
    clearn_matrix_wrap(d, r, c, CLEARN_FLOAT64, &m);
  return m;
}

static const double *data(const clearn_matrix *m) {
  return m ? clearn_matrix_data(m) : NULL;
}

static void check_fit(const problem *q) {
  clearn_estimator *e = NULL;
  clearn_matrix *X = wrap(q->X, q->n, q->p), *y = wrap(q->y, q->n, q->t),
                *w = wrap(q->w, q->n, 1), *coef = NULL, *icpt = NULL,
                *pred = NULL;
  double *rc = read_raw(q->name, ".coef", q->t * q->p),
         *ri = read_raw(q->name, ".intercept", q->t),
         *rp = read_raw(q->name, ".pred", q->n * q->t), dc = -1, di = -1,
         dp = -1;
  CHECK_OK(clearn_estimator_create(q->kind, &e));
  CHECK_OK(clearn_estimator_set_param_double(e, "alpha", q->alpha));
  if (strcmp(q->kind, "elastic_net") == 0)
    CHECK_OK(clearn_estimator_set_param_double(e, "l1_ratio", q->l1));
  CHECK_OK(clearn_estimator_set_param_int(e, "fit_intercept", q->fi));
  CHECK_OK(clearn_estimator_set_param_double(e, "tol", 1e-12));
  CHECK_OK(clearn_estimator_set_param_int(e, "max_iter", 1000000));
  CHECK_OK(clearn_estimator_fit(e, X, y, w));
  CHECK_OK(clearn_estimator_get_attr(e, "coef", &coef));
  CHECK_OK(clearn_estimator_get_attr(e, "intercept", &icpt));
  CHECK_OK(clearn_estimator_predict(e, X, &pred));
  if (rc && ri && rp && coef && icpt && pred) {
    dc = relnorm(data(coef), rc, q->t * q->p);
    di = relnorm(data(icpt), ri, q->t);
    dp = relnorm(data(pred), rp, q->n * q->t);
  }
  printf("%-22s coef %.1e  intercept %.1e  pred %.1e\n", q->name, dc, di, dp);
  CHECK(dc >= 0 && dc <= RTOL, "%s: coef differs by %.3g", q->name, dc);
  CHECK(di >= 0 && di <= RTOL, "%s: intercept differs by %.3g", q->name, di);
  CHECK(dp >= 0 && dp <= RTOL, "%s: predictions differ by %.3g", q->name, dp);
  free(rc), free(ri), free(rp);
  clearn_matrix_free(coef), clearn_matrix_free(icpt), clearn_matrix_free(pred);
  clearn_matrix_free(X), clearn_matrix_free(y), clearn_matrix_free(w);
  clearn_estimator_free(e);
}

static void check_path(const problem *q) {
  clearn_estimator *e = NULL;
  clearn_matrix *X = wrap(q->X, q->n, q->p), *y = wrap(q->y, q->n, 1),
                *al = NULL, *co = NULL, *ic = NULL, *last = NULL;
  int64_t k = (int64_t)q->alpha;
  double *ra = read_raw(q->name, ".alphas", k),
         *rc = read_raw(q->name, ".coefs", k * q->p), da = -1, dc = -1;
  CHECK_OK(clearn_estimator_create(q->l1 == 1.0 ? "lasso" : "elastic_net", &e));
  if (q->l1 != 1.0)
    CHECK_OK(clearn_estimator_set_param_double(e, "l1_ratio", q->l1));
  CHECK_OK(clearn_estimator_set_param_double(e, "tol", 1e-12));
  CHECK_OK(clearn_estimator_set_param_int(e, "max_iter", 1000000));
  CHECK_OK(clearn_estimator_path(e, X, y, NULL, NULL, k, &al, &co, &ic));
  if (ra && rc && al && co) {
    int64_t i;
    da = 0;
    for (i = 0; i < k; i++)
      da = fmax(da, fabs(data(al)[i] - ra[i]) / ra[i]);
    dc = relnorm(data(co), rc, k * q->p);
  }
  printf("%-22s alphas %.1e  coefs %.1e\n", q->name, da, dc);
  CHECK(da >= 0 && da <= 1e-12, "%s: alphas differ by %.3g", q->name, da);
  CHECK(dc >= 0 && dc <= RTOL, "%s: coefs differ by %.3g", q->name, dc);
  /* The estimator holds the last alpha's model. */
  CHECK_OK(clearn_estimator_get_attr(e, "coef", &last));
  CHECK(last && co &&
            memcmp(data(last), data(co) + (k - 1) * q->p,
                   (size_t)q->p * sizeof(double)) == 0,
        "%s: model of the last alpha installed", q->name);
  free(ra), free(rc);
  clearn_matrix_free(al), clearn_matrix_free(co), clearn_matrix_free(ic),
      clearn_matrix_free(last);
  clearn_matrix_free(X), clearn_matrix_free(y);
  clearn_estimator_free(e);
}

static void check_scaler(const problem *q) {
  clearn_estimator *e = NULL, *l = NULL;
  clearn_matrix *X = wrap(q->X, q->n, q->p), *w = wrap(q->w, q->n, 1),
                *mean = NULL, *scale = NULL, *var = NULL, *Z = NULL,
                *back = NULL, *Z2 = NULL;
  double *rm = read_raw(q->name, ".mean", q->p),
         *rs = read_raw(q->name, ".scale", q->p),
         *rv = read_raw(q->name, ".var", q->p),
         *rz = read_raw(q->name, ".Z", q->n * q->p);
  char path[700];
  CHECK_OK(clearn_estimator_create("standard_scaler", &e));
  CHECK_RC(clearn_estimator_transform(e, X, &Z), CLEARN_ENOTFITTED);
  CHECK_OK(clearn_estimator_fit(e, X, NULL, w));
  CHECK_OK(clearn_estimator_get_attr(e, "mean", &mean));
  CHECK_OK(clearn_estimator_get_attr(e, "scale", &scale));
  CHECK_OK(clearn_estimator_get_attr(e, "var", &var));
  CHECK_OK(clearn_estimator_transform(e, X, &Z));
  CHECK_OK(clearn_estimator_inverse_transform(e, Z, &back));
  if (rm && rs && rv && rz && mean && scale && var && Z && back) {
    double dm = relnorm(data(mean), rm, q->p),
           ds = relnorm(data(scale), rs, q->p),
           dv = relnorm(data(var), rv, q->p),
           dz = absdiff(data(Z), rz, q->n * q->p),
           db = relnorm(data(back), q->X, q->n * q->p);
    printf("%-22s mean %.1e  scale %.1e  var %.1e  Z %.1e  inverse %.1e\n",
           q->name, dm, ds, dv, dz, db);
    CHECK(dm <= 1e-12 && ds <= 1e-12 && dv <= 1e-12, "%s: %g %g %g", q->name,
          dm, ds, dv);
    CHECK(dz <= 1e-9, "%s: transform differs by %.3g", q->name, dz);
    CHECK(db <= 1e-14, "%s: inverse differs by %.3g", q->name, db);
  }
  CHECK_RC(clearn_estimator_predict(e, X, &Z2), CLEARN_EUNSUPPORTED);
  snprintf(path, sizeof path, "%s/scaler.h5", tmpdir);
  CHECK_OK(clearn_estimator_save(e, path));
  CHECK_OK(clearn_estimator_load(path, "standard_scaler", &l));
  if (l)
    CHECK_OK(clearn_estimator_transform(l, X, &Z2));
  CHECK(Z && Z2 && memcmp(data(Z), data(Z2), (size_t)(q->n * q->p) * 8) == 0,
        "%s", "loaded scaler transforms alike");
  remove(path);
  free(rm), free(rs), free(rv), free(rz);
  clearn_matrix_free(mean), clearn_matrix_free(scale), clearn_matrix_free(var),
      clearn_matrix_free(Z), clearn_matrix_free(back), clearn_matrix_free(Z2);
  clearn_matrix_free(X), clearn_matrix_free(w);
  clearn_estimator_free(e), clearn_estimator_free(l);
}

static void check_metrics(const problem *q) {
  int64_t n = q->n, K = q->p, i, k;
  double *pred = malloc((size_t)n * sizeof(double)),
         *yb = malloc((size_t)n * 8);
  double *rm = read_raw(q->name, ".m", 6), m[6] = {-1, -1, -1, -1, -1, -1};
  double labels[4] = {-4, -1, 2, 5}, bl[2] = {-2, 5};
  clearn_matrix *y = wrap(q->y, n, 1), *P = wrap(q->X, n, K),
                *w = wrap(q->w, n, 1), *pr, *s = wrap(q->s, n, 1), *yB,
                *R = wrap(q->r, n, 2), *Q = wrap(q->q, n, 2);
  for (i = 0; i < n; i++) {
    int64_t best = 0;
    for (k = 1; k < K; k++)
      if (q->X[i * K + k] > q->X[i * K + best])
        best = k;
    pred[i] = K == 1 ? bl[q->X[i] > 0.5] : labels[best];
    yb[i] = q->y[i] == (K == 1 ? 5.0 : 5.0);
  }
  pr = wrap(pred, n, 1);
  yB = wrap(yb, n, 1);
  CHECK_OK(clearn_metric_accuracy(y, pr, w, &m[0]));
  CHECK_OK(clearn_metric_log_loss(y, P, w, &m[1]));
  CHECK_OK(clearn_metric_roc_auc(yB, s, w, &m[2]));
  CHECK_OK(clearn_metric_r2(R, Q, w, &m[3]));
  CHECK_OK(clearn_metric_mse(R, Q, w, &m[4]));
  CHECK_OK(clearn_metric_mae(R, Q, w, &m[5]));
  printf("%-22s acc %.6f logloss %.6f auc %.6f r2 %.6f mse %.6f mae %.6f\n",
         q->name, m[0], m[1], m[2], m[3], m[4], m[5]);
  for (k = 0; rm && k < 6; k++)
    CHECK_CLOSE(m[k], rm[k], 1e-12, 0);
  free(pred), free(yb), free(rm);
  clearn_matrix_free(y), clearn_matrix_free(P), clearn_matrix_free(w),
      clearn_matrix_free(pr), clearn_matrix_free(s), clearn_matrix_free(yB),
      clearn_matrix_free(R), clearn_matrix_free(Q);
}

static void error_cases(const problem *q) {
  clearn_estimator *e = NULL, *l = NULL, *r = NULL;
  clearn_matrix *X = wrap(q->X, q->n, q->p), *y = wrap(q->y, q->n, 1), *bad,
                *it = NULL, *c1 = NULL, *c2 = NULL;
  double *Xc = malloc((size_t)(q->n * q->p) * sizeof(double)), v;
  double one[3] = {1, 1, 1}, sc[3] = {0.1, 0.5, 0.9};
  char path[700];
  CHECK_OK(clearn_estimator_create("elastic_net", &e));
  CHECK_RC(clearn_estimator_set_param_double(e, "l1_ratio", 1.5),
           CLEARN_EPARAM);
  CHECK_STR(clearn_last_error(),
            "elastic_net: parameter 'l1_ratio' = 1.5: must be in [0, 1]");
  CHECK_RC(clearn_estimator_set_param_double(e, "alpha", -0.1), CLEARN_EPARAM);
  CHECK_STR(clearn_last_error(),
            "elastic_net: parameter 'alpha' = -0.1: must be >= 0");
  CHECK_RC(clearn_estimator_set_param_string(e, "selection", "greedy"),
           CLEARN_EPARAM);
  CHECK_OK(clearn_estimator_create("lasso", &l));
  CHECK_RC(clearn_estimator_set_param_double(l, "l1_ratio", 0.5),
           CLEARN_EPARAM);

  memcpy(Xc, q->X, (size_t)(q->n * q->p) * sizeof(double));
  Xc[3 * q->p + 1] = INFINITY;
  bad = wrap(Xc, q->n, q->p);
  CHECK_RC(clearn_estimator_fit(e, bad, y, NULL), CLEARN_ENUMERIC);
  CHECK_STR(clearn_last_error(), "elastic_net: X[3, 1] = inf is not finite");
  clearn_matrix_free(bad);

  /* Not converged: status, message, model installed. */
  CHECK_OK(clearn_estimator_set_param_double(e, "alpha", 0.01));
  CHECK_OK(clearn_estimator_set_param_int(e, "max_iter", 2));
  CHECK_OK(clearn_estimator_set_param_double(e, "tol", 1e-14));
  CHECK_RC(clearn_estimator_fit(e, X, y, NULL), CLEARN_ENOTCONVERGED);
  CHECK(strncmp(clearn_last_error(),
                "elastic_net: coordinate descent did not converge in "
                "max_iter = 2 sweeps (duality gap ",
                80) == 0,
        "message: %s", clearn_last_error());
  CHECK(clearn_estimator_is_fitted(e), "%s", "model installed");

  /* Warm start: converge, then refit from the solution: one sweep. */
  CHECK_OK(clearn_estimator_set_param_int(e, "max_iter", 100000));
  CHECK_OK(clearn_estimator_set_param_double(e, "tol", 1e-8));
  CHECK_OK(clearn_estimator_fit(e, X, y, NULL));
  CHECK_OK(clearn_estimator_get_attr(e, "coef", &c1));
  CHECK_OK(clearn_estimator_set_param_int(e, "warm_start", 1));
  CHECK_OK(clearn_estimator_fit(e, X, y, NULL));
  CHECK_OK(clearn_estimator_get_attr(e, "n_iter", &it));
  CHECK(it && *(const int64_t *)clearn_matrix_data(it) == 1,
        "warm start from the solution: %lld sweeps",
        it ? (long long)*(const int64_t *)clearn_matrix_data(it) : -1LL);
  /* Random selection reaches the same solution. */
  CHECK_OK(clearn_estimator_set_param_int(e, "warm_start", 0));
  CHECK_OK(clearn_estimator_set_param_string(e, "selection", "random"));
  CHECK_OK(clearn_estimator_set_param_double(e, "tol", 1e-12));
  CHECK_OK(clearn_estimator_fit(e, X, y, NULL));
  CHECK_OK(clearn_estimator_get_attr(e, "coef", &c2));
  if (c1 && c2) {
    double d = relnorm(data(c2), data(c1), q->p);
    CHECK(d <= 1e-6, "random selection differs by %.3g", d);
  }
  /* Save / load. */
  snprintf(path, sizeof path, "%s/enet.h5", tmpdir);
  CHECK_OK(clearn_estimator_save(e, path));
  clearn_estimator_free(l);
  l = NULL;
  CHECK_OK(clearn_estimator_load(path, "elastic_net", &l));
  clearn_matrix_free(c1);
  c1 = NULL;
  if (l)
    CHECK_OK(clearn_estimator_get_attr(l, "coef", &c1));
  CHECK(c1 && c2 && memcmp(data(c1), data(c2), (size_t)q->p * 8) == 0, "%s",
        "loaded coef");
  remove(path);

  /* A path over given alphas equals separate fits at each alpha. */
  {
    double al[3] = {0.5, 0.05, 0.005}, badal[2] = {0.1, -1};
    clearn_matrix *A = wrap(al, 3, 1), *B = wrap(badal, 2, 1), *co = NULL,
                  *ic = NULL, *one = NULL, *y2 = wrap(q->X, q->n, 2);
    int64_t a;
    CHECK_OK(clearn_estimator_set_param_string(e, "selection", "cyclic"));
    CHECK_OK(clearn_estimator_path(e, X, y, NULL, A, 0, NULL, &co, &ic));
    for (a = 0; a < 3 && co && ic; a++) {
      clearn_estimator *f = NULL;
      CHECK_OK(clearn_estimator_clone(e, &f));
      CHECK_OK(clearn_estimator_set_param_double(f, "alpha", al[a]));
      CHECK_OK(clearn_estimator_fit(f, X, y, NULL));
      CHECK_OK(clearn_estimator_get_attr(f, "coef", &one));
      if (one) {
        double d = relnorm(data(co) + a * q->p, data(one), q->p);
        CHECK(d <= 1e-8, "path at alpha %g differs from a fit by %.3g", al[a],
              d);
      }
      clearn_matrix_free(one);
      one = NULL;
      clearn_estimator_free(f);
    }
    CHECK_RC(clearn_estimator_path(e, X, y, NULL, B, 0, NULL, NULL, NULL),
             CLEARN_EINVAL);
    CHECK_STR(clearn_last_error(),
              "elastic_net: alphas[1] = -1: must be finite and >= 0");
    CHECK_RC(clearn_estimator_path(e, X, y2, NULL, NULL, 5, NULL, NULL, NULL),
             CLEARN_ESHAPE);
    CHECK_STR(clearn_last_error(),
              "elastic_net: path: y has 2 targets, need 1");
    clearn_matrix_free(A), clearn_matrix_free(B), clearn_matrix_free(co),
        clearn_matrix_free(ic), clearn_matrix_free(y2);
  }

  /* Path on another kind; metric errors. */
  CHECK_OK(clearn_estimator_create("ridge", &r));
  CHECK_RC(clearn_estimator_path(r, X, y, NULL, NULL, 5, NULL, NULL, NULL),
           CLEARN_EUNSUPPORTED);
  CHECK_STR(clearn_last_error(), "ridge: a regularization path is not offered "
                                 "by this estimator (lasso and elastic_net "
                                 "offer one)");
  bad = wrap(one, 3, 1);
  {
    clearn_matrix *s3 = wrap(sc, 3, 1), *s2 = wrap(sc, 2, 1);
    CHECK_RC(clearn_metric_roc_auc(bad, s3, NULL, &v), CLEARN_EINVAL);
    CHECK_STR(clearn_last_error(), "roc_auc: Only one class present in "
                                   "y_true. ROC AUC score is not defined in "
                                   "that case.");
    CHECK_RC(clearn_metric_mse(bad, s2, NULL, &v), CLEARN_ESHAPE);
    CHECK_STR(clearn_last_error(), "mse: y_pred has 2 rows, expected 3");
    CHECK_RC(clearn_metric_log_loss(bad, s3, NULL, &v), CLEARN_ESHAPE);
    clearn_matrix_free(s3), clearn_matrix_free(s2);
  }
  clearn_matrix_free(bad);
  clearn_matrix_free(X), clearn_matrix_free(y), clearn_matrix_free(it),
      clearn_matrix_free(c1), clearn_matrix_free(c2);
  clearn_estimator_free(e), clearn_estimator_free(l), clearn_estimator_free(r);
  free(Xc);
}

int main(int argc, char **argv) {
  const char *script = argc > 1 ? argv[1] : "",
             *python = argc > 2 ? argv[2] : "";
  char cmd[1600], path[700];
  FILE *f;
  int i, status;
  if (!*python || access(python, X_OK) != 0)
    TEST_SKIP("no Python at '%s': scikit-learn parity not checked", python);
  build();
  snprintf(tmpdir, sizeof tmpdir, "%s/clearn-enet-XXXXXX",
           getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (mkdtemp(tmpdir) == NULL) {
    fprintf(stderr, "FAIL: mkdtemp: %s\n", strerror(errno));
    return 1;
  }
  snprintf(path, sizeof path, "%s/manifest.txt", tmpdir);
  if ((f = fopen(path, "w")) == NULL)
    return 1;
  for (i = 0; i < n_probs; i++) {
    problem *q = &probs[i];
    fprintf(f, "%s %s %lld %lld %lld %d %d %.17g %.17g\n", q->name, q->kind,
            (long long)q->n, (long long)q->p, (long long)q->t, q->fi,
            q->w != NULL, q->alpha, q->l1);
    if (!write_raw(q->name, ".X", q->X, q->n * q->p) ||
        !write_raw(q->name, ".y", q->y, q->n * q->t) ||
        (q->w && !write_raw(q->name, ".w", q->w, q->n)) ||
        (q->s && !write_raw(q->name, ".s", q->s, q->n)) ||
        (q->r && !write_raw(q->name, ".r", q->r, 2 * q->n)) ||
        (q->q && !write_raw(q->name, ".q", q->q, 2 * q->n))) {
      fprintf(stderr, "FAIL: cannot write into %s\n", tmpdir);
      return 1;
    }
  }
  fclose(f);
  snprintf(cmd, sizeof cmd, "'%s' '%s' '%s'", python, script, tmpdir);
  fflush(stdout);
  status = system(cmd);
  if (status == -1 || !WIFEXITED(status))
    return 1;
  if (WEXITSTATUS(status) == 77)
    TEST_SKIP("%s cannot import scikit-learn", python);
  if (WEXITSTATUS(status) != 0) {
    fprintf(stderr, "FAIL: %s exited with %d\n", cmd, WEXITSTATUS(status));
    return 1;
  }
  for (i = 0; i < n_probs; i++) {
    const problem *q = &probs[i];
    if (strcmp(q->kind, "path") == 0)
      check_path(q);
    else if (strcmp(q->kind, "scaler") == 0)
      check_scaler(q);
    else if (strcmp(q->kind, "metrics") == 0)
      check_metrics(q);
    else
      check_fit(q);
  }
  error_cases(&probs[0]);
  if (tu_failures == 0) {
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
      fprintf(stderr, "could not remove %s\n", tmpdir);
  } else {
    fprintf(stderr, "problems kept in %s\n", tmpdir);
  }
  for (i = 0; i < n_probs; i++)
    free(probs[i].X), free(probs[i].y), free(probs[i].w), free(probs[i].s),
        free(probs[i].r), free(probs[i].q);
  return TEST_SUMMARY();
}
