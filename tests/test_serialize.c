/*
 * test_serialize.c -- clearn_estimator_save_bytes / _load_bytes: round
 * trips (ridge, logistic_regression, als, unfitted), the bytes are a model
 * file clearn_estimator_load reads, wrong kind, corrupt and truncated
 * bytes, a newer schema, argument errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clearn/clearn.h"
#include "clearn/recommender.h"
#include "testutil.h"

static void fill(double *a, int64_t n, unsigned long long seed) {
  tu_rng r = {seed};
  for (int64_t i = 0; i < n; i++) a[i] = tu_uniform(&r) * 2 - 1;
}

/* Predictions of a and b on X agree bitwise. */
static void check_same_predict(const clearn_estimator *a,
                               const clearn_estimator *b,
                               const clearn_matrix *X) {
  clearn_matrix *pa = NULL, *pb = NULL;
  CHECK_OK(clearn_estimator_predict(a, X, &pa));
  CHECK_OK(clearn_estimator_predict(b, X, &pb));
  if (pa && pb) {
    CHECK(clearn_matrix_rows(pa) == clearn_matrix_rows(pb), "rows");
    CHECK(memcmp(clearn_matrix_data(pa), clearn_matrix_data(pb),
                 (size_t)clearn_matrix_rows(pa) * sizeof(double)) == 0,
          "predictions differ after the round trip");
  }
  clearn_matrix_free(pa);
  clearn_matrix_free(pb);
}

static void test_linear(void) {
  enum { N = 60, P = 4 };
  double x[N * P], y[N];
  clearn_matrix *X, *Y;
  clearn_estimator *est, *back = NULL;
  void *buf = NULL;
  size_t len = 0;
  fill(x, N * P, 1);
  for (int i = 0; i < N; i++) y[i] = x[i * P] - 2 * x[i * P + 3] + 0.5;
  clearn_matrix_wrap(x, N, P, CLEARN_FLOAT64, &X);
  clearn_matrix_wrap(y, N, 1, CLEARN_FLOAT64, &Y);

  CHECK_OK(clearn_estimator_create("ridge", &est));
  CHECK_OK(clearn_estimator_set_param_double(est, "alpha", 0.25));
  CHECK_OK(clearn_estimator_fit(est, X, Y, NULL));
  CHECK_OK(clearn_estimator_save_bytes(est, &buf, &len));
  CHECK(buf != NULL && len > 512, "len %zu", len);
  CHECK_OK(clearn_estimator_load_bytes(buf, len, "ridge", &back));
  if (back) {
    double a = 0;
    CHECK_OK(clearn_estimator_get_param_double(back, "alpha", &a));
    CHECK(a == 0.25, "alpha %g", a);
    CHECK(clearn_estimator_is_fitted(back) == 1, "fitted");
    check_same_predict(est, back, X);
  }
  clearn_estimator_free(back);
  back = NULL;

  /* The bytes are a model file. */
  {
    FILE *f = fopen("test_serialize_ridge.h5", "wb");
    CHECK(f && fwrite(buf, 1, len, f) == len, "write");
    if (f) fclose(f);
    CHECK_OK(clearn_estimator_load("test_serialize_ridge.h5", "ridge", &back));
    if (back) check_same_predict(est, back, X);
    clearn_estimator_free(back);
    back = NULL;
    remove("test_serialize_ridge.h5");
  }

  /* Another kind expected. */
  CHECK_RC(clearn_estimator_load_bytes(buf, len, "als", &back),
           CLEARN_EKIND);
  CHECK(back == NULL, "out stays NULL");
  CHECK(strstr(clearn_last_error(), "expected 'als'") != NULL, "%s",
        clearn_last_error());

  /* Corrupt bytes: not HDF5, truncated, a damaged superblock, garbage. */
  {
    unsigned char *bad = malloc(len);
    memcpy(bad, buf, len);
    bad[0] ^= 0xff;
    CHECK_RC(clearn_estimator_load_bytes(bad, len, NULL, &back),
             CLEARN_EFORMAT);
    CHECK(strstr(clearn_last_error(), "not an HDF5 model image") != NULL,
          "%s", clearn_last_error());
    memcpy(bad, buf, len);
    CHECK_RC(clearn_estimator_load_bytes(bad, len / 2, NULL, &back),
             CLEARN_EFORMAT);
    CHECK_RC(clearn_estimator_load_bytes(bad, 8, NULL, &back),
             CLEARN_EFORMAT);
    memset(bad + 8, 0xa5, 64); /* the superblock after the signature */
    CHECK_RC(clearn_estimator_load_bytes(bad, len, NULL, &back),
             CLEARN_EFORMAT);
    CHECK_RC(clearn_estimator_load_bytes("hello", 5, NULL, &back),
             CLEARN_EFORMAT);
    CHECK_RC(clearn_estimator_load_bytes(bad, 0, NULL, &back),
             CLEARN_EFORMAT);
    CHECK(back == NULL, "out stays NULL");
    free(bad);
  }
  clearn_free(buf);
  clearn_free(NULL);

  /* Unfitted: parameters only. */
  {
    clearn_estimator *u;
    clearn_matrix *pred = NULL;
    CHECK_OK(clearn_estimator_create("logistic_regression", &u));
    CHECK_OK(clearn_estimator_set_param_double(u, "C", 3.5));
    CHECK_OK(clearn_estimator_save_bytes(u, &buf, &len));
    CHECK_OK(clearn_estimator_load_bytes(buf, len, NULL, &back));
    if (back) {
      double c = 0;
      CHECK_STR(clearn_estimator_kind(back), "logistic_regression");
      CHECK_OK(clearn_estimator_get_param_double(back, "C", &c));
      CHECK(c == 3.5, "C %g", c);
      CHECK(clearn_estimator_is_fitted(back) == 0, "unfitted");
      CHECK_RC(clearn_estimator_predict(back, X, &pred), CLEARN_ENOTFITTED);
    }
    clearn_estimator_free(back);
    back = NULL;
    clearn_free(buf);
    clearn_estimator_free(u);
  }

  /* Arguments. */
  CHECK_RC(clearn_estimator_save_bytes(NULL, &buf, &len), CLEARN_EINVAL);
  CHECK_RC(clearn_estimator_save_bytes(est, NULL, &len), CLEARN_EINVAL);
  CHECK_RC(clearn_estimator_load_bytes(NULL, 10, NULL, &back), CLEARN_EINVAL);
  CHECK_RC(clearn_estimator_load_bytes(x, 10, NULL, NULL), CLEARN_EINVAL);

  clearn_estimator_free(est);
  clearn_matrix_free(X);
  clearn_matrix_free(Y);
}

static void test_als(void) {
  clearn_ratings *r = NULL;
  clearn_estimator *est, *back = NULL;
  void *buf = NULL;
  size_t len = 0;
  int64_t users[3] = {0, 0, 0}, items[3 * 5], items2[3 * 5];
  double sc[3 * 5], sc2[3 * 5];
  CHECK_OK(clearn_ratings_generate(200, 80, 3000, 3, 4, 0.3, 1, 7, &r));
  if (r == NULL) return;
  users[0] = clearn_ratings_user_ids(r)[0];
  users[1] = clearn_ratings_user_ids(r)[5];
  users[2] = clearn_ratings_user_ids(r)[9];
  CHECK_OK(clearn_estimator_create("als", &est));
  CHECK_OK(clearn_estimator_set_param_int(est, "rank", 6));
  CHECK_OK(clearn_estimator_set_param_int(est, "max_iter", 4));
  CHECK_OK(clearn_estimator_fit_ratings(est, r, NULL));
  CHECK_OK(clearn_estimator_save_bytes(est, &buf, &len));
  CHECK_OK(clearn_estimator_load_bytes(buf, len, "als", &back));
  if (back) {
    clearn_matrix *h1 = NULL, *h2 = NULL;
    CHECK_OK(clearn_estimator_recommend(est, users, 3, 5, NULL, items, sc));
    CHECK_OK(clearn_estimator_recommend(back, users, 3, 5, r, items2, sc2));
    CHECK(memcmp(items, items2, sizeof items) == 0, "recommended items");
    CHECK(memcmp(sc, sc2, sizeof sc) == 0, "scores");
    CHECK_OK(clearn_estimator_get_attr(est, "history", &h1));
    CHECK_OK(clearn_estimator_get_attr(back, "history", &h2));
    if (h1 && h2)
      CHECK(clearn_matrix_rows(h1) == 4 && clearn_matrix_rows(h2) == 4 &&
                memcmp(clearn_matrix_data(h1), clearn_matrix_data(h2),
                       4 * 5 * sizeof(double)) == 0,
            "history");
    clearn_matrix_free(h1);
    clearn_matrix_free(h2);
  }
  clearn_estimator_free(back);
  clearn_free(buf);
  clearn_estimator_free(est);
  clearn_ratings_free(r);
}

int main(void) {
  test_linear();
  test_als();
  return TEST_SUMMARY();
}
