/*
 * als_example.c -- a movie recommender with ALS through the public C API.
 *
 *   als_example [RATINGS_FILE [RANK]]
 *
 * With a MovieLens file (u.data, ratings.dat, ratings.csv, ...; the format
 * is recognized by clearn_ratings_load_text's "auto") it trains on a random
 * 90% of the ratings (split seed 42) with RANK factors (default 32);
 * without one it uses MovieLens-shaped generated data and rank 16.
 * Prints the progress of every iteration, the RMSE on the held-out 10%
 * against the global-mean baseline, and the top 10 recommendations of one
 * user (never a movie that user rated in training).  Exits non-zero if
 * anything fails or ALS does not beat the baseline.
 *
 * Build against an installed clearn:
 *   cc als_example.c $(pkg-config --cflags --libs clearn) -o als_example
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

static int show(void *user_data, int iteration, const char *const *names,
                const double *values, int n) {
  int i;
  (void)user_data;
  printf("  iteration %2d:", iteration);
  for (i = 0; i < n; i++) printf("  %s %.4f", names[i], values[i]);
  printf("\n");
  return 0; /* non-zero would stop the fit here */
}

int main(int argc, char **argv) {
  clearn_ratings *all = NULL, *train = NULL, *test = NULL;
  clearn_estimator *als = NULL;
  int64_t n_test, k, user, top[10], skipped = 0, used = 0;
  int rank = argc > 2 ? atoi(argv[2]) : argc > 1 ? 32 : 16;
  double scores[10], rmse, mae, mean = 0, base = 0;
  float *v;

  if (argc > 1) {
    CHECK(clearn_ratings_load_text(argv[1], "auto", 0, &skipped, &all));
    printf("%s: ", argv[1]);
  } else {
    /* 3000 users, 1500 items, 150000 whole-star ratings. */
    CHECK(clearn_ratings_generate(3000, 1500, 150000, 20, 8, 0.5, 1, 42, &all));
    printf("generated MovieLens-shaped data: ");
  }
  printf("%lld ratings, %lld users, %lld items\n",
         (long long)clearn_ratings_nnz(all),
         (long long)clearn_ratings_n_users(all),
         (long long)clearn_ratings_n_items(all));
  CHECK(clearn_ratings_split_random(all, 0.1, 42, &train, &test));

  CHECK(clearn_estimator_create("als", &als));
  CHECK(clearn_estimator_set_param_int(als, "rank", rank));
  CHECK(clearn_estimator_set_param_double(als, "reg", 0.07));
  CHECK(clearn_estimator_set_param_int(als, "max_iter", 10));
  /* A random split leaves a few users or movies only in the test part:
   * leave them out of the RMSE instead of making it NaN. */
  CHECK(clearn_estimator_set_param_string(als, "cold_start", "drop"));
  CHECK(clearn_estimator_set_progress(als, show, NULL));
  printf("ALS rank %d, reg 0.07 (ALS-WR), 10 iterations:\n", rank);
  CHECK(clearn_estimator_fit_ratings(als, train, test));

  CHECK(clearn_estimator_score_ratings(als, test, "rmse", &rmse, &used));
  CHECK(clearn_estimator_score_ratings(als, test, "mae", &mae, NULL));
  /* Baseline: predict the training mean for every test rating. */
  n_test = clearn_ratings_nnz(test);
  if ((v = malloc((size_t)clearn_ratings_nnz(train) * sizeof(float))) == NULL)
    return 1;
  CHECK(clearn_ratings_triples(train, NULL, NULL, v));
  for (k = 0; k < clearn_ratings_nnz(train); k++) mean += v[k];
  mean /= (double)clearn_ratings_nnz(train);
  free(v);
  if ((v = malloc((size_t)n_test * sizeof(float))) == NULL) return 1;
  CHECK(clearn_ratings_triples(test, NULL, NULL, v));
  for (k = 0; k < n_test; k++) base += (v[k] - mean) * (v[k] - mean);
  base = sqrt(base / (double)n_test);
  free(v);
  printf("test RMSE %.4f, MAE %.4f over %lld of %lld ratings (global-mean "
         "baseline RMSE %.4f)\n",
         rmse, mae, (long long)used, (long long)n_test, base);

  user = clearn_ratings_user_ids(train)[0];
  CHECK(clearn_estimator_recommend(als, &user, 1, 10, NULL, top, scores));
  printf("top 10 for user %lld:", (long long)user);
  for (k = 0; k < 10; k++)
    if (top[k] >= 0) printf(" %lld (%.2f)", (long long)top[k], scores[k]);
  printf("\n");

  clearn_estimator_free(als);
  clearn_ratings_free(all);
  clearn_ratings_free(train);
  clearn_ratings_free(test);
  if (!(rmse < base)) {
    fprintf(stderr, "ALS did not beat the global-mean baseline\n");
    return 1;
  }
  return 0;
}
