/*
 * ridge_example.c -- fit Ridge on generated data with the public C API.
 *
 * Build against an installed clearn:
 *   cc ridge_example.c $(pkg-config --cflags --libs clearn) -o ridge_example
 * Generates y = X b + 3 + noise, fits, prints the coefficients, R^2 and the
 * result of a save/load round trip.  Exits non-zero if anything is off.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <clearn/clearn.h>

#define CHECK(call)                                                            \
  do {                                                                         \
    int rc_ = (call);                                                          \
    if (rc_ != CLEARN_OK) {                                                    \
      fprintf(stderr, "%s failed: %s (%s)\n", #call, clearn_status_str(rc_),   \
              clearn_last_error());                                            \
      return 1;                                                                \
    }                                                                          \
  } while (0)

/* Small deterministic generator so the example needs nothing else. */
static double uniform(unsigned long long *s) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(*s >> 11) / 9007199254740992.0;
}

int main(int argc, char **argv) {
  enum { N = 2000, P = 5 };
  static double X[N * P], y[N];
  const double truth[P] = {1.5, -2.0, 0.0, 0.5, 3.0};
  const char *path = argc > 1 ? argv[1] : "ridge_example.h5";
  unsigned long long seed = 42;
  clearn_matrix *Xm, *ym, *coef, *pred, *pred2;
  clearn_estimator *est, *loaded;
  double r2, max_diff = 0;
  int i, j;

  for (i = 0; i < N; i++) {
    y[i] = 3.0 + 0.1 * (uniform(&seed) - 0.5);
    for (j = 0; j < P; j++) {
      X[i * P + j] = 4.0 * uniform(&seed) - 2.0;
      y[i] += truth[j] * X[i * P + j];
    }
  }
  printf("clearn %s: Ridge on %d x %d generated samples\n",
         clearn_version_string(), N, P);

  /* Borrowed views: clearn reads the arrays in place. */
  CHECK(clearn_matrix_wrap(X, N, P, CLEARN_FLOAT64, &Xm));
  CHECK(clearn_matrix_wrap(y, N, 1, CLEARN_FLOAT64, &ym));
  CHECK(clearn_estimator_create("ridge", &est));
  CHECK(clearn_estimator_set_param_double(est, "alpha", 0.1));
  CHECK(clearn_estimator_fit(est, Xm, ym, NULL));
  CHECK(clearn_estimator_score(est, Xm, ym, NULL, &r2));
  CHECK(clearn_estimator_get_attr(est, "coef", &coef));
  for (j = 0; j < P; j++)
    printf("  coef[%d] = %+.4f (true %+.1f)\n", j,
           clearn_matrix_get(coef, 0, j), truth[j]);
  printf("  R^2 = %.6f\n", r2);

  CHECK(clearn_estimator_save(est, path));
  CHECK(clearn_estimator_load(path, "ridge", &loaded));
  CHECK(clearn_estimator_predict(est, Xm, &pred));
  CHECK(clearn_estimator_predict(loaded, Xm, &pred2));
  for (i = 0; i < N; i++) {
    double d = fabs(clearn_matrix_get(pred, i, 0) - clearn_matrix_get(pred2, i, 0));
    if (d > max_diff) max_diff = d;
  }
  printf("  saved to %s; reloaded model predicts identically (max diff %g)\n",
         path, max_diff);

  for (j = 0; j < P; j++)
    if (fabs(clearn_matrix_get(coef, 0, j) - truth[j]) > 0.01) return 2;
  clearn_matrix_free(coef);
  clearn_matrix_free(pred);
  clearn_matrix_free(pred2);
  clearn_matrix_free(Xm);
  clearn_matrix_free(ym);
  clearn_estimator_free(est);
  clearn_estimator_free(loaded);
  return r2 > 0.999 && max_diff == 0.0 ? 0 : 3;
}
