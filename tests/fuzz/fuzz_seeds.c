/*
 * fuzz_seeds.c -- writes the binary seed corpora of the fuzz targets into
 * DIR/ratings_h5 and DIR/model: small valid HDF5 ratings files and fitted
 * models of every kind.  Text seeds are checked in (tests/fuzz/corpus).
 * usage: fuzz_seeds DIR
 */
#include <stdio.h>
#include <stdlib.h>

#include <clearn/clearn.h>

static void need(int rc, const char *what) {
  if (rc != CLEARN_OK) {
    fprintf(stderr, "fuzz_seeds: %s: %s\n", what, clearn_last_error());
    exit(1);
  }
}

int main(int argc, char **argv) {
  char path[600];
  clearn_ratings *r = NULL;
  int64_t u[6] = {1, 1, 2, 3, 3, 9}, i[6] = {10, 11, 10, 12, 10, 11};
  float v[6] = {5, 3, 4, 2, 1, 4.5f};
  int k, n_kinds = clearn_kind_count();
  if (argc != 2) return 2;
  snprintf(path, sizeof path, "%s/ratings_h5/tiny.h5", argv[1]);
  need(clearn_ratings_from_triples(u, i, v, 6, &r), "triples");
  need(clearn_ratings_save(r, path), "save ratings");
  clearn_ratings_free(r);
  need(clearn_ratings_generate(40, 15, 200, 2, 3, 0.5, 1, 3, &r), "generate");
  snprintf(path, sizeof path, "%s/ratings_h5/gen.h5", argv[1]);
  need(clearn_ratings_save(r, path), "save generated");
  for (k = 0; k < n_kinds; k++) {
    const char *kind = clearn_kind_name(k);
    clearn_estimator *est = NULL;
    need(clearn_estimator_create(kind, &est), kind);
    snprintf(path, sizeof path, "%s/model/%s-unfitted.h5", argv[1], kind);
    need(clearn_estimator_save(est, path), "save unfitted");
    if (clearn_estimator_is_recommender(est)) {
      clearn_estimator_set_param_string(est, "rank", "2");
      clearn_estimator_set_param_string(est, "max_iter", "2");
      need(clearn_estimator_fit_ratings(est, r, NULL), "fit als");
    } else {
      double X[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13};
      double y[6] = {0, 1, 0, 1, 1, 0};
      clearn_matrix *mx = NULL, *my = NULL;
      clearn_matrix_wrap(X, 6, 2, CLEARN_FLOAT64, &mx);
      clearn_matrix_wrap(y, 6, 1, CLEARN_FLOAT64, &my);
      if (clearn_estimator_fit(est, mx, my, NULL) != CLEARN_OK)
        fprintf(stderr, "fuzz_seeds: %s: fit skipped: %s\n", kind,
                clearn_last_error());
      clearn_matrix_free(mx);
      clearn_matrix_free(my);
    }
    snprintf(path, sizeof path, "%s/model/%s.h5", argv[1], kind);
    need(clearn_estimator_save(est, path), "save fitted");
    clearn_estimator_free(est);
  }
  clearn_ratings_free(r);
  return 0;
}
