/*
 * test_logistic_sklearn.c -- logistic_regression against scikit-learn 1.2.
 *
 * Usage: test_logistic_sklearn SCRIPT PYTHON   (tests/logistic_ref.py)
 *
 * Generated problems (binary and multinomial, separable and not,
 * imbalanced with class_weight="balanced", sample weights, collinear
 * columns, arbitrary int64 labels, with and without intercept) are written
 * into a temporary directory; SCRIPT fits scikit-learn's
 * LogisticRegression(solver="newton-cg", tol=1e-8) on each, and clearn
 * fits them with both of its solvers (lbfgs, tron) at tol = 1e-10.  Checks:
 *   coef, intercept: max |a - b| <= 1e-5 * max(max |b|, 1) per problem
 *     (norm-wise relative, as coefficients near 0 carry the absolute error
 *     of the large ones);
 *   probabilities, decision values: |a - b| <= 1e-6 (absolute; 1e-6
 *     relative to the decision values' scale);
 *   classes, predicted labels and accuracy: equal (a row whose margin is
 *     within 1e-7 of a tie may differ and is not counted).
 * Then the error cases: bad parameters, NaN in X, one class only, a label
 * that is not an integer, a 2-column y, wrong feature count, calls the
 * kind does not offer, non-convergence (CLEARN_ENOTCONVERGED with the model
 * installed), and a save/load round trip.
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

typedef struct {
  char name[40];
  int64_t n, p;
  int fit_intercept, weighted, balanced;
  double C;
  double *X, *y, *w;
} problem;

static problem probs[MAXP];
static int n_probs;
static char tmpdir[512];

static problem *add(const char *name, int64_t n, int64_t p, int fi, int wt,
                    int bal, double C) {
  problem *q = &probs[n_probs++];
  snprintf(q->name, sizeof q->name, "%s", name);
  q->n = n;
  q->p = p;
  q->fit_intercept = fi;
  q->weighted = wt;
  q->balanced = bal;
  q->C = C;
  q->X = calloc((size_t)(n * p), sizeof(double));
  q->y = calloc((size_t)n, sizeof(double));
  q->w = wt ? calloc((size_t)n, sizeof(double)) : NULL;
  return q;
}

/* Labels from a planted linear model: class = argmax over K planted scores
 * plus Gumbel-like noise (noise = 0: separable).  labels[k] names class k;
 * prior[k] shifts the class frequencies. */
static void plant(tu_rng *r, problem *q, int K, const double *labels,
                  const double *prior, double noise, double scale) {
  int64_t i, j, k;
  double B[8 * 32];
  for (k = 0; k < K * q->p; k++)
    B[k] = scale * tu_normal(r);
  for (i = 0; i < q->n; i++) {
    double best = -1e300;
    int arg = 0;
    for (j = 0; j < q->p; j++)
      q->X[i * q->p + j] = (1.0 + 0.3 * (double)j) * tu_normal(r) + 0.5;
    for (k = 0; k < K; k++) {
      double s = prior[k];
      for (j = 0; j < q->p; j++)
        s += B[k * q->p + j] * q->X[i * q->p + j];
      if (noise > 0)
        s -= noise * log(-log(tu_uniform(r)));
      if (s > best)
        best = s, arg = (int)k;
    }
    q->y[i] = labels[arg];
    if (q->w)
      q->w[i] = tu_uniform(r) < 0.1 ? 0.0 : 0.2 + 2.0 * tu_uniform(r);
  }
}

static void build(void) {
  tu_rng r = {20261121ULL};
  static const double l01[] = {0, 1}, lodd[] = {-7, 42}, l3[] = {1, 5, 9},
                      l4[] = {-3, 0, 2, 1000000000000LL},
                      big[] = {-9007199254740992.0, 4503599627370496.0};
  static const double flat[] = {0, 0, 0, 0}, skew[] = {0, -3.5},
                      skew4[] = {1.5, 0, -1, -2.5};
  problem *q;
  q = add("bin_basic", 300, 5, 1, 0, 0, 1.0);
  plant(&r, q, 2, l01, flat, 1.0, 1.0);
  q = add("bin_labels_noicpt", 250, 4, 0, 0, 0, 0.1);
  plant(&r, q, 2, lodd, flat, 1.0, 1.0);
  q = add("bin_separable", 200, 3, 1, 0, 0, 10.0);
  plant(&r, q, 2, l01, flat, 0.0, 2.0);
  q = add("bin_imbalanced_balanced", 400, 6, 1, 0, 1, 1.0);
  plant(&r, q, 2, lodd, skew, 1.0, 1.0);
  q = add("bin_weights", 300, 5, 1, 1, 0, 0.5);
  plant(&r, q, 2, big, flat, 1.0, 1.0);
  q = add("bin_collinear", 300, 6, 1, 0, 0, 1.0);
  plant(&r, q, 2, l01, flat, 1.0, 1.0);
  {
    int64_t i;
    for (i = 0; i < q->n; i++) /* x5 = x0 + 2 x1; x4 = x3 */
      q->X[i * 6 + 5] = q->X[i * 6] + 2 * q->X[i * 6 + 1],
                   q->X[i * 6 + 4] = q->X[i * 6 + 3];
  }
  q = add("multi3", 300, 5, 1, 0, 0, 1.0);
  plant(&r, q, 3, l3, flat, 1.0, 1.0);
  q = add("multi3_noicpt_C100", 300, 4, 0, 0, 0, 100.0);
  plant(&r, q, 3, l3, flat, 1.0, 1.0);
  q = add("multi4_balanced_weights", 500, 6, 1, 1, 1, 2.0);
  plant(&r, q, 4, l4, skew4, 1.0, 1.0);
  q = add("multi3_separable", 240, 3, 1, 0, 0, 5.0);
  plant(&r, q, 3, l3, flat, 0.0, 2.0);
  q = add("multi4_collinear", 300, 5, 1, 0, 0, 1.0);
  plant(&r, q, 4, l4, flat, 1.0, 1.0);
  {
    int64_t i;
    for (i = 0; i < q->n; i++)
      q->X[i * 5 + 4] = q->X[i * 5] - q->X[i * 5 + 2];
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
    free(a);
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  if (size != (long)(count * 8) ||
      fread(a, sizeof(double), (size_t)count, f) != (size_t)count) {
    fprintf(stderr, "%s: expected %lld values\n", path, (long long)count);
    free(a);
    a = NULL;
  }
  fclose(f);
  return a;
}

static double maxabs(const double *a, int64_t n) {
  double m = 0;
  int64_t i;
  for (i = 0; i < n; i++)
    m = fabs(a[i]) > m ? fabs(a[i]) : m;
  return m;
}

static double maxdiff(const double *a, const double *b, int64_t n) {
  double m = 0;
  int64_t i;
  for (i = 0; i < n; i++)
    m = fabs(a[i] - b[i]) > m ? fabs(a[i] - b[i]) : m;
  return m;
}

static clearn_estimator *make(const problem *q, const char *solver,
                              double tol) {
  clearn_estimator *e = NULL;
  CHECK_OK(clearn_estimator_create("logistic_regression", &e));
  CHECK_OK(clearn_estimator_set_param_double(e, "C", q->C));
  CHECK_OK(
      clearn_estimator_set_param_int(e, "fit_intercept", q->fit_intercept));
  CHECK_OK(clearn_estimator_set_param_string(e, "solver", solver));
  CHECK_OK(clearn_estimator_set_param_string(
      e, "class_weight", q->balanced ? "balanced" : "none"));
  CHECK_OK(clearn_estimator_set_param_double(e, "tol", tol));
  CHECK_OK(clearn_estimator_set_param_int(e, "max_iter", 10000));
  return e;
}

static void compare(const problem *q, const char *solver) {
  clearn_matrix *X, *y, *w = NULL, *coef = NULL, *icpt = NULL, *cls = NULL,
                        *proba = NULL, *dec = NULL, *pred = NULL, *it = NULL;
  clearn_estimator *e = make(q, solver, 1e-10);
  double *rcls, *rcoef, *ricpt, *rproba, *rdec, *rpred, *rscore, score = -1;
  int64_t K, R, n = q->n, p = q->p, i, ties = 0, wrong = 0;
  double dc, di, dp, dd, scale;
  clearn_matrix_wrap(q->X, n, p, CLEARN_FLOAT64, &X);
  clearn_matrix_wrap(q->y, n, 1, CLEARN_FLOAT64, &y);
  if (q->w)
    clearn_matrix_wrap(q->w, n, 1, CLEARN_FLOAT64, &w);
  CHECK_OK(clearn_estimator_fit(e, X, y, w));
  CHECK_OK(clearn_estimator_get_attr(e, "classes", &cls));
  K = clearn_matrix_cols(cls);
  R = K == 2 ? 1 : K;
  rcls = read_raw(q->name, ".classes", K);
  rcoef = read_raw(q->name, ".coef", R * p);
  ricpt = read_raw(q->name, ".intercept", R);
  rproba = read_raw(q->name, ".proba", n * K);
  rdec = read_raw(q->name, ".decision", n * R);
  rpred = read_raw(q->name, ".pred", n);
  rscore = read_raw(q->name, ".score", 1);
  CHECK(rcls && rcoef && ricpt && rproba && rdec && rpred && rscore,
        "%s: reference files missing", q->name);
  if (!(rcls && rcoef && ricpt && rproba && rdec && rpred && rscore))
    goto out;
  for (i = 0; i < K; i++)
    CHECK(((const int64_t *)clearn_matrix_data(cls))[i] == (int64_t)rcls[i],
          "%s: class %lld", q->name, (long long)i);
  CHECK_OK(clearn_estimator_get_attr(e, "coef", &coef));
  CHECK_OK(clearn_estimator_get_attr(e, "intercept", &icpt));
  CHECK_OK(clearn_estimator_get_attr(e, "n_iter", &it));
  CHECK_OK(clearn_estimator_predict_proba(e, X, &proba));
  CHECK_OK(clearn_estimator_decision_function(e, X, &dec));
  CHECK_OK(clearn_estimator_predict(e, X, &pred));
  CHECK_OK(clearn_estimator_score(e, X, y, w, &score));
  if (!coef || !icpt || !proba || !dec || !pred)
    goto out;
  CHECK(clearn_matrix_rows(coef) == R && clearn_matrix_cols(coef) == p,
        "%s: coef shape", q->name);
  scale = fmax(maxabs(rcoef, R * p), 1.0);
  dc = maxdiff(clearn_matrix_data(coef), rcoef, R * p) / scale;
  di = q->fit_intercept ? maxdiff(clearn_matrix_data(icpt), ricpt, R) /
                              fmax(maxabs(ricpt, R), 1.0)
                        : maxabs(clearn_matrix_data(icpt), R);
  dp = maxdiff(clearn_matrix_data(proba), rproba, n * K);
  dd = maxdiff(clearn_matrix_data(dec), rdec, n * R) /
       fmax(maxabs(rdec, n * R), 1.0);
  for (i = 0; i < n; i++) {
    const double *P = clearn_matrix_data(proba);
    double top = -1, second = -1;
    int64_t k;
    for (k = 0; k < K; k++) {
      double v = P[i * K + k];
      if (v > top)
        second = top, top = v;
      else if (v > second)
        second = v;
    }
    if (top - second < 1e-7)
      ties++;
    else if (((const double *)clearn_matrix_data(pred))[i] != rpred[i])
      wrong++;
  }
  printf("%-26s %-5s K=%lld iters %4lld  coef %.1e  icpt %.1e  proba %.1e  "
         "dec %.1e  acc %.4f\n",
         q->name, solver, (long long)K,
         (long long)*(const int64_t *)clearn_matrix_data(it), dc, di, dp, dd,
         score);
  CHECK(dc <= 1e-5, "%s/%s: coef differs by %.3g (relative)", q->name, solver,
        dc);
  CHECK(di <= 1e-5, "%s/%s: intercept differs by %.3g", q->name, solver, di);
  CHECK(dp <= 1e-6, "%s/%s: probabilities differ by %.3g", q->name, solver, dp);
  CHECK(dd <= 1e-6, "%s/%s: decision values differ by %.3g", q->name, solver,
        dd);
  CHECK(wrong == 0, "%s/%s: %lld predicted labels differ", q->name, solver,
        (long long)wrong);
  if (ties == 0)
    CHECK_CLOSE(score, rscore[0], 1e-12, 0);
out:
  free(rcls), free(rcoef), free(ricpt), free(rproba), free(rdec), free(rpred),
      free(rscore);
  clearn_matrix_free(coef), clearn_matrix_free(icpt), clearn_matrix_free(cls),
      clearn_matrix_free(proba), clearn_matrix_free(dec),
      clearn_matrix_free(pred), clearn_matrix_free(it);
  clearn_matrix_free(X), clearn_matrix_free(y), clearn_matrix_free(w);
  clearn_estimator_free(e);
}

/* Error paths and the save/load round trip, on problem 0 (binary) and the
 * multinomial problem mq. */
static void error_cases(const problem *q, const problem *mq) {
  clearn_estimator *e = NULL, *l = NULL, *r = NULL;
  clearn_matrix *X, *y, *bad = NULL, *out = NULL, *p1 = NULL, *p2 = NULL;
  double *Xc = malloc((size_t)(q->n * q->p) * sizeof(double));
  double *yc = malloc((size_t)q->n * sizeof(double)), two[4] = {0, 1, 0, 1};
  char path[600];
  int64_t i;
  clearn_matrix_wrap(q->X, q->n, q->p, CLEARN_FLOAT64, &X);
  clearn_matrix_wrap(q->y, q->n, 1, CLEARN_FLOAT64, &y);
  CHECK_OK(clearn_estimator_create("logistic_regression", &e));
  CHECK(clearn_estimator_is_classifier(e) == 1, "classifier");

  CHECK_RC(clearn_estimator_set_param_double(e, "C", -1), CLEARN_EPARAM);
  CHECK_STR(clearn_last_error(),
            "logistic_regression: parameter 'C' = -1: must be > 0");
  CHECK_RC(clearn_estimator_set_param_double(e, "C", 0), CLEARN_EPARAM);
  CHECK_RC(clearn_estimator_set_param_string(e, "solver", "sgd"),
           CLEARN_EPARAM);
  CHECK_STR(clearn_last_error(), "logistic_regression: parameter 'solver' = "
                                 "'sgd': must be one of lbfgs|tron");
  CHECK_RC(clearn_estimator_set_param_int(e, "max_iter", 0), CLEARN_EPARAM);
  CHECK_RC(clearn_estimator_set_param_double(e, "tol", -1e-3), CLEARN_EPARAM);
  CHECK_RC(clearn_estimator_set_param_string(e, "class_weight", "auto"),
           CLEARN_EPARAM);

  /* Before fit. */
  CHECK_RC(clearn_estimator_predict_proba(e, X, &out), CLEARN_ENOTFITTED);
  CHECK_RC(clearn_estimator_decision_function(e, X, &out), CLEARN_ENOTFITTED);

  /* NaN in X. */
  memcpy(Xc, q->X, (size_t)(q->n * q->p) * sizeof(double));
  Xc[7 * q->p + 2] = NAN;
  clearn_matrix_wrap(Xc, q->n, q->p, CLEARN_FLOAT64, &bad);
  CHECK_RC(clearn_estimator_fit(e, bad, y, NULL), CLEARN_ENUMERIC);
  CHECK_STR(clearn_last_error(),
            "logistic_regression: X[7, 2] = nan is not finite");
  clearn_matrix_free(bad);

  /* One class only. */
  for (i = 0; i < q->n; i++)
    yc[i] = 3;
  clearn_matrix_wrap(yc, q->n, 1, CLEARN_FLOAT64, &bad);
  CHECK_RC(clearn_estimator_fit(e, X, bad, NULL), CLEARN_EINVAL);
  CHECK_STR(clearn_last_error(), "logistic_regression: y holds one class only "
                                 "(label 3); need samples of at least 2 "
                                 "classes");
  yc[5] = 0.5;
  CHECK_RC(clearn_estimator_fit(e, X, bad, NULL), CLEARN_EINVAL);
  CHECK_STR(clearn_last_error(), "logistic_regression: y[5] = 0.5 is not a "
                                 "class label (labels are integers with "
                                 "|label| <= 2^53)");
  clearn_matrix_free(bad);
  clearn_matrix_wrap(two, 2, 2, CLEARN_FLOAT64, &bad);
  {
    clearn_matrix *X2 = NULL;
    clearn_matrix_wrap(q->X, 2, q->p, CLEARN_FLOAT64, &X2);
    CHECK_RC(clearn_estimator_fit(e, X2, bad, NULL), CLEARN_ESHAPE);
    CHECK_STR(clearn_last_error(),
              "logistic_regression: y has 2 columns; pass the class labels "
              "as one column (n x 1)");
    clearn_matrix_free(X2);
  }
  clearn_matrix_free(bad);
  CHECK(!clearn_estimator_is_fitted(e), "failed fits leave it unfitted");

  /* Non-convergence: reported, model installed. */
  CHECK_OK(clearn_estimator_set_param_int(e, "max_iter", 2));
  CHECK_OK(clearn_estimator_set_param_double(e, "tol", 1e-12));
  CHECK_RC(clearn_estimator_fit(e, X, y, NULL), CLEARN_ENOTCONVERGED);
  CHECK(strncmp(clearn_last_error(),
                "logistic_regression: lbfgs did not converge in max_iter = 2 "
                "iterations (max |gradient| = ",
                80) == 0,
        "message: %s", clearn_last_error());
  CHECK(clearn_estimator_is_fitted(e), "ENOTCONVERGED installs the model");
  CHECK_OK(clearn_estimator_set_param_string(e, "solver", "tron"));
  CHECK_OK(clearn_estimator_set_param_int(e, "max_iter", 1));
  CHECK_RC(clearn_estimator_fit(e, X, y, NULL), CLEARN_ENOTCONVERGED);

  /* Wrong feature count. */
  CHECK_OK(clearn_estimator_set_param_int(e, "max_iter", 100));
  CHECK_OK(clearn_estimator_fit(e, X, y, NULL));
  clearn_matrix_wrap(q->X, q->n * q->p / (q->p - 1), q->p - 1, CLEARN_FLOAT64,
                     &bad);
  CHECK_RC(clearn_estimator_predict_proba(e, bad, &out), CLEARN_ESHAPE);
  CHECK_STR(clearn_last_error(), "logistic_regression: X has 4 features, but "
                                 "the estimator was fitted with 5 features");
  clearn_matrix_free(bad);

  /* Calls a regressor does not offer. */
  CHECK_OK(clearn_estimator_create("ridge", &r));
  CHECK_OK(clearn_estimator_fit(r, X, y, NULL));
  CHECK_RC(clearn_estimator_predict_proba(r, X, &out), CLEARN_EUNSUPPORTED);
  CHECK_STR(clearn_last_error(),
            "ridge: predict_proba(X) is not offered by this estimator");
  CHECK(clearn_estimator_is_classifier(r) == 0, "ridge is no classifier");

  /* Save / load round trip (multinomial). */
  {
    clearn_matrix *Xm, *ym;
    clearn_matrix_wrap(mq->X, mq->n, mq->p, CLEARN_FLOAT64, &Xm);
    clearn_matrix_wrap(mq->y, mq->n, 1, CLEARN_FLOAT64, &ym);
    CHECK_OK(clearn_estimator_fit(e, Xm, ym, NULL));
    snprintf(path, sizeof path, "%s/lr.h5", tmpdir);
    CHECK_OK(clearn_estimator_save(e, path));
    CHECK_OK(clearn_estimator_load(path, "logistic_regression", &l));
    CHECK_OK(clearn_estimator_predict_proba(e, Xm, &p1));
    if (l)
      CHECK_OK(clearn_estimator_predict_proba(l, Xm, &p2));
    CHECK(p1 && p2 &&
              memcmp(clearn_matrix_data(p1), clearn_matrix_data(p2),
                     (size_t)(mq->n * 3) * sizeof(double)) == 0,
          "loaded model predicts the same probabilities");
    clearn_matrix_free(p1), clearn_matrix_free(p2);
    p1 = p2 = NULL;
    CHECK_OK(clearn_estimator_predict(e, Xm, &p1));
    if (l)
      CHECK_OK(clearn_estimator_predict(l, Xm, &p2));
    CHECK(p1 && p2 &&
              memcmp(clearn_matrix_data(p1), clearn_matrix_data(p2),
                     (size_t)mq->n * sizeof(double)) == 0,
          "loaded model predicts the same labels");
    remove(path);
    clearn_matrix_free(Xm), clearn_matrix_free(ym);
  }
  clearn_matrix_free(p1), clearn_matrix_free(p2);
  clearn_matrix_free(X), clearn_matrix_free(y);
  clearn_estimator_free(e), clearn_estimator_free(l), clearn_estimator_free(r);
  free(Xc), free(yc);
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
  snprintf(tmpdir, sizeof tmpdir, "%s/clearn-logistic-XXXXXX",
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
    fprintf(f, "%s %lld %lld %d %d %.17g %s\n", q->name, (long long)q->n,
            (long long)q->p, q->fit_intercept, q->weighted, q->C,
            q->balanced ? "balanced" : "none");
    if (!write_raw(q->name, ".X", q->X, q->n * q->p) ||
        !write_raw(q->name, ".y", q->y, q->n) ||
        (q->w && !write_raw(q->name, ".w", q->w, q->n))) {
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
    compare(&probs[i], "lbfgs");
    compare(&probs[i], "tron");
  }
  error_cases(&probs[0], &probs[6]);
  if (tu_failures == 0) {
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
      fprintf(stderr, "could not remove %s\n", tmpdir);
  } else {
    fprintf(stderr, "problems kept in %s\n", tmpdir);
  }
  for (i = 0; i < n_probs; i++)
    free(probs[i].X), free(probs[i].y), free(probs[i].w);
  return TEST_SUMMARY();
}
