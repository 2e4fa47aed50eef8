/*
 * ratings_gen.c -- MovieLens-shaped synthetic ratings.
 *
 * Shape.  Items get Zipf popularity weights 1 / (rank + 10)^1.2 over a
 * random permutation of the items, so the most popular ones are scattered
 * over the id range.  Users get min_per_user ratings plus a share of the
 * rest proportional to a Lomax (Pareto II, shape 3) weight, capped at a
 * third of the items (unless nnz needs more) with the excess handed round
 * to users with room; so every count is exact, long-tailed, and the total
 * is exactly nnz.  At MovieLens 20M's shape this gives users a median of 85
 * ratings, mean 144, maximum 8914 (ml-20m: about 70, 144, 9254) and the
 * top 10% of items 76% of the ratings (median item 141 ratings, most
 * popular 116161; ml-20m's catalogue has a longer tail of rarely rated
 * films, median 18).
 *
 * Sampling.  Each user draws its items without replacement from the
 * popularity distribution ("successive sampling"): draws from a Walker
 * alias table (O(1) each: one 64-bit random gives the column and the coin)
 * are rejected when the item is already taken, which a bitmap of the
 * items (3.3 KB for 26744 items: it stays in L1) tells in O(1).  A heavy
 * user whose taken items hold most of the popularity mass would reject too
 * often, so after 4 * count + 64 draws it restarts with Efraimidis-Spirakis
 * keys (log(U) / weight, the count largest win) over all items, which
 * samples the same distribution in O(n_items).  Each user's items are then
 * read off the bitmap in ascending order, so the dense triples arrive
 * sorted and clearn__ratings_build needs one scatter instead of three; no
 * ids are hashed or sorted.
 *
 * Values.  3.5 + b_u + b_i + u.v + noise, with b_u ~ N(0, 0.4^2),
 * b_i ~ N(0, 0.5^2) and rank-r factors of N(0, s^2) entries where
 * s^4 r = 0.4, so the signal has standard deviation 0.9 (sqrt(0.16 + 0.25
 * + 0.4)); with rank 0 the biases carry it all.  Gaussian draws are Box-
 * Muller pairs.  Then rounded to MovieLens's grid per `stars`.
 *
 * Ids.  Ascending with random gaps (users 1..4 apart, items 1..8 apart), so
 * they are not dense and the dense index order is the id order.
 *
 * Everything comes from one xoshiro256** stream seeded through splitmix64,
 * consumed in a fixed order: the result depends on the arguments only.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rng.h"

#define ZIPF_EXPONENT 1.2 /* item popularity ~ 1 / (rank + 10)^1.2 */
#define LOMAX_SHAPE 3.0   /* user activity weights U^(-1/3) - 1 */

typedef clearn__rng rng;

/* (0, 1): never 0, so log() is finite. */
static double rng_open(rng *r) {
  return ((double)(clearn__rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Uniform in [0, n) for n < 2^32 (multiply-shift; the bias is below
 * 2^-32 and irrelevant here). */
static uint32_t rng_below(rng *r, uint32_t n) {
  return (uint32_t)(((clearn__rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static double rng_normal(rng *r) {
  double a, b, m;
  if (!isnan(r->spare)) {
    a = r->spare;
    r->spare = NAN;
    return a;
  }
  a = rng_open(r);
  b = rng_open(r);
  m = sqrt(-2.0 * log(a));
  r->spare = m * sin(6.283185307179586 * b);
  return m * cos(6.283185307179586 * b);
}

/* Walker alias table over n weights: column k keeps itself when the low 32
 * bits of a draw are below thresh[k], else gives alias[k]. */
typedef struct alias_table {
  uint32_t *thresh;
  int32_t *alias;
  uint32_t n;
} alias_table;

static int alias_build(alias_table *t, const double *w, int64_t n) {
  double total = 0, *p = clearn__malloc((size_t)n, sizeof *p);
  int32_t *small = clearn__malloc((size_t)n, sizeof *small);
  int32_t *large = clearn__malloc((size_t)n, sizeof *large);
  int64_t ns = 0, nl = 0, k;
  t->thresh = clearn__malloc((size_t)n, sizeof *t->thresh);
  t->alias = clearn__malloc((size_t)n, sizeof *t->alias);
  t->n = (uint32_t)n;
  if (!p || !small || !large || !t->thresh || !t->alias) {
    free(p);
    free(small);
    free(large);
    return 0;
  }
  for (k = 0; k < n; k++) total += w[k];
  for (k = 0; k < n; k++) {
    p[k] = w[k] * (double)n / total;
    if (p[k] < 1.0)
      small[ns++] = (int32_t)k;
    else
      large[nl++] = (int32_t)k;
  }
  while (ns > 0 && nl > 0) {
    int32_t s = small[--ns], l = large[nl - 1];
    t->thresh[s] = (uint32_t)(p[s] * 4294967296.0);
    t->alias[s] = l;
    p[l] -= 1.0 - p[s];
    if (p[l] < 1.0) {
      nl--;
      small[ns++] = l;
    }
  }
  /* Leftovers are 1 up to rounding: keep themselves always. */
  while (nl > 0) small[ns++] = large[--nl];
  while (ns > 0) {
    k = small[--ns];
    t->thresh[k] = UINT32_MAX;
    t->alias[k] = (int32_t)k;
  }
  free(p);
  free(small);
  free(large);
  return 1;
}

static int32_t alias_draw(const alias_table *t, rng *r) {
  uint64_t x = clearn__rng_next(r);
  uint32_t col = (uint32_t)(((x >> 32) * (uint64_t)t->n) >> 32);
  return (uint32_t)x < t->thresh[col] ? (int32_t)col : t->alias[col];
}

static int ctz64(uint64_t x) {
#if defined(__GNUC__)
  return __builtin_ctzll(x);
#else
  int n = 0;
  for (; !(x & 1); x >>= 1) n++;
  return n;
#endif
}

static int cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

typedef struct key_item {
  double key;
  int32_t item;
} key_item;

/* Put the `c` largest keys first (Hoare quickselect, random pivots). */
static void select_top(key_item *a, int64_t n, int64_t c, rng *r) {
  int64_t lo = 0, hi = n - 1;
  while (lo < hi) {
    double piv = a[lo + (int64_t)rng_below(r, (uint32_t)(hi - lo + 1))].key;
    int64_t i = lo, j = hi;
    while (i <= j) {
      while (a[i].key > piv) i++;
      while (a[j].key < piv) j--;
      if (i <= j) {
        key_item t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    if (c - 1 <= j)
      hi = j;
    else if (c - 1 >= i)
      lo = i;
    else
      break;
  }
}

/* Per-user counts: min + a Lomax-weighted share of the rest, capped at a
 * third of the items (MovieLens 20M's heaviest user rated 35%) unless
 * nnz needs more, summing exactly to nnz. */
static int user_counts(int64_t nu, int64_t ni, int64_t nnz, int64_t minpu,
                       rng *r, int64_t *cnt) {
  double *w = clearn__malloc((size_t)nu, sizeof *w), total = 0;
  int64_t extra = nnz - nu * minpu, given = 0, left, k, start;
  int64_t cap = ni / 3;
  if (cap < (nnz + nu - 1) / nu) cap = (nnz + nu - 1) / nu;
  if (cap < minpu) cap = minpu;
  if (cap > ni) cap = ni;
  if (w == NULL) return 0;
  for (k = 0; k < nu; k++) {
    w[k] = pow(rng_open(r), -1.0 / LOMAX_SHAPE) - 1.0;
    total += w[k];
  }
  for (k = 0; k < nu; k++) {
    double share = total > 0 ? (double)extra * (w[k] / total) : 0;
    int64_t c = minpu + (int64_t)share;
    if (c > cap) c = cap;
    if (given + (c - minpu) > extra) c = minpu + (extra - given);
    cnt[k] = c;
    given += c - minpu;
  }
  free(w);
  /* Rounding remainders and capped excess, round-robin from a random user:
   * terminates because nnz <= nu * cap. */
  left = extra - given;
  start = (int64_t)rng_below(r, (uint32_t)nu);
  while (left > 0) {
    int64_t room_users = 0;
    for (k = 0; k < nu && left > 0; k++) {
      int64_t us = (start + k) % nu;
      if (cnt[us] < cap) {
        cnt[us]++;
        left--;
        room_users++;
      }
    }
    if (room_users == 0) break; /* unreachable given the checks */
  }
  return 1;
}

static int gen_fail(const char *what, int64_t v, const char *why) {
  return clearn__err(CLEARN_EINVAL, "ratings_generate: %s = %lld: %s", what,
                     (long long)v, why);
}

int clearn_ratings_generate(int64_t n_users, int64_t n_items, int64_t nnz,
                            int64_t min_per_user, int rank, double noise,
                            int stars, uint64_t seed, clearn_ratings **out) {
  rng g;
  alias_table at = {NULL, NULL, 0};
  int64_t *cnt = NULL, *uids = NULL, *iids = NULL, k, us, w = 0;
  int32_t *u = NULL, *i = NULL, *perm = NULL;
  uint64_t *taken = NULL; /* items the current user has, one bit each */
  int64_t nwords = (n_items + 63) / 64;
  float *U = NULL, *V = NULL; /* float: half the cache footprint */
  double *pop = NULL, *ub = NULL, *ib = NULL, s = 0,
         sd_u = 0.4, sd_i = 0.5;
  float *v = NULL;
  key_item *keys = NULL;
  int rc = CLEARN_OK;
  char buf[64];

  if (out == NULL)
    return clearn__err(CLEARN_EINVAL, "ratings_generate: out is NULL");
  *out = NULL;
  if (n_users < 1 || n_users > INT32_MAX)
    return gen_fail("n_users", n_users, "must be in [1, 2147483647]");
  if (n_items < 1 || n_items > INT32_MAX)
    return gen_fail("n_items", n_items, "must be in [1, 2147483647]");
  if (min_per_user < 0 || min_per_user > n_items)
    return gen_fail("min_per_user", min_per_user, "must be in [0, n_items]");
  if (nnz < 0) return gen_fail("nnz", nnz, "must be >= 0");
  if (nnz > n_users * n_items) { /* both < 2^31: no overflow */
    snprintf(buf, sizeof buf, "exceeds n_users * n_items = %lld",
             (long long)(n_users * n_items));
    return gen_fail("nnz", nnz, buf);
  }
  if (nnz < n_users * min_per_user) {
    snprintf(buf, sizeof buf, "is less than n_users * min_per_user = %lld",
             (long long)(n_users * min_per_user));
    return gen_fail("nnz", nnz, buf);
  }
  if (rank < 0 || rank > 1000)
    return gen_fail("rank", rank, "must be in [0, 1000]");
  if (!(noise >= 0 && isfinite(noise)))
    return clearn__err(CLEARN_EINVAL,
                       "ratings_generate: noise = %g: must be finite and >= 0",
                       noise);
  if (stars < 0 || stars > 2)
    return gen_fail("stars", stars, "must be 0 (continuous), 1 (whole stars) "
                    "or 2 (half stars)");

  clearn__rng_seed(&g, seed);
  cnt = clearn__malloc((size_t)n_users, sizeof *cnt);
  uids = clearn__malloc((size_t)n_users, sizeof *uids);
  iids = clearn__malloc((size_t)n_items, sizeof *iids);
  perm = clearn__malloc((size_t)n_items, sizeof *perm);
  taken = clearn__calloc((size_t)nwords, sizeof *taken);
  pop = clearn__malloc((size_t)n_items, sizeof *pop);
  ub = clearn__malloc((size_t)n_users, sizeof *ub);
  ib = clearn__malloc((size_t)n_items, sizeof *ib);
  U = clearn__malloc((size_t)n_users * (size_t)rank, sizeof *U);
  V = clearn__malloc((size_t)n_items * (size_t)rank, sizeof *V);
  u = clearn__malloc((size_t)nnz, sizeof *u);
  i = clearn__malloc((size_t)nnz, sizeof *i);
  v = clearn__malloc((size_t)nnz, sizeof *v);
  if (!cnt || !uids || !iids || !perm || !taken || !pop || !ub || !ib || !U ||
      !V || !u || !i || !v)
    goto nomem;

  /* Ids, popularity, counts, latent model: in this order from the stream. */
  uids[0] = 1 + (int64_t)rng_below(&g, 4);
  for (k = 1; k < n_users; k++) uids[k] = uids[k - 1] + 1 + rng_below(&g, 4);
  iids[0] = 1 + (int64_t)rng_below(&g, 8);
  for (k = 1; k < n_items; k++) iids[k] = iids[k - 1] + 1 + rng_below(&g, 8);
  for (k = 0; k < n_items; k++) perm[k] = (int32_t)k;
  for (k = n_items - 1; k > 0; k--) {
    int64_t j = rng_below(&g, (uint32_t)(k + 1));
    int32_t t = perm[k];
    perm[k] = perm[j];
    perm[j] = t;
  }
  for (k = 0; k < n_items; k++)
    pop[perm[k]] = pow((double)k + 10.0, -ZIPF_EXPONENT);
  if (!alias_build(&at, pop, n_items)) goto nomem;
  if (!user_counts(n_users, n_items, nnz, min_per_user, &g, cnt)) goto nomem;
  if (rank > 0) {
    s = pow(0.4 / rank, 0.25);
  } else {
    sd_u = sd_i = 0.9 / sqrt(2.0);
  }
  for (k = 0; k < n_users; k++) ub[k] = sd_u * rng_normal(&g);
  for (k = 0; k < n_items; k++) ib[k] = sd_i * rng_normal(&g);
  for (k = 0; k < n_users * rank; k++) U[k] = (float)(s * rng_normal(&g));
  for (k = 0; k < n_items * rank; k++) V[k] = (float)(s * rng_normal(&g));

  for (us = 0; us < n_users; us++) {
    int64_t c = cnt[us], got = 0, tries = 0, b = w;
    while (got < c && tries < 4 * c + 64) {
      int32_t it = alias_draw(&at, &g);
      uint64_t bit = UINT64_C(1) << (it & 63);
      tries++;
      if (taken[it >> 6] & bit) continue;
      taken[it >> 6] |= bit;
      i[w++] = it;
      got++;
    }
    if (got < c) {
      /* Heavy user: Efraimidis-Spirakis over all items instead. */
      for (k = b; k < w; k++) taken[i[k] >> 6] &= ~(UINT64_C(1) << (i[k] & 63));
      if (keys == NULL &&
          (keys = clearn__malloc((size_t)n_items, sizeof *keys)) == NULL)
        goto nomem;
      for (k = 0; k < n_items; k++) {
        keys[k].key = log(rng_open(&g)) / pop[k];
        keys[k].item = (int32_t)k;
      }
      select_top(keys, n_items, c, &g);
      for (k = 0; k < c; k++) {
        i[b + k] = keys[k].item;
        taken[keys[k].item >> 6] |= UINT64_C(1) << (keys[k].item & 63);
      }
      w = b + c;
    }
    /* The user's items in ascending order, so that the triples arrive
     * sorted and clearn__ratings_build makes one pass, not three: read off
     * the bitmap when it is small next to the count, else sort. */
    if (nwords <= 32 * c) {
      w = b;
      for (int64_t wd = 0; wd < nwords; wd++) {
        uint64_t x = taken[wd];
        if (x == 0) continue;
        taken[wd] = 0;
        for (; x; x &= x - 1) i[w++] = (int32_t)(wd * 64 + ctz64(x));
      }
    } else {
      qsort(i + b, (size_t)(w - b), sizeof *i, cmp_i32);
      for (k = b; k < w; k++) taken[i[k] >> 6] = 0;
    }
    for (k = b; k < w; k++) u[k] = (int32_t)us;
  }

  for (k = 0; k < nnz; k++) {
    const float *uu = U + (size_t)u[k] * (size_t)rank,
                *vv = V + (size_t)i[k] * (size_t)rank;
    float dot = 0;
    double x;
    for (int f = 0; f < rank; f++) dot += uu[f] * vv[f];
    x = 3.5 + ub[u[k]] + ib[i[k]] + dot;
    if (noise > 0) x += noise * rng_normal(&g);
    if (stars == 1) {
      x = floor(x + 0.5);
      x = x < 1 ? 1 : x > 5 ? 5 : x;
    } else if (stars == 2) {
      x = floor(2 * x + 0.5) / 2;
      x = x < 0.5 ? 0.5 : x > 5 ? 5 : x;
    }
    v[k] = (float)x;
  }
  /* Keep only the users and items that got ratings (a user with
   * min_per_user = 0, a rarely drawn item), as every ratings object does.
   * cnt becomes the user renumbering, perm the item one. */
  {
    int64_t nu = 0, ni = 0;
    int32_t *ir = perm;
    for (k = 0; k < n_users; k++)
      if (cnt[k] > 0) {
        uids[nu] = uids[k];
        cnt[k] = nu++;
      }
    for (k = 0; k < n_items; k++) ir[k] = -1;
    for (k = 0; k < nnz; k++) ir[i[k]] = 0;
    for (k = 0; k < n_items; k++)
      if (ir[k] == 0) iids[ni] = iids[k], ir[k] = (int32_t)ni++;
    for (k = 0; k < nnz; k++) {
      u[k] = (int32_t)cnt[u[k]];
      i[k] = ir[i[k]];
    }
    rc = clearn__ratings_build(uids, nu, iids, ni, u, i, v, nnz, out);
  }
  uids = iids = NULL; /* taken by the build */
  goto cleanup;
nomem:
  rc = clearn__err(CLEARN_ENOMEM,
                   "ratings_generate: cannot allocate %lld ratings",
                   (long long)nnz);
cleanup:
  free(at.thresh);
  free(at.alias);
  free(cnt);
  free(uids);
  free(iids);
  free(perm);
  free(taken);
  free(pop);
  free(ub);
  free(ib);
  free(U);
  free(V);
  free(u);
  free(i);
  free(v);
  free(keys);
  return rc;
}
