/*
 * fuzz_model.c -- libFuzzer target for model files (clearn_estimator_load):
 * a damaged model must fail with a status and a message; one that loads
 * must predict without crashing and save again.
 */
#include <math.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file("model", data, size);
  clearn_estimator *est = NULL;
  int rc = clearn_estimator_load(path, NULL, &est);
  fuzz_check_status(rc);
  if (rc != CLEARN_OK) {
    if (est != NULL) abort();
    return 0;
  }
  if (clearn_estimator_is_fitted(est)) {
    if (clearn_estimator_is_recommender(est)) {
      int64_t u[3] = {1, 2, -5}, i[3] = {1, 7, 3}, top[4];
      double out[3], sc[4];
      fuzz_check_status(clearn_estimator_predict_pairs(est, u, i, 3, out));
      fuzz_check_status(clearn_estimator_recommend(est, u, 1, 4, NULL, top, sc));
      fuzz_check_status(clearn_estimator_similar_items(est, 7, 4, top, sc));
    } else {
      clearn_matrix *coef = NULL, *X = NULL, *pred = NULL;
      if (clearn_estimator_get_attr(est, "coef", &coef) == CLEARN_OK) {
        int64_t p = clearn_matrix_cols(coef);
        static double zeros[2 * 4096];
        if (p > 0 && p < 4096 &&
            clearn_matrix_wrap(zeros, 2, p, CLEARN_FLOAT64, &X) == CLEARN_OK)
          fuzz_check_status(clearn_estimator_predict(est, X, &pred));
      }
      clearn_matrix_free(coef);
      clearn_matrix_free(X);
      clearn_matrix_free(pred);
    }
  }
  {
    char out[300];
    snprintf(out, sizeof out, "%s.resaved.h5", path);
    fuzz_check_status(clearn_estimator_save(est, out));
    remove(out);
  }
  clearn_estimator_free(est);
  return 0;
}
