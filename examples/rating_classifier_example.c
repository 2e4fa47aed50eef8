/*
 * rating_classifier_example.c -- will a user rate a movie 4 or more?
 * ALS factors and rating statistics as features, then a standard scaler
 * and logistic regression, all through the public C API.
 *
 *   rating_classifier_example [RATINGS_FILE]
 *
 * With a MovieLens file (u.data, ratings.dat, ratings.csv; format found by
 * "auto") it uses that; without one, MovieLens-shaped generated data.
 * The ratings are split three ways (seed 42): ALS is fitted on 50%, the
 * classifier on the next 30% (pairs ALS has not seen, so its features are
 * honest), and 20% is held out.  Features of a (user, item) pair: the
 * user's and the item's mean rating and log(1 + count) on the ALS part,
 * ALS's predicted rating, and both factor vectors.  Prints ROC AUC, log
 * loss and accuracy on the held-out pairs next to two baselines (ALS's
 * prediction alone as the score, and the majority class); exits non-zero
 * if anything fails or the classifier does not beat ALS alone.
 *
 * Build against an installed clearn:
 *   cc rating_classifier_example.c $(pkg-config --cflags --libs clearn) -lm
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define RANK 16

/* Per-user or per-item statistics of the ALS part, indexed like its ids. */
typedef struct {
  const int64_t *ids;
  int64_t n;
  double *sum, *count;
} stats;

static int64_t find(const int64_t *ids, int64_t n, int64_t id) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (ids[mid] < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && ids[lo] == id ? lo : -1;
}

/* Factor row r of an ALS factor matrix (float32 or float64) as double. */
static double factor(const clearn_matrix *F, int64_t r, int64_t j) {
  const void *d = clearn_matrix_data(F);
  int64_t k = clearn_matrix_cols(F);
  return clearn_matrix_dtype(F) == CLEARN_FLOAT32
             ? (double)((const float *)d)[r * k + j]
             : ((const double *)d)[r * k + j];
}

/* Features and labels (rating >= 4) of every rating in part. */
static int features(const clearn_estimator *als, const clearn_ratings *part,
                    const stats *us, const stats *is, double mu,
                    const clearn_matrix *U, const clearn_matrix *V,
                    const clearn_matrix *uids, const clearn_matrix *iids,
                    double **Xo, double **yo, double **als_pred, int64_t *no,
                    int64_t *po) {
  int64_t n = clearn_ratings_nnz(part), p = 5 + 2 * RANK, r, j;
  int64_t *u = malloc((size_t)n * sizeof *u),
          *it = malloc((size_t)n * sizeof *it);
  float *v = malloc((size_t)n * sizeof *v);
  double *X = calloc((size_t)(n * p), sizeof *X), *y = malloc((size_t)n * 8),
         *pr = malloc((size_t)n * 8);
  if (!u || !it || !v || !X || !y || !pr)
    return 1;
  CHECK(clearn_ratings_triples(part, u, it, v));
  CHECK(clearn_estimator_predict_pairs(als, u, it, n, pr));
  for (r = 0; r < n; r++) {
    int64_t a = find(us->ids, us->n, u[r]), b = find(is->ids, is->n, it[r]);
    int64_t fa = find(clearn_matrix_data(uids), clearn_matrix_cols(uids), u[r]);
    int64_t fb =
        find(clearn_matrix_data(iids), clearn_matrix_cols(iids), it[r]);
    double *x = X + r * p;
    /* Unseen users or items get the global mean and no factors. */
    x[0] = a >= 0 ? us->sum[a] / us->count[a] : mu;
    x[1] = a >= 0 ? log1p(us->count[a]) : 0.0;
    x[2] = b >= 0 ? is->sum[b] / is->count[b] : mu;
    x[3] = b >= 0 ? log1p(is->count[b]) : 0.0;
    if (isnan(pr[r]))
      pr[r] = mu;
    x[4] = pr[r];
    for (j = 0; j < RANK; j++) {
      x[5 + j] = fa >= 0 ? factor(U, fa, j) : 0.0;
      x[5 + RANK + j] = fb >= 0 ? factor(V, fb, j) : 0.0;
    }
    y[r] = v[r] >= 4.0f ? 1.0 : 0.0;
  }
  free(u), free(it), free(v);
  *Xo = X, *yo = y, *als_pred = pr, *no = n, *po = p;
  return 0;
}

int main(int argc, char **argv) {
  clearn_ratings *all = NULL, *rest = NULL, *test = NULL, *als_part = NULL,
                 *lr_part = NULL;
  clearn_estimator *als = NULL, *scaler = NULL, *lr = NULL;
  clearn_matrix *U = NULL, *V = NULL, *uids = NULL, *iids = NULL, *Xm, *ym,
                *Zm = NULL, *Xt, *yt, *Zt = NULL, *proba = NULL, *pos = NULL,
                *base = NULL, *label = NULL, *classes = NULL;
  stats us, is;
  int64_t n, p, nt, k, nnz, skipped = 0;
  int64_t *au, *ai;
  float *av;
  double *X, *y, *Xtest, *ytest, *pa, *pt, mu = 0, auc, auc_als, ll, acc,
                                           rate = 0;
  int rc;

  if (argc > 1) {
    CHECK(clearn_ratings_load_text(argv[1], "auto", 0, &skipped, &all));
    printf("%s: ", argv[1]);
  } else {
    CHECK(clearn_ratings_generate(3000, 1500, 150000, 20, 8, 0.5, 1, 42, &all));
    printf("generated MovieLens-shaped data: ");
  }
  printf("%lld ratings\n", (long long)clearn_ratings_nnz(all));
  CHECK(clearn_ratings_split_random(all, 0.2, 42, &rest, &test));
  CHECK(clearn_ratings_split_random(rest, 0.375, 43, &als_part, &lr_part));

  /* 1. ALS on its part. */
  CHECK(clearn_estimator_create("als", &als));
  CHECK(clearn_estimator_set_param_int(als, "rank", RANK));
  CHECK(clearn_estimator_set_param_double(als, "reg", 0.07));
  CHECK(clearn_estimator_set_param_int(als, "max_iter", 10));
  CHECK(clearn_estimator_set_param_string(als, "cold_start", "nan"));
  CHECK(clearn_estimator_fit_ratings(als, als_part, NULL));
  CHECK(clearn_estimator_get_attr(als, "user_factors", &U));
  CHECK(clearn_estimator_get_attr(als, "item_factors", &V));
  CHECK(clearn_estimator_get_attr(als, "user_ids", &uids));
  CHECK(clearn_estimator_get_attr(als, "item_ids", &iids));

  /* 2. Rating means and counts on the ALS part. */
  nnz = clearn_ratings_nnz(als_part);
  au = malloc((size_t)nnz * sizeof *au);
  ai = malloc((size_t)nnz * sizeof *ai);
  av = malloc((size_t)nnz * sizeof *av);
  us.ids = clearn_ratings_user_ids(als_part);
  us.n = clearn_ratings_n_users(als_part);
  is.ids = clearn_ratings_item_ids(als_part);
  is.n = clearn_ratings_n_items(als_part);
  us.sum = calloc((size_t)us.n, 8), us.count = calloc((size_t)us.n, 8);
  is.sum = calloc((size_t)is.n, 8), is.count = calloc((size_t)is.n, 8);
  if (!au || !ai || !av || !us.sum || !us.count || !is.sum || !is.count)
    return 1;
  CHECK(clearn_ratings_triples(als_part, au, ai, av));
  for (k = 0; k < nnz; k++) {
    int64_t a = clearn_ratings_user_index(als_part, au[k]),
            b = clearn_ratings_item_index(als_part, ai[k]);
    us.sum[a] += av[k], us.count[a] += 1;
    is.sum[b] += av[k], is.count[b] += 1;
    mu += av[k];
  }
  mu /= (double)nnz;

  /* 3. Features of the classifier's part and of the held-out part. */
  if (features(als, lr_part, &us, &is, mu, U, V, uids, iids, &X, &y, &pa, &n,
               &p) ||
      features(als, test, &us, &is, mu, U, V, uids, iids, &Xtest, &ytest, &pt,
               &nt, &p))
    return 1;
  for (k = 0; k < n; k++)
    rate += y[k];
  printf("ALS rank %d on %lld ratings; classifier on %lld pairs (%.1f%% rated "
         ">= 4), %lld features; %lld held out\n",
         RANK, (long long)nnz, (long long)n, 100.0 * rate / (double)n,
         (long long)p, (long long)nt);

  /* 4. Scale, then logistic regression. */
  CHECK(clearn_matrix_wrap(X, n, p, CLEARN_FLOAT64, &Xm));
  CHECK(clearn_matrix_wrap(y, n, 1, CLEARN_FLOAT64, &ym));
  CHECK(clearn_matrix_wrap(Xtest, nt, p, CLEARN_FLOAT64, &Xt));
  CHECK(clearn_matrix_wrap(ytest, nt, 1, CLEARN_FLOAT64, &yt));
  CHECK(clearn_estimator_create("standard_scaler", &scaler));
  CHECK(clearn_estimator_fit(scaler, Xm, NULL, NULL));
  CHECK(clearn_estimator_transform(scaler, Xm, &Zm));
  CHECK(clearn_estimator_transform(scaler, Xt, &Zt));
  CHECK(clearn_estimator_create("logistic_regression", &lr));
  CHECK(clearn_estimator_set_param_double(lr, "C", 1.0));
  rc = clearn_estimator_fit(lr, Zm, ym, NULL);
  if (rc == CLEARN_ENOTCONVERGED)
    printf("note: %s\n", clearn_last_error()); /* the model is usable */
  else
    CHECK(rc);

  /* 5. Held-out scores: P(rating >= 4) is column 1 (classes 0, 1). */
  CHECK(clearn_estimator_get_attr(lr, "classes", &classes));
  CHECK(clearn_estimator_predict_proba(lr, Zt, &proba));
  CHECK(clearn_matrix_create(nt, 1, CLEARN_FLOAT64, &pos));
  for (k = 0; k < nt; k++)
    ((double *)clearn_matrix_mutable_data(pos))[k] =
        clearn_matrix_get(proba, k, 1);
  CHECK(clearn_metric_roc_auc(yt, pos, NULL, &auc));
  CHECK(clearn_metric_log_loss(yt, proba, NULL, &ll));
  CHECK(clearn_estimator_score(lr, Zt, yt, NULL, &acc));
  CHECK(clearn_matrix_wrap(pt, nt, 1, CLEARN_FLOAT64, &base));
  CHECK(clearn_metric_roc_auc(yt, base, NULL, &auc_als));
  rate = 0;
  for (k = 0; k < nt; k++)
    rate += ytest[k];
  rate /= (double)nt;
  printf("held out: ROC AUC %.4f (ALS prediction alone %.4f), log loss "
         "%.4f, accuracy %.4f (majority class %.4f)\n",
         auc, auc_als, ll, acc, rate > 0.5 ? rate : 1 - rate);

  clearn_matrix_free(U), clearn_matrix_free(V), clearn_matrix_free(uids),
      clearn_matrix_free(iids), clearn_matrix_free(Xm), clearn_matrix_free(ym),
      clearn_matrix_free(Zm), clearn_matrix_free(Xt), clearn_matrix_free(yt),
      clearn_matrix_free(Zt), clearn_matrix_free(proba),
      clearn_matrix_free(pos), clearn_matrix_free(base),
      clearn_matrix_free(label), clearn_matrix_free(classes);
  clearn_estimator_free(als), clearn_estimator_free(scaler),
      clearn_estimator_free(lr);
  clearn_ratings_free(all), clearn_ratings_free(rest),
      clearn_ratings_free(test), clearn_ratings_free(als_part),
      clearn_ratings_free(lr_part);
  free(au), free(ai), free(av), free(us.sum), free(us.count), free(is.sum),
      free(is.count), free(X), free(y), free(Xtest), free(ytest), free(pa),
      free(pt);
  if (!(auc > auc_als)) {
    fprintf(stderr, "the classifier did not beat ALS's prediction alone\n");
    return 1;
  }
  return 0;
}
