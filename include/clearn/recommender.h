/*
 * clearn/recommender.h -- estimator calls for recommenders (kind "als").
 *
 * These take the same clearn_estimator handle as the supervised calls and
 * dispatch to the kind; a kind that is not a recommender returns
 * CLEARN_EUNSUPPORTED.  Users and items are always ORIGINAL ids (the ids of
 * the ratings the model was fitted on, kept in the model and in its file);
 * dense indices never cross this interface.
 *
 * Errors and thread safety as in clearn/estimator.h: predict, recommend and
 * similar_items may run concurrently on one fitted handle; fit_ratings and
 * fold_in modify it and must not.
 */
#ifndef CLEARN_RECOMMENDER_H
#define CLEARN_RECOMMENDER_H

#include "clearn/core.h"
#include "clearn/estimator.h"
#include "clearn/ratings.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 if est is a recommender (fit with clearn_estimator_fit_ratings), else
 * 0.  NULL gives 0. */
CLEARN_API int clearn_estimator_is_recommender(const clearn_estimator *est);

/* Progress callback, called by iterative fits after every iteration with
 * the 1-based iteration number and the record of that iteration: names[i]
 * and values[i] for i < n (for ALS: "train_loss", "train_rmse",
 * "valid_rmse" (NaN without validation data), "seconds", "comm_seconds"
 * (time spent communicating, 0 in a single-process fit)).  Return 0 to go
 * on, non-zero to stop after this iteration (the model so far is kept; in
 * a distributed fit every rank stops if any rank's callback asks to).
 * Called from the thread that called fit, on every rank of a distributed
 * fit. */
typedef int (*clearn_progress_fn)(void *user_data, int iteration,
                                  const char *const *names,
                                  const double *values, int n);

/* Install (fn non-NULL) or remove (fn NULL) the progress callback.  It is
 * not saved with the model and not copied by clone. */
CLEARN_API int clearn_estimator_set_progress(clearn_estimator *est,
                                             clearn_progress_fn fn,
                                             void *user_data);

/* Fit on ratings; validation (may be NULL) is scored after every iteration
 * for the history and the progress callback.  A failed fit keeps the
 * previous model. */
CLEARN_API int clearn_estimator_fit_ratings(clearn_estimator *est,
                                            const clearn_ratings *train,
                                            const clearn_ratings *validation);

/* Checkpoints for the fits of est: after every `every` iterations the
 * model so far (kind, parameters, factors, history) is saved to path
 * atomically (written beside it, then renamed over it), so path always
 * holds a complete model: clearn_estimator_load() reads it and
 * clearn_estimator_resume_ratings() continues from it.  A failed write
 * fails the fit (the previous model is kept).  path NULL turns checkpoints
 * off; every must be >= 1 (CLEARN_EINVAL).  The setting is not saved with
 * the model and not copied by clone.  In a distributed fit rank 0 writes. */
CLEARN_API int clearn_estimator_set_checkpoint(clearn_estimator *est,
                                               const char *path,
                                               int64_t every);

/* Continue the fit of est's model -- typically one loaded from a
 * checkpoint -- on the same training ratings (and validation) until it has
 * max_iter iterations in all (the parameter may have been raised).  The
 * result is bitwise the model an uninterrupted fit would have given.  The
 * model must come from the same ratings (same ids, count and mean:
 * CLEARN_EINVAL otherwise) and parameters (rank, dtype, biases, implicit,
 * weighted_reg, nonnegative, reg, reg_exponent, alpha; the others may
 * change).  A model that has max_iter iterations already, or that met tol,
 * is left as it is.  A failed resume keeps the model. */
CLEARN_API int clearn_estimator_resume_ratings(clearn_estimator *est,
                                               const clearn_ratings *train,
                                               const clearn_ratings *validation);

/* Predicted ratings for n (user, item) pairs into out[n].  Pairs with an
 * unseen user or item follow the estimator's cold_start parameter: "nan"
 * and "drop" write NaN ("drop" matters for scoring, where such pairs are
 * left out), "mean" writes the global mean plus the known bias. */
CLEARN_API int clearn_estimator_predict_pairs(const clearn_estimator *est,
                                              const int64_t *users,
                                              const int64_t *items, int64_t n,
                                              double *out);

/* Metrics over every rating of `test`: "rmse" or "mae" of the predicted
 * against the actual ratings (cold-start pairs as the cold_start parameter
 * says: "drop" leaves them out, "nan" makes the result NaN).  *n_used (may
 * be NULL) receives the number of ratings scored. */
CLEARN_API int clearn_estimator_score_ratings(const clearn_estimator *est,
                                              const clearn_ratings *test,
                                              const char *metric, double *out,
                                              int64_t *n_used);

/* Top-k items for each of n_users users, best first: items[u * k + j] and
 * scores[u * k + j] (scores may be NULL).  exclude: items to leave out per
 * user -- NULL excludes the items each user rated in the training data;
 * pass a ratings object to exclude its items instead (e.g. train when
 * recommending for a test split).  Slots beyond the available items hold
 * id -1 and score NaN; an unknown user gets an all -1 row. */
CLEARN_API int clearn_estimator_recommend(const clearn_estimator *est,
                                          const int64_t *users,
                                          int64_t n_users, int64_t k,
                                          const clearn_ratings *exclude,
                                          int64_t *items, double *scores);

/* The k items most similar to `item` by cosine similarity of the item
 * factors, the item itself excluded. */
CLEARN_API int clearn_estimator_similar_items(const clearn_estimator *est,
                                              int64_t item, int64_t k,
                                              int64_t *items, double *scores);

/* Fold in a user from their ratings (item ids and values, n of them)
 * without refitting: solves that user's row against the fixed item factors
 * and adds (or replaces) user_id in the model, so predict and recommend
 * serve it.  Unknown items are ignored (counted in *n_ignored, may be
 * NULL). */
CLEARN_API int clearn_estimator_fold_in(clearn_estimator *est, int64_t user_id,
                                        const int64_t *items,
                                        const float *values, int64_t n,
                                        int64_t *n_ignored);

/* Ranking metrics at k over the users of `test` (e.g. from
 * clearn_ratings_split_leave_k_out): recommendations exclude the items in
 * `exclude` (normally the training ratings); a test item is relevant when
 * its rating is >= threshold (use -inf for implicit data).  out[0..3] =
 * precision@k, recall@k, nDCG@k, MAP@k, averaged over users with at least
 * one relevant test item (as Spark's RankingMetrics). */
CLEARN_API int clearn_estimator_ranking_metrics(const clearn_estimator *est,
                                                const clearn_ratings *exclude,
                                                const clearn_ratings *test,
                                                int64_t k, double threshold,
                                                double out[4]);

#ifdef __cplusplus
}
#endif
#endif /* CLEARN_RECOMMENDER_H */
