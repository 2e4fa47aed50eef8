/*
 * ratings_split.c -- train/test splits of a ratings object.
 *
 * Both splits first mark each rating (in by-user order) as train or test,
 * then build the two results from the parent's dense indices: no id is
 * parsed, hashed or searched.  Each result keeps only the users and items
 * present in it, so the parent's indices are compacted by one renumbering
 * pass and its id maps filtered (ascending order is preserved, so the new
 * maps need no sort), then handed to clearn__ratings_build.
 *
 * The random choice is selection sampling (Knuth's Algorithm S): walking
 * the N candidates once, each is taken with probability (still needed) /
 * (still left), which draws a uniformly random subset of exactly the
 * requested size -- the same distribution as a seeded Fisher-Yates shuffle
 * cut at that size, without an index array or random memory access.  The
 * generator is xoshiro256** seeded through splitmix64, so a seed fixes the
 * result on every platform.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rng.h"

typedef clearn__rng rng;

/* Uniform double in [0, 1) with 53 random bits. */
static double rng_unit(rng *r) {
  return (double)(clearn__rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Mark exactly `take` of the n bytes of mark[] with 1 (others 0), uniformly
 * at random: candidate j is taken with probability needed / left.  The
 * count is exact whatever the rounding, since the probability reaches 1
 * when needed == left and 0 when needed == 0. */
static void select_k(rng *r, uint8_t *mark, int64_t n, int64_t take) {
  int64_t left = n, need = take;
  for (int64_t j = 0; j < n; j++, left--) {
    int t = need > 0 && rng_unit(r) * (double)left < (double)need;
    mark[j] = (uint8_t)t;
    need -= t;
  }
}

/* The ratings of r whose mark equals want, as a new object with compacted
 * id maps. */
static int subset(const clearn_ratings *r, const uint8_t *mark, int want,
                  clearn_ratings **out) {
  int64_t m = 0, k, us, w, nu = 0, ni = 0;
  int32_t *u = NULL, *i = NULL, *ur = NULL, *ir = NULL;
  int64_t *uids = NULL, *iids = NULL;
  float *v = NULL;
  int rc;
  *out = NULL;
  for (k = 0; k < r->nnz; k++) m += mark[k] == want;
  u = clearn__malloc((size_t)m, sizeof *u);
  i = clearn__malloc((size_t)m, sizeof *i);
  v = clearn__malloc((size_t)m, sizeof *v);
  ur = clearn__malloc((size_t)r->n_users, sizeof *ur);
  ir = clearn__malloc((size_t)r->n_items, sizeof *ir);
  if (!u || !i || !v || !ur || !ir) goto nomem;
  for (k = 0; k < r->n_users; k++) ur[k] = -1;
  for (k = 0; k < r->n_items; k++) ir[k] = -1;
  w = 0;
  for (us = 0; us < r->n_users; us++)
    for (k = r->u_ptr[us]; k < r->u_ptr[us + 1]; k++)
      if (mark[k] == want) {
        u[w] = (int32_t)us;
        i[w] = r->u_idx[k];
        v[w] = r->u_val[k];
        ur[us] = ir[r->u_idx[k]] = 0;
        w++;
      }
  /* Present users / items, renumbered in (ascending) parent order. */
  for (k = 0; k < r->n_users; k++) nu += ur[k] == 0;
  for (k = 0; k < r->n_items; k++) ni += ir[k] == 0;
  uids = clearn__malloc((size_t)nu, sizeof *uids);
  iids = clearn__malloc((size_t)ni, sizeof *iids);
  if (!uids || !iids) goto nomem;
  for (k = 0, w = 0; k < r->n_users; k++)
    if (ur[k] == 0) uids[w] = r->user_ids[k], ur[k] = (int32_t)w++;
  for (k = 0, w = 0; k < r->n_items; k++)
    if (ir[k] == 0) iids[w] = r->item_ids[k], ir[k] = (int32_t)w++;
  for (k = 0; k < m; k++) {
    u[k] = ur[u[k]];
    i[k] = ir[i[k]];
  }
  rc = clearn__ratings_build(uids, nu, iids, ni, u, i, v, m, out);
  free(u);
  free(i);
  free(v);
  free(ur);
  free(ir);
  return rc;
nomem:
  free(u);
  free(i);
  free(v);
  free(ur);
  free(ir);
  free(uids);
  free(iids);
  return clearn__err(CLEARN_ENOMEM, "split: out of memory");
}

static int split_by_mark(const clearn_ratings *r, const uint8_t *mark,
                         clearn_ratings **train, clearn_ratings **test) {
  int rc = subset(r, mark, 0, train);
  if (rc == CLEARN_OK && (rc = subset(r, mark, 1, test)) != CLEARN_OK) {
    clearn_ratings_free(*train);
    *train = NULL;
  }
  return rc;
}

static int check_args(const char *who, const clearn_ratings *r,
                      clearn_ratings **train, clearn_ratings **test) {
  if (train) *train = NULL;
  if (test) *test = NULL;
  if (r == NULL || train == NULL || test == NULL)
    return clearn__err(CLEARN_EINVAL, "%s: %s is NULL", who,
                       r == NULL       ? "ratings"
                       : train == NULL ? "train"
                                       : "test");
  return CLEARN_OK;
}

/* check_args, then test_fraction in [0, 1], then one mark per rating. */
static int fraction_args(const char *who, const clearn_ratings *r,
                         double test_fraction, clearn_ratings **train,
                         clearn_ratings **test, uint8_t **mark) {
  int rc;
  if ((rc = check_args(who, r, train, test)) != CLEARN_OK) return rc;
  if (!(test_fraction >= 0.0 && test_fraction <= 1.0))
    return clearn__err(CLEARN_EINVAL,
                       "%s: test_fraction = %g: must be in [0, 1]", who,
                       test_fraction);
  if ((*mark = clearn__malloc((size_t)r->nnz, 1)) == NULL)
    return clearn__err(CLEARN_ENOMEM, "%s: out of memory", who);
  return CLEARN_OK;
}

int clearn_ratings_split_random(const clearn_ratings *r, double test_fraction,
                                uint64_t seed, clearn_ratings **train,
                                clearn_ratings **test) {
  const char *who = "split_random";
  uint8_t *mark;
  rng g;
  int rc;
  if ((rc = fraction_args(who, r, test_fraction, train, test, &mark)) !=
      CLEARN_OK)
    return rc;
  clearn__rng_seed(&g, seed);
  select_k(&g, mark, r->nnz, (int64_t)llround(test_fraction * (double)r->nnz));
  rc = split_by_mark(r, mark, train, test);
  free(mark);
  return rc;
}

int clearn_ratings_split_leave_k_out(const clearn_ratings *r, int64_t k,
                                     uint64_t seed, clearn_ratings **train,
                                     clearn_ratings **test) {
  const char *who = "split_leave_k_out";
  uint8_t *mark;
  rng g;
  int rc;
  if ((rc = check_args(who, r, train, test)) != CLEARN_OK) return rc;
  if (k < 0)
    return clearn__err(CLEARN_EINVAL, "%s: k = %lld: must be >= 0", who,
                       (long long)k);
  if ((mark = clearn__calloc((size_t)r->nnz, 1)) == NULL)
    return clearn__err(CLEARN_ENOMEM, "%s: out of memory", who);
  clearn__rng_seed(&g, seed);
  for (int64_t us = 0; us < r->n_users; us++) {
    int64_t b = r->u_ptr[us], n = r->u_ptr[us + 1] - b;
    if (n > k) select_k(&g, mark + b, n, k);
  }
  rc = split_by_mark(r, mark, train, test);
  free(mark);
  return rc;
}

int clearn_ratings_split_hash(const clearn_ratings *r, double test_fraction,
                              uint64_t seed, clearn_ratings **train,
                              clearn_ratings **test) {
  const char *who = "split_hash";
  uint8_t *mark;
  int64_t us, q;
  int rc;
  if ((rc = fraction_args(who, r, test_fraction, train, test, &mark)) !=
      CLEARN_OK)
    return rc;
  for (us = 0; us < r->n_users; us++) {
    uint64_t ukey =
        clearn__mix64(clearn__mix64(seed) ^ (uint64_t)r->user_ids[us]);
    int64_t dup = 0;
    for (q = r->u_ptr[us]; q < r->u_ptr[us + 1]; q++) {
      /* duplicates of a pair are adjacent: number them 0, 1, ... */
      dup = q > r->u_ptr[us] && r->u_idx[q] == r->u_idx[q - 1] ? dup + 1 : 0;
      uint64_t item = (uint64_t)r->item_ids[r->u_idx[q]];
      uint64_t h = clearn__mix64(clearn__mix64(ukey ^ item) + (uint64_t)dup);
      mark[q] = (double)(h >> 11) * 0x1p-53 < test_fraction;
    }
  }
  rc = split_by_mark(r, mark, train, test);
  free(mark);
  return rc;
}
