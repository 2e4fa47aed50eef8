/*
 * outside_ridge.c -- a program built against an INSTALLED clearn.
 *
 * tests/install_test.sh compiles this one file three ways (CMake target
 * clearn::clearn, CMake target clearn::clearn_static, pkg-config clearn
 * shared and --static), so it uses only the public umbrella header and
 * nothing from the source tree.  It checks that header and library versions
 * match, fits Ridge on generated data, verifies the model, an error path
 * and an HDF5 save/load round trip (which exercises the library's private
 * dependencies at link time), and exits non-zero on any failure.
 *
 * Usage: outside_ridge [model.h5]
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <clearn/clearn.h>

static int failures = 0;

#define EXPECT(cond, ...)                                                      \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                     \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
      failures++;                                                              \
    }                                                                          \
  } while (0)

#define CHECK(call)                                                            \
  do {                                                                         \
    int rc_ = (call);                                                          \
    if (rc_ != CLEARN_OK) {                                                    \
      fprintf(stderr, "FAIL %s:%d: %s: %s (%s)\n", __FILE__, __LINE__, #call,  \
              clearn_status_str(rc_), clearn_last_error());                    \
      failures++;                                                              \
      goto cleanup;                                                            \
    }                                                                          \
  } while (0)

/* Deterministic LCG so the program needs nothing but libc and clearn. */
static double uniform(unsigned long long *s) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(*s >> 11) / 9007199254740992.0;
}

int main(int argc, char **argv) {
  enum { N = 500, P = 4 };
  static double X[N * P], y[N];
  const double truth[P] = {1.5, -2.0, 0.25, 3.0}, b0 = -1.0;
  const char *path = argc > 1 ? argv[1] : "outside_ridge.h5";
  unsigned long long seed = 7;
  clearn_matrix *Xm = NULL, *ym = NULL, *coef = NULL, *icpt = NULL;
  clearn_matrix *pred = NULL, *pred2 = NULL;
  clearn_estimator *est = NULL, *loaded = NULL;
  double r2 = 0, alpha = 0;
  int i, j, rc;

  /* Header and library must come from the same release. */
  EXPECT(CLEARN_VERSION_NUMBER == clearn_version_number(),
         "header version %d != library version %d", CLEARN_VERSION_NUMBER,
         clearn_version_number());
  EXPECT(strcmp(CLEARN_VERSION_STRING, clearn_version_string()) == 0,
         "header version \"%s\" != library version \"%s\"",
         CLEARN_VERSION_STRING, clearn_version_string());

  for (i = 0; i < N; i++) {
    y[i] = b0 + 0.01 * (uniform(&seed) - 0.5);
    for (j = 0; j < P; j++) {
      X[i * P + j] = 4.0 * uniform(&seed) - 2.0;
      y[i] += truth[j] * X[i * P + j];
    }
  }

  CHECK(clearn_matrix_wrap(X, N, P, CLEARN_FLOAT64, &Xm));
  CHECK(clearn_matrix_wrap(y, N, 1, CLEARN_FLOAT64, &ym));
  CHECK(clearn_estimator_create("ridge", &est));

  /* A refused parameter: status, per-thread message, handle message. */
  rc = clearn_estimator_set_param_double(est, "alpha", -1.0);
  EXPECT(rc == CLEARN_EPARAM, "alpha = -1 gave status %d, want %d", rc,
         CLEARN_EPARAM);
  EXPECT(strstr(clearn_last_error(), "alpha") != NULL,
         "clearn_last_error() does not name the parameter: \"%s\"",
         clearn_last_error());
  EXPECT(strstr(clearn_estimator_errmsg(est), "alpha") != NULL,
         "clearn_estimator_errmsg() does not name the parameter: \"%s\"",
         clearn_estimator_errmsg(est));

  CHECK(clearn_estimator_set_param_double(est, "alpha", 1e-3));
  CHECK(clearn_estimator_get_param_double(est, "alpha", &alpha));
  EXPECT(alpha == 1e-3, "alpha read back as %g", alpha);
  CHECK(clearn_estimator_fit(est, Xm, ym, NULL));
  CHECK(clearn_estimator_score(est, Xm, ym, NULL, &r2));
  CHECK(clearn_estimator_get_attr(est, "coef", &coef));
  CHECK(clearn_estimator_get_attr(est, "intercept", &icpt));
  EXPECT(clearn_matrix_rows(coef) == 1 && clearn_matrix_cols(coef) == P,
         "coef is %lld x %lld", (long long)clearn_matrix_rows(coef),
         (long long)clearn_matrix_cols(coef));
  for (j = 0; j < P; j++)
    EXPECT(fabs(clearn_matrix_get(coef, 0, j) - truth[j]) < 1e-2,
           "coef[%d] = %g, want %g", j, clearn_matrix_get(coef, 0, j),
           truth[j]);
  EXPECT(fabs(clearn_matrix_get(icpt, 0, 0) - b0) < 1e-2, "intercept = %g",
         clearn_matrix_get(icpt, 0, 0));
  EXPECT(r2 > 0.9999, "R^2 = %.8f", r2);

  /* Round trip through HDF5. */
  CHECK(clearn_estimator_save(est, path));
  CHECK(clearn_estimator_load(path, "ridge", &loaded));
  CHECK(clearn_estimator_predict(est, Xm, &pred));
  CHECK(clearn_estimator_predict(loaded, Xm, &pred2));
  for (i = 0; i < N; i++)
    if (clearn_matrix_get(pred, i, 0) != clearn_matrix_get(pred2, i, 0)) {
      EXPECT(0, "reloaded model predicts %g != %g at row %d",
             clearn_matrix_get(pred2, i, 0), clearn_matrix_get(pred, i, 0), i);
      break;
    }

  printf("clearn %s (header %s): ridge R^2 = %.6f, coef =",
         clearn_version_string(), CLEARN_VERSION_STRING, r2);
  for (j = 0; j < P; j++) printf(" %+.4f", clearn_matrix_get(coef, 0, j));
  printf("\n");

cleanup:
  clearn_matrix_free(pred2);
  clearn_matrix_free(pred);
  clearn_matrix_free(icpt);
  clearn_matrix_free(coef);
  clearn_matrix_free(ym);
  clearn_matrix_free(Xm);
  clearn_estimator_free(loaded);
  clearn_estimator_free(est);
  printf("%s: %d failure(s)\n", failures ? "FAILED" : "ok", failures);
  return failures ? 1 : 0;
}
