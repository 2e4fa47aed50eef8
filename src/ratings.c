/*
 * ratings.c -- the ratings container: two CSR copies and the id maps.
 *
 * ALS alternates between solving every user row against the item factors
 * and every item row against the user factors, so it needs the ratings
 * grouped by user AND by item; keeping both CSR copies (12 bytes per rating
 * each: 4-byte index, 4-byte value, plus row pointers) costs memory once
 * and makes each half-iteration a straight pass.  Dense 32-bit indices keep
 * the copies small and cache-friendly; the sorted id maps give the original
 * 64-bit ids back and are searched by bisection.
 *
 * Everything is built by clearn__ratings_build, a counting sort of dense
 * triples into both layouts in O(nnz + users + items), with entries in
 * ascending column order within each row because the scatter visits the
 * triples in the order of the other layout.  Each pass is a scatter with
 * poor locality (about 10-15 ns per rating at MovieLens 20M scale), so
 * the passes that the triples' order makes redundant are skipped: sorted
 * input (a sorted file, a split, the generator) needs one.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void clearn_ratings_free(clearn_ratings *r) {
  if (r == NULL) return;
  free(r->user_ids);
  free(r->item_ids);
  free(r->u_ptr);
  free(r->u_idx);
  free(r->u_val);
  free(r->i_ptr);
  free(r->i_idx);
  free(r->i_val);
  free(r);
}

int64_t clearn__id_lookup(const int64_t *ids, int64_t n, int64_t id) {
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

void clearn__ratings_set_views(clearn_ratings *r) {
  r->by_user.indptr = r->u_ptr;
  r->by_user.indices = r->u_idx;
  r->by_user.values = r->u_val;
  r->by_user.rows = r->n_users;
  r->by_user.cols = r->n_items;
  r->by_user.nnz = r->nnz;
  r->by_user.dtype = CLEARN_FLOAT32;
  r->by_user.owned = 0;
  r->by_item.indptr = r->i_ptr;
  r->by_item.indices = r->i_idx;
  r->by_item.values = r->i_val;
  r->by_item.rows = r->n_items;
  r->by_item.cols = r->n_users;
  r->by_item.nnz = r->nnz;
  r->by_item.dtype = CLEARN_FLOAT32;
  r->by_item.owned = 0;
}

/* Counting-sort scatter of a CSR (rows x ?, entries in src) into its
 * transpose, whose row pointers dst_ptr are already final: visiting the
 * source rows in ascending order puts each destination row's entries in
 * ascending column order, ties kept in source order. */
void clearn__ratings_transpose(int64_t rows, const int64_t *restrict src_ptr,
                           const int32_t *restrict src_idx,
                           const float *restrict src_val, int64_t cols,
                           const int64_t *restrict dst_ptr,
                           int32_t *restrict dst_idx,
                           float *restrict dst_val, int64_t *restrict fill) {
  memcpy(fill, dst_ptr, (size_t)cols * sizeof(int64_t));
  for (int64_t r = 0; r < rows; r++) {
    const int64_t end = src_ptr[r + 1];
    for (int64_t k = src_ptr[r]; k < end; k++) {
      const int64_t at = fill[src_idx[k]]++;
      dst_idx[at] = (int32_t)r;
      dst_val[at] = src_val[k];
    }
  }
}

/* Row pointers (n + 1) from the row index of every entry. */
static void count_rows(const int32_t *restrict idx, int64_t nnz, int64_t n,
                       int64_t *restrict ptr) {
  int64_t k;
  for (k = 0; k < nnz; k++) ptr[idx[k] + 1]++;
  for (k = 0; k < n; k++) ptr[k + 1] += ptr[k];
}

int clearn__ratings_build(int64_t *user_ids, int64_t n_users,
                          int64_t *item_ids, int64_t n_items,
                          const int32_t *u, const int32_t *i, const float *v,
                          int64_t nnz, clearn_ratings **out) {
  clearn_ratings *r = calloc(1, sizeof *r);
  int64_t k, *fill = NULL;
  int by_user = 1, by_user_item = 1;
  *out = NULL;
  if (r == NULL) goto nomem;
  r->user_ids = user_ids;
  r->item_ids = item_ids;
  user_ids = item_ids = NULL;
  r->n_users = n_users;
  r->n_items = n_items;
  r->nnz = nnz;
  r->u_ptr = clearn__calloc((size_t)n_users + 1, sizeof(int64_t));
  r->i_ptr = clearn__calloc((size_t)n_items + 1, sizeof(int64_t));
  r->u_idx = clearn__malloc((size_t)nnz, sizeof(int32_t));
  r->u_val = clearn__malloc((size_t)nnz, sizeof(float));
  r->i_idx = clearn__malloc((size_t)nnz, sizeof(int32_t));
  r->i_val = clearn__malloc((size_t)nnz, sizeof(float));
  fill = clearn__malloc((size_t)(n_users > n_items ? n_users : n_items) + 1,
                        sizeof(int64_t));
  if (!r->u_ptr || !r->i_ptr || !r->u_idx || !r->u_val || !r->i_idx ||
      !r->i_val || !fill)
    goto nomem;
  /* Loaders of sorted files, the splits and the generator pass triples
   * grouped by user, often with items ascending within each user; each
   * pass below that the order makes redundant is skipped (the arrays come
   * out the same either way). */
  for (k = 1; k < nnz && by_user; k++) {
    if (u[k] < u[k - 1])
      by_user = by_user_item = 0;
    else if (u[k] == u[k - 1] && i[k] < i[k - 1])
      by_user_item = 0;
  }
  /* 1. Group by user, stable: each user's (item, value) in triple order. */
  count_rows(u, nnz, n_users, r->u_ptr);
  if (by_user && nnz > 0) { /* (the triple arrays may be NULL when empty) */
    memcpy(r->u_idx, i, (size_t)nnz * sizeof(int32_t));
    memcpy(r->u_val, v, (size_t)nnz * sizeof(float));
  } else if (!by_user) {
    memcpy(fill, r->u_ptr, (size_t)n_users * sizeof(int64_t));
    for (k = 0; k < nnz; k++) {
      int64_t at = fill[u[k]]++;
      r->u_idx[at] = i[k];
      r->u_val[at] = v[k];
    }
  }
  /* 2. By item from by user: users ascending within each item. */
  count_rows(r->u_idx, nnz, n_items, r->i_ptr);
  clearn__ratings_transpose(n_users, r->u_ptr, r->u_idx, r->u_val, n_items, r->i_ptr,
                 r->i_idx, r->i_val, fill);
  /* 3. By user again from by item: items ascending within each user. */
  if (!by_user_item)
    clearn__ratings_transpose(n_items, r->i_ptr, r->i_idx, r->i_val, n_users, r->u_ptr,
                   r->u_idx, r->u_val, fill);
  free(fill);
  clearn__ratings_set_views(r);
  *out = r;
  return CLEARN_OK;
nomem:
  free(user_ids);
  free(item_ids);
  free(fill);
  clearn_ratings_free(r);
  return clearn__err(CLEARN_ENOMEM, "ratings: cannot allocate %lld ratings",
                     (long long)nnz);
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Sorted distinct values of a[0..n). */
static int distinct(const int64_t *a, int64_t n, int64_t **out, int64_t *m) {
  int64_t *s = clearn__malloc((size_t)n, sizeof(int64_t)), k, w = 0;
  if (s == NULL) return clearn__err(CLEARN_ENOMEM, "ratings: out of memory");
  if (n > 0) memcpy(s, a, (size_t)n * sizeof(int64_t)); /* a may be NULL */
  qsort(s, (size_t)n, sizeof(int64_t), cmp_i64);
  for (k = 0; k < n; k++)
    if (w == 0 || s[w - 1] != s[k]) s[w++] = s[k];
  *out = s;
  *m = w;
  return CLEARN_OK;
}

int clearn__ratings_from_ids(const int64_t *users, const int64_t *items,
                             const float *values, int64_t n,
                             clearn_ratings **out) {
  int64_t *uids = NULL, *iids = NULL, nu = 0, ni = 0, k;
  int32_t *u = NULL, *i = NULL;
  int rc;
  *out = NULL;
  if ((rc = distinct(users, n, &uids, &nu)) != CLEARN_OK) return rc;
  if ((rc = distinct(items, n, &iids, &ni)) != CLEARN_OK) {
    free(uids);
    return rc;
  }
  if (nu > INT32_MAX || ni > INT32_MAX) {
    free(uids);
    free(iids);
    return clearn__err(CLEARN_EINVAL,
                       "ratings: %lld users and %lld items exceed the 32-bit "
                       "index range",
                       (long long)nu, (long long)ni);
  }
  u = clearn__malloc((size_t)n, sizeof(int32_t));
  i = clearn__malloc((size_t)n, sizeof(int32_t));
  if (u == NULL || i == NULL) {
    free(u);
    free(i);
    free(uids);
    free(iids);
    return clearn__err(CLEARN_ENOMEM, "ratings: out of memory");
  }
  for (k = 0; k < n; k++) {
    u[k] = (int32_t)clearn__id_lookup(uids, nu, users[k]);
    i[k] = (int32_t)clearn__id_lookup(iids, ni, items[k]);
  }
  rc = clearn__ratings_build(uids, nu, iids, ni, u, i, values, n, out);
  free(u);
  free(i);
  return rc;
}

int clearn_ratings_from_triples(const int64_t *users, const int64_t *items,
                                const float *values, int64_t n,
                                clearn_ratings **out) {
  int64_t k;
  if (out == NULL) return clearn__err(CLEARN_EINVAL, "ratings: out is NULL");
  *out = NULL;
  if (n < 0) return clearn__err(CLEARN_EINVAL, "ratings: n = %lld is negative", (long long)n);
  if (n > 0 && (!users || !items || !values))
    return clearn__err(CLEARN_EINVAL, "ratings: NULL array for %lld ratings",
                       (long long)n);
  for (k = 0; k < n; k++)
    if (!isfinite(values[k]))
      return clearn__err(CLEARN_ENUMERIC,
                         "ratings: value %lld (user %lld, item %lld) = %g is "
                         "not finite",
                         (long long)k, (long long)users[k], (long long)items[k],
                         (double)values[k]);
  return clearn__ratings_from_ids(users, items, values, n, out);
}

int64_t clearn_ratings_nnz(const clearn_ratings *r) { return r ? r->nnz : 0; }
int64_t clearn_ratings_n_users(const clearn_ratings *r) {
  return r ? r->n_users : 0;
}
int64_t clearn_ratings_n_items(const clearn_ratings *r) {
  return r ? r->n_items : 0;
}
const int64_t *clearn_ratings_user_ids(const clearn_ratings *r) {
  return r ? r->user_ids : NULL;
}
const int64_t *clearn_ratings_item_ids(const clearn_ratings *r) {
  return r ? r->item_ids : NULL;
}
int64_t clearn_ratings_user_index(const clearn_ratings *r, int64_t id) {
  return r ? clearn__id_lookup(r->user_ids, r->n_users, id) : -1;
}
int64_t clearn_ratings_item_index(const clearn_ratings *r, int64_t id) {
  return r ? clearn__id_lookup(r->item_ids, r->n_items, id) : -1;
}
const clearn_csr *clearn_ratings_by_user(const clearn_ratings *r) {
  return r ? &r->by_user : NULL;
}
const clearn_csr *clearn_ratings_by_item(const clearn_ratings *r) {
  return r ? &r->by_item : NULL;
}

int clearn_ratings_triples(const clearn_ratings *r, int64_t *users,
                           int64_t *items, float *values) {
  int64_t us, k;
  if (r == NULL) return clearn__err(CLEARN_EINVAL, "ratings: handle is NULL");
  for (us = 0; us < r->n_users; us++)
    for (k = r->u_ptr[us]; k < r->u_ptr[us + 1]; k++) {
      if (users) users[k] = r->user_ids[us];
      if (items) items[k] = r->item_ids[r->u_idx[k]];
      if (values) values[k] = r->u_val[k];
    }
  return CLEARN_OK;
}
