/*
 * test_estimator.c -- the generic estimator contract on ridge and
 * linear_regression: fit/predict/score outcomes, fitted attributes, exact
 * errors for misuse, and the rule that a failed call changes nothing.
 */
#include "clearn/clearn.h"
#include "testutil.h"

enum { N = 200, P = 4 };
static double X[N * P], Y[N * 2], W[N];
static const double B0[P] = {2.0, -1.0, 0.5, 0.0}, B1[P] = {0.0, 1.0, 1.0, -3.0};

static void make_data(void) {
  tu_rng r = {7};
  int i, j;
  for (i = 0; i < N; i++) {
    Y[2 * i] = 1.0;
    Y[2 * i + 1] = -4.0;
    for (j = 0; j < P; j++) {
      X[i * P + j] = tu_normal(&r);
      Y[2 * i] += B0[j] * X[i * P + j];
      Y[2 * i + 1] += B1[j] * X[i * P + j];
    }
    W[i] = 1 + (i % 3);
  }
}

static clearn_matrix *view(const double *d, int64_t r, int64_t c) {
  clearn_matrix *m = NULL;
  clearn_matrix_wrap(d, r, c, CLEARN_FLOAT64, &m);
  return m;
}

static double attr(const clearn_estimator *est, const char *name, int64_t i,
                   int64_t j) {
  clearn_matrix *m = NULL;
  double v;
  if (clearn_estimator_get_attr(est, name, &m) != CLEARN_OK) return NAN;
  v = clearn_matrix_dtype(m) == CLEARN_INT64
          ? (double)((const int64_t *)clearn_matrix_data(m))[i * clearn_matrix_cols(m) + j]
          : clearn_matrix_get(m, i, j);
  clearn_matrix_free(m);
  return v;
}

/* Noise-free data: both estimators (ridge with tiny alpha) recover the
 * generating coefficients, intercepts and R^2 = 1, for two targets. */
static void test_recovery(const char *kind) {
  clearn_estimator *est = NULL;
  clearn_matrix *Xm = view(X, N, P), *Ym = view(Y, N, 2), *pred = NULL;
  double score = 0;
  int j;
  CHECK_OK(clearn_estimator_create(kind, &est));
  if (strcmp(kind, "ridge") == 0)
    CHECK_OK(clearn_estimator_set_param_double(est, "alpha", 1e-10));
  CHECK(!clearn_estimator_is_fitted(est), "fresh estimator is unfitted");
  CHECK_OK(clearn_estimator_fit(est, Xm, Ym, NULL));
  CHECK(clearn_estimator_is_fitted(est), "fitted");
  for (j = 0; j < P; j++) {
    CHECK_CLOSE(attr(est, "coef", 0, j), B0[j], 1e-8, 1e-9);
    CHECK_CLOSE(attr(est, "coef", 1, j), B1[j], 1e-8, 1e-9);
  }
  CHECK_CLOSE(attr(est, "intercept", 0, 0), 1.0, 1e-9, 1e-9);
  CHECK_CLOSE(attr(est, "intercept", 0, 1), -4.0, 1e-9, 1e-9);
  CHECK(attr(est, "n_features_in", 0, 0) == P, "n_features_in");
  CHECK_OK(clearn_estimator_predict(est, Xm, &pred));
  CHECK(pred && clearn_matrix_rows(pred) == N && clearn_matrix_cols(pred) == 2,
        "prediction shape");
  CHECK_CLOSE(clearn_matrix_get(pred, 17, 1), Y[2 * 17 + 1], 1e-9, 1e-9);
  CHECK_OK(clearn_estimator_score(est, Xm, Ym, NULL, &score));
  CHECK_CLOSE(score, 1.0, 1e-12, 1e-12);
  clearn_matrix_free(pred);
  clearn_matrix_free(Xm);
  clearn_matrix_free(Ym);
  clearn_estimator_free(est);
}

/* Integer weights are the same as repeating rows. */
static void test_weights_equal_repetition(const char *kind) {
  static double Xr[3 * N * P], Yr[3 * N];
  double Yn[N];
  clearn_estimator *a = NULL, *b = NULL;
  clearn_matrix *Xm = view(X, N, P), *Ym, *Wm = view(W, N, 1), *Xrm, *Yrm;
  tu_rng r = {99};
  int64_t i, j, k, m = 0;
  for (i = 0; i < N; i++) Yn[i] = Y[2 * i] + 0.3 * tu_normal(&r);
  for (i = 0; i < N; i++)
    for (k = 0; k < (int64_t)W[i]; k++, m++) {
      memcpy(Xr + m * P, X + i * P, sizeof(double) * P);
      Yr[m] = Yn[i];
    }
  Ym = view(Yn, N, 1);
  Xrm = view(Xr, m, P);
  Yrm = view(Yr, m, 1);
  CHECK_OK(clearn_estimator_create(kind, &a));
  CHECK_OK(clearn_estimator_create(kind, &b));
  CHECK_OK(clearn_estimator_fit(a, Xm, Ym, Wm));
  CHECK_OK(clearn_estimator_fit(b, Xrm, Yrm, NULL));
  for (j = 0; j < P; j++)
    CHECK_CLOSE(attr(a, "coef", 0, j), attr(b, "coef", 0, j), 1e-10, 1e-12);
  CHECK_CLOSE(attr(a, "intercept", 0, 0), attr(b, "intercept", 0, 0), 1e-10, 1e-12);
  clearn_matrix_free(Xm);
  clearn_matrix_free(Ym);
  clearn_matrix_free(Wm);
  clearn_matrix_free(Xrm);
  clearn_matrix_free(Yrm);
  clearn_estimator_free(a);
  clearn_estimator_free(b);
}

/* Closed forms: ridge without intercept on X = [1; 1; 1], y = [1; 2; 3]
 * gives b = 6 / (3 + alpha); a constant target scores 1 when predicted
 * exactly, as scikit-learn's r2_score. */
static void test_closed_forms(void) {
  const double x[3] = {1, 1, 1}, y[3] = {1, 2, 3}, c[3] = {5, 5, 5};
  clearn_estimator *est = NULL;
  clearn_matrix *Xm = view(x, 3, 1), *Ym = view(y, 3, 1), *Cm = view(c, 3, 1);
  double s = 0;
  CHECK_OK(clearn_estimator_create("ridge", &est));
  CHECK_OK(clearn_estimator_set_param_string(est, "fit_intercept", "false"));
  CHECK_OK(clearn_estimator_set_param_double(est, "alpha", 1.0));
  CHECK_OK(clearn_estimator_fit(est, Xm, Ym, NULL));
  CHECK_CLOSE(attr(est, "coef", 0, 0), 1.5, 1e-15, 0);
  CHECK(attr(est, "intercept", 0, 0) == 0.0, "no intercept");
  /* Predicting 1.5 everywhere: R^2 = 1 - 2.75 / 2. */
  CHECK_OK(clearn_estimator_score(est, Xm, Ym, NULL, &s));
  CHECK_CLOSE(s, -0.375, 1e-15, 0);
  CHECK_OK(clearn_estimator_set_param_string(est, "fit_intercept", "true"));
  CHECK_OK(clearn_estimator_fit(est, Xm, Cm, NULL));
  CHECK_OK(clearn_estimator_score(est, Xm, Cm, NULL, &s));
  CHECK(s == 1.0, "constant target predicted exactly scores %g", s);
  /* Predicting 5 for y = 1, 2, 3: R^2 = 1 - 29 / 2. */
  CHECK_OK(clearn_estimator_score(est, Xm, Ym, NULL, &s));
  CHECK_CLOSE(s, -13.5, 1e-14, 0);
  clearn_matrix_free(Xm);
  clearn_matrix_free(Ym);
  clearn_matrix_free(Cm);
  clearn_estimator_free(est);
}

static void test_rank_deficient(void) {
  /* Column 2 duplicates column 0: rank 2 of 3, min-norm splits the weight. */
  double x[6 * 3], y[6];
  clearn_estimator *est = NULL;
  clearn_matrix *Xm, *Ym;
  int i;
  for (i = 0; i < 6; i++) {
    x[i * 3] = i;
    x[i * 3 + 1] = (i * i) % 5;
    x[i * 3 + 2] = i;
    y[i] = 2.0 * i + 1.0 * x[i * 3 + 1] + 0.5;
  }
  Xm = view(x, 6, 3);
  Ym = view(y, 6, 1);
  CHECK_OK(clearn_estimator_create("linear_regression", &est));
  CHECK_OK(clearn_estimator_fit(est, Xm, Ym, NULL));
  CHECK(attr(est, "rank", 0, 0) == 2, "rank %g", attr(est, "rank", 0, 0));
  CHECK_CLOSE(attr(est, "coef", 0, 0), 1.0, 1e-12, 1e-12);
  CHECK_CLOSE(attr(est, "coef", 0, 2), 1.0, 1e-12, 1e-12);
  CHECK_CLOSE(attr(est, "coef", 0, 1), 1.0, 1e-12, 1e-12);
  CHECK_CLOSE(attr(est, "intercept", 0, 0), 0.5, 1e-12, 1e-12);
  CHECK(attr(est, "singular", 0, 2) < 1e-12 * attr(est, "singular", 0, 0),
        "last singular value is zero");
  /* ridge with alpha = 0 on singular X fails cleanly. */
  clearn_estimator_free(est);
  CHECK_OK(clearn_estimator_create("ridge", &est));
  CHECK_OK(clearn_estimator_set_param_double(est, "alpha", 0.0));
  CHECK_RC(clearn_estimator_fit(est, Xm, Ym, NULL), CLEARN_ENUMERIC);
  CHECK(strstr(clearn_estimator_errmsg(est), "singular") != NULL, "%s",
        clearn_estimator_errmsg(est));
  CHECK(!clearn_estimator_is_fitted(est), "no model after a failed first fit");
  clearn_matrix_free(Xm);
  clearn_matrix_free(Ym);
  clearn_estimator_free(est);
}

static void test_misuse(void) {
  clearn_estimator *est = NULL, *bad = (clearn_estimator *)1;
  clearn_matrix *Xm = view(X, N, P), *Ym = view(Y, N, 1), *X3 = view(X, N, 3);
  clearn_matrix *Yshort = view(Y, N - 1, 1), *out = (clearn_matrix *)1;
  clearn_matrix *Wm = NULL, *pred_before = NULL, *pred_after = NULL, *a = NULL;
  double Xnan[N * P], Wneg[N];
  clearn_matrix *Xn = NULL, *Wn = NULL, *F32 = NULL;
  double s;
  int i;

  CHECK_RC(clearn_estimator_create("lasso_typo", &bad), CLEARN_EINVAL);
  CHECK(bad == NULL, "out NULL on failure");
  CHECK_STR(clearn_last_error(),
            "unknown estimator kind 'lasso_typo' (known: als, elastic_net, lasso, linear_regression, "
            "logistic_regression, ridge, standard_scaler)");

  CHECK_OK(clearn_estimator_create("ridge", &est));
  CHECK_RC(clearn_estimator_predict(est, Xm, &out), CLEARN_ENOTFITTED);
  CHECK(out == NULL, "out NULL on failure");
  CHECK_STR(clearn_estimator_errmsg(est),
            "ridge: this estimator is not fitted yet; call fit before predict or score");
  CHECK_RC(clearn_estimator_score(est, Xm, Ym, NULL, &s), CLEARN_ENOTFITTED);
  CHECK_RC(clearn_estimator_get_attr(est, "coef", &a), CLEARN_ENOTFITTED);
  CHECK_STR(clearn_last_error(), "ridge: attribute 'coef' exists only after fit");
  CHECK_RC(clearn_estimator_get_attr(est, "coeff", &a), CLEARN_EINVAL);
  CHECK_STR(clearn_last_error(),
            "ridge: unknown attribute 'coeff' (known: coef, intercept, n_features_in)");

  CHECK_RC(clearn_estimator_fit(est, Xm, Yshort, NULL), CLEARN_ESHAPE);
  CHECK_STR(clearn_last_error(), "ridge: y has 199 rows, expected 200");
  CHECK_RC(clearn_estimator_fit(est, NULL, Ym, NULL), CLEARN_EINVAL);
  CHECK_STR(clearn_last_error(), "ridge: X is NULL");
  clearn_matrix_create(N, P, CLEARN_FLOAT32, &F32);
  CHECK_RC(clearn_estimator_fit(est, F32, Ym, NULL), CLEARN_EINVAL);
  CHECK_STR(clearn_last_error(), "ridge: X must be float64, got dtype 2");

  CHECK_OK(clearn_estimator_fit(est, Xm, Ym, NULL));
  CHECK_OK(clearn_estimator_predict(est, Xm, &pred_before));
  CHECK_RC(clearn_estimator_predict(est, X3, &out), CLEARN_ESHAPE);
  CHECK_STR(clearn_last_error(),
            "ridge: X has 3 features, but the estimator was fitted with 4 features");

  /* A failed fit keeps the previous model. */
  memcpy(Xnan, X, sizeof Xnan);
  Xnan[5 * P + 2] = NAN;
  Xn = view(Xnan, N, P);
  CHECK_RC(clearn_estimator_fit(est, Xn, Ym, NULL), CLEARN_ENUMERIC);
  CHECK_STR(clearn_last_error(), "ridge: X[5, 2] = nan is not finite");
  for (i = 0; i < N; i++) Wneg[i] = 1.0;
  Wneg[9] = -0.5;
  Wn = view(Wneg, N, 1);
  CHECK_RC(clearn_estimator_fit(est, Xm, Ym, Wn), CLEARN_EINVAL);
  CHECK_STR(clearn_last_error(), "ridge: sample_weight[9] = -0.5 is negative");
  Wneg[9] = 0;
  for (i = 0; i < N; i++) Wneg[i] = 0;
  CHECK_RC(clearn_estimator_fit(est, Xm, Ym, Wn), CLEARN_EINVAL);
  CHECK_STR(clearn_last_error(), "sample weights sum to zero");
  CHECK_RC(clearn_estimator_predict(est, Xn, &out), CLEARN_ENUMERIC);
  CHECK(clearn_estimator_is_fitted(est), "still fitted");
  CHECK_OK(clearn_estimator_predict(est, Xm, &pred_after));
  CHECK(memcmp(clearn_matrix_data(pred_before), clearn_matrix_data(pred_after),
               sizeof(double) * N) == 0,
        "previous model intact after failed fits");

  CHECK_RC(clearn_matrix_wrap(X, 0, P, CLEARN_FLOAT64, &Wm), CLEARN_OK);
  {
    clearn_matrix *Y0 = view(Y, 0, 1);
    CHECK_RC(clearn_estimator_fit(est, Wm, Y0, NULL), CLEARN_ESHAPE);
    CHECK_STR(clearn_last_error(), "ridge: X has 0 samples, need at least 1");
    clearn_matrix_free(Y0);
  }
  clearn_estimator_free(NULL);
  clearn_matrix_free(Wm);
  clearn_matrix_free(Xm);
  clearn_matrix_free(Ym);
  clearn_matrix_free(X3);
  clearn_matrix_free(Yshort);
  clearn_matrix_free(Xn);
  clearn_matrix_free(Wn);
  clearn_matrix_free(F32);
  clearn_matrix_free(pred_before);
  clearn_matrix_free(pred_after);
  clearn_estimator_free(est);
}

int main(void) {
  make_data();
  test_recovery("ridge");
  test_recovery("linear_regression");
  test_weights_equal_repetition("ridge");
  test_weights_equal_repetition("linear_regression");
  test_closed_forms();
  test_rank_deficient();
  test_misuse();
  return TEST_SUMMARY();
}
