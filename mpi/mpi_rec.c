/*
 * mpi_rec.c -- distributed recommender fits (ALS) and ratings shares.
 *
 * A distributed fit runs the kind's one fit function (algorithms/als.c) on
 * a shard per rank (clearn__rshard, src/internal.h); this file builds the
 * shards and supplies the exchange.  Steps, all collective:
 *
 *   1. Global id maps: the union of every rank's user ids (and item ids),
 *      sorted -- the same dense rows a single process would number.
 *   2. Global rating counts per user and per item (an integer Allreduce,
 *      exact), then contiguous blocks of rows balanced by rating count:
 *      block p starts at the first row whose preceding rows hold at least
 *      p * nnz / size ratings.
 *   3. Every rating travels (MPI_Alltoallv of 12-byte triples) to the owner
 *      of its user and to the owner of its item, where two stable counting
 *      sorts give the rows in the serial CSRs' order (columns ascending,
 *      repeated pairs in arrival order).
 *   4. Validation ratings likewise go to the owner of their validation
 *      user, sorted by item id.
 *
 * Exchange: after each half-iteration every rank's updated block of rows
 * is copied to all ranks by MPI_Allgatherv (in place), so every rank holds
 * all factors (the "broadcast factor matrices" design); bytes received per
 * rank and iteration are (n_users + n_items - own rows) * rank * 4 (float32)
 * plus the per-row metric terms (24 bytes per user, 8 per item, 16 per
 * validation user).  Per-row metric terms are gathered and summed in row
 * order, so losses do not depend on the partition either.  The seconds of
 * the exchange (including waiting for the slowest rank) go to the
 * history's comm_seconds.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clearn/clearn_mpi.h"
#include "mpi_internal.h"

/* ---- exchange hook -------------------------------------------------------- */

typedef struct {
  clearn__mpi_ctx *c;
  int *counts, *displs; /* size */
} ex_ctx;

static int ex_gather(void *ctx, void *buf, size_t elem, const int64_t *off,
                     int local_rc) {
  ex_ctx *x = ctx;
  clearn__mpi_ctx *c = x->c;
  double t0 = MPI_Wtime();
  MPI_Datatype t;
  int rc = clearn__mpi_agree(c, local_rc), mrc, p;
  if (rc == CLEARN_OK && (off[c->size] > INT_MAX || elem > INT_MAX))
    rc = clearn__err(CLEARN_EUNSUPPORTED,
                     "MPI: %lld rows of %zu bytes exceed MPI's int counts",
                     (long long)off[c->size], elem);
  if (rc == CLEARN_OK) {
    for (p = 0; p < c->size; p++) {
      x->counts[p] = (int)(off[p + 1] - off[p]);
      x->displs[p] = (int)off[p];
    }
    mrc = MPI_Type_contiguous((int)elem, MPI_BYTE, &t);
    if (mrc == MPI_SUCCESS) mrc = MPI_Type_commit(&t);
    if (mrc == MPI_SUCCESS) {
      mrc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, x->counts,
                           x->displs, t, c->comm);
      MPI_Type_free(&t);
    }
    if (mrc != MPI_SUCCESS) rc = clearn__mpi_fail(mrc, "MPI_Allgatherv");
  }
  c->seconds += MPI_Wtime() - t0;
  return rc;
}

static int ex_agree(void *ctx, int local_rc) {
  ex_ctx *x = ctx;
  double t0 = MPI_Wtime();
  int rc = clearn__mpi_agree(x->c, local_rc);
  x->c->seconds += MPI_Wtime() - t0;
  return rc;
}

static int ex_any(void *ctx, int flag) {
  ex_ctx *x = ctx;
  int in = flag != 0, out = 1;
  double t0 = MPI_Wtime();
  if (MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MAX, x->c->comm) != MPI_SUCCESS)
    out = 1; /* cannot agree: stop */
  x->c->seconds += MPI_Wtime() - t0;
  return out;
}

static double ex_seconds(void *ctx) { return ((ex_ctx *)ctx)->c->seconds; }

/* ---- small collective helpers ---------------------------------------------
 * Each agrees on the local status first, so a failure on one rank returns
 * everywhere before any mismatched collective is posted. */

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* The sorted union of every rank's ascending ids (n_local each). */
static int union_ids(clearn__mpi_ctx *c, const int64_t *local,
                     int64_t n_local, int64_t **out, int64_t *n_out) {
  long long mine = n_local, *all = NULL;
  int *counts = NULL, *displs = NULL, p, mrc, rc = CLEARN_OK;
  int64_t total = 0, *ids = NULL, j, w;
  *out = NULL;
  all = malloc((size_t)c->size * sizeof *all);
  counts = malloc((size_t)c->size * sizeof *counts);
  displs = malloc((size_t)c->size * sizeof *displs);
  if (!all || !counts || !displs)
    rc = clearn__err(CLEARN_ENOMEM, "MPI: out of memory");
  if ((rc = clearn__mpi_agree(c, rc)) != CLEARN_OK) goto done;
  mrc = MPI_Allgather(&mine, 1, MPI_LONG_LONG, all, 1, MPI_LONG_LONG, c->comm);
  if (mrc != MPI_SUCCESS) {
    rc = clearn__mpi_fail(mrc, "MPI_Allgather (id counts)");
    goto done;
  }
  for (p = 0; p < c->size; p++) total += all[p];
  if (total > INT_MAX)
    rc = clearn__err(CLEARN_EUNSUPPORTED,
                     "MPI: %lld ids in all exceed MPI's int counts",
                     (long long)total);
  else if ((ids = malloc((size_t)(total > 0 ? total : 1) * sizeof *ids)) ==
           NULL)
    rc = clearn__err(CLEARN_ENOMEM, "MPI: out of memory for %lld ids",
                     (long long)total);
  if ((rc = clearn__mpi_agree(c, rc)) != CLEARN_OK) goto done;
  for (p = 0, w = 0; p < c->size; p++) {
    counts[p] = (int)all[p];
    displs[p] = (int)w;
    w += all[p];
  }
  mrc = MPI_Allgatherv(local, (int)n_local, MPI_INT64_T, ids, counts, displs,
                       MPI_INT64_T, c->comm);
  if (mrc != MPI_SUCCESS) {
    rc = clearn__mpi_fail(mrc, "MPI_Allgatherv (ids)");
    goto done;
  }
  qsort(ids, (size_t)total, sizeof *ids, cmp_i64);
  for (j = 0, w = 0; j < total; j++)
    if (w == 0 || ids[j] != ids[w - 1]) ids[w++] = ids[j];
  *out = ids;
  *n_out = w;
  ids = NULL;
done:
  free(ids);
  free(all);
  free(counts);
  free(displs);
  return rc;
}

/* Contiguous blocks of n rows balanced by cnt: block p starts at the first
 * row whose preceding rows hold at least p * total / size. */
static void blocks(const int64_t *cnt, int64_t n, int size, int64_t *off) {
  int64_t total = 0, r, acc = 0;
  int p = 1;
  for (r = 0; r < n; r++) total += cnt[r];
  off[0] = 0;
  for (r = 0; r < n && p < size; r++) {
    /* rows before r hold acc ratings */
    while (p < size && (double)acc >= (double)p * (double)total / size)
      off[p++] = r;
    acc += cnt[r];
  }
  while (p < size) {
    /* the rest start at the end (empty blocks), except exact hits */
    off[p++] = n;
  }
  off[size] = n;
}

/* Owner of row r given block offsets (the last block holding r). */
static int owner(const int64_t *off, int size, int64_t r) {
  int lo = 0, hi = size - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (off[mid] <= r)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

/* ---- the shard ------------------------------------------------------------ */

typedef struct {
  int32_t u, i; /* global rows */
  float v;
} trip;

typedef struct {
  int64_t item; /* original id */
  int32_t vu;   /* global validation user row */
  float v;
} vtrip;

typedef struct {
  clearn__rshard sh;
  int64_t *user_ids, *item_ids, *user_off, *item_off, *nnz_off;
  int64_t *u_ptr, *i_ptr;
  int32_t *u_idx, *i_idx;
  float *u_val, *i_val;
  int64_t *va_off, *va_ptr, *va_urow, *va_irow;
  float *va_val;
  /* bytes received by this rank per iteration in the factor exchange */
  double bytes_per_iter;
} dshard;

static void dshard_free(dshard *d) {
  free(d->user_ids);
  free(d->item_ids);
  free(d->user_off);
  free(d->item_off);
  free(d->nnz_off);
  free(d->u_ptr);
  free(d->i_ptr);
  free(d->u_idx);
  free(d->i_idx);
  free(d->u_val);
  free(d->i_val);
  free(d->va_off);
  free(d->va_ptr);
  free(d->va_urow);
  free(d->va_irow);
  free(d->va_val);
  memset(d, 0, sizeof *d);
}

/* Send n elements of `elem` bytes, grouped by destination (scount per
 * rank, in rank order), to their ranks; *recv gets what arrives, grouped
 * by source rank in rank order.  Collective. */
static int exchange(clearn__mpi_ctx *c, const void *send, const int *scount,
                    size_t elem, void **recv, int64_t *n_recv) {
  int *rcount = NULL, *sdisp = NULL, *rdisp = NULL, p, mrc, rc = CLEARN_OK;
  int64_t st = 0, rt = 0;
  MPI_Datatype t = MPI_DATATYPE_NULL;
  void *buf = NULL;
  *recv = NULL;
  rcount = malloc((size_t)c->size * sizeof(int));
  sdisp = malloc((size_t)c->size * sizeof(int));
  rdisp = malloc((size_t)c->size * sizeof(int));
  if (!rcount || !sdisp || !rdisp)
    rc = clearn__err(CLEARN_ENOMEM, "MPI: out of memory");
  if ((rc = clearn__mpi_agree(c, rc)) != CLEARN_OK) goto done;
  mrc = MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, c->comm);
  if (mrc != MPI_SUCCESS) {
    rc = clearn__mpi_fail(mrc, "MPI_Alltoall (counts)");
    goto done;
  }
  for (p = 0; p < c->size; p++) {
    sdisp[p] = (int)st;
    rdisp[p] = (int)rt;
    st += scount[p];
    rt += rcount[p];
  }
  if (st > INT_MAX || rt > INT_MAX)
    rc = clearn__err(CLEARN_EUNSUPPORTED,
                     "MPI: a rank exchanges more than %d ratings at once; "
                     "use more ranks",
                     INT_MAX);
  else if ((buf = malloc((size_t)(rt > 0 ? rt : 1) * elem)) == NULL)
    rc = clearn__err(CLEARN_ENOMEM, "MPI: out of memory receiving %lld ratings",
                     (long long)rt);
  if ((rc = clearn__mpi_agree(c, rc)) != CLEARN_OK) goto done;
  mrc = MPI_Type_contiguous((int)elem, MPI_BYTE, &t);
  if (mrc == MPI_SUCCESS) mrc = MPI_Type_commit(&t);
  if (mrc == MPI_SUCCESS)
    mrc = MPI_Alltoallv(send, scount, sdisp, t, buf, rcount, rdisp, t,
                        c->comm);
  if (t != MPI_DATATYPE_NULL) MPI_Type_free(&t);
  if (mrc != MPI_SUCCESS) {
    rc = clearn__mpi_fail(mrc, "MPI_Alltoallv (ratings)");
    goto done;
  }
  *recv = buf;
  *n_recv = rt;
  buf = NULL;
done:
  free(buf);
  free(rcount);
  free(sdisp);
  free(rdisp);
  return rc;
}

/* Stable insertion of a row's (column, value) pairs into column order;
 * rows arrive sorted from each source rank, so this only runs when one
 * row's ratings come from several ranks (arbitrary shares). */
static void sort_row(int32_t *idx, float *val, int64_t n) {
  int64_t a, b;
  for (a = 1; a < n; a++) {
    int32_t c = idx[a];
    float v = val[a];
    for (b = a; b > 0 && idx[b - 1] > c; b--) {
      idx[b] = idx[b - 1];
      val[b] = val[b - 1];
    }
    idx[b] = c;
    val[b] = v;
  }
}

/* CSR of n_rows local rows (row = u or i of a triple, minus base) with
 * the other index as column, ascending within a row and repeated pairs in
 * arrival order: a stable counting sort by row, then any row that is not
 * yet in column order (ratings of one row from several ranks) sorted
 * stably. */
static int build_csr(const trip *t, int64_t n, int by_user, int64_t base,
                     int64_t n_rows, int64_t **ptr_out, int32_t **idx_out,
                     float **val_out) {
  int64_t *ptr = calloc((size_t)n_rows + 1, sizeof(int64_t));
  int64_t *fill = malloc(((size_t)n_rows + 1) * sizeof(int64_t));
  int32_t *idx = malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
  float *val = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
  int64_t q, j;
  if (!ptr || !fill || !idx || !val) {
    free(ptr);
    free(fill);
    free(idx);
    free(val);
    return clearn__err(CLEARN_ENOMEM, "MPI: out of memory sorting ratings");
  }
  for (q = 0; q < n; q++) ptr[(by_user ? t[q].u : t[q].i) - base + 1]++;
  for (j = 0; j < n_rows; j++) ptr[j + 1] += ptr[j];
  memcpy(fill, ptr, ((size_t)n_rows + 1) * sizeof(int64_t));
  for (q = 0; q < n; q++) {
    int64_t at = fill[(by_user ? t[q].u : t[q].i) - base]++;
    idx[at] = by_user ? t[q].i : t[q].u;
    val[at] = t[q].v;
  }
  for (j = 0; j < n_rows; j++)
    for (q = ptr[j] + 1; q < ptr[j + 1]; q++)
      if (idx[q] < idx[q - 1]) {
        sort_row(idx + ptr[j], val + ptr[j], ptr[j + 1] - ptr[j]);
        break;
      }
  free(fill);
  *ptr_out = ptr;
  *idx_out = idx;
  *val_out = val;
  return CLEARN_OK;
}

/* Global counts per row: local counts summed over ranks (exact). */
static int global_counts(clearn__mpi_ctx *c, int64_t *cnt, int64_t n) {
  int64_t off;
  int mrc = MPI_SUCCESS;
  for (off = 0; off < n && mrc == MPI_SUCCESS; off += (1 << 26)) {
    int m = (int)(n - off < (1 << 26) ? n - off : (1 << 26));
    mrc = MPI_Allreduce(MPI_IN_PLACE, cnt + off, m, MPI_INT64_T, MPI_SUM,
                        c->comm);
  }
  return mrc == MPI_SUCCESS ? CLEARN_OK
                            : clearn__mpi_fail(mrc, "MPI_Allreduce (counts)");
}

/* Map local ascending ids to rows of the global ascending ids (a merge). */
static void map_rows(const int64_t *local, int64_t n, const int64_t *global,
                     int64_t *rows) {
  int64_t j, g = 0;
  for (j = 0; j < n; j++) {
    while (global[g] < local[j]) g++;
    rows[j] = g;
  }
}

/* Training part of the shard from this rank's ratings (may be NULL). */
static int shard_train(clearn__mpi_ctx *c, const clearn_ratings *r,
                       dshard *d) {
  int64_t nu_l = r ? r->n_users : 0, ni_l = r ? r->n_items : 0;
  int64_t nnz_l = r ? r->nnz : 0, *urow = NULL, *irow = NULL, *cu = NULL,
          *ci = NULL, q, u, n_recv = 0, total = 0;
  int *scount = NULL, p, rc;
  trip *send = NULL;
  void *recv = NULL;
  int64_t *fill = NULL;

  rc = union_ids(c, r ? r->user_ids : NULL, nu_l, &d->user_ids,
                 &d->sh.n_users);
  if (rc == CLEARN_OK)
    rc = union_ids(c, r ? r->item_ids : NULL, ni_l, &d->item_ids,
                   &d->sh.n_items);
  if (rc != CLEARN_OK) return rc;
  if (d->sh.n_users > INT32_MAX || d->sh.n_items > INT32_MAX)
    return clearn__err(CLEARN_EUNSUPPORTED, "more than 2^31 users or items");
  urow = malloc((size_t)(nu_l + 1) * sizeof *urow);
  irow = malloc((size_t)(ni_l + 1) * sizeof *irow);
  cu = calloc((size_t)d->sh.n_users + 1, sizeof *cu);
  ci = calloc((size_t)d->sh.n_items + 1, sizeof *ci);
  d->user_off = malloc(((size_t)c->size + 1) * sizeof(int64_t));
  d->item_off = malloc(((size_t)c->size + 1) * sizeof(int64_t));
  d->nnz_off = malloc(((size_t)c->size + 1) * sizeof(int64_t));
  scount = calloc((size_t)c->size, sizeof *scount);
  fill = malloc(((size_t)c->size + 1) * sizeof *fill);
  send = malloc((size_t)(nnz_l > 0 ? nnz_l : 1) * sizeof *send);
  rc = (!urow || !irow || !cu || !ci || !d->user_off || !d->item_off ||
        !d->nnz_off || !scount || !fill || !send)
           ? clearn__err(CLEARN_ENOMEM, "MPI: out of memory")
           : CLEARN_OK;
  if ((rc = clearn__mpi_agree(c, rc)) != CLEARN_OK) goto done;
  map_rows(r ? r->user_ids : NULL, nu_l, d->user_ids, urow);
  map_rows(r ? r->item_ids : NULL, ni_l, d->item_ids, irow);
  for (u = 0; u < nu_l; u++) cu[urow[u]] = r->u_ptr[u + 1] - r->u_ptr[u];
  for (u = 0; u < ni_l; u++) ci[irow[u]] = r->i_ptr[u + 1] - r->i_ptr[u];
  if ((rc = global_counts(c, cu, d->sh.n_users)) == CLEARN_OK)
    rc = global_counts(c, ci, d->sh.n_items);
  if (rc != CLEARN_OK) goto done;
  for (u = 0; u < d->sh.n_users; u++) total += cu[u];
  if (total == 0) {
    rc = clearn__err(CLEARN_ESHAPE, "training ratings are empty on every "
                                    "rank");
    goto done;
  }
  d->sh.nnz = total;
  blocks(cu, d->sh.n_users, c->size, d->user_off);
  blocks(ci, d->sh.n_items, c->size, d->item_off);
  d->nnz_off[0] = 0;
  for (p = 0; p < c->size; p++) {
    d->nnz_off[p + 1] = d->nnz_off[p];
    for (u = d->user_off[p]; u < d->user_off[p + 1]; u++)
      d->nnz_off[p + 1] += cu[u];
  }

  /* by user: group the local ratings by the owner of their user (the
   * local rows are ascending, so owners come in rank order) */
  for (u = 0; u < nu_l; u++)
    scount[owner(d->user_off, c->size, urow[u])] +=
        (int)(r->u_ptr[u + 1] - r->u_ptr[u]);
  for (u = 0, q = 0; u < nu_l; u++) {
    int64_t k;
    for (k = r->u_ptr[u]; k < r->u_ptr[u + 1]; k++, q++) {
      send[q].u = (int32_t)urow[u];
      send[q].i = (int32_t)irow[r->u_idx[k]];
      send[q].v = r->u_val[k];
    }
  }
  rc = exchange(c, send, scount, sizeof(trip), &recv, &n_recv);
  /* the by-item triples are made again from the share below: holding
   * `send` through the rest would raise the peak by 12 bytes a rating */
  free(send);
  send = NULL;
  if (rc == CLEARN_OK)
    rc = build_csr(recv, n_recv, 1, d->user_off[c->rank],
                   d->user_off[c->rank + 1] - d->user_off[c->rank], &d->u_ptr,
                   &d->u_idx, &d->u_val);
  free(recv);
  recv = NULL;
  if ((rc = clearn__mpi_agree(c, rc)) != CLEARN_OK) goto done;

  /* by item: the triples grouped by the owner of their item, each group
   * in the local by-user order (so a repeated pair keeps its order) */
  memset(scount, 0, (size_t)c->size * sizeof *scount);
  for (q = 0; q < nnz_l; q++)
    scount[owner(d->item_off, c->size, irow[r->u_idx[q]])]++;
  send = malloc((size_t)(nnz_l > 0 ? nnz_l : 1) * sizeof *send);
  if (send == NULL) rc = clearn__err(CLEARN_ENOMEM, "MPI: out of memory");
  if ((rc = clearn__mpi_agree(c, rc)) != CLEARN_OK) goto done;
  fill[0] = 0;
  for (p = 0; p < c->size; p++) fill[p + 1] = fill[p] + scount[p];
  for (u = 0; u < nu_l; u++) {
    int64_t k;
    for (k = r->u_ptr[u]; k < r->u_ptr[u + 1]; k++) {
      int32_t it = (int32_t)irow[r->u_idx[k]];
      trip *o = &send[fill[owner(d->item_off, c->size, it)]++];
      o->u = (int32_t)urow[u];
      o->i = it;
      o->v = r->u_val[k];
    }
  }
  rc = exchange(c, send, scount, sizeof(trip), &recv, &n_recv);
  free(send);
  send = NULL;
  if (rc == CLEARN_OK)
    rc = build_csr(recv, n_recv, 0, d->item_off[c->rank],
                   d->item_off[c->rank + 1] - d->item_off[c->rank], &d->i_ptr,
                   &d->i_idx, &d->i_val);
  free(recv);
  rc = clearn__mpi_agree(c, rc);
  if (rc == CLEARN_OK) {
    /* bytes this rank receives per iteration in the factor exchange */
    d->bytes_per_iter =
        (double)(d->sh.n_users - (d->user_off[c->rank + 1] -
                                  d->user_off[c->rank]) +
                 d->sh.n_items -
                 (d->item_off[c->rank + 1] - d->item_off[c->rank]));
  }
done:
  free(urow);
  free(irow);
  free(cu);
  free(ci);
  free(scount);
  free(fill);
  free(send);
  return rc;
}

/* Stable merge sort of a[n] by item id (tmp: n elements). */
static void sort_vtrip(vtrip *a, vtrip *tmp, int64_t n) {
  int64_t w, lo;
  for (w = 1; w < n; w *= 2) {
    for (lo = 0; lo < n; lo += 2 * w) {
      int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      int64_t x = lo, y = mid, o = lo;
      while (x < mid && y < hi) tmp[o++] = a[y].item < a[x].item ? a[y++] : a[x++];
      while (x < mid) tmp[o++] = a[x++];
      while (y < hi) tmp[o++] = a[y++];
    }
    memcpy(a, tmp, (size_t)n * sizeof *a);
  }
}

/* Validation part: this rank's validation ratings (may be NULL) go to the
 * owner of their validation user, in blocks balanced by count. */
static int shard_valid(clearn__mpi_ctx *c, const clearn_ratings *va,
                       dshard *d) {
  int64_t nv_l = va ? va->n_users : 0, nnz_l = va ? va->nnz : 0, n_vu = 0;
  int64_t *vids = NULL, *vrow = NULL, *cnt = NULL, q, u, n_recv = 0, v0, nv;
  int *scount = NULL, rc = CLEARN_OK, mrc, any = va != NULL, any_all = 0;
  vtrip *send = NULL, *tmp = NULL;
  void *recv = NULL;
  mrc = MPI_Allreduce(&any, &any_all, 1, MPI_INT, MPI_MAX, c->comm);
  if (mrc != MPI_SUCCESS) return clearn__mpi_fail(mrc, "MPI_Allreduce");
  if (!any_all) return CLEARN_OK;
  if ((rc = union_ids(c, va ? va->user_ids : NULL, nv_l, &vids, &n_vu)) !=
      CLEARN_OK)
    return rc;
  vrow = malloc((size_t)(nv_l + 1) * sizeof *vrow);
  cnt = calloc((size_t)n_vu + 1, sizeof *cnt);
  d->va_off = malloc(((size_t)c->size + 1) * sizeof(int64_t));
  scount = calloc((size_t)c->size, sizeof *scount);
  send = malloc((size_t)(nnz_l > 0 ? nnz_l : 1) * sizeof *send);
  rc = (!vrow || !cnt || !d->va_off || !scount || !send)
           ? clearn__err(CLEARN_ENOMEM, "MPI: out of memory")
           : CLEARN_OK;
  if ((rc = clearn__mpi_agree(c, rc)) != CLEARN_OK) goto done;
  map_rows(va ? va->user_ids : NULL, nv_l, vids, vrow);
  for (u = 0; u < nv_l; u++) cnt[vrow[u]] = va->u_ptr[u + 1] - va->u_ptr[u];
  if ((rc = global_counts(c, cnt, n_vu)) != CLEARN_OK) goto done;
  blocks(cnt, n_vu, c->size, d->va_off);
  for (u = 0, q = 0; u < nv_l; u++) {
    int64_t k;
    scount[owner(d->va_off, c->size, vrow[u])] +=
        (int)(va->u_ptr[u + 1] - va->u_ptr[u]);
    for (k = va->u_ptr[u]; k < va->u_ptr[u + 1]; k++, q++) {
      send[q].item = va->item_ids[va->u_idx[k]];
      send[q].vu = (int32_t)vrow[u];
      send[q].v = va->u_val[k];
    }
  }
  rc = exchange(c, send, scount, sizeof(vtrip), &recv, &n_recv);
  if (rc != CLEARN_OK) goto done;
  v0 = d->va_off[c->rank];
  nv = d->va_off[c->rank + 1] - v0;
  d->va_ptr = calloc((size_t)nv + 1, sizeof(int64_t));
  d->va_urow = malloc((size_t)(nv > 0 ? nv : 1) * sizeof(int64_t));
  d->va_irow = malloc((size_t)(n_recv > 0 ? n_recv : 1) * sizeof(int64_t));
  d->va_val = malloc((size_t)(n_recv > 0 ? n_recv : 1) * sizeof(float));
  tmp = malloc((size_t)(n_recv > 0 ? n_recv : 1) * sizeof *tmp);
  rc = (!d->va_ptr || !d->va_urow || !d->va_irow || !d->va_val || !tmp)
           ? clearn__err(CLEARN_ENOMEM, "MPI: out of memory")
           : CLEARN_OK;
  if ((rc = clearn__mpi_agree(c, rc)) != CLEARN_OK) goto done;
  {
    /* stable by validation user, then stable by item id within each */
    vtrip *a = recv;
    int64_t *fill = d->va_irow; /* scratch before it is filled */
    for (q = 0; q < n_recv; q++) d->va_ptr[a[q].vu - v0 + 1]++;
    for (u = 0; u < nv; u++) d->va_ptr[u + 1] += d->va_ptr[u];
    for (u = 0; u < nv; u++) fill[u] = d->va_ptr[u];
    for (q = 0; q < n_recv; q++) tmp[fill[a[q].vu - v0]++] = a[q];
    for (u = 0; u < nv; u++)
      sort_vtrip(tmp + d->va_ptr[u], a + d->va_ptr[u],
                 d->va_ptr[u + 1] - d->va_ptr[u]);
    for (q = 0; q < n_recv; q++) {
      d->va_irow[q] = clearn__id_lookup(d->item_ids, d->sh.n_items, tmp[q].item);
      d->va_val[q] = tmp[q].v;
    }
    for (u = 0; u < nv; u++)
      d->va_urow[u] = clearn__id_lookup(d->user_ids, d->sh.n_users, vids[v0 + u]);
  }
  d->sh.has_valid = 1;
done:
  free(recv);
  free(tmp);
  free(vids);
  free(vrow);
  free(cnt);
  free(scount);
  free(send);
  return clearn__mpi_agree(c, rc);
}

static int build_shard(clearn__mpi_ctx *c, const clearn_ratings *tr,
                       const clearn_ratings *va, dshard *d) {
  int rc;
  memset(d, 0, sizeof *d);
  d->sh.rank = c->rank;
  d->sh.size = c->size;
  if ((rc = shard_train(c, tr, d)) == CLEARN_OK)
    rc = shard_valid(c, va, d);
  if (rc != CLEARN_OK) return rc;
  d->sh.user_ids = d->user_ids;
  d->sh.item_ids = d->item_ids;
  d->sh.user_off = d->user_off;
  d->sh.item_off = d->item_off;
  d->sh.nnz_off = d->nnz_off;
  d->sh.u_ptr = d->u_ptr;
  d->sh.u_idx = d->u_idx;
  d->sh.u_val = d->u_val;
  d->sh.i_ptr = d->i_ptr;
  d->sh.i_idx = d->i_idx;
  d->sh.i_val = d->i_val;
  d->sh.va_off = d->va_off;
  d->sh.va_ptr = d->va_ptr;
  d->sh.va_urow = d->va_urow;
  d->sh.va_irow = d->va_irow;
  d->sh.va_val = d->va_val;
  return CLEARN_OK;
}

/* ---- the distributed fit ---------------------------------------------------- */

static int fit_dist(clearn_estimator *est, MPI_Comm comm,
                    const clearn_ratings *train, const clearn_ratings *valid,
                    int resume) {
  clearn__mpi_ctx c;
  dshard d;
  ex_ctx xc;
  clearn__exchange ex;
  clearn__ckpt_file cf;
  clearn__checkpoint ck;
  clearn__serial_shard ss;
  void *model = NULL;
  int rc, mrc, one = 0;
  memset(&d, 0, sizeof d);
  memset(&ss, 0, sizeof ss);
  xc.counts = xc.displs = NULL;
  if ((rc = clearn__mpi_open(&c, comm)) != CLEARN_OK)
    return est ? clearn__est_fail(est, rc) : rc;
  rc = est == NULL ? clearn__err(CLEARN_EINVAL, "estimator is NULL")
       : est->type->rec == NULL
           ? clearn__err(CLEARN_EUNSUPPORTED,
                         "%s: fit_ratings is only offered by recommenders "
                         "(als)",
                         est->type->name)
           : CLEARN_OK;
  if ((rc = clearn__mpi_agree(&c, rc)) != CLEARN_OK) goto cleanup;
  if ((rc = clearn__mpi_check_params(&c, est)) != CLEARN_OK) goto cleanup;
  rc = est->type->check ? est->type->check(est->params) : CLEARN_OK;
  if (rc == CLEARN_OK && resume && est->model == NULL)
    rc = clearn__err(CLEARN_ENOTFITTED,
                     "%s: this estimator is not fitted yet; resume needs a "
                     "model (load a checkpoint)",
                     est->type->name);
  if ((rc = clearn__mpi_agree(&c, rc)) != CLEARN_OK) goto cleanup;
  if (c.size == 1) {
    /* one rank: the serial shard, views of the caller's CSRs (no copy) */
    if (train == NULL || train->nnz == 0)
      rc = clearn__err(CLEARN_ESHAPE, "training ratings are empty on every "
                                      "rank");
    else
      rc = clearn__shard_serial(train, valid, &ss);
    if (rc != CLEARN_OK) goto cleanup;
    one = 1;
  } else if ((rc = build_shard(&c, train, valid, &d)) != CLEARN_OK) {
    goto cleanup;
  }
  xc.c = &c;
  xc.counts = malloc((size_t)c.size * sizeof(int));
  xc.displs = malloc((size_t)c.size * sizeof(int));
  rc = !xc.counts || !xc.displs ? clearn__err(CLEARN_ENOMEM, "out of memory")
                                : CLEARN_OK;
  if ((rc = clearn__mpi_agree(&c, rc)) != CLEARN_OK) goto cleanup;
  ex.gather = ex_gather;
  ex.agree = ex_agree;
  ex.any = ex_any;
  ex.seconds = ex_seconds;
  ex.ctx = &xc;
  cf.est = est;
  cf.path = est->ckpt_path;
  cf.write_here = c.rank == 0;
  ck.write = clearn__ckpt_write;
  ck.ctx = &cf;
  ck.every = est->ckpt_every;
  c.seconds = 0;
  /* Checkpoint settings may differ between ranks only in where rank 0
   * writes; whether to write at all must agree. */
  {
    long long e[2] = {est->ckpt_path ? est->ckpt_every : 0, 0}, eh[2];
    e[1] = -e[0];
    mrc = MPI_Allreduce(e, eh, 2, MPI_LONG_LONG, MPI_MAX, c.comm);
    if (mrc != MPI_SUCCESS)
      rc = clearn__mpi_fail(mrc, "MPI_Allreduce (checkpoint settings)");
    else if (eh[0] != -eh[1])
      rc = clearn__err(CLEARN_EINVAL,
                       "%s: checkpoint settings differ between ranks; call "
                       "set_checkpoint alike on every rank",
                       est->type->name);
    if (rc != CLEARN_OK) goto cleanup;
  }
  rc = est->type->rec->fit(est->params, one ? &ss.sh : &d.sh, &ex,
                           &est->progress,
                           resume ? est->model : NULL,
                           est->ckpt_path ? &ck : NULL, &model);
  rc = clearn__mpi_install(&c, est, rc, &model);
cleanup:
  if (model != NULL) est->type->model_free(model);
  free(xc.counts);
  free(xc.displs);
  dshard_free(&d);
  clearn__shard_serial_free(&ss);
  clearn__mpi_close(&c);
  return est ? clearn__est_fail(est, rc) : rc;
}

int clearn_mpi_fit_ratings(clearn_estimator *est, MPI_Comm comm,
                           const clearn_ratings *train_local,
                           const clearn_ratings *valid_local) {
  return fit_dist(est, comm, train_local, valid_local, 0);
}

int clearn_mpi_resume_ratings(clearn_estimator *est, MPI_Comm comm,
                              const clearn_ratings *train_local,
                              const clearn_ratings *valid_local) {
  return fit_dist(est, comm, train_local, valid_local, 1);
}

/* ---- ratings shares --------------------------------------------------------- */

typedef struct {
  int64_t u, i;
  float v;
  float pad;
} otrip;

int clearn_mpi_ratings_scatter(const clearn_ratings *all, int root,
                               MPI_Comm comm, clearn_ratings **local) {
  clearn__mpi_ctx c;
  otrip *send = NULL, *recv = NULL;
  int *scount = NULL, *sdisp = NULL, n_mine = 0, p, mrc;
  int64_t *off = NULL, *cnt = NULL, *uu = NULL, *ii = NULL, q, u;
  float *vv = NULL;
  MPI_Datatype t = MPI_DATATYPE_NULL;
  int rc;
  if (local) *local = NULL;
  if ((rc = clearn__mpi_open(&c, comm)) != CLEARN_OK) return rc;
  rc = local == NULL ? clearn__err(CLEARN_EINVAL, "scatter: local is NULL")
       : root < 0 || root >= c.size
           ? clearn__err(CLEARN_EINVAL, "scatter: root = %d, not a rank of "
                         "the communicator (size %d)", root, c.size)
       : c.rank == root && all == NULL
           ? clearn__err(CLEARN_EINVAL, "scatter: ratings are NULL on the "
                                        "root")
           : CLEARN_OK;
  if ((rc = clearn__mpi_agree(&c, rc)) != CLEARN_OK) goto done;
  scount = calloc((size_t)c.size, sizeof *scount);
  sdisp = calloc((size_t)c.size, sizeof *sdisp);
  if (!scount || !sdisp) rc = clearn__err(CLEARN_ENOMEM, "out of memory");
  if (rc == CLEARN_OK && c.rank == root) {
    if (all->nnz > INT_MAX)
      rc = clearn__err(CLEARN_EUNSUPPORTED,
                       "scatter: %lld ratings exceed MPI's int counts; save "
                       "them as HDF5 ratings and load parts",
                       (long long)all->nnz);
    off = malloc(((size_t)c.size + 1) * sizeof *off);
    cnt = calloc((size_t)all->n_users + 1, sizeof *cnt);
    send = malloc((size_t)(all->nnz > 0 ? all->nnz : 1) * sizeof *send);
    if (rc == CLEARN_OK && (!off || !cnt || !send))
      rc = clearn__err(CLEARN_ENOMEM, "scatter: out of memory");
    if (rc == CLEARN_OK) {
      for (u = 0; u < all->n_users; u++)
        cnt[u] = all->u_ptr[u + 1] - all->u_ptr[u];
      blocks(cnt, all->n_users, c.size, off);
      for (p = 0; p < c.size; p++) {
        scount[p] = (int)(all->u_ptr[off[p + 1]] - all->u_ptr[off[p]]);
        sdisp[p] = (int)all->u_ptr[off[p]];
      }
      for (u = 0; u < all->n_users; u++)
        for (q = all->u_ptr[u]; q < all->u_ptr[u + 1]; q++) {
          send[q].u = all->user_ids[u];
          send[q].i = all->item_ids[all->u_idx[q]];
          send[q].v = all->u_val[q];
          send[q].pad = 0;
        }
    }
  }
  if ((rc = clearn__mpi_agree(&c, rc)) != CLEARN_OK) goto done;
  mrc = MPI_Scatter(scount, 1, MPI_INT, &n_mine, 1, MPI_INT, root, c.comm);
  if (mrc != MPI_SUCCESS) {
    rc = clearn__mpi_fail(mrc, "MPI_Scatter (counts)");
    goto done;
  }
  recv = malloc((size_t)(n_mine > 0 ? n_mine : 1) * sizeof *recv);
  uu = malloc((size_t)(n_mine > 0 ? n_mine : 1) * sizeof *uu);
  ii = malloc((size_t)(n_mine > 0 ? n_mine : 1) * sizeof *ii);
  vv = malloc((size_t)(n_mine > 0 ? n_mine : 1) * sizeof *vv);
  if (!recv || !uu || !ii || !vv)
    rc = clearn__err(CLEARN_ENOMEM, "scatter: out of memory");
  if ((rc = clearn__mpi_agree(&c, rc)) != CLEARN_OK) goto done;
  mrc = MPI_Type_contiguous((int)sizeof(otrip), MPI_BYTE, &t);
  if (mrc == MPI_SUCCESS) mrc = MPI_Type_commit(&t);
  if (mrc == MPI_SUCCESS)
    mrc = MPI_Scatterv(send, scount, sdisp, t, recv, n_mine, t, root, c.comm);
  if (t != MPI_DATATYPE_NULL) MPI_Type_free(&t);
  if (mrc != MPI_SUCCESS) {
    rc = clearn__mpi_fail(mrc, "MPI_Scatterv (ratings)");
    goto done;
  }
  for (q = 0; q < n_mine; q++) {
    uu[q] = recv[q].u;
    ii[q] = recv[q].i;
    vv[q] = recv[q].v;
  }
  rc = clearn_ratings_from_triples(uu, ii, vv, n_mine, local);
  rc = clearn__mpi_agree(&c, rc);
  if (rc != CLEARN_OK && *local) {
    clearn_ratings_free(*local);
    *local = NULL;
  }
done:
  free(send);
  free(recv);
  free(scount);
  free(sdisp);
  free(off);
  free(cnt);
  free(uu);
  free(ii);
  free(vv);
  clearn__mpi_close(&c);
  return rc;
}

/* An HDF5 file starts with this signature (at offset 0 for the files
 * clearn writes). */
static int is_hdf5(const char *path) {
  static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a,
                                       '\n'};
  unsigned char buf[8];
  FILE *f = fopen(path, "rb");
  size_t n;
  if (f == NULL) return 0;
  n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  return n == sizeof buf && memcmp(buf, sig, sizeof sig) == 0;
}

int clearn_mpi_ratings_load(const char *path, const char *format,
                            MPI_Comm comm, clearn_ratings **local) {
  clearn__mpi_ctx c;
  clearn_ratings *all = NULL;
  int rc, h5 = 0;
  if (local) *local = NULL;
  if ((rc = clearn__mpi_open(&c, comm)) != CLEARN_OK) return rc;
  rc = local == NULL  ? clearn__err(CLEARN_EINVAL, "ratings_load: local is "
                                                   "NULL")
       : path == NULL ? clearn__err(CLEARN_EINVAL, "ratings_load: path is "
                                                   "NULL")
                      : CLEARN_OK;
  if ((rc = clearn__mpi_agree(&c, rc)) != CLEARN_OK) goto done;
  /* Rank 0 decides the kind of file, so every rank takes the same path. */
  if (c.rank == 0)
    h5 = (format == NULL || strcmp(format, "auto") == 0 ||
          strcmp(format, "hdf5") == 0) &&
         is_hdf5(path);
  if (MPI_Bcast(&h5, 1, MPI_INT, 0, c.comm) != MPI_SUCCESS) {
    rc = clearn__err(CLEARN_EMPI, "MPI_Bcast failed");
    goto done;
  }
  if (h5) {
    /* every rank reads its own block of users */
    rc = clearn_ratings_load_part(path, c.rank, c.size, local);
    rc = clearn__mpi_agree(&c, rc);
    if (rc != CLEARN_OK && *local) {
      clearn_ratings_free(*local);
      *local = NULL;
    }
    goto done;
  }
  if (c.rank == 0) {
    if (format != NULL && strcmp(format, "hdf5") == 0)
      rc = clearn__err(CLEARN_EFORMAT, "%s: not an HDF5 ratings file", path);
    else
      rc = clearn_ratings_load_text(path, format, 0, NULL, &all);
  }
  if ((rc = clearn__mpi_agree(&c, rc)) != CLEARN_OK) goto done;
  rc = clearn_mpi_ratings_scatter(all, 0, c.comm, local);
done:
  clearn_ratings_free(all);
  clearn__mpi_close(&c);
  return rc;
}
