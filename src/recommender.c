/*
 * recommender.c -- generic dispatch of the recommender calls and the
 * metrics built on top of them.
 *
 * Kinds provide fit / predict_pairs / recommend / similar_items / fold_in
 * (clearn__recommender_ops); RMSE, MAE and the ranking metrics are computed
 * here once from predict_pairs and recommend, so every recommender kind
 * is scored the same way.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int rec_ops(const clearn_estimator *est,
                   const clearn__recommender_ops **ops, const char *call) {
  if (est == NULL) return clearn__err(CLEARN_EINVAL, "estimator is NULL");
  *ops = est->type->rec;
  if (*ops == NULL)
    return clearn__est_fail(
        est, clearn__err(CLEARN_EUNSUPPORTED,
                         "%s: %s is only offered by recommenders (als)",
                         est->type->name, call));
  return CLEARN_OK;
}

static int need_model(const clearn_estimator *est) {
  if (est->model == NULL)
    return clearn__est_fail(
        est, clearn__err(CLEARN_ENOTFITTED,
                         "%s: this estimator is not fitted yet; call "
                         "fit_ratings first",
                         est->type->name));
  return CLEARN_OK;
}

int clearn_estimator_is_recommender(const clearn_estimator *est) {
  return est != NULL && est->type->rec != NULL;
}

int clearn_estimator_set_progress(clearn_estimator *est,
                                  clearn_progress_fn fn, void *user_data) {
  if (est == NULL) return clearn__err(CLEARN_EINVAL, "estimator is NULL");
  est->progress.fn = fn;
  est->progress.user_data = fn ? user_data : NULL;
  return CLEARN_OK;
}

int clearn_estimator_set_checkpoint(clearn_estimator *est, const char *path,
                                    int64_t every) {
  const clearn__recommender_ops *ops;
  char *copy = NULL;
  int rc = rec_ops(est, &ops, "set_checkpoint");
  if (rc != CLEARN_OK) return rc;
  if (path != NULL && every < 1)
    return clearn__est_fail(
        est, clearn__err(CLEARN_EINVAL,
                         "%s: set_checkpoint: every = %lld must be >= 1",
                         est->type->name, (long long)every));
  if (path != NULL) {
    copy = clearn__malloc(strlen(path) + 1, 1);
    if (copy == NULL)
      return clearn__est_fail(
          est, clearn__err(CLEARN_ENOMEM, "set_checkpoint: out of memory"));
    memcpy(copy, path, strlen(path) + 1);
  }
  free(est->ckpt_path);
  est->ckpt_path = copy;
  est->ckpt_every = copy ? every : 0;
  return CLEARN_OK;
}

int clearn__ckpt_write(void *ctx, const void *model, int64_t n_iter) {
  const clearn__ckpt_file *cf = ctx;
  clearn_estimator view;
  int rc;
  (void)n_iter;
  if (!cf->write_here) return CLEARN_OK;
  /* The handle's kind and parameters with the model in progress. */
  memcpy(&view, cf->est, sizeof view);
  view.model = (void *)model;
  rc = clearn_estimator_save(&view, cf->path);
  if (rc != CLEARN_OK)
    rc = clearn__err_prefix(rc, "checkpoint after iteration %lld",
                            (long long)n_iter);
  return rc;
}

int clearn__shard_serial(const clearn_ratings *tr, const clearn_ratings *va,
                         clearn__serial_shard *s) {
  int64_t u, q;
  memset(s, 0, sizeof *s);
  s->sh.n_users = tr->n_users;
  s->sh.n_items = tr->n_items;
  s->sh.nnz = tr->nnz;
  s->sh.user_ids = tr->user_ids;
  s->sh.item_ids = tr->item_ids;
  s->sh.rank = 0;
  s->sh.size = 1;
  s->user_off[1] = tr->n_users;
  s->item_off[1] = tr->n_items;
  s->nnz_off[1] = tr->nnz;
  s->sh.user_off = s->user_off;
  s->sh.item_off = s->item_off;
  s->sh.nnz_off = s->nnz_off;
  s->sh.u_ptr = tr->u_ptr;
  s->sh.u_idx = tr->u_idx;
  s->sh.u_val = tr->u_val;
  s->sh.i_ptr = tr->i_ptr;
  s->sh.i_idx = tr->i_idx;
  s->sh.i_val = tr->i_val;
  if (va == NULL) return CLEARN_OK;
  s->va_urow = clearn__malloc((size_t)(va->n_users + 1), sizeof(int64_t));
  s->va_irow = clearn__malloc((size_t)(va->nnz + 1), sizeof(int64_t));
  if (!s->va_urow || !s->va_irow) {
    free(s->va_urow);
    free(s->va_irow);
    return clearn__err(CLEARN_ENOMEM, "fit_ratings: out of memory");
  }
  for (u = 0; u < va->n_users; u++)
    s->va_urow[u] = clearn__id_lookup(tr->user_ids, tr->n_users,
                                      va->user_ids[u]);
  for (q = 0; q < va->nnz; q++)
    s->va_irow[q] = clearn__id_lookup(tr->item_ids, tr->n_items,
                                      va->item_ids[va->u_idx[q]]);
  s->sh.has_valid = 1;
  s->va_off[1] = va->n_users;
  s->sh.va_off = s->va_off;
  s->sh.va_ptr = va->u_ptr;
  s->sh.va_urow = s->va_urow;
  s->sh.va_irow = s->va_irow;
  s->sh.va_val = va->u_val;
  return CLEARN_OK;
}

void clearn__shard_serial_free(clearn__serial_shard *s) {
  free(s->va_urow);
  free(s->va_irow);
  s->va_urow = s->va_irow = NULL;
}

static int fit_or_resume(clearn_estimator *est, const clearn_ratings *train,
                         const clearn_ratings *validation, int resume,
                         const char *call) {
  const clearn__recommender_ops *ops;
  void *model = NULL;
  clearn__serial_shard s;
  clearn__ckpt_file cf;
  clearn__checkpoint ck;
  int rc = rec_ops(est, &ops, call);
  if (rc != CLEARN_OK) return rc;
  if (resume && (rc = need_model(est)) != CLEARN_OK) return rc;
  if (train == NULL)
    return clearn__est_fail(
        est, clearn__err(CLEARN_EINVAL, "%s: training ratings are NULL",
                         est->type->name));
  if (train->nnz == 0)
    return clearn__est_fail(
        est, clearn__err(CLEARN_ESHAPE, "%s: training ratings are empty",
                         est->type->name));
  if (est->type->check && (rc = est->type->check(est->params)) != CLEARN_OK)
    return clearn__est_fail(est, rc);
  if ((rc = clearn__shard_serial(train, validation, &s)) != CLEARN_OK)
    return clearn__est_fail(est, rc);
  cf.est = est;
  cf.path = est->ckpt_path;
  cf.write_here = 1;
  ck.write = clearn__ckpt_write;
  ck.ctx = &cf;
  ck.every = est->ckpt_every;
  rc = ops->fit(est->params, &s.sh, NULL, &est->progress,
                resume ? est->model : NULL, est->ckpt_path ? &ck : NULL,
                &model);
  clearn__shard_serial_free(&s);
  if (model != NULL) clearn__est_set_model(est, model);
  return clearn__est_fail(est, rc);
}

int clearn_estimator_fit_ratings(clearn_estimator *est,
                                 const clearn_ratings *train,
                                 const clearn_ratings *validation) {
  return fit_or_resume(est, train, validation, 0, "fit_ratings");
}

int clearn_estimator_resume_ratings(clearn_estimator *est,
                                    const clearn_ratings *train,
                                    const clearn_ratings *validation) {
  return fit_or_resume(est, train, validation, 1, "resume_ratings");
}

int clearn_estimator_predict_pairs(const clearn_estimator *est,
                                   const int64_t *users, const int64_t *items,
                                   int64_t n, double *out) {
  const clearn__recommender_ops *ops;
  int rc = rec_ops(est, &ops, "predict_pairs");
  if (rc != CLEARN_OK) return rc;
  if ((rc = need_model(est)) != CLEARN_OK) return rc;
  if (n < 0 || (n > 0 && (!users || !items || !out)))
    return clearn__est_fail(
        est, clearn__err(CLEARN_EINVAL, "%s: predict_pairs: NULL array or "
                         "negative n", est->type->name));
  return clearn__est_fail(
      est, ops->predict_pairs(est->params, est->model, users, items, n, out));
}

int clearn_estimator_score_ratings(const clearn_estimator *est,
                                   const clearn_ratings *test,
                                   const char *metric, double *out,
                                   int64_t *n_used) {
  const clearn__recommender_ops *ops;
  int64_t *u = NULL, *it = NULL, k, used = 0;
  float *v = NULL;
  double *p = NULL, acc = 0;
  int rc = rec_ops(est, &ops, "score_ratings"), mae;
  if (rc != CLEARN_OK) return rc;
  if ((rc = need_model(est)) != CLEARN_OK) return rc;
  if (test == NULL || out == NULL || metric == NULL)
    return clearn__est_fail(est, clearn__err(CLEARN_EINVAL,
                                             "score_ratings: NULL argument"));
  if (strcmp(metric, "rmse") != 0 && strcmp(metric, "mae") != 0)
    return clearn__est_fail(
        est, clearn__err(CLEARN_EINVAL,
                         "score_ratings: unknown metric '%s' (known: rmse, "
                         "mae)",
                         metric));
  mae = metric[0] == 'm';
  u = clearn__malloc((size_t)test->nnz, sizeof(int64_t));
  it = clearn__malloc((size_t)test->nnz, sizeof(int64_t));
  v = clearn__malloc((size_t)test->nnz, sizeof(float));
  p = clearn__malloc((size_t)test->nnz, sizeof(double));
  if (!u || !it || !v || !p) {
    rc = clearn__err(CLEARN_ENOMEM, "score_ratings: out of memory");
    goto cleanup;
  }
  clearn_ratings_triples(test, u, it, v);
  rc = ops->predict_pairs(est->params, est->model, u, it, test->nnz, p);
  if (rc != CLEARN_OK) goto cleanup;
  for (k = 0; k < test->nnz; k++) {
    double d = p[k] - (double)v[k];
    if (isnan(p[k]) && ops->drops_cold && ops->drops_cold(est->params))
      continue;
    acc += mae ? fabs(d) : d * d;
    used++;
  }
  *out = used == 0 ? NAN : (mae ? acc / (double)used : sqrt(acc / (double)used));
  if (n_used) *n_used = used;
cleanup:
  free(u);
  free(it);
  free(v);
  free(p);
  return clearn__est_fail(est, rc);
}

int clearn_estimator_recommend(const clearn_estimator *est,
                               const int64_t *users, int64_t n_users,
                               int64_t k, const clearn_ratings *exclude,
                               int64_t *items, double *scores) {
  const clearn__recommender_ops *ops;
  int rc = rec_ops(est, &ops, "recommend");
  if (rc != CLEARN_OK) return rc;
  if ((rc = need_model(est)) != CLEARN_OK) return rc;
  if (k < 1 || n_users < 0 || (n_users > 0 && (!users || !items)))
    return clearn__est_fail(
        est, clearn__err(CLEARN_EINVAL,
                         "%s: recommend: k = %lld must be >= 1 and the "
                         "arrays non-NULL",
                         est->type->name, (long long)k));
  return clearn__est_fail(est, ops->recommend(est->params, est->model, users,
                                              n_users, k, exclude, items,
                                              scores));
}

int clearn_estimator_similar_items(const clearn_estimator *est, int64_t item,
                                   int64_t k, int64_t *items, double *scores) {
  const clearn__recommender_ops *ops;
  int rc = rec_ops(est, &ops, "similar_items");
  if (rc != CLEARN_OK) return rc;
  if ((rc = need_model(est)) != CLEARN_OK) return rc;
  if (k < 1 || items == NULL)
    return clearn__est_fail(
        est, clearn__err(CLEARN_EINVAL,
                         "%s: similar_items: k = %lld must be >= 1 and items "
                         "non-NULL",
                         est->type->name, (long long)k));
  return clearn__est_fail(
      est, ops->similar_items(est->params, est->model, item, k, items, scores));
}

int clearn_estimator_fold_in(clearn_estimator *est, int64_t user_id,
                             const int64_t *items, const float *values,
                             int64_t n, int64_t *n_ignored) {
  const clearn__recommender_ops *ops;
  int rc = rec_ops(est, &ops, "fold_in");
  if (rc != CLEARN_OK) return rc;
  if ((rc = need_model(est)) != CLEARN_OK) return rc;
  if (n < 0 || (n > 0 && (!items || !values)))
    return clearn__est_fail(est, clearn__err(CLEARN_EINVAL,
                                             "fold_in: NULL array or negative n"));
  return clearn__est_fail(est, ops->fold_in(est->params, est->model, user_id,
                                            items, values, n, n_ignored));
}

/* Ranking metrics, per user then averaged (Spark's RankingMetrics):
 *   precision@k = hits / k
 *   recall@k    = hits / |relevant|
 *   nDCG@k      = DCG / ideal DCG with binary gains, log2(rank + 1)
 *   AP@k        = sum over hit positions of precision there / min(|rel|, k) */
int clearn_estimator_ranking_metrics(const clearn_estimator *est,
                                     const clearn_ratings *exclude,
                                     const clearn_ratings *test, int64_t k,
                                     double threshold, double out[4]) {
  const clearn__recommender_ops *ops;
  int64_t *users = NULL, *recs = NULL, nu = 0, u, j, q;
  double sums[4] = {0, 0, 0, 0};
  int rc = rec_ops(est, &ops, "ranking_metrics");
  if (rc != CLEARN_OK) return rc;
  if ((rc = need_model(est)) != CLEARN_OK) return rc;
  if (test == NULL || out == NULL || k < 1)
    return clearn__est_fail(
        est, clearn__err(CLEARN_EINVAL,
                         "ranking_metrics: test and out must be non-NULL and "
                         "k >= 1"));
  users = clearn__malloc((size_t)test->n_users, sizeof(int64_t));
  recs = clearn__malloc((size_t)test->n_users * (size_t)k, sizeof(int64_t));
  if (!users || !recs) {
    rc = clearn__err(CLEARN_ENOMEM, "ranking_metrics: out of memory");
    goto cleanup;
  }
  /* Users with at least one relevant test item. */
  for (u = 0; u < test->n_users; u++) {
    int any = 0;
    for (q = test->u_ptr[u]; q < test->u_ptr[u + 1] && !any; q++)
      any = test->u_val[q] >= threshold;
    if (any) users[nu++] = test->user_ids[u];
  }
  if (nu == 0) {
    rc = clearn__err(CLEARN_EINVAL,
                     "ranking_metrics: no test user has a rating >= %g",
                     threshold);
    goto cleanup;
  }
  rc = ops->recommend(est->params, est->model, users, nu, k,
                      exclude ? exclude : NULL, recs, NULL);
  if (rc != CLEARN_OK) goto cleanup;
  for (j = 0; j < nu; j++) {
    int64_t tu = clearn__id_lookup(test->user_ids, test->n_users, users[j]);
    int64_t n_rel = 0, hits = 0;
    double dcg = 0, idcg = 0, ap = 0;
    for (q = test->u_ptr[tu]; q < test->u_ptr[tu + 1]; q++)
      n_rel += test->u_val[q] >= threshold;
    for (q = 0; q < k; q++) {
      int64_t item = recs[j * k + q], ti, p;
      int rel = 0;
      if (item < 0) continue;
      ti = clearn__id_lookup(test->item_ids, test->n_items, item);
      for (p = test->u_ptr[tu]; ti >= 0 && p < test->u_ptr[tu + 1]; p++)
        if (test->u_idx[p] == ti && test->u_val[p] >= threshold) rel = 1;
      if (rel) {
        hits++;
        dcg += 1.0 / log2((double)q + 2.0);
        ap += (double)hits / (double)(q + 1);
      }
    }
    for (q = 0; q < (n_rel < k ? n_rel : k); q++) idcg += 1.0 / log2((double)q + 2.0);
    sums[0] += (double)hits / (double)k;
    sums[1] += (double)hits / (double)n_rel;
    sums[2] += dcg / idcg;
    sums[3] += ap / (double)(n_rel < k ? n_rel : k);
  }
  for (j = 0; j < 4; j++) out[j] = sums[j] / (double)nu;
cleanup:
  free(users);
  free(recs);
  return clearn__est_fail(est, rc);
}
