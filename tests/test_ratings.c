/*
 * test_ratings.c -- the ratings container, its loaders, splits and
 * generator (include/clearn/ratings.h, docs/ratings-format.md).
 *
 *   container   from_triples with non-dense, huge and negative ids and
 *               duplicates, against a naive reference (sort by user, item,
 *               position) for every input order the builder treats
 *               differently; lookups; refusals
 *   text        every format on good input (CRLF, no final newline, empty
 *               lines, permuted columns, implicit ratings), the decimal
 *               parser against strtof, and every kind of malformed line:
 *               exact status and "path:line: field N: ..." message, then the
 *               same files with CLEARN_RATINGS_SKIP_BAD
 *   HDF5        round trip of identical arrays, then wrong, truncated,
 *               corrupted and inconsistent files, each CLEARN_EFORMAT
 *   sweep       every 7th byte of a small file flipped: refused or harmless
 *   part        clearn_ratings_load_part: the documented user blocks for
 *               1..5, 64 and more parts than users, whose triples
 *               concatenated are the whole load's; argument errors, text
 *               files, and damage that fails exactly the parts that read it
 *   splits      exact sizes, disjoint parts whose union is the original
 *               multiset, determinism, per-user leave-k-out counts
 *   generator   exact nnz, no duplicate pairs, min_per_user, the star grid,
 *               a long tail, determinism, argument messages
 *   h5py        clearn's file read by h5py (checksums recomputed with
 *               NumPy from the document), files h5py wrote (schema 2 with
 *               NumPy checksums, Fletcher-32 or other storage types;
 *               schema 1 with gzip, contiguous, its own strings) read by
 *               clearn, whole and in parts
 *   MovieLens   the real files under /work/shared/data/movielens (or
 *               $CLEARN_MOVIELENS_DIR) against their published counts;
 *               "SKIPPED" when absent
 *
 * Files live in a fresh directory under the working directory, removed at
 * the end.
 */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "clearn/clearn.h"
#include "internal.h" /* clearn__h5_*: writing schema 1 files */
#include "testutil.h"

static char g_dir[256];

/* ---- helpers ------------------------------------------------------------- */

static const char *path_in(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "%s/%s", g_dir, name);
  return buf;
}

static const char *write_file(const char *name, const char *text) {
  static char buf[8][512];
  static int slot;
  char *p = buf[slot++ % 8];
  FILE *f;
  path_in(p, 512, name);
  f = fopen(p, "wb");
  if (f == NULL) {
    perror(p);
    exit(1);
  }
  fputs(text, f);
  fclose(f);
  return p;
}

typedef struct triple {
  int64_t u, i;
  float v;
  int64_t pos; /* input position: ties keep input order */
} triple;

static int cmp_ui(const void *a, const void *b) {
  const triple *x = a, *y = b;
  if (x->u != y->u) return x->u < y->u ? -1 : 1;
  if (x->i != y->i) return x->i < y->i ? -1 : 1;
  return (x->pos > y->pos) - (x->pos < y->pos);
}

static int cmp_iu(const void *a, const void *b) {
  const triple *x = a, *y = b;
  if (x->i != y->i) return x->i < y->i ? -1 : 1;
  if (x->u != y->u) return x->u < y->u ? -1 : 1;
  return (x->pos > y->pos) - (x->pos < y->pos);
}

/* By value bits, for multisets. */
static int cmp_uiv(const void *a, const void *b) {
  const triple *x = a, *y = b;
  uint32_t bx, by;
  if (x->u != y->u) return x->u < y->u ? -1 : 1;
  if (x->i != y->i) return x->i < y->i ? -1 : 1;
  memcpy(&bx, &x->v, 4);
  memcpy(&by, &y->v, 4);
  return (bx > by) - (bx < by);
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static int same_float(float a, float b) { return memcmp(&a, &b, 4) == 0; }

/* All ratings of r as triples (user-major), malloc'ed. */
static triple *triples_of(const clearn_ratings *r) {
  int64_t n = clearn_ratings_nnz(r), k;
  int64_t *u = malloc((size_t)(n + 1) * 8), *i = malloc((size_t)(n + 1) * 8);
  float *v = malloc((size_t)(n + 1) * 4);
  triple *t = malloc((size_t)(n + 1) * sizeof *t);
  CHECK_OK(clearn_ratings_triples(r, u, i, v));
  for (k = 0; k < n; k++) t[k] = (triple){u[k], i[k], v[k], k};
  free(u);
  free(i);
  free(v);
  return t;
}

/* Everything a ratings object promises: ascending unique id maps, both CSRs
 * well formed with columns ascending within rows, every id used, and the
 * by-item copy the exact transpose of the by-user one. */
static void check_invariants(const clearn_ratings *r, const char *what) {
  const clearn_csr *bu = clearn_ratings_by_user(r), *bi = clearn_ratings_by_item(r);
  const int64_t *uid = clearn_ratings_user_ids(r), *iid = clearn_ratings_item_ids(r);
  int64_t nu = clearn_ratings_n_users(r), ni = clearn_ratings_n_items(r);
  int64_t nnz = clearn_ratings_nnz(r), k, row, bad = 0;
  const clearn_csr *c[2] = {bu, bi};
  for (k = 1; k < nu; k++) bad += uid[k] <= uid[k - 1];
  for (k = 1; k < ni; k++) bad += iid[k] <= iid[k - 1];
  CHECK(bad == 0, "%s: id maps not strictly ascending", what);
  for (int s = 0; s < 2; s++) {
    const int64_t *p = clearn_csr_indptr(c[s]);
    const int32_t *ix = clearn_csr_indices(c[s]);
    int64_t rows = s ? ni : nu, cols = s ? nu : ni;
    CHECK(clearn_csr_rows(c[s]) == rows && clearn_csr_cols(c[s]) == cols &&
              clearn_csr_nnz(c[s]) == nnz &&
              clearn_csr_dtype(c[s]) == CLEARN_FLOAT32,
          "%s: CSR %d shape", what, s);
    CHECK(p[0] == 0 && p[rows] == nnz, "%s: CSR %d indptr ends", what, s);
    bad = 0;
    for (row = 0; row < rows; row++) {
      bad += p[row + 1] <= p[row]; /* every id has a rating */
      for (k = p[row]; k < p[row + 1]; k++)
        bad += ix[k] < 0 || ix[k] >= cols ||
               (k > p[row] && ix[k] < ix[k - 1]);
    }
    CHECK(bad == 0, "%s: CSR %d: %lld bad rows/entries", what, s,
          (long long)bad);
  }
  {
    triple *a = malloc((size_t)(nnz + 1) * sizeof *a),
           *b = malloc((size_t)(nnz + 1) * sizeof *b);
    const int64_t *p = clearn_csr_indptr(bu), *q = clearn_csr_indptr(bi);
    const int32_t *ix = clearn_csr_indices(bu), *jx = clearn_csr_indices(bi);
    const float *pv = clearn_csr_values(bu), *qv = clearn_csr_values(bi);
    int64_t w = 0;
    for (row = 0; row < nu; row++)
      for (k = p[row]; k < p[row + 1]; k++)
        a[w] = (triple){row, ix[k], pv[k], 0}, w++;
    w = 0;
    for (row = 0; row < ni; row++)
      for (k = q[row]; k < q[row + 1]; k++)
        b[w] = (triple){jx[k], row, qv[k], 0}, w++;
    qsort(a, (size_t)nnz, sizeof *a, cmp_uiv);
    qsort(b, (size_t)nnz, sizeof *b, cmp_uiv);
    bad = 0;
    for (k = 0; k < nnz; k++)
      bad += a[k].u != b[k].u || a[k].i != b[k].i || !same_float(a[k].v, b[k].v);
    CHECK(bad == 0, "%s: by-item is not the transpose of by-user (%lld)", what,
          (long long)bad);
    free(a);
    free(b);
  }
}

/* r holds exactly the n expected triples (any order; duplicates in input
 * order), compared bit for bit in clearn's user-major order. */
static void expect_triples(const clearn_ratings *r, int64_t n,
                           const int64_t *u, const int64_t *i, const float *v,
                           const char *what) {
  triple *want = malloc((size_t)(n + 1) * sizeof *want), *got;
  int64_t k, bad = 0;
  CHECK(clearn_ratings_nnz(r) == n, "%s: nnz %lld, expected %lld", what,
        (long long)clearn_ratings_nnz(r), (long long)n);
  if (clearn_ratings_nnz(r) != n) {
    free(want);
    return;
  }
  for (k = 0; k < n; k++) want[k] = (triple){u[k], i[k], v ? v[k] : 1.0f, k};
  qsort(want, (size_t)n, sizeof *want, cmp_ui);
  got = triples_of(r);
  for (k = 0; k < n; k++)
    if (got[k].u != want[k].u || got[k].i != want[k].i ||
        !same_float(got[k].v, want[k].v)) {
      if (bad++ < 3)
        fprintf(stderr, "  %s: rating %lld is (%lld, %lld, %.9g), expected "
                "(%lld, %lld, %.9g)\n", what, (long long)k,
                (long long)got[k].u, (long long)got[k].i, got[k].v,
                (long long)want[k].u, (long long)want[k].i, want[k].v);
    }
  CHECK(bad == 0, "%s: %lld ratings differ", what, (long long)bad);
  check_invariants(r, what);
  free(want);
  free(got);
}

/* ---- container ----------------------------------------------------------- */

/* The by-user and by-item arrays of from_triples against the reference:
 * stable sorts of the input by (user, item) and (item, user). */
static void check_against_reference(const int64_t *u, const int64_t *i,
                                    const float *v, int64_t n,
                                    const char *what) {
  clearn_ratings *r = NULL;
  triple *t = malloc((size_t)(n + 1) * sizeof *t);
  int64_t k, bad = 0;
  CHECK_OK(clearn_ratings_from_triples(u, i, v, n, &r));
  if (r == NULL) {
    free(t);
    return;
  }
  for (k = 0; k < n; k++) t[k] = (triple){u[k], i[k], v[k], k};
  qsort(t, (size_t)n, sizeof *t, cmp_ui);
  {
    const clearn_csr *c = clearn_ratings_by_user(r);
    const int32_t *ix = clearn_csr_indices(c);
    const float *cv = clearn_csr_values(c);
    const int64_t *uid = clearn_ratings_user_ids(r), *iid = clearn_ratings_item_ids(r);
    const int64_t *p = clearn_csr_indptr(c);
    for (int64_t row = 0; row < clearn_ratings_n_users(r); row++)
      for (k = p[row]; k < p[row + 1]; k++)
        bad += uid[row] != t[k].u || iid[ix[k]] != t[k].i ||
               !same_float(cv[k], t[k].v);
  }
  qsort(t, (size_t)n, sizeof *t, cmp_iu);
  {
    const clearn_csr *c = clearn_ratings_by_item(r);
    const int32_t *ix = clearn_csr_indices(c);
    const float *cv = clearn_csr_values(c);
    const int64_t *uid = clearn_ratings_user_ids(r), *iid = clearn_ratings_item_ids(r);
    const int64_t *p = clearn_csr_indptr(c);
    for (int64_t row = 0; row < clearn_ratings_n_items(r); row++)
      for (k = p[row]; k < p[row + 1]; k++)
        bad += iid[row] != t[k].i || uid[ix[k]] != t[k].u ||
               !same_float(cv[k], t[k].v);
  }
  CHECK(bad == 0, "%s: %lld entries differ from the reference", what,
        (long long)bad);
  check_invariants(r, what);
  clearn_ratings_free(r);
  free(t);
}

static void test_container(void) {
  const int64_t u[] = {INT64_MAX, -5, 7, INT64_MIN, 7, -5, 7, 0};
  const int64_t i[] = {-1, 1000000000000LL, -1, INT64_MAX, -1, INT64_MIN, 3, 3};
  const float v[] = {1, 2, 3, 4, 5, 6, 7, 8};
  clearn_ratings *r = NULL;
  int64_t ou[8], oi[8];
  float ov[8];

  CHECK_OK(clearn_ratings_from_triples(u, i, v, 8, &r));
  CHECK(clearn_ratings_nnz(r) == 8, "duplicates are kept");
  CHECK(clearn_ratings_n_users(r) == 5 && clearn_ratings_n_items(r) == 5,
        "%lld users, %lld items", (long long)clearn_ratings_n_users(r),
        (long long)clearn_ratings_n_items(r));
  CHECK(clearn_ratings_user_ids(r)[0] == INT64_MIN &&
            clearn_ratings_user_ids(r)[4] == INT64_MAX,
        "user map ascending from INT64_MIN to INT64_MAX");
  CHECK(clearn_ratings_item_ids(r)[0] == INT64_MIN &&
            clearn_ratings_item_ids(r)[4] == INT64_MAX,
        "item map ascending");
  CHECK(clearn_ratings_user_index(r, 7) == 3, "index of user 7");
  CHECK(clearn_ratings_user_index(r, INT64_MIN) == 0, "index of INT64_MIN");
  CHECK(clearn_ratings_user_index(r, 6) == -1, "absent user");
  CHECK(clearn_ratings_item_index(r, 1000000000000LL) == 3, "index of 1e12");
  CHECK(clearn_ratings_item_index(r, 4) == -1, "absent item");
  CHECK(clearn_ratings_user_index(NULL, 7) == -1, "NULL handle lookup");
  expect_triples(r, 8, u, i, v, "from_triples");
  /* Triples round trip through from_triples again. */
  CHECK_OK(clearn_ratings_triples(r, ou, oi, ov));
  CHECK_OK(clearn_ratings_triples(r, NULL, oi, NULL));
  {
    clearn_ratings *r2 = NULL;
    CHECK_OK(clearn_ratings_from_triples(ou, oi, ov, 8, &r2));
    expect_triples(r2, 8, u, i, v, "triples round trip");
    clearn_ratings_free(r2);
  }
  /* user 7 rated item -1 twice (values 3 and 5, in that order). */
  CHECK(ou[4] == 7 && oi[4] == -1 && ov[4] == 3 && ou[5] == 7 &&
            oi[5] == -1 && ov[5] == 5,
        "duplicates in input order: (%lld,%lld,%g) (%lld,%lld,%g)",
        (long long)ou[4], (long long)oi[4], ov[4], (long long)ou[5],
        (long long)oi[5], ov[5]);
  clearn_ratings_free(r);

  /* Non-finite values: refused, naming the position. */
  {
    const float bad[] = {1, 2, NAN};
    r = (clearn_ratings *)&g_dir;
    CHECK_RC(clearn_ratings_from_triples(u, i, bad, 3, &r), CLEARN_ENUMERIC);
    CHECK_STR(clearn_last_error(),
              "ratings: value 2 (user 7, item -1) = nan is not finite");
    CHECK(r == NULL, "out is NULL after a failure");
    const float bad2[] = {INFINITY};
    CHECK_RC(clearn_ratings_from_triples(u, i, bad2, 1, &r), CLEARN_ENUMERIC);
    CHECK_STR(clearn_last_error(),
              "ratings: value 0 (user 9223372036854775807, item -1) = inf is "
              "not finite");
  }
  CHECK_RC(clearn_ratings_from_triples(u, i, v, -1, &r), CLEARN_EINVAL);
  CHECK_RC(clearn_ratings_from_triples(NULL, i, v, 1, &r), CLEARN_EINVAL);
  CHECK_RC(clearn_ratings_from_triples(u, i, v, 1, NULL), CLEARN_EINVAL);

  /* Empty. */
  CHECK_OK(clearn_ratings_from_triples(NULL, NULL, NULL, 0, &r));
  CHECK(r && clearn_ratings_nnz(r) == 0 && clearn_ratings_n_users(r) == 0 &&
            clearn_ratings_n_items(r) == 0,
        "empty ratings");
  CHECK_OK(clearn_ratings_triples(r, NULL, NULL, NULL));
  CHECK(clearn_csr_indptr(clearn_ratings_by_user(r))[0] == 0, "empty indptr");
  clearn_ratings_free(r);
  clearn_ratings_free(NULL);

  /* Larger random inputs in each order the builder handles differently:
   * unordered, grouped by user, sorted by user then item; with duplicates. */
  {
    tu_rng g = {42};
    int64_t n = 20000, k;
    int64_t *uu = malloc(n * 8), *ii = malloc(n * 8);
    float *vv = malloc(n * 4);
    triple *t = malloc(n * sizeof *t);
    for (k = 0; k < n; k++) {
      uu[k] = (int64_t)(tu_uniform(&g) * 300) * 1000003 - 50000000;
      ii[k] = (int64_t)(pow(tu_uniform(&g), 3) * 500) * 77 + 5;
      vv[k] = (float)(int)(tu_uniform(&g) * 10) / 2;
    }
    check_against_reference(uu, ii, vv, n, "random order");
    for (k = 0; k < n; k++) t[k] = (triple){uu[k], ii[k], vv[k], k};
    qsort(t, n, sizeof *t, cmp_ui);
    /* grouped by user, items in input order within a user: a stable
     * sort by user alone */
    {
      triple *s = malloc(n * sizeof *s);
      for (k = 0; k < n; k++) s[k] = (triple){uu[k], k, 0, k};
      qsort(s, n, sizeof *s, cmp_ui); /* (user, position) */
      for (k = 0; k < n; k++) {
        int64_t p = s[k].pos;
        s[k] = (triple){uu[p], ii[p], vv[p], p};
      }
      for (k = 0; k < n; k++) uu[k] = s[k].u, ii[k] = s[k].i, vv[k] = s[k].v;
      check_against_reference(uu, ii, vv, n, "grouped by user");
      free(s);
    }
    for (k = 0; k < n; k++) uu[k] = t[k].u, ii[k] = t[k].i, vv[k] = t[k].v;
    check_against_reference(uu, ii, vv, n, "sorted by user and item");
    free(uu);
    free(ii);
    free(vv);
    free(t);
  }
}

/* ---- text loaders -------------------------------------------------------- */

static clearn_ratings *load_ok(const char *path, const char *format,
                               int flags, int64_t want_skipped) {
  clearn_ratings *r = NULL;
  int64_t skipped = -1;
  int rc = clearn_ratings_load_text(path, format, flags, &skipped, &r);
  CHECK(rc == CLEARN_OK, "load %s as %s: status %d: %s", path, format, rc,
        clearn_last_error());
  CHECK(skipped == want_skipped, "load %s as %s: %lld skipped, expected %lld",
        path, format, (long long)skipped, (long long)want_skipped);
  return r;
}

/* Load that must fail with `want` and exactly the message
 * "<path>:<rest>" (or the whole message when rest starts with '='). */
static void load_fail(const char *path, const char *format, int want,
                      const char *rest) {
  clearn_ratings *r = (clearn_ratings *)&g_dir;
  char msg[1024];
  int rc = clearn_ratings_load_text(path, format, 0, NULL, &r);
  CHECK(rc == want, "load %s as %s: status %d (%s), expected %d", path, format,
        rc, clearn_last_error(), want);
  CHECK(r == NULL, "out is NULL after a failure");
  if (rest[0] == '=')
    snprintf(msg, sizeof msg, "%s", rest + 1);
  else
    snprintf(msg, sizeof msg, "%s:%s", path, rest);
  CHECK_STR(clearn_last_error(), msg);
  clearn_ratings_free(r == (clearn_ratings *)&g_dir ? NULL : r);
}

static void test_text_good(void) {
  const int64_t u3[] = {1, 1, 2, 3};
  const int64_t i3[] = {10, 20, 10, 30};
  const float v3[] = {5, 3.5f, 1, 4};
  const char *p;
  clearn_ratings *r;

  /* ml-100k: tabs, timestamps; unsorted; CRLF; no final newline. */
  p = write_file("u.data", "2\t10\t1\t881250949\n1\t20\t3.5\t891717742\n"
                           "1\t10\t5\t878887116\n3\t30\t4\t880606923\n");
  r = load_ok(p, "ml-100k", 0, 0);
  expect_triples(r, 4, (int64_t[]){2, 1, 1, 3}, (int64_t[]){10, 20, 10, 30},
                 (float[]){1, 3.5f, 5, 4}, "ml-100k");
  clearn_ratings_free(r);
  r = load_ok(p, "auto", 0, 0);
  expect_triples(r, 4, (int64_t[]){2, 1, 1, 3}, (int64_t[]){10, 20, 10, 30},
                 (float[]){1, 3.5f, 5, 4}, "ml-100k auto");
  clearn_ratings_free(r);
  p = write_file("crlf.data", "1\t10\t5\t1\r\n\r\n1\t20\t3.5\t2\r\n2\t10\t1\t3"
                              "\r\n\n3\t30\t4\t4");
  r = load_ok(p, "ml-100k", 0, 0);
  expect_triples(r, 4, u3, i3, v3, "ml-100k CRLF, empty lines, no final newline");
  clearn_ratings_free(r);
  r = load_ok(p, "auto", 0, 0);
  expect_triples(r, 4, u3, i3, v3, "auto CRLF");
  clearn_ratings_free(r);

  /* ml-1m: "::", with and without timestamps. */
  p = write_file("ratings.dat", "1::10::5::978300760\n1::20::3.5\n2::10::1\n"
                                "3::30::4::978300275\n");
  r = load_ok(p, "ml-1m", 0, 0);
  expect_triples(r, 4, u3, i3, v3, "ml-1m");
  clearn_ratings_free(r);
  r = load_ok(p, "auto", 0, 0);
  expect_triples(r, 4, u3, i3, v3, "ml-1m auto");
  clearn_ratings_free(r);
  p = write_file("ratings-crlf.dat", "1::10::5\r\n1::20::3.5\r\n2::10::1\r\n"
                                     "3::30::4");
  r = load_ok(p, "ml-1m", 0, 0);
  expect_triples(r, 4, u3, i3, v3, "ml-1m CRLF");
  clearn_ratings_free(r);

  /* ml-latest: header, half stars. */
  p = write_file("ratings.csv", "userId,movieId,rating,timestamp\n"
                                "1,10,5.0,964982703\n1,20,3.5,964981247\n"
                                "2,10,1.0,964982224\n3,30,4.0,964983815\n");
  r = load_ok(p, "ml-latest", 0, 0);
  expect_triples(r, 4, u3, i3, v3, "ml-latest");
  clearn_ratings_free(r);
  r = load_ok(p, "auto", 0, 0);
  expect_triples(r, 4, u3, i3, v3, "ml-latest auto");
  clearn_ratings_free(r);
  p = write_file("ratings-crlf.csv", "userId,movieId,rating,timestamp\r\n"
                                     "1,10,5.0,9\r\n1,20,3.5,9\r\n2,10,1,9\r\n"
                                     "3,30,4,9");
  r = load_ok(p, "ml-latest", 0, 0);
  expect_triples(r, 4, u3, i3, v3, "ml-latest CRLF");
  clearn_ratings_free(r);

  /* Generic: permuted columns, extra columns, spaces around numbers,
   * header, huge and negative ids, every decimal spelling. */
  p = write_file("generic.csv", "rating,item,user,comment\n"
                                "5, 10 ,1,x\n3.5,20,1,\n1e0,10,2,a,b,c\n"
                                "+4.,30,3,\n");
  r = load_ok(p, "csv:2,1,0:header", 0, 0);
  expect_triples(r, 4, u3, i3, v3, "csv:2,1,0:header");
  clearn_ratings_free(r);
  p = write_file("ids.csv", "-9223372036854775808,9223372036854775807,.5\n"
                            "9223372036854775807,-9223372036854775808,-2.25\n"
                            "0,0,0\n-0,-0,-0\n00012,+7,1e-3\n");
  r = load_ok(p, "csv:0,1,2", 0, 0);
  expect_triples(r, 5, (int64_t[]){INT64_MIN, INT64_MAX, 0, 0, 12},
                 (int64_t[]){INT64_MAX, INT64_MIN, 0, 0, 7},
                 (float[]){0.5f, -2.25f, 0.0f, -0.0f, 0.001f}, "huge ids");
  clearn_ratings_free(r);
  r = load_ok(p, "auto", 0, 0); /* a comma, a number first: csv:0,1,2 */
  CHECK(clearn_ratings_nnz(r) == 5, "auto csv without header");
  clearn_ratings_free(r);

  /* Implicit (R = "-"): every value 1; tsv with a header. */
  p = write_file("clicks.tsv", "user\titem\n1\t10\n1\t20\n2\t10\n3\t30\n");
  r = load_ok(p, "tsv:0,1,-:header", 0, 0);
  expect_triples(r, 4, u3, i3, (float[]){1, 1, 1, 1}, "implicit tsv");
  clearn_ratings_free(r);
  p = write_file("clicks2.tsv", "u\ti\tr\n1\t10\t5\n1\t20\t3.5\n2\t10\t1\n3\t30\t4\n");
  r = load_ok(p, "auto", 0, 0); /* tab + header: tsv:0,1,2:header */
  expect_triples(r, 4, u3, i3, v3, "auto tsv with header");
  clearn_ratings_free(r);
  p = write_file("clicks.csv", "10,1,\n20,1,x\n10,2,y\n30,3,z\n");
  r = load_ok(p, "csv:1,0,-", 0, 0);
  expect_triples(r, 4, u3, i3, NULL, "implicit csv, permuted");
  clearn_ratings_free(r);

  /* Empty files, and files of blank lines: no ratings. */
  p = write_file("empty.csv", "");
  r = load_ok(p, "auto", 0, 0);
  CHECK(r && clearn_ratings_nnz(r) == 0, "empty file");
  clearn_ratings_free(r);
  r = load_ok(p, "ml-latest", 0, 0);
  CHECK(r && clearn_ratings_nnz(r) == 0, "empty ml-latest file");
  clearn_ratings_free(r);
  p = write_file("blank.csv", "\n\r\n\n");
  r = load_ok(p, "ml-1m", 0, 0);
  CHECK(r && clearn_ratings_nnz(r) == 0, "blank lines only");
  clearn_ratings_free(r);
  p = write_file("header-only.csv", "userId,movieId,rating,timestamp\n");
  r = load_ok(p, "auto", 0, 0);
  CHECK(r && clearn_ratings_nnz(r) == 0, "header only");
  clearn_ratings_free(r);
}

/* Decimal parsing: exactly what a correctly rounded strtof gives, over
 * random spellings that hit the fast path, its float-midpoint escape, the
 * long-mantissa and exponent paths; plus the classic double-rounding
 * traps. */
static void test_text_decimals(void) {
  const char *cases[] = {
      "0.5000000298023224",          /* rounds onto a float midpoint as a double */
      "0.5000000298023223876953125", /* the midpoint itself: ties to even */
      "0.50000002980232238769531251",
      "1.000000059604644775390625", "1.0000000596046448", "3.4028235e38",
      "1.17549435e-38", "1e-45", "7e-46", "0.1", "2.2", "123456789012345678901234567890",
      "0.000000000000000000000000000001", "9007199254740993", "4.999999999999999999999",
  };
  const int nc = (int)(sizeof cases / sizeof cases[0]);
  char *text = malloc(4 << 20), *w = text, buf[64];
  float *want = malloc(40000 * sizeof *want);
  int64_t *uu = malloc(40000 * 8), *ii = malloc(40000 * 8);
  tu_rng g = {7};
  int n = 0, k;
  clearn_ratings *r;
  const char *p;
  for (k = 0; k < nc; k++) {
    w += sprintf(w, "1,%d,%s\n", n, cases[k]);
    want[n] = strtof(cases[k], NULL);
    uu[n] = 1;
    ii[n] = n;
    n++;
  }
  for (k = 0; k < 30000; k++) {
    int nd = 1 + (int)(tu_uniform(&g) * 22), dot = (int)(tu_uniform(&g) * (nd + 1));
    int e = tu_uniform(&g) < 0.3 ? (int)(tu_uniform(&g) * 80) - 40 : 0;
    char *q = buf;
    if (tu_uniform(&g) < 0.2) *q++ = '-';
    for (int d = 0; d < nd; d++) {
      if (d == dot && d > 0) *q++ = '.';
      *q++ = (char)('0' + (int)(tu_uniform(&g) * 10));
    }
    if (e) q += sprintf(q, "e%d", e);
    *q = '\0';
    want[n] = strtof(buf, NULL);
    if (!isfinite(want[n])) continue;
    w += sprintf(w, "1,%d,%s\n", n, buf);
    uu[n] = 1;
    ii[n] = n;
    n++;
  }
  /* Every float printed with 9 significant digits comes back exactly. */
  for (k = 0; k < 5000; k++) {
    float f = (float)((tu_uniform(&g) - 0.5) * pow(10, (int)(tu_uniform(&g) * 20) - 10));
    w += sprintf(w, "1,%d,%.9g\n", n, f);
    want[n] = f;
    uu[n] = 1;
    ii[n] = n;
    n++;
  }
  p = write_file("decimals.csv", text);
  r = load_ok(p, "csv:0,1,2", 0, 0);
  if (r) {
    int64_t bad = 0;
    float *v = malloc(n * sizeof *v);
    int64_t *it = malloc(n * 8);
    clearn_ratings_triples(r, NULL, it, v);
    for (k = 0; k < n; k++)
      if (!same_float(v[k], want[it[k]]) && bad++ < 5)
        fprintf(stderr, "  decimal of line %lld: got %.9g, strtof %.9g\n",
                (long long)it[k] + 1, v[k], want[it[k]]);
    CHECK(bad == 0, "%lld of %d decimals differ from strtof", (long long)bad, n);
    CHECK(v[0] == nextafterf(0.5f, 1) && v[1] == 0.5f,
          "midpoint traps: %.9g %.9g", v[0], v[1]);
    free(v);
    free(it);
  }
  clearn_ratings_free(r);
  free(text);
  free(want);
  free(uu);
  free(ii);
}

/* Large files: lines across the 8 MiB read buffer, against the source. */
static void test_text_large(void) {
  clearn_ratings *g = NULL, *r;
  int64_t n, k, *u, *i;
  float *v;
  char p[512];
  FILE *f;
  CHECK_OK(clearn_ratings_generate(3000, 2000, 600000, 5, 4, 0.3, 0, 11, &g));
  if (g == NULL) return;
  n = clearn_ratings_nnz(g);
  u = malloc(n * 8);
  i = malloc(n * 8);
  v = malloc(n * 4);
  clearn_ratings_triples(g, u, i, v);
  /* Shuffled lines, CRLF, continuous values printed exactly: the general
   * build path and the exact decimal parser at scale. */
  {
    tu_rng s = {3};
    for (k = n - 1; k > 0; k--) {
      int64_t j = (int64_t)(tu_uniform(&s) * (k + 1)), t;
      float tv;
      t = u[k], u[k] = u[j], u[j] = t;
      t = i[k], i[k] = i[j], i[j] = t;
      tv = v[k], v[k] = v[j], v[j] = tv;
    }
  }
  f = fopen(path_in(p, sizeof p, "big.csv"), "wb");
  fprintf(f, "userId,movieId,rating,timestamp\r\n");
  for (k = 0; k < n; k++)
    fprintf(f, "%lld,%lld,%.9g,%lld\r\n", (long long)u[k], (long long)i[k],
            v[k], 1000000000LL + k);
  fclose(f);
  {
    struct stat st;
    stat(p, &st);
    CHECK(st.st_size > (16 << 20), "big.csv spans several buffers (%lld bytes)",
          (long long)st.st_size);
  }
  r = load_ok(p, "auto", 0, 0);
  expect_triples(r, n, u, i, v, "big shuffled CRLF csv");
  clearn_ratings_free(r);
  /* The same, sorted, in ml-1m form without a final newline. */
  clearn_ratings_triples(g, u, i, v);
  f = fopen(path_in(p, sizeof p, "big.dat"), "wb");
  for (k = 0; k < n; k++)
    fprintf(f, "%lld::%lld::%.9g%s", (long long)u[k], (long long)i[k], v[k],
            k + 1 < n ? "\n" : "");
  fclose(f);
  r = load_ok(p, "auto", 0, 0);
  expect_triples(r, n, u, i, v, "big sorted ml-1m");
  clearn_ratings_free(r);
  /* A line longer than the buffer. */
  f = fopen(path_in(p, sizeof p, "long.csv"), "wb");
  fprintf(f, "1,2,3\n1,");
  for (k = 0; k < (9 << 20); k++) fputc('7', f);
  fprintf(f, ",3\n");
  fclose(f);
  load_fail(p, "csv:0,1,2", CLEARN_EFORMAT, "2: line longer than 8388608 bytes");
  free(u);
  free(i);
  free(v);
  clearn_ratings_free(g);
}

static void test_text_bad(void) {
  const char *p;
  clearn_ratings *r;
  /* Every kind of bad field, each alone in an otherwise good file. */
  static const struct {
    const char *format, *text, *msg;
  } bad[] = {
      {"ml-100k", "1\t2\t3\t4\n1\t2\n", "2: field 3: missing (the line has 2 fields, expected 3 or 4)"},
      {"ml-100k", "1\t2\t3\t4\t5\n", "1: field 5: unexpected (the line has 5 fields, expected 3 or 4)"},
      {"ml-100k", "1\t2\t3\t4\t5\t6\n", "1: field 5: unexpected (the line has 6 fields, expected 3 or 4)"},
      {"ml-100k", "x\t2\t3\t4\n", "1: field 1: user id 'x' is not an integer"},
      {"ml-100k", "1\t2.0\t3\t4\n", "1: field 2: item id '2.0' is not an integer"},
      {"ml-100k", "1\t2\t3x\t4\n", "1: field 3: rating '3x' is not a number"},
      {"ml-100k", "1\t2\t3\t4x\n", "1: field 4: timestamp '4x' is not an integer"},
      {"ml-100k", "1\t\t3\t4\n", "1: field 2: empty item id"},
      {"ml-100k", "1\t2\t\t4\n", "1: field 3: empty rating"},
      {"ml-100k", "\t2\t3\t4\r\n", "1: field 1: empty user id"},
      {"ml-100k", "1\t2\tnan\t4\n", "1: field 3: rating 'nan' is not finite"},
      {"ml-100k", "1\t2\t-Infinity\t4\n", "1: field 3: rating '-Infinity' is not finite"},
      {"ml-100k", "1\t2\t1e39\t4\n", "1: field 3: rating '1e39' is not finite"},
      {"ml-100k", "1\t2\t1e999999999999\t4\n", "1: field 3: rating '1e999999999999' is not finite"},
      {"ml-100k", "1\t2\t1e\t4\n", "1: field 3: rating '1e' is not a number"},
      {"ml-100k", "1\t2\t.\t4\n", "1: field 3: rating '.' is not a number"},
      {"ml-100k", "1\t2\t0x10\t4\n", "1: field 3: rating '0x10' is not a number"},
      {"ml-100k", "1\t2\t3 4\t4\n", "1: field 3: rating '3 4' is not a number"},
      {"ml-100k", "1\t2\t--3\t4\n", "1: field 3: rating '--3' is not a number"},
      {"ml-100k", "9223372036854775808\t2\t3\t4\n", "1: field 1: user id '9223372036854775808' does not fit in a 64-bit integer"},
      {"ml-100k", "1\t-9223372036854775809\t3\t4\n", "1: field 2: item id '-9223372036854775809' does not fit in a 64-bit integer"},
      {"ml-100k", "1\t99999999999999999999999\t3\t4\n", "1: field 2: item id '99999999999999999999999' does not fit in a 64-bit integer"},
      {"ml-100k", "1\t99999999999999999999999x\t3\t4\n", "1: field 2: item id '99999999999999999999999x' is not an integer"},
      {"ml-100k", "1\t-\t3\t4\n", "1: field 2: item id '-' is not an integer"},
      {"ml-1m", "1::2::3\n\n1:2::3::4\n", "3: field 1: user id '1:2' is not an integer"},
      {"ml-1m", "1::2::3::4::5\r\n", "1: field 5: unexpected (the line has 5 fields, expected 3 or 4)"},
      {"ml-1m", "1::2\n", "1: field 3: missing (the line has 2 fields, expected 3 or 4)"},
      {"ml-1m", "1,2,3\n", "1: field 1: user id '1,2,3' is not an integer"},
      {"ml-latest", "userId,movieId,rating,timestamp\n1,2,3,4\n1,2,three,4\n", "3: field 3: rating 'three' is not a number"},
      {"ml-latest", "1,2,3,4\n", "1: field 1: expected the header line of format ml-latest (userId,movieId,rating,timestamp), got a number"},
      {"csv:0,1,2", "1,2\n", "1: field 3: missing (the line has 2 fields, expected at least 3)"},
      {"csv:2,0,1:header", "a,b,c\n1,2,3\n1,2\n", "3: field 3: missing (the line has 2 fields, expected at least 3)"},
      {"csv:2,0,1", "1,2,x\n", "1: field 3: user id 'x' is not an integer"},
      {"tsv:0,1,-", "1\t2\n1\tabc\n", "2: field 2: item id 'abc' is not an integer"},
      {"auto", "1 2 3\n", "1: cannot detect the format (no '::', tab or comma in the first line); pass a format"},
      {"auto", "\n\n1,2,3\n1,2,x\n", "4: field 3: rating 'x' is not a number"},
  };
  char name[64];
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    snprintf(name, sizeof name, "bad%zu.txt", k);
    p = write_file(name, bad[k].text);
    load_fail(p, bad[k].format, CLEARN_EFORMAT, bad[k].msg);
  }
  /* Long fields are cut in the message. */
  p = write_file("longfield.csv", "1,2,3333333333333333333333333333333333333333333333333333x\n");
  load_fail(p, "csv:0,1,2", CLEARN_EFORMAT,
            "1: field 3: rating '3333333333333333333333333333333333333333...' is "
            "not a number");

  /* Skip-bad: bad lines counted and left without a trace (user 99 and item
   * 77 appear only on bad lines). */
  p = write_file("mixed.data", "1\t10\t5\t0\n99\t10\tx\t0\n\n1\t20\t3.5\t0\n"
                               "2\t77\n2\t10\t1\t0\r\n3\t30\t4\t0\nbad line\n"
                               "3\t30\t4\t0\t9\n3\t30\tinf\t0");
  r = load_ok(p, "ml-100k", CLEARN_RATINGS_SKIP_BAD, 5);
  {
    int64_t u[] = {1, 1, 2, 3}, i[] = {10, 20, 10, 30};
    float v[] = {5, 3.5f, 1, 4};
    expect_triples(r, 4, u, i, v, "skip bad");
    CHECK(clearn_ratings_user_index(r, 99) == -1 &&
              clearn_ratings_item_index(r, 77) == -1,
          "ids of skipped lines are not in the maps");
  }
  clearn_ratings_free(r);
  r = load_ok(p, "auto", CLEARN_RATINGS_SKIP_BAD, 5);
  CHECK(r && clearn_ratings_nnz(r) == 4, "skip bad, auto");
  clearn_ratings_free(r);
  load_fail(p, "ml-100k", CLEARN_EFORMAT, "2: field 3: rating 'x' is not a number");
  {
    int64_t n_skipped = 123;
    CHECK_OK(clearn_ratings_load_text(p, "ml-100k", CLEARN_RATINGS_SKIP_BAD,
                                      NULL, &r)); /* n_skipped may be NULL */
    clearn_ratings_free(r);
    r = (clearn_ratings *)&g_dir;
    CHECK_RC(clearn_ratings_load_text(p, "ml-100k", 0, &n_skipped, &r),
             CLEARN_EFORMAT);
    CHECK(r == NULL && n_skipped == 0, "failed load: out NULL, 0 skipped");
  }
  /* A missing header is never skipped: it would lose a rating silently. */
  p = write_file("noheader.csv", "1,2,3,4\n");
  r = (clearn_ratings *)&g_dir;
  CHECK_RC(clearn_ratings_load_text(p, "ml-latest", CLEARN_RATINGS_SKIP_BAD,
                                    NULL, &r),
           CLEARN_EFORMAT);
  CHECK(r == NULL, "out NULL");
  /* Every line bad: an empty result, all counted. */
  p = write_file("allbad.csv", "a,b,c\nd,e,f\n");
  r = load_ok(p, "csv:0,1,2", CLEARN_RATINGS_SKIP_BAD, 2);
  CHECK(r && clearn_ratings_nnz(r) == 0, "all bad");
  clearn_ratings_free(r);

  /* Formats, flags and files refused before reading. */
  p = write_file("ok.csv", "1,2,3\n");
  {
    const char *exp = " (expected auto, ml-100k, ml-1m, ml-latest, "
                      "csv:U,I,R[:header] or tsv:U,I,R[:header])";
    char msg[512];
    static const struct {
      const char *format, *why;
    } fmts[] = {
        {"ml-20m", NULL},
        {"", NULL},
        {"CSV:0,1,2", NULL},
        {"csv:", ": expected column numbers U,I,R"},
        {"csv:0,1", ": expected column numbers U,I,R"},
        {"csv:0,1,x", ": expected column numbers U,I,R"},
        {"csv:0,-1,2", ": expected column numbers U,I,R"},
        {"csv:0,1,99999", ": expected column numbers U,I,R"},
        {"tsv:0,1,2:headers", ": expected nothing or ':header' after U,I,R"},
        {"csv:0,1,2,3", ": expected nothing or ':header' after U,I,R"},
        {"csv:1,1,2", ": the user, item and rating columns must differ"},
        {"csv:0,1,1", ": the user, item and rating columns must differ"},
    };
    for (size_t k = 0; k < sizeof fmts / sizeof fmts[0]; k++) {
      if (fmts[k].why)
        snprintf(msg, sizeof msg, "=ratings: format '%s'%s%s", fmts[k].format,
                 fmts[k].why, exp);
      else
        snprintf(msg, sizeof msg, "=ratings: format '%s' is unknown%s",
                 fmts[k].format, exp);
      load_fail(p, fmts[k].format, CLEARN_EINVAL, msg);
    }
  }
  CHECK_RC(clearn_ratings_load_text(p, "auto", 2, NULL, &r), CLEARN_EINVAL);
  CHECK_STR(clearn_last_error(), "ratings: unknown flags 0x2");
  CHECK_RC(clearn_ratings_load_text(NULL, "auto", 0, NULL, &r), CLEARN_EINVAL);
  CHECK_RC(clearn_ratings_load_text(p, "auto", 0, NULL, NULL), CLEARN_EINVAL);
  r = NULL;
  CHECK_OK(clearn_ratings_load_text(p, NULL, 0, NULL, &r)); /* NULL = auto */
  clearn_ratings_free(r);
  {
    char missing[512], msg[700];
    path_in(missing, sizeof missing, "no-such-file.csv");
    snprintf(msg, sizeof msg, "=cannot open '%s': No such file or directory",
             missing);
    load_fail(missing, "auto", CLEARN_EIO, msg);
    snprintf(msg, sizeof msg, "=cannot read '%s': it is a directory", g_dir);
    load_fail(g_dir, "auto", CLEARN_EIO, msg);
  }
}

/* ---- HDF5 ---------------------------------------------------------------- */

static void expect_same(const clearn_ratings *a, const clearn_ratings *b,
                        const char *what) {
  int64_t nu = clearn_ratings_n_users(a), ni = clearn_ratings_n_items(a),
          nnz = clearn_ratings_nnz(a);
  const clearn_csr *c[2][2] = {{clearn_ratings_by_user(a), clearn_ratings_by_item(a)},
                               {clearn_ratings_by_user(b), clearn_ratings_by_item(b)}};
  int same = clearn_ratings_n_users(b) == nu && clearn_ratings_n_items(b) == ni &&
             clearn_ratings_nnz(b) == nnz;
  CHECK(same, "%s: shapes differ", what);
  if (!same) return;
  same = memcmp(clearn_ratings_user_ids(a), clearn_ratings_user_ids(b), nu * 8) == 0 &&
         memcmp(clearn_ratings_item_ids(a), clearn_ratings_item_ids(b), ni * 8) == 0;
  for (int s = 0; s < 2; s++) {
    int64_t rows = s ? ni : nu;
    same = same &&
           memcmp(clearn_csr_indptr(c[0][s]), clearn_csr_indptr(c[1][s]), (rows + 1) * 8) == 0 &&
           memcmp(clearn_csr_indices(c[0][s]), clearn_csr_indices(c[1][s]), nnz * 4) == 0 &&
           memcmp(clearn_csr_values(c[0][s]), clearn_csr_values(c[1][s]), nnz * 4) == 0;
  }
  CHECK(same, "%s: arrays differ", what);
}

static void h5_fail(const char *path, int want, const char *rest) {
  clearn_ratings *r = (clearn_ratings *)&g_dir;
  char msg[1024];
  int rc = clearn_ratings_load(path, &r);
  CHECK(rc == want, "load %s: status %d (%s), expected %d", path, rc,
        clearn_last_error(), want);
  CHECK(r == NULL, "out NULL after a failed load");
  if (rest[0] == '=')
    snprintf(msg, sizeof msg, "%s", rest + 1);
  else
    snprintf(msg, sizeof msg, "load '%s': %s", path, rest);
  CHECK_STR(clearn_last_error(), msg);
}

static void copy_file(const char *from, const char *to, long max_bytes) {
  FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
  int c;
  long n = 0;
  while ((max_bytes < 0 || n < max_bytes) && (c = fgetc(a)) != EOF) fputc(c, b), n++;
  fclose(a);
  fclose(b);
}

/* The block checksum of docs/ratings-format.md, written from the document
 * (not shared with the library), so the two are checked against each
 * other. */
static uint64_t ref_checksum(const unsigned char *p, size_t n) {
  static const uint64_t K[8] = {0x9E3779B97F4A7C15u, 0xC2B2AE3D27D4EB4Fu,
                                0x165667B19E3779F9u, 0x85EBCA77C2B2AE63u,
                                0x27D4EB2F165667C5u, 0xFF51AFD7ED558CCDu,
                                0xC4CEB9FE1A85EC53u, 0x94D049BB133111EBu};
  uint64_t a[8] = {0}, b[8] = {0}, h = n;
  size_t stripes = (n + 63) / 64;
  for (size_t s = 0; s < stripes; s++)
    for (int j = 0; j < 8; j++) {
      uint64_t w = 0, d;
      for (int byte = 7; byte >= 0; byte--) {
        size_t at = 64 * s + 8 * (size_t)j + (size_t)byte;
        w = (w << 8) | (at < n ? p[at] : 0);
      }
      d = w ^ K[j];
      a[j] += (d & 0xFFFFFFFFu) * (d >> 32) + w;
      b[j] += a[j];
    }
  for (int j = 0; j < 8; j++) {
    h = (h ^ a[j]) * 0x100000001B3u;
    h = (h ^ b[j]) * 0x100000001B3u;
  }
  return h;
}

/* The stored bytes of a dataset (in its file type) and its checksum
 * block; malloc'ed. */
static unsigned char *dataset_bytes(hid_t f, const char *dset, size_t *n,
                                    int64_t *block) {
  hid_t d = H5Dopen2(f, dset, H5P_DEFAULT), t = H5Dget_type(d), s = H5Dget_space(d);
  size_t bytes = (size_t)H5Sget_simple_extent_npoints(s) * H5Tget_size(t);
  unsigned char *buf = malloc(bytes + 1);
  hid_t a = H5Aopen(d, "checksum_block", H5P_DEFAULT);
  CHECK(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0 || bytes == 0,
        "read %s", dset);
  *block = 0;
  if (a >= 0) {
    H5Aread(a, H5T_NATIVE_INT64, block);
    H5Aclose(a);
  }
  H5Sclose(s);
  H5Tclose(t);
  H5Dclose(d);
  *n = bytes;
  return buf;
}

/* Recompute a dataset's 'checksum' attribute, as a writer would after
 * changing it. */
static void resign(hid_t f, const char *dset) {
  size_t n;
  int64_t block;
  unsigned char *buf = dataset_bytes(f, dset, &n, &block);
  hsize_t nb = n == 0 ? 1 : (n + (size_t)block - 1) / (size_t)block;
  uint64_t *sums = malloc(nb * 8);
  hid_t d = H5Dopen2(f, dset, H5P_DEFAULT), s, a;
  for (hsize_t k = 0; k < nb; k++) {
    size_t at = (size_t)k * (size_t)block, len = n - at < (size_t)block ? n - at : (size_t)block;
    sums[k] = ref_checksum(buf + at, len);
  }
  H5Adelete(d, "checksum");
  s = H5Screate_simple(1, &nb, NULL);
  a = H5Acreate2(d, "checksum", H5T_STD_U64LE, s, H5P_DEFAULT, H5P_DEFAULT);
  CHECK(H5Awrite(a, H5T_NATIVE_UINT64, sums) >= 0, "resign %s", dset);
  H5Aclose(a);
  H5Sclose(s);
  H5Dclose(d);
  free(sums);
  free(buf);
}

/* Overwrite one element of a dataset of a saved file with the HDF5 API,
 * and (resign) update its checksums as a consistent writer would. */
static void poke_as(const char *path, const char *dset, hid_t type, int64_t at,
                    const void *value, int sign) {
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT), d, fs, ms;
  hsize_t start[2] = {(hsize_t)at, 0}, count[2] = {1, 1};
  d = H5Dopen2(f, dset, H5P_DEFAULT);
  fs = H5Dget_space(d);
  H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
  ms = H5Screate_simple(2, count, NULL);
  CHECK(H5Dwrite(d, type, ms, fs, H5P_DEFAULT, value) >= 0, "poke %s", dset);
  H5Sclose(ms);
  H5Sclose(fs);
  H5Dclose(d);
  if (sign) resign(f, dset);
  H5Fclose(f);
}

static void poke(const char *path, const char *dset, hid_t type, int64_t at,
                 const void *value) {
  poke_as(path, dset, type, at, value, 1);
}

static void set_attr(const char *path, const char *name, hid_t type,
                     const void *value) {
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT), s, a;
  H5Adelete(f, name);
  s = H5Screate(H5S_SCALAR);
  a = H5Acreate2(f, name, type, s, H5P_DEFAULT, H5P_DEFAULT);
  CHECK(H5Awrite(a, type, value) >= 0, "attribute %s", name);
  H5Aclose(a);
  H5Sclose(s);
  H5Fclose(f);
}

static void set_attr_str(const char *path, const char *name, const char *v) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, strlen(v) + 1);
  set_attr(path, name, t, v);
  H5Tclose(t);
}

static long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static unsigned char *slurp(const char *path, long *size) {
  FILE *f = fopen(path, "rb");
  unsigned char *b;
  *size = file_size(path);
  b = malloc((size_t)*size + 1);
  CHECK(f && fread(b, 1, (size_t)*size, f) == (size_t)*size, "read %s", path);
  if (f) fclose(f);
  return b;
}

static void spill(const char *path, const unsigned char *b, long size) {
  FILE *f = fopen(path, "wb");
  fwrite(b, 1, (size_t)size, f);
  fclose(f);
}

/* A schema 1 file, as clearn 0.1.0 wrote them before schema 2: the by-user
 * copy only, chunked with Fletcher-32 (src/h5io.c's writer). */
static void save_v1(const clearn_ratings *r, const char *path) {
  clearn__h5_atomic a;
  const clearn_csr *c = clearn_ratings_by_user(r);
  int rc = clearn__h5_atomic_begin(&a, path);
  CHECK(rc == CLEARN_OK, "v1 file: %s", clearn_last_error());
  if (rc != CLEARN_OK) return;
  clearn__h5_attr_write_str(a.file, "format", "clearn.ratings");
  clearn__h5_attr_write_i64(a.file, "schema_version", 1);
  clearn__h5_attr_write_str(a.file, "clearn_version", "0.1.0");
  clearn__h5_attr_write_i64(a.file, "n_users", clearn_ratings_n_users(r));
  clearn__h5_attr_write_i64(a.file, "n_items", clearn_ratings_n_items(r));
  clearn__h5_attr_write_i64(a.file, "nnz", clearn_ratings_nnz(r));
  rc = clearn__h5_write(a.file, "user_ids", clearn_ratings_user_ids(r),
                        clearn_ratings_n_users(r), 1, CLEARN_INT64);
  rc |= clearn__h5_write(a.file, "item_ids", clearn_ratings_item_ids(r),
                         clearn_ratings_n_items(r), 1, CLEARN_INT64);
  rc |= clearn__h5_write(a.file, "indptr", clearn_csr_indptr(c),
                         clearn_ratings_n_users(r) + 1, 1, CLEARN_INT64);
  rc |= clearn__h5_write(a.file, "item_index", clearn_csr_indices(c),
                         clearn_ratings_nnz(r), 1, CLEARN_INT32);
  rc |= clearn__h5_write(a.file, "rating", clearn_csr_values(c),
                         clearn_ratings_nnz(r), 1, CLEARN_FLOAT32);
  CHECK(rc == CLEARN_OK && clearn__h5_atomic_commit(&a) == CLEARN_OK,
        "v1 file written");
}

static const char *const v2_names[8] = {"user_ids", "item_ids", "indptr",
                                        "item_index", "rating", "item_indptr",
                                        "user_index", "item_rating"};

/* The layout docs/ratings-format.md promises, and every checksum against
 * ref_checksum. */
static void check_layout(const char *path, const clearn_ratings *r) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  int64_t v = 0;
  hid_t a = H5Aopen(f, "schema_version", H5P_DEFAULT);
  H5Aread(a, H5T_NATIVE_INT64, &v);
  H5Aclose(a);
  CHECK(v == 2, "schema_version %lld", (long long)v);
  for (int d = 0; d < 8; d++) {
    static const int64_t sizes[8] = {8, 8, 8, 4, 4, 8, 4, 4};
    hid_t ds = H5Dopen2(f, v2_names[d], H5P_DEFAULT), dcpl = H5Dget_create_plist(ds);
    hid_t t = H5Dget_type(ds), want = d == 4 || d == 7 ? H5T_IEEE_F32LE
                                      : sizes[d] == 8 ? H5T_STD_I64LE : H5T_STD_I32LE;
    int64_t rows = d == 0 ? clearn_ratings_n_users(r) : d == 1 ? clearn_ratings_n_items(r)
                   : d == 2 ? clearn_ratings_n_users(r) + 1 : d == 5 ? clearn_ratings_n_items(r) + 1
                   : clearn_ratings_nnz(r);
    size_t n;
    int64_t block;
    unsigned char *buf;
    hsize_t nb;
    hid_t ca, cs;
    uint64_t *sums;
    CHECK(H5Pget_layout(dcpl) == H5D_CONTIGUOUS && H5Pget_nfilters(dcpl) == 0,
          "%s: contiguous, no filters", v2_names[d]);
    CHECK(H5Tequal(t, want) > 0, "%s: stored type", v2_names[d]);
    H5Tclose(t);
    H5Pclose(dcpl);
    H5Dclose(ds);
    buf = dataset_bytes(f, v2_names[d], &n, &block);
    CHECK(n == (size_t)(rows * sizes[d]), "%s: %zu bytes", v2_names[d], n);
    CHECK(block == 1 << 18, "%s: checksum_block %lld", v2_names[d], (long long)block);
    ds = H5Dopen2(f, v2_names[d], H5P_DEFAULT);
    ca = H5Aopen(ds, "checksum", H5P_DEFAULT);
    cs = H5Aget_space(ca);
    nb = (hsize_t)H5Sget_simple_extent_npoints(cs);
    CHECK(nb == (n == 0 ? 1 : (n + (size_t)block - 1) / (size_t)block), "%s: %llu checksums",
          v2_names[d], (unsigned long long)nb);
    sums = malloc(nb * 8);
    H5Aread(ca, H5T_NATIVE_UINT64, sums);
    for (hsize_t k = 0; k < nb; k++) {
      size_t at = (size_t)k * (size_t)block, len = n - at < (size_t)block ? n - at : (size_t)block;
      CHECK(sums[k] == ref_checksum(buf + at, len), "%s: checksum %llu", v2_names[d],
            (unsigned long long)k);
    }
    free(sums);
    free(buf);
    H5Sclose(cs);
    H5Aclose(ca);
    H5Dclose(ds);
  }
  H5Fclose(f);
}

static void test_hdf5(void) {
  clearn_ratings *g = NULL, *r = NULL, *e = NULL;
  char p[512], q[512], msg[1200];
  CHECK_OK(clearn_ratings_generate(500, 300, 20000, 3, 3, 0.5, 2, 5, &g));
  path_in(p, sizeof p, "r.h5");
  CHECK_OK(clearn_ratings_save(g, p));
  CHECK_OK(clearn_ratings_load(p, &r));
  if (r) {
    expect_same(g, r, "HDF5 round trip");
    check_invariants(r, "loaded");
  }
  clearn_ratings_free(r);
  r = NULL;
  check_layout(p, g);
  /* Saving over an existing file replaces it. */
  CHECK_OK(clearn_ratings_save(g, p));
  /* Empty ratings. */
  CHECK_OK(clearn_ratings_from_triples(NULL, NULL, NULL, 0, &e));
  path_in(q, sizeof q, "empty.h5");
  CHECK_OK(clearn_ratings_save(e, q));
  CHECK_OK(clearn_ratings_load(q, &r));
  CHECK(r && clearn_ratings_nnz(r) == 0 && clearn_ratings_n_users(r) == 0,
        "empty round trip");
  clearn_ratings_free(r);
  check_layout(q, e);
  /* Text -> HDF5 -> same object. */
  {
    clearn_ratings *t = NULL, *t2 = NULL;
    const char *tp = write_file("t.data", "5\t9\t1\t0\n-3\t9\t2\t0\n5\t-7\t3.5\t0\n5\t9\t4\t0\n");
    CHECK_OK(clearn_ratings_load_text(tp, "auto", 0, NULL, &t));
    path_in(q, sizeof q, "t.h5");
    CHECK_OK(clearn_ratings_save(t, q));
    CHECK_OK(clearn_ratings_load(q, &t2));
    if (t && t2) expect_same(t, t2, "text then HDF5 (duplicates, negative ids)");
    clearn_ratings_free(t);
    clearn_ratings_free(t2);
  }
  /* Several checksum blocks per array (256 KiB each). */
  {
    clearn_ratings *big = NULL, *b2 = NULL;
    CHECK_OK(clearn_ratings_generate(6000, 2000, 700000, 3, 3, 0.5, 2, 6, &big));
    path_in(q, sizeof q, "big.h5");
    CHECK_OK(clearn_ratings_save(big, q));
    CHECK_OK(clearn_ratings_load(q, &b2));
    if (big && b2) expect_same(big, b2, "HDF5 round trip, 700000 ratings");
    check_layout(q, big);
    /* One thread or several (big enough to use them): the same object. */
    {
      int nt = clearn_get_num_threads();
      for (int t = 1; t <= 3; t++) {
        clearn_ratings *b3 = NULL;
        clearn_set_num_threads(t);
        CHECK_OK(clearn_ratings_load(q, &b3));
        if (big && b3) expect_same(big, b3, "load on 1..3 threads");
        clearn_ratings_free(b3);
      }
      clearn_set_num_threads(nt);
    }
    /* A descent exactly at a checksum block boundary (65536 entries), in
     * a row that runs across it: the pair no block holds whole. */
    if (big) {
      const clearn_csr *c = clearn_ratings_by_user(big);
      const int64_t *ptr = clearn_csr_indptr(c);
      const int32_t *ix = clearn_csr_indices(c);
      int64_t k = 0, u = 0;
      for (int64_t m = 1; m * 65536 < clearn_ratings_nnz(big) && k == 0; m++) {
        int64_t kb = m * 65536;
        while (ptr[u + 1] <= kb) u++;
        if (ptr[u] < kb && ix[kb - 1] > 0) k = kb;
      }
      CHECK(k > 0, "a row across a block boundary");
      if (k > 0) {
        int32_t v = ix[k - 1] - 1;
        char e[512];
        path_in(e, sizeof e, "edit_big.h5");
        copy_file(q, e, -1);
        poke(e, "item_index", H5T_NATIVE_INT32, k, &v);
        snprintf(msg, sizeof msg, "dataset 'item_index': item_index[%lld] = %d < %d within "
                 "user %lld (must be ascending)", (long long)k, v, ix[k - 1], (long long)u);
        h5_fail(e, CLEARN_EFORMAT, msg);
      }
    }
    clearn_ratings_free(big);
    clearn_ratings_free(b2);
  }

  /* Argument errors. */
  CHECK_RC(clearn_ratings_save(NULL, p), CLEARN_EINVAL);
  CHECK_RC(clearn_ratings_save(g, NULL), CLEARN_EINVAL);
  CHECK_RC(clearn_ratings_load(NULL, &r), CLEARN_EINVAL);
  CHECK_RC(clearn_ratings_load(p, NULL), CLEARN_EINVAL);
  path_in(q, sizeof q, "no-dir/r.h5");
  CHECK_RC(clearn_ratings_save(g, q), CLEARN_EIO);
  CHECK(strncmp(clearn_last_error(), "save '", 6) == 0, "save message: %s",
        clearn_last_error());

  /* Not a ratings file. */
  path_in(q, sizeof q, "missing.h5");
  /* Messages that name the file already get a plain "load: " prefix. */
  snprintf(msg, sizeof msg, "=load: cannot open '%s': No such file or directory", q);
  h5_fail(q, CLEARN_EIO, msg);
  {
    const char *t = write_file("text.h5", "1,2,3\n");
    snprintf(msg, sizeof msg, "=load: '%s' is not an HDF5 file (or its header is corrupt)", t);
    h5_fail(t, CLEARN_EFORMAT, msg);
  }
  {
    clearn_estimator *est = NULL;
    path_in(q, sizeof q, "model.h5");
    CHECK_OK(clearn_estimator_create("ridge", &est));
    CHECK_OK(clearn_estimator_save(est, q));
    h5_fail(q, CLEARN_EFORMAT,
            "not a clearn ratings file (no format=\"clearn.ratings\" attribute)");
    clearn_estimator_free(est);
  }
  /* Truncated copies. */
  {
    long size = file_size(p);
    for (long cut = 0; cut < size; cut += size / 23 + 1) {
      clearn_ratings *x = (clearn_ratings *)&g_dir;
      int rc;
      path_in(q, sizeof q, "cut.h5");
      copy_file(p, q, cut);
      rc = clearn_ratings_load(q, &x);
      CHECK(rc == CLEARN_EFORMAT && x == NULL,
            "truncated at %ld of %ld: status %d (%s)", cut, size, rc,
            clearn_last_error());
    }
  }
  /* Bytes changed in the stored arrays: each caught by its block's
   * checksum and named, with the block.  (The byte-by-byte sweep of whole
   * files, headers included, is tests/test_model_io.c's; HDF5 1.10 leaks a
   * few hundred bytes on every load of a damaged object header, which
   * would drown a valgrind run of this test.) */
  {
    long size, n_flips = 0;
    unsigned char *b = slurp(p, &size);
    hid_t h5 = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    path_in(q, sizeof q, "flip.h5");
    for (int d = 0; d < 8; d++) {
      hid_t ds = H5Dopen2(h5, v2_names[d], H5P_DEFAULT);
      long addr = (long)H5Dget_offset(ds), n = (long)H5Dget_storage_size(ds);
      const long at[] = {0, n / 3, n - 5, n - 1};
      H5Dclose(ds);
      CHECK(addr > 0 && n > 0, "%s is stored contiguously", v2_names[d]);
      for (int j = 0; j < 4; j++) {
        clearn_ratings *x = (clearn_ratings *)&g_dir;
        b[addr + at[j]] ^= 0x5a;
        spill(q, b, size);
        b[addr + at[j]] ^= 0x5a;
        CHECK_RC(clearn_ratings_load(q, &x), CLEARN_EFORMAT);
        CHECK(x == NULL, "out NULL");
        snprintf(msg, sizeof msg, "load '%s': dataset '%s' is corrupt: bytes 0 to %ld "
                 "do not match their checksum", q, v2_names[d], n - 1);
        CHECK_STR(clearn_last_error(), msg);
        n_flips++;
      }
    }
    H5Fclose(h5);
    CHECK(n_flips == 32, "%ld flips tried", n_flips);
    free(b);
  }
  /* A flip in the second of three blocks names that block. */
  {
    long size;
    unsigned char *b;
    hid_t h5, ds;
    long addr;
    path_in(q, sizeof q, "big.h5");
    b = slurp(q, &size);
    h5 = H5Fopen(q, H5F_ACC_RDONLY, H5P_DEFAULT);
    ds = H5Dopen2(h5, "user_index", H5P_DEFAULT);
    addr = (long)H5Dget_offset(ds);
    H5Dclose(ds);
    H5Fclose(h5);
    b[addr + (1 << 18) + 12345] ^= 1;
    path_in(q, sizeof q, "flip.h5");
    spill(q, b, size);
    free(b);
    h5_fail(q, CLEARN_EFORMAT, "dataset 'user_index' is corrupt: bytes 262144 to 524287 "
            "do not match their checksum");
  }
  /* Consistent HDF5 and checksums, inconsistent ratings: each refused by
   * name. */
  {
    static const struct {
      const char *dset;
      int type; /* 0 int64, 1 int32, 2 float */
      int64_t at;
      double value;
      const char *msg;
    } cases[] = {
        {"user_ids", 0, 1, -1e6, "dataset 'user_ids': user_ids[1] = -1000000 follows "},
        {"item_ids", 0, 5, 0, "dataset 'item_ids': item_ids[5] = 0 follows "},
        {"indptr", 0, 0, 1, "dataset 'indptr': indptr[0] = 1, must be 0"},
        {"indptr", 0, 3, 0, "dataset 'indptr': indptr[3] = 0 after "},
        {"indptr", 0, 500, 19999, "dataset 'indptr': last entry 19999 != nnz = 20000"},
        {"indptr", 0, 7, 30000, "dataset 'indptr': indptr[7] = 30000 after "},
        {"item_index", 1, 100, 300, "dataset 'item_index': item_index[100] = 300 is out of range [0, 300)"},
        {"item_index", 1, 100, -1, "dataset 'item_index': item_index[100] = -1 is out of range [0, 300)"},
        {"rating", 2, 19999, NAN, "dataset 'rating': rating[19999] = nan is not finite"},
        {"rating", 2, 0, INFINITY, "dataset 'rating': rating[0] = inf is not finite"},
        {"item_indptr", 0, 0, 2, "dataset 'item_indptr': item_indptr[0] = 2, must be 0"},
        {"item_indptr", 0, 300, 5, "dataset 'item_indptr': item_indptr[300] = 5 after "},
        {"user_index", 1, 7, 500, "dataset 'user_index': user_index[7] = 500 is out of range [0, 500)"},
        {"item_rating", 2, 4, -NAN, "dataset 'item_rating': item_rating[4] = "},
        /* one copy changed, the other not: structurally fine */
        {"rating", 2, 10, 99.5, "datasets 'item_indptr', 'user_index', 'item_rating' (by item) "
                                "do not hold the same ratings as 'indptr', 'item_index', 'rating' (by user)"},
        {"item_rating", 2, 10, 0.25, "datasets 'item_indptr', 'user_index', 'item_rating' (by item) "
                                     "do not hold the same"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
      int64_t i64 = (int64_t)cases[k].value;
      int32_t i32 = (int32_t)cases[k].value;
      float f32 = (float)cases[k].value;
      clearn_ratings *x = (clearn_ratings *)&g_dir;
      path_in(q, sizeof q, "edit.h5");
      copy_file(p, q, -1);
      if (cases[k].type == 0) poke(q, cases[k].dset, H5T_NATIVE_INT64, cases[k].at, &i64);
      if (cases[k].type == 1) poke(q, cases[k].dset, H5T_NATIVE_INT32, cases[k].at, &i32);
      if (cases[k].type == 2) poke(q, cases[k].dset, H5T_NATIVE_FLOAT, cases[k].at, &f32);
      CHECK_RC(clearn_ratings_load(q, &x), CLEARN_EFORMAT);
      CHECK(x == NULL, "out NULL");
      snprintf(msg, sizeof msg, "load '%s': %s", q, cases[k].msg);
      CHECK(strncmp(clearn_last_error(), msg, strlen(msg)) == 0,
            "message \"%s\" does not start \"%s\"", clearn_last_error(), msg);
    }
  }
  /* The same rating changed in both copies: a consistent file, loaded
   * with the new value. */
  {
    const clearn_csr *bu = clearn_ratings_by_user(g), *bi = clearn_ratings_by_item(g);
    int32_t item = clearn_csr_indices(bu)[0]; /* user 0's first item */
    int64_t at = clearn_csr_indptr(bi)[item]; /* user 0 comes first there */
    float v = 0.125f;
    path_in(q, sizeof q, "edit.h5");
    copy_file(p, q, -1);
    poke(q, "rating", H5T_NATIVE_FLOAT, 0, &v);
    poke(q, "item_rating", H5T_NATIVE_FLOAT, at, &v);
    CHECK(clearn_csr_indices(bi)[at] == 0, "user 0 first in item %d", item);
    CHECK_OK(clearn_ratings_load(q, &r));
    if (r) {
      CHECK(((const float *)clearn_csr_values(clearn_ratings_by_user(r)))[0] == v,
            "changed rating loaded");
      check_invariants(r, "both copies changed");
    }
    clearn_ratings_free(r);
    r = NULL;
  }
  /* A row whose items are not ascending. */
  {
    const clearn_csr *c = clearn_ratings_by_user(g);
    int64_t at = clearn_csr_indptr(c)[0];
    int32_t first = clearn_csr_indices(c)[at + 1];
    path_in(q, sizeof q, "edit.h5");
    copy_file(p, q, -1);
    first++;
    poke(q, "item_index", H5T_NATIVE_INT32, at, &first);
    snprintf(msg, sizeof msg, "dataset 'item_index': item_index[1] = %d < %d within user 0 (must be ascending)",
             clearn_csr_indices(c)[at + 1], first);
    h5_fail(q, CLEARN_EFORMAT, msg);
  }
  /* Attributes. */
  {
    int64_t v;
    path_in(q, sizeof q, "edit.h5");
    copy_file(p, q, -1);
    set_attr_str(q, "format", "clearn.model");
    h5_fail(q, CLEARN_EFORMAT, "not a clearn ratings file (no format=\"clearn.ratings\" attribute)");
    copy_file(p, q, -1);
    v = 3;
    set_attr(q, "schema_version", H5T_NATIVE_INT64, &v);
    h5_fail(q, CLEARN_EVERSION, "schema version 3 is not supported by clearn "
            CLEARN_VERSION_STRING " (reads versions 1 to 2)");
    copy_file(p, q, -1);
    v = 0;
    set_attr(q, "schema_version", H5T_NATIVE_INT64, &v);
    h5_fail(q, CLEARN_EFORMAT, "schema_version 0 is invalid (must be >= 1)");
    copy_file(p, q, -1);
    v = 20001;
    set_attr(q, "nnz", H5T_NATIVE_INT64, &v);
    h5_fail(q, CLEARN_EFORMAT, "dataset 'item_index' has shape 20000 x 1, expected 20001 x 1");
    copy_file(p, q, -1);
    v = -1;
    set_attr(q, "n_users", H5T_NATIVE_INT64, &v);
    h5_fail(q, CLEARN_EFORMAT, "attribute 'n_users' = -1 is out of range [0, 2147483647]");
    copy_file(p, q, -1);
    {
      hid_t f = H5Fopen(q, H5F_ACC_RDWR, H5P_DEFAULT);
      H5Adelete(f, "n_items");
      H5Fclose(f);
    }
    h5_fail(q, CLEARN_EFORMAT, "attribute 'n_items' is missing or unreadable");
    copy_file(p, q, -1);
    {
      hid_t f = H5Fopen(q, H5F_ACC_RDWR, H5P_DEFAULT);
      H5Ldelete(f, "rating", H5P_DEFAULT);
      H5Fclose(f);
    }
    h5_fail(q, CLEARN_EFORMAT, "dataset 'rating' is missing or unreadable");
    copy_file(p, q, -1);
    {
      hid_t f = H5Fopen(q, H5F_ACC_RDWR, H5P_DEFAULT), d = H5Dopen2(f, "user_index", H5P_DEFAULT);
      H5Adelete(d, "checksum");
      H5Dclose(d);
      H5Fclose(f);
    }
    h5_fail(q, CLEARN_EFORMAT, "dataset 'user_index' has no checksum (schema 2 needs a "
            "'checksum' attribute or HDF5's Fletcher-32 filter)");
    copy_file(p, q, -1);
    {
      hid_t f = H5Fopen(q, H5F_ACC_RDWR, H5P_DEFAULT), d = H5Dopen2(f, "rating", H5P_DEFAULT), s, a;
      int64_t bad = 100;
      H5Adelete(d, "checksum_block");
      s = H5Screate(H5S_SCALAR);
      a = H5Acreate2(d, "checksum_block", H5T_NATIVE_INT64, s, H5P_DEFAULT, H5P_DEFAULT);
      H5Awrite(a, H5T_NATIVE_INT64, &bad);
      H5Aclose(a);
      H5Sclose(s);
      H5Dclose(d);
      H5Fclose(f);
    }
    h5_fail(q, CLEARN_EFORMAT, "dataset 'rating': attribute 'checksum_block' = 100 is not a "
            "positive multiple of 64 up to 2^40");
  }

  /* Schema 1 files (by-user copy only, Fletcher-32 chunks) still load,
   * whole and in parts, and HDF5's checksums still guard them. */
  {
    clearn_ratings *x = NULL;
    long size, n_flips = 0;
    unsigned char *b;
    hid_t h5;
    path_in(q, sizeof q, "v1.h5");
    save_v1(g, q);
    CHECK_OK(clearn_ratings_load(q, &x));
    if (x) expect_same(g, x, "schema 1 file");
    clearn_ratings_free(x);
    b = slurp(q, &size);
    h5 = H5Fopen(q, H5F_ACC_RDONLY, H5P_DEFAULT);
    path_in(p, sizeof p, "v1flip.h5");
    for (int d = 0; d < 5; d++) {
      hid_t ds = H5Dopen2(h5, v2_names[d], H5P_DEFAULT), sp = H5Dget_space(ds);
      hsize_t nch = 0;
      H5Dget_num_chunks(ds, sp, &nch);
      CHECK(nch >= 1, "%s is chunked", v2_names[d]);
      for (hsize_t c = 0; c < nch; c++) {
        hsize_t off[2], csize = 0;
        haddr_t addr = 0;
        unsigned mask = 0;
        H5Dget_chunk_info(ds, sp, c, off, &mask, &addr, &csize);
        const long at[] = {0, (long)csize / 3, (long)csize - 1};
        for (int j = 0; j < 3; j++) {
          long pos = (long)addr + at[j];
          clearn_ratings *y = (clearn_ratings *)&g_dir;
          b[pos] ^= 0x5a;
          spill(p, b, size);
          b[pos] ^= 0x5a;
          CHECK_RC(clearn_ratings_load(p, &y), CLEARN_EFORMAT);
          CHECK(y == NULL, "out NULL");
          snprintf(msg, sizeof msg, "load '%s': dataset '%s' cannot be read "
                   "(corrupt or truncated: checksum or I/O failure)", p, v2_names[d]);
          CHECK_STR(clearn_last_error(), msg);
          n_flips++;
        }
      }
      H5Sclose(sp);
      H5Dclose(ds);
    }
    H5Fclose(h5);
    CHECK(n_flips >= 15, "%ld flips tried", n_flips);
    free(b);
  }
  clearn_ratings_free(g);
  clearn_ratings_free(e);
}

/* Every 7th byte of a small file flipped in turn, headers included: each
 * load (whole, and part 1 of 2) either fails with CLEARN_EFORMAT or gives
 * exactly the original ratings -- never anything else, never a crash. */
static void test_sweep(void) {
  clearn_ratings *g = NULL, *half = NULL;
  char p[512], q[512];
  long size, fails = 0, same = 0, bad = 0;
  unsigned char *b;
  CHECK_OK(clearn_ratings_generate(60, 40, 700, 3, 2, 0.5, 2, 9, &g));
  if (g == NULL) return;
  path_in(p, sizeof p, "sweep.h5");
  CHECK_OK(clearn_ratings_save(g, p));
  CHECK_OK(clearn_ratings_load_part(p, 1, 2, &half));
  b = slurp(p, &size);
  path_in(q, sizeof q, "sweep_flip.h5");
  for (long at = 0; at < size; at += 7) {
    clearn_ratings *x = NULL, *y = NULL;
    int rc, rcp;
    b[at] ^= 0xA5;
    spill(q, b, size);
    b[at] ^= 0xA5;
    rc = clearn_ratings_load(q, &x);
    rcp = clearn_ratings_load_part(q, 1, 2, &y);
    if (rc == CLEARN_OK) {
      expect_same(g, x, "load of a file with a flipped byte that loads");
      same++;
    } else {
      fails++;
      bad += rc != CLEARN_EFORMAT || x != NULL;
    }
    if (rcp == CLEARN_OK) {
      if (half) expect_same(half, y, "part of a file with a flipped byte that loads");
    } else {
      bad += rcp != CLEARN_EFORMAT || y != NULL;
    }
    clearn_ratings_free(x);
    clearn_ratings_free(y);
  }
  CHECK(bad == 0, "%ld flipped files failed with another status", bad);
  CHECK(fails > same, "%ld of %ld flips refused", fails, fails + same);
  printf("sweep: %ld bytes flipped, %ld refused, %ld harmless (unused bytes)\n",
         fails + same, fails, same);
  free(b);
  clearn_ratings_free(g);
  clearn_ratings_free(half);
}

/* ---- part reads ---------------------------------------------------------- */

/* First user of part p of n by the documented rule: the first u with
 * indptr[u] >= ceil(p * nnz / n), computed here by a linear scan. */
static int64_t ref_start(const int64_t *ptr, int64_t nu, int64_t nnz, int64_t p,
                         int64_t n) {
  int64_t u = 0;
  if (p == n) return nu;
  while (u < nu && (__int128)ptr[u] * n < (__int128)p * nnz) u++;
  return u;
}

/* Load every part of p (n parts) and compare with the whole load `all`:
 * each part holds the documented user block, only the items its users
 * rated, and the parts' triples concatenated are the whole file's. */
static void check_parts(const char *p, const clearn_ratings *all, int64_t n) {
  int64_t nnz = clearn_ratings_nnz(all), nu = clearn_ratings_n_users(all), w = 0;
  const int64_t *ptr = clearn_csr_indptr(clearn_ratings_by_user(all));
  const int64_t *uid = clearn_ratings_user_ids(all);
  triple *whole = triples_of(all);
  int64_t bad = 0, empty = 0;
  for (int64_t part = 0; part < n; part++) {
    clearn_ratings *r = NULL;
    char what[80];
    int64_t u0 = ref_start(ptr, nu, nnz, part, n), u1 = ref_start(ptr, nu, nnz, part + 1, n);
    snprintf(what, sizeof what, "part %lld of %lld", (long long)part, (long long)n);
    CHECK_OK(clearn_ratings_load_part(p, part, n, &r));
    if (r == NULL) continue;
    check_invariants(r, what);
    empty += clearn_ratings_nnz(r) == 0;
    /* The user block of the rule, every user of it (all have ratings). */
    CHECK(clearn_ratings_n_users(r) == u1 - u0 &&
              (u1 == u0 || memcmp(clearn_ratings_user_ids(r), uid + u0,
                                  (size_t)(u1 - u0) * 8) == 0),
          "%s: users [%lld, %lld) expected, got %lld", what, (long long)u0,
          (long long)u1, (long long)clearn_ratings_n_users(r));
    CHECK(clearn_ratings_nnz(r) == ptr[u1] - ptr[u0], "%s: nnz", what);
    {
      triple *t = triples_of(r);
      int64_t m = clearn_ratings_nnz(r), k, ni = 0;
      int64_t *items = malloc((size_t)(m + 1) * 8);
      for (k = 0; k < m; k++, w++)
        if (w >= nnz || t[k].u != whole[w].u || t[k].i != whole[w].i ||
            !same_float(t[k].v, whole[w].v))
          bad++;
      /* item ids: exactly the distinct items of its ratings */
      for (k = 0; k < m; k++) items[k] = t[k].i;
      qsort(items, (size_t)m, 8, cmp_i64);
      for (k = 0; k < m; k++)
        if (k == 0 || items[k] != items[k - 1]) items[ni++] = items[k];
      CHECK(clearn_ratings_n_items(r) == ni &&
                (ni == 0 || memcmp(clearn_ratings_item_ids(r), items, (size_t)ni * 8) == 0),
            "%s: item ids are not the items its users rated", what);
      free(items);
      free(t);
    }
    clearn_ratings_free(r);
  }
  CHECK(w == nnz && bad == 0,
        "%lld parts: concatenation has %lld ratings (%lld differ), the file %lld",
        (long long)n, (long long)w, (long long)bad, (long long)nnz);
  CHECK(n <= nu || empty >= n - nu, "%lld parts of %lld users: %lld empty",
        (long long)n, (long long)nu, (long long)empty);
  free(whole);
}

static void part_fail(const char *path, int64_t part, int64_t n, int want,
                      const char *msg) {
  clearn_ratings *r = (clearn_ratings *)&g_dir;
  int rc = clearn_ratings_load_part(path, part, n, &r);
  CHECK(rc == want, "load_part %s %lld/%lld: status %d (%s), expected %d", path,
        (long long)part, (long long)n, rc, clearn_last_error(), want);
  CHECK(r == NULL, "out NULL after a failed part read");
  CHECK(strncmp(clearn_last_error(), msg, strlen(msg)) == 0,
        "message \"%s\" does not start \"%s\"", clearn_last_error(), msg);
}

static void test_part(void) {
  clearn_ratings *g = NULL, *all = NULL, *e = NULL;
  char p[512], q[512], msg[1024];
  CHECK_OK(clearn_ratings_generate(500, 300, 20000, 3, 3, 0.5, 2, 11, &g));
  if (g == NULL) return;
  path_in(p, sizeof p, "part.h5");
  CHECK_OK(clearn_ratings_save(g, p));
  CHECK_OK(clearn_ratings_load(p, &all));
  if (all == NULL) return;
  for (int64_t n = 1; n <= 5; n++) check_parts(p, all, n);
  check_parts(p, all, 64);
  check_parts(p, all, clearn_ratings_n_users(all) + 7); /* more parts than users */
  /* One user per part, when each has at most nnz / n ratings... and the
   * balance the rule promises: within one user's count of nnz / n. */
  {
    const int64_t *ptr = clearn_csr_indptr(clearn_ratings_by_user(all));
    int64_t nu = clearn_ratings_n_users(all), nnz = clearn_ratings_nnz(all), most = 0;
    for (int64_t u = 0; u < nu; u++)
      if (ptr[u + 1] - ptr[u] > most) most = ptr[u + 1] - ptr[u];
    for (int64_t n = 2; n <= 7; n++)
      for (int64_t part = 0; part < n; part++) {
        clearn_ratings *r = NULL;
        CHECK_OK(clearn_ratings_load_part(p, part, n, &r));
        CHECK(llabs(clearn_ratings_nnz(r) * n - nnz) < most * n,
              "part %lld of %lld: %lld ratings, ideal %.1f, largest user %lld",
              (long long)part, (long long)n, (long long)clearn_ratings_nnz(r),
              (double)nnz / n, (long long)most);
        clearn_ratings_free(r);
      }
  }
  /* Empty ratings: every part empty. */
  CHECK_OK(clearn_ratings_from_triples(NULL, NULL, NULL, 0, &e));
  path_in(q, sizeof q, "part_empty.h5");
  CHECK_OK(clearn_ratings_save(e, q));
  for (int64_t part = 0; part < 3; part++) {
    clearn_ratings *r = NULL;
    CHECK_OK(clearn_ratings_load_part(q, part, 3, &r));
    CHECK(r && clearn_ratings_nnz(r) == 0 && clearn_ratings_n_users(r) == 0 &&
              clearn_ratings_n_items(r) == 0,
          "empty file, part %lld", (long long)part);
    clearn_ratings_free(r);
  }

  /* Arguments. */
  part_fail(p, -1, 3, CLEARN_EINVAL,
            "ratings load_part: part = -1 is out of range [0, 3) for n_parts = 3");
  part_fail(p, 3, 3, CLEARN_EINVAL,
            "ratings load_part: part = 3 is out of range [0, 3) for n_parts = 3");
  part_fail(p, 0, 0, CLEARN_EINVAL,
            "ratings load_part: n_parts = 0 is out of range [1, 2147483647]");
  part_fail(p, 0, -2, CLEARN_EINVAL,
            "ratings load_part: n_parts = -2 is out of range [1, 2147483647]");
  part_fail(p, 0, (int64_t)1 << 31, CLEARN_EINVAL,
            "ratings load_part: n_parts = 2147483648 is out of range [1, 2147483647]");
  part_fail(NULL, 0, 1, CLEARN_EINVAL, "ratings load_part: path is NULL");
  CHECK_RC(clearn_ratings_load_part(p, 0, 1, NULL), CLEARN_EINVAL);
  CHECK_STR(clearn_last_error(), "ratings load_part: out is NULL");
  /* A text file, a missing file, a model file. */
  {
    const char *t = write_file("part.csv", "userId,movieId,rating,timestamp\n1,2,3.5,0\n");
    snprintf(msg, sizeof msg,
             "load_part: '%s' is not an HDF5 file (or its header is corrupt); "
             "partial reads need the clearn HDF5 ratings format (convert the "
             "file once with clearn_ratings_save, e.g. clearn convert)", t);
    part_fail(t, 0, 2, CLEARN_EFORMAT, msg);
    CHECK_STR(clearn_last_error(), msg);
    path_in(q, sizeof q, "part-missing.h5");
    snprintf(msg, sizeof msg, "load_part: cannot open '%s': No such file or directory", q);
    part_fail(q, 0, 2, CLEARN_EIO, msg);
    path_in(q, sizeof q, "part_model.h5");
    {
      clearn_estimator *est = NULL;
      CHECK_OK(clearn_estimator_create("ridge", &est));
      CHECK_OK(clearn_estimator_save(est, q));
      clearn_estimator_free(est);
    }
    snprintf(msg, sizeof msg, "load_part '%s': not a clearn ratings file", q);
    part_fail(q, 0, 2, CLEARN_EFORMAT, msg);
  }
  /* Inconsistent values inside one part: that part fails naming the file
   * position, the others load (they never read it). */
  {
    const int64_t *ptr = clearn_csr_indptr(clearn_ratings_by_user(all));
    int64_t nu = clearn_ratings_n_users(all), nnz = clearn_ratings_nnz(all);
    int64_t u2 = ref_start(ptr, nu, nnz, 2, 4), at = ptr[u2] + 1;
    int32_t bad_item = (int32_t)clearn_ratings_n_items(all);
    float inf = INFINITY;
    clearn_ratings *r = NULL;
    path_in(q, sizeof q, "part_edit.h5");
    copy_file(p, q, -1);
    poke(q, "item_index", H5T_NATIVE_INT32, at, &bad_item);
    snprintf(msg, sizeof msg,
             "load_part '%s': dataset 'item_index': item_index[%lld] = %d is out of range [0, %d)",
             q, (long long)at, bad_item, bad_item);
    part_fail(q, 2, 4, CLEARN_EFORMAT, msg);
    CHECK_STR(clearn_last_error(), msg);
    CHECK_OK(clearn_ratings_load_part(q, 1, 4, &r));
    clearn_ratings_free(r);
    r = NULL;
    CHECK_OK(clearn_ratings_load_part(q, 3, 4, &r));
    clearn_ratings_free(r);
    r = NULL;
    copy_file(p, q, -1);
    poke(q, "rating", H5T_NATIVE_FLOAT, nnz - 1, &inf);
    snprintf(msg, sizeof msg, "load_part '%s': dataset 'rating': rating[%lld] = inf is not finite",
             q, (long long)(nnz - 1));
    part_fail(q, 3, 4, CLEARN_EFORMAT, msg);
    CHECK_OK(clearn_ratings_load_part(q, 0, 4, &r));
    clearn_ratings_free(r);
    r = NULL;
    copy_file(p, q, -1);
    {
      int64_t v = 7;
      poke(q, "indptr", H5T_NATIVE_INT64, 3, &v);
    }
    snprintf(msg, sizeof msg, "load_part '%s': dataset 'indptr': indptr[", q);
    part_fail(q, 0, 2, CLEARN_EFORMAT, msg);
  }
  /* Corrupt bytes in the last checksum block of 'rating' of a file with
   * three: the last part fails cleanly, naming the block; the first never
   * reads it.  The same damage in a schema 1 file (Fletcher-32 chunks). */
  for (int v1 = 0; v1 < 2; v1++) {
    long size, addr, n;
    unsigned char *b;
    hid_t h5, ds;
    clearn_ratings *r = NULL, *big = NULL;
    CHECK_OK(clearn_ratings_generate(6000, 2000, 700000, 3, 3, 0.5, 2, 12, &big));
    path_in(p, sizeof p, "part_big.h5");
    if (v1)
      save_v1(big, p);
    else
      CHECK_OK(clearn_ratings_save(big, p));
    /* whole and in two parts (each big enough for the two-pass transpose) */
    {
      clearn_ratings *whole = NULL;
      CHECK_OK(clearn_ratings_load(p, &whole));
      if (whole && big) {
        expect_same(big, whole, v1 ? "schema 1, 700000 ratings" : "schema 2, 700000 ratings");
        check_parts(p, whole, 2);
      }
      clearn_ratings_free(whole);
    }
    clearn_ratings_free(big);
    h5 = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    ds = H5Dopen2(h5, "rating", H5P_DEFAULT);
    if (v1) {
      hid_t sp = H5Dget_space(ds);
      hsize_t nch = 0, off[2], csize = 0;
      haddr_t a = 0;
      unsigned mask = 0;
      H5Dget_num_chunks(ds, sp, &nch);
      H5Dget_chunk_info(ds, sp, nch - 1, off, &mask, &a, &csize);
      H5Sclose(sp);
      addr = (long)a;
      n = (long)csize;
    } else {
      addr = (long)H5Dget_offset(ds);
      n = (long)H5Dget_storage_size(ds);
    }
    H5Dclose(ds);
    H5Fclose(h5);
    b = slurp(p, &size);
    b[addr + n - 100] ^= 0x10;
    path_in(q, sizeof q, "part_flip.h5");
    spill(q, b, size);
    free(b);
    if (v1)
      snprintf(msg, sizeof msg, "load_part '%s': dataset 'rating' cannot be read (corrupt "
               "or truncated: checksum or I/O failure)", q);
    else
      snprintf(msg, sizeof msg, "load_part '%s': dataset 'rating' is corrupt: bytes 2621440 "
               "to 2799999 do not match their checksum", q);
    part_fail(q, 4, 5, CLEARN_EFORMAT, msg);
    CHECK_STR(clearn_last_error(), msg);
    CHECK_OK(clearn_ratings_load_part(q, 0, 5, &r));
    clearn_ratings_free(r);
    r = NULL;
    /* and whole loads fail */
    snprintf(msg, sizeof msg, "load '%s': dataset 'rating'", q);
    CHECK_RC(clearn_ratings_load(q, &r), CLEARN_EFORMAT);
    CHECK(strncmp(clearn_last_error(), msg, strlen(msg)) == 0, "%s", clearn_last_error());
  }
  clearn_ratings_free(g);
  clearn_ratings_free(all);
  clearn_ratings_free(e);
}

/* ---- splits -------------------------------------------------------------- */

/* train and test are disjoint parts of r: together the same multiset. */
static void check_partition(const clearn_ratings *r, const clearn_ratings *a,
                            const clearn_ratings *b, const char *what) {
  int64_t n = clearn_ratings_nnz(r), na = clearn_ratings_nnz(a),
          nb = clearn_ratings_nnz(b), k, bad = 0;
  triple *all, *ta, *tb, *u;
  CHECK(na + nb == n, "%s: %lld + %lld != %lld", what, (long long)na,
        (long long)nb, (long long)n);
  if (na + nb != n) return;
  all = triples_of(r);
  ta = triples_of(a);
  tb = triples_of(b);
  u = malloc((size_t)(n + 1) * sizeof *u);
  memcpy(u, ta, na * sizeof *u);
  memcpy(u + na, tb, nb * sizeof *u);
  qsort(all, n, sizeof *all, cmp_uiv);
  qsort(u, n, sizeof *u, cmp_uiv);
  for (k = 0; k < n; k++)
    bad += all[k].u != u[k].u || all[k].i != u[k].i || !same_float(all[k].v, u[k].v);
  CHECK(bad == 0, "%s: union differs from the original in %lld places", what,
        (long long)bad);
  check_invariants(a, what);
  check_invariants(b, what);
  free(all);
  free(ta);
  free(tb);
  free(u);
}

static int same_triples(const clearn_ratings *a, const clearn_ratings *b) {
  int64_t n = clearn_ratings_nnz(a);
  triple *x, *y;
  int same;
  if (clearn_ratings_nnz(b) != n) return 0;
  x = triples_of(a);
  y = triples_of(b);
  same = 1;
  for (int64_t k = 0; k < n && same; k++)
    same = x[k].u == y[k].u && x[k].i == y[k].i && same_float(x[k].v, y[k].v);
  free(x);
  free(y);
  return same;
}

static void test_splits(void) {
  clearn_ratings *r = NULL, *tr = NULL, *te = NULL, *tr2 = NULL, *te2 = NULL;
  const double fr[] = {0.0, 0.1, 0.25, 0.5, 1.0 / 3, 0.999, 1.0};
  CHECK_OK(clearn_ratings_generate(400, 250, 12345, 4, 2, 0.4, 1, 9, &r));
  /* Duplicates too: split a ratings object holding some. */
  for (size_t f = 0; f < sizeof fr / sizeof fr[0]; f++) {
    int64_t want = llround(fr[f] * 12345);
    CHECK_OK(clearn_ratings_split_random(r, fr[f], 17, &tr, &te));
    CHECK(te && clearn_ratings_nnz(te) == want, "fraction %g: %lld in test, "
          "expected %lld", fr[f], (long long)clearn_ratings_nnz(te), (long long)want);
    if (tr && te) check_partition(r, tr, te, "split_random");
    CHECK_OK(clearn_ratings_split_random(r, fr[f], 17, &tr2, &te2));
    CHECK(tr2 && te2 && same_triples(tr, tr2) && same_triples(te, te2),
          "same seed, same split");
    clearn_ratings_free(tr2);
    clearn_ratings_free(te2);
    if (fr[f] > 0 && fr[f] < 1) {
      CHECK_OK(clearn_ratings_split_random(r, fr[f], 18, &tr2, &te2));
      CHECK(!same_triples(te, te2), "another seed, another split");
      clearn_ratings_free(tr2);
      clearn_ratings_free(te2);
    }
    clearn_ratings_free(tr);
    clearn_ratings_free(te);
  }
  CHECK_OK(clearn_ratings_split_random(r, 0.5, 1, &tr, &te));
  {
    /* The id maps hold only ids present (checked by check_invariants) and
     * are subsets of the parent's. */
    int64_t bad = 0;
    for (int64_t k = 0; k < clearn_ratings_n_users(te); k++)
      bad += clearn_ratings_user_index(r, clearn_ratings_user_ids(te)[k]) < 0;
    CHECK(bad == 0, "test users come from the parent");
  }
  clearn_ratings_free(tr);
  clearn_ratings_free(te);

  /* Leave-k-out. */
  for (int64_t k = 0; k <= 6; k += 3) {
    CHECK_OK(clearn_ratings_split_leave_k_out(r, k, 5, &tr, &te));
    if (tr && te) {
      const clearn_csr *c = clearn_ratings_by_user(r);
      const int64_t *p = clearn_csr_indptr(c);
      int64_t bad = 0, want_test = 0;
      check_partition(r, tr, te, "leave_k_out");
      for (int64_t us = 0; us < clearn_ratings_n_users(r); us++) {
        int64_t id = clearn_ratings_user_ids(r)[us], cnt = p[us + 1] - p[us];
        int64_t ti = clearn_ratings_user_index(te, id), ri = clearn_ratings_user_index(tr, id);
        int64_t nt = ti < 0 ? 0 : clearn_csr_indptr(clearn_ratings_by_user(te))[ti + 1] -
                                       clearn_csr_indptr(clearn_ratings_by_user(te))[ti];
        int64_t nr = ri < 0 ? 0 : clearn_csr_indptr(clearn_ratings_by_user(tr))[ri + 1] -
                                       clearn_csr_indptr(clearn_ratings_by_user(tr))[ri];
        int64_t expect = cnt > k ? k : 0;
        bad += nt != expect || nr != cnt - expect;
        want_test += expect;
      }
      CHECK(bad == 0, "leave %lld out: %lld users with wrong counts", (long long)k,
            (long long)bad);
      CHECK(clearn_ratings_nnz(te) == want_test, "leave-k-out test size");
      CHECK_OK(clearn_ratings_split_leave_k_out(r, k, 5, &tr2, &te2));
      CHECK(tr2 && te2 && same_triples(te, te2) && same_triples(tr, tr2),
            "leave-k-out deterministic");
      clearn_ratings_free(tr2);
      clearn_ratings_free(te2);
      if (k > 0) {
        CHECK_OK(clearn_ratings_split_leave_k_out(r, k, 6, &tr2, &te2));
        CHECK(!same_triples(te, te2), "leave-k-out: another seed differs");
        clearn_ratings_free(tr2);
        clearn_ratings_free(te2);
      }
    }
    clearn_ratings_free(tr);
    clearn_ratings_free(te);
  }
  /* Users with k or fewer ratings keep them all; duplicates split too. */
  {
    const int64_t u[] = {1, 1, 1, 2, 2, 3};
    const int64_t i[] = {5, 5, 6, 5, 6, 7};
    const float v[] = {1, 2, 3, 4, 5, 6};
    clearn_ratings *s = NULL;
    CHECK_OK(clearn_ratings_from_triples(u, i, v, 6, &s));
    CHECK_OK(clearn_ratings_split_leave_k_out(s, 2, 1, &tr, &te));
    CHECK(te && clearn_ratings_nnz(te) == 2 && clearn_ratings_n_users(te) == 1 &&
              clearn_ratings_user_ids(te)[0] == 1,
          "only user 1 (3 ratings) gives 2 to test");
    if (tr && te) check_partition(s, tr, te, "small leave-k-out");
    clearn_ratings_free(tr);
    clearn_ratings_free(te);
    CHECK_OK(clearn_ratings_split_random(s, 0.5, 3, &tr, &te));
    if (tr && te) check_partition(s, tr, te, "small random");
    clearn_ratings_free(tr);
    clearn_ratings_free(te);
    clearn_ratings_free(s);
  }
  /* Refusals. */
  tr = te = (clearn_ratings *)&g_dir;
  CHECK_RC(clearn_ratings_split_random(r, -0.1, 1, &tr, &te), CLEARN_EINVAL);
  CHECK_STR(clearn_last_error(), "split_random: test_fraction = -0.1: must be in [0, 1]");
  CHECK(tr == NULL && te == NULL, "outputs NULL after a refusal");
  CHECK_RC(clearn_ratings_split_random(r, 1.5, 1, &tr, &te), CLEARN_EINVAL);
  CHECK_RC(clearn_ratings_split_random(r, NAN, 1, &tr, &te), CLEARN_EINVAL);
  CHECK_STR(clearn_last_error(), "split_random: test_fraction = nan: must be in [0, 1]");
  CHECK_RC(clearn_ratings_split_random(NULL, 0.1, 1, &tr, &te), CLEARN_EINVAL);
  CHECK_STR(clearn_last_error(), "split_random: ratings is NULL");
  CHECK_RC(clearn_ratings_split_random(r, 0.1, 1, NULL, &te), CLEARN_EINVAL);
  CHECK_RC(clearn_ratings_split_leave_k_out(r, -1, 1, &tr, &te), CLEARN_EINVAL);
  CHECK_STR(clearn_last_error(), "split_leave_k_out: k = -1: must be >= 0");
  CHECK_RC(clearn_ratings_split_leave_k_out(r, 1, 1, &tr, NULL), CLEARN_EINVAL);
  CHECK_STR(clearn_last_error(), "split_leave_k_out: test is NULL");
  clearn_ratings_free(r);
  /* Empty input. */
  CHECK_OK(clearn_ratings_from_triples(NULL, NULL, NULL, 0, &r));
  CHECK_OK(clearn_ratings_split_random(r, 0.3, 1, &tr, &te));
  CHECK(tr && te && clearn_ratings_nnz(tr) == 0 && clearn_ratings_nnz(te) == 0,
        "split of nothing");
  clearn_ratings_free(tr);
  clearn_ratings_free(te);
  clearn_ratings_free(r);
}

/* ---- generator ----------------------------------------------------------- */

static void test_generator(void) {
  static const struct {
    int64_t nu, ni, nnz, minpu;
    int rank, stars;
    double noise;
  } shapes[] = {
      {2000, 1500, 150000, 20, 5, 2, 0.5}, /* MovieLens-like */
      {300, 40, 12000, 40, 2, 1, 0.3},     /* every user rates every item */
      {60, 1000, 45000, 10, 0, 0, 0.0},    /* heavy users, no factors */
      {1000, 50, 1000, 0, 3, 1, 1.0},      /* sparse, min 0 */
      {1, 1, 1, 1, 1, 2, 0.1},
  };
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    clearn_ratings *r = NULL, *r2 = NULL, *r3 = NULL;
    char what[64];
    snprintf(what, sizeof what, "generate shape %zu", s);
    CHECK_OK(clearn_ratings_generate(shapes[s].nu, shapes[s].ni, shapes[s].nnz,
                                     shapes[s].minpu, shapes[s].rank,
                                     shapes[s].noise, shapes[s].stars, 77, &r));
    if (r == NULL) continue;
    CHECK(clearn_ratings_nnz(r) == shapes[s].nnz, "%s: nnz %lld", what,
          (long long)clearn_ratings_nnz(r));
    CHECK(clearn_ratings_n_users(r) <= shapes[s].nu && clearn_ratings_n_items(r) <= shapes[s].ni,
          "%s: sizes", what);
    if (shapes[s].minpu > 0)
      CHECK(clearn_ratings_n_users(r) == shapes[s].nu, "%s: every user present", what);
    check_invariants(r, what);
    {
      const clearn_csr *c = clearn_ratings_by_user(r);
      const int64_t *p = clearn_csr_indptr(c);
      const int32_t *ix = clearn_csr_indices(c);
      const float *v = clearn_csr_values(c);
      int64_t dup = 0, few = 0, off = 0, k, nnz = clearn_ratings_nnz(r);
      double sum = 0, sum2 = 0;
      for (int64_t us = 0; us < clearn_ratings_n_users(r); us++) {
        few += p[us + 1] - p[us] < shapes[s].minpu;
        for (k = p[us] + 1; k < p[us + 1]; k++) dup += ix[k] == ix[k - 1];
      }
      for (k = 0; k < nnz; k++) {
        float x = v[k];
        sum += x;
        sum2 += (double)x * x;
        if (shapes[s].stars == 1) off += x != floorf(x) || x < 1 || x > 5;
        if (shapes[s].stars == 2) off += 2 * x != floorf(2 * x) || x < 0.5f || x > 5;
        off += !isfinite(x);
      }
      CHECK(dup == 0, "%s: %lld duplicate pairs", what, (long long)dup);
      CHECK(few == 0, "%s: %lld users below min_per_user", what, (long long)few);
      CHECK(off == 0, "%s: %lld values off the grid", what, (long long)off);
      if (nnz > 10000 && shapes[s].stars == 0) {
        /* continuous: mean 3.5 + biases, spread about 0.9 */
        double mean = sum / nnz, sd = sqrt(sum2 / nnz - mean * mean);
        CHECK(fabs(mean - 3.5) < 0.5 && sd > 0.5 && sd < 1.4,
              "%s: mean %g, sd %g", what, mean, sd);
        off = 0;
        for (k = 0; k < nnz; k++) off += 2 * v[k] != floorf(2 * v[k]);
        CHECK(off > nnz / 2, "%s: stars 0 leaves values continuous", what);
      }
    }
    CHECK_OK(clearn_ratings_generate(shapes[s].nu, shapes[s].ni, shapes[s].nnz,
                                     shapes[s].minpu, shapes[s].rank,
                                     shapes[s].noise, shapes[s].stars, 77, &r2));
    CHECK(r2 && same_triples(r, r2), "%s: deterministic", what);
    if (shapes[s].nnz > 100) {
      CHECK_OK(clearn_ratings_generate(shapes[s].nu, shapes[s].ni, shapes[s].nnz,
                                       shapes[s].minpu, shapes[s].rank,
                                       shapes[s].noise, shapes[s].stars, 78, &r3));
      CHECK(r3 && !same_triples(r, r3), "%s: another seed differs", what);
    }
    clearn_ratings_free(r);
    clearn_ratings_free(r2);
    clearn_ratings_free(r3);
  }
  /* The MovieLens shape: long tails on both sides, non-dense ids. */
  {
    clearn_ratings *r = NULL;
    int64_t ni, nu, k, top = 0, nnz;
    int64_t *cnt;
    const int64_t *p;
    CHECK_OK(clearn_ratings_generate(6040, 3706, 1000209, 20, 8, 0.5, 1, 1, &r));
    if (r) {
      ni = clearn_ratings_n_items(r);
      nu = clearn_ratings_n_users(r);
      nnz = clearn_ratings_nnz(r);
      cnt = malloc(ni * 8);
      p = clearn_csr_indptr(clearn_ratings_by_item(r));
      for (k = 0; k < ni; k++) cnt[k] = p[k + 1] - p[k];
      for (k = 0; k < ni; k++) /* partial selection of the top 10% */
        for (int64_t j = k + 1; j < ni && k < ni / 10; j++)
          if (cnt[j] > cnt[k]) {
            int64_t t = cnt[j];
            cnt[j] = cnt[k];
            cnt[k] = t;
          }
      for (k = 0; k < ni / 10; k++) top += cnt[k];
      CHECK(top > 0.4 * nnz, "top 10%% of items hold %.1f%% of the ratings",
            100.0 * top / nnz);
      p = clearn_csr_indptr(clearn_ratings_by_user(r));
      {
        int64_t mx = 0, below = 0;
        for (k = 0; k < nu; k++) {
          int64_t c = p[k + 1] - p[k];
          mx = c > mx ? c : mx;
          below += c < nnz / nu;
        }
        CHECK(mx > 5 * nnz / nu && below > nu / 2,
              "user counts long-tailed: max %lld, %lld of %lld below the mean",
              (long long)mx, (long long)below, (long long)nu);
      }
      CHECK(clearn_ratings_user_ids(r)[nu - 1] > nu &&
                clearn_ratings_item_ids(r)[ni - 1] > ni,
            "ids are not dense");
      free(cnt);
    }
    clearn_ratings_free(r);
  }
  /* Arguments, each named. */
  {
    clearn_ratings *r = (clearn_ratings *)&g_dir;
    static const struct {
      int64_t nu, ni, nnz, minpu;
      int rank, stars;
      double noise;
      const char *msg;
    } bad[] = {
        {0, 10, 0, 0, 1, 1, 0, "ratings_generate: n_users = 0: must be in [1, 2147483647]"},
        {10, 3000000000LL, 10, 0, 1, 1, 0, "ratings_generate: n_items = 3000000000: must be in [1, 2147483647]"},
        {10, 10, 101, 0, 1, 1, 0, "ratings_generate: nnz = 101: exceeds n_users * n_items = 100"},
        {10, 10, 49, 5, 1, 1, 0, "ratings_generate: nnz = 49: is less than n_users * min_per_user = 50"},
        {10, 10, -1, 0, 1, 1, 0, "ratings_generate: nnz = -1: must be >= 0"},
        {10, 10, 50, 11, 1, 1, 0, "ratings_generate: min_per_user = 11: must be in [0, n_items]"},
        {10, 10, 50, -1, 1, 1, 0, "ratings_generate: min_per_user = -1: must be in [0, n_items]"},
        {10, 10, 50, 1, -1, 1, 0, "ratings_generate: rank = -1: must be in [0, 1000]"},
        {10, 10, 50, 1, 1, 3, 0, "ratings_generate: stars = 3: must be 0 (continuous), 1 (whole stars) or 2 (half stars)"},
        {10, 10, 50, 1, 1, 1, -0.5, "ratings_generate: noise = -0.5: must be finite and >= 0"},
        {10, 10, 50, 1, 1, 1, INFINITY, "ratings_generate: noise = inf: must be finite and >= 0"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
      CHECK_RC(clearn_ratings_generate(bad[k].nu, bad[k].ni, bad[k].nnz, bad[k].minpu,
                                       bad[k].rank, bad[k].noise, bad[k].stars, 1, &r),
               CLEARN_EINVAL);
      CHECK_STR(clearn_last_error(), bad[k].msg);
      CHECK(r == NULL, "out NULL");
    }
    CHECK_RC(clearn_ratings_generate(1, 1, 1, 1, 1, 0, 1, 1, NULL), CLEARN_EINVAL);
  }
}

/* ---- real MovieLens files ----------------------------------------------- */

static void test_movielens(void) {
  const char *dir = getenv("CLEARN_MOVIELENS_DIR");
  static const struct {
    const char *file, *format;
    int64_t nnz, users, items;
    float lo, hi;
  } sets[] = {
      {"ml-100k/u.data", "ml-100k", 100000, 943, 1682, 1, 5},
      {"ml-1m/ratings-notime.dat", "ml-1m", 1000209, 6040, 3706, 1, 5},
      {"ml-1m/ratings.dat", "ml-1m", 1000209, 6040, 3706, 1, 5},
      {"ml-latest-small/ratings.csv", "ml-latest", 100836, 610, 9724, 0.5f, 5},
  };
  char p[1024];
  if (dir == NULL) dir = "/work/shared/data/movielens";
  for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
    clearn_ratings *r = NULL, *a = NULL;
    snprintf(p, sizeof p, "%s/%s", dir, sets[s].file);
    if (access(p, R_OK) != 0) {
      printf("SKIPPED: MovieLens file %s is not present; its published counts "
             "are not checked\n", p);
      continue;
    }
    CHECK_OK(clearn_ratings_load_text(p, sets[s].format, 0, NULL, &r));
    CHECK_OK(clearn_ratings_load_text(p, "auto", 0, NULL, &a));
    if (r == NULL || a == NULL) {
      clearn_ratings_free(r);
      clearn_ratings_free(a);
      continue;
    }
    CHECK(clearn_ratings_nnz(r) == sets[s].nnz && clearn_ratings_n_users(r) == sets[s].users &&
              clearn_ratings_n_items(r) == sets[s].items,
          "%s: %lld ratings, %lld users, %lld items; published %lld / %lld / %lld",
          p, (long long)clearn_ratings_nnz(r), (long long)clearn_ratings_n_users(r),
          (long long)clearn_ratings_n_items(r), (long long)sets[s].nnz,
          (long long)sets[s].users, (long long)sets[s].items);
    expect_same(r, a, "auto detects the MovieLens format");
    {
      const float *v = clearn_csr_values(clearn_ratings_by_user(r));
      int64_t off = 0;
      for (int64_t k = 0; k < clearn_ratings_nnz(r); k++)
        off += v[k] < sets[s].lo || v[k] > sets[s].hi || 2 * v[k] != floorf(2 * v[k]);
      CHECK(off == 0, "%s: %lld values off the published scale", p, (long long)off);
    }
    check_invariants(r, p);
    printf("MovieLens %s: %lld ratings, %lld users, %lld items (as published)\n",
           sets[s].file, (long long)clearn_ratings_nnz(r),
           (long long)clearn_ratings_n_users(r), (long long)clearn_ratings_n_items(r));
    clearn_ratings_free(r);
    clearn_ratings_free(a);
  }
}

/* ---- h5py: clearn's files read elsewhere, foreign files read here ------ */

static double weighted_sum(const clearn_ratings *r) {
  triple *t = triples_of(r);
  double s = 0;
  for (int64_t k = 0; k < clearn_ratings_nnz(r); k++)
    s += (double)t[k].v * ((double)t[k].u + 2.0 * (double)t[k].i);
  free(t);
  return s;
}

static void test_h5py(void) {
  /* argv: clearn's file, its weighted sum, a schema 2 file to write, a
   * schema 1 file to write, where to write their sum. */
  static const char *script =
      "import sys, h5py, numpy as np\n"
      "K = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,\n"
      "              0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5, 0xFF51AFD7ED558CCD,\n"
      "              0xC4CEB9FE1A85EC53, 0x94D049BB133111EB], dtype=np.uint64)\n"
      "M = (1 << 64) - 1\n"
      "def block_checksum(buf):\n"
      "    n = len(buf); pad = -n % 64\n"
      "    w = np.frombuffer(buf + b'\\0' * pad, dtype='<u8').reshape(-1, 8)\n"
      "    d = w ^ K\n"
      "    t = (d & np.uint64(0xFFFFFFFF)) * (d >> np.uint64(32)) + w\n"
      "    run = np.cumsum(t, axis=0, dtype=np.uint64)\n"
      "    a = run[-1] if len(run) else np.zeros(8, np.uint64)\n"
      "    b = run.sum(axis=0, dtype=np.uint64)\n"
      "    h = n\n"
      "    for j in range(8):\n"
      "        h = ((h ^ int(a[j])) * 0x100000001B3) & M\n"
      "        h = ((h ^ int(b[j])) * 0x100000001B3) & M\n"
      "    return h\n"
      "def checksums(values, block=1 << 18):\n"
      "    raw = values.tobytes()\n"
      "    return np.array([block_checksum(raw[k:k + block])\n"
      "                     for k in range(0, max(len(raw), 1), block)], dtype=np.uint64)\n"
      "s = lambda v: v.decode() if isinstance(v, bytes) else v\n"
      "with h5py.File(sys.argv[1], 'r') as f:\n"
      "    a = f.attrs\n"
      "    assert s(a['format']) == 'clearn.ratings' and int(a['schema_version']) == 2\n"
      "    for name in ['user_ids', 'item_ids', 'indptr', 'item_index', 'rating',\n"
      "                 'item_indptr', 'user_index', 'item_rating']:\n"
      "        d = f[name]\n"
      "        assert d.chunks is None and not d.fletcher32, name\n"
      "        assert int(d.attrs['checksum_block']) == 1 << 18\n"
      "        assert np.array_equal(d.attrs['checksum'], checksums(d[:, 0])), name\n"
      "    u = f['user_ids'][:, 0]; i = f['item_ids'][:, 0]; p = f['indptr'][:, 0]\n"
      "    ix = f['item_index'][:, 0]; r = f['rating'][:, 0]\n"
      "    assert f['rating'].dtype == np.float32 and f['item_index'].dtype == np.int32\n"
      "    assert u.dtype == np.int64 and int(a['nnz']) == len(r) == p[-1]\n"
      "    rows = np.repeat(np.arange(len(u)), np.diff(p))\n"
      "    got = float(np.sum(r.astype(np.float64) * (u[rows] + 2.0 * i[ix])))\n"
      "    assert abs(got - float(sys.argv[2])) <= 1e-9 * abs(got), (got, sys.argv[2])\n"
      "    q = f['item_indptr'][:, 0]; ux = f['user_index'][:, 0]; ir = f['item_rating'][:, 0]\n"
      "    cols = np.repeat(np.arange(len(i)), np.diff(q))\n"
      "    got = float(np.sum(ir.astype(np.float64) * (u[ux] + 2.0 * i[cols])))\n"
      "    assert abs(got - float(sys.argv[2])) <= 1e-9 * abs(got), (got, sys.argv[2])\n"
      "# Files written by another program: other storage types, h5py's own strings.\n"
      "rng = np.random.default_rng(1)\n"
      "mask = rng.random((40, 30)) < 0.3\n"
      "vals = np.round(rng.random((40, 30)) * 10) / 2\n"
      "users = np.arange(40) * 11 - 200; items = np.arange(30) * 3 + 1\n"
      "indptr = np.concatenate([[0], np.cumsum(mask.sum(1))])\n"
      "col = lambda x: np.asarray(x).reshape(-1, 1)\n"
      "rows, cols = np.nonzero(mask)\n"
      "ci, ri = np.nonzero(mask.T)\n"
      "item_indptr = np.concatenate([[0], np.cumsum(mask.sum(0))])\n"
      "def attrs(f, version):\n"
      "    f.attrs['format'] = 'clearn.ratings'\n"
      "    f.attrs['schema_version'] = np.int64(version)\n"
      "    f.attrs['n_users'] = np.int64(40); f.attrs['n_items'] = np.int64(30)\n"
      "    f.attrs['nnz'] = np.int64(mask.sum()); f.attrs['source'] = 'h5py'\n"
      "with h5py.File(sys.argv[3], 'w') as f:\n"
      "    attrs(f, 2)\n"
      "    # (canonical type, stored type, values, how): checksums are over the\n"
      "    # canonical type's bytes, whatever the stored type\n"
      "    for name, t, st, v, how in [\n"
      "            ('user_ids', np.int64, np.int64, users, 'sum'),\n"
      "            ('item_ids', np.int64, np.int64, items, 'fletcher'),\n"
      "            ('indptr', np.int64, np.int32, indptr, 'sum'),\n"
      "            ('item_index', np.int32, np.int64, cols, 'sum'),\n"
      "            ('rating', np.float32, np.float64, vals[mask], 'sum'),\n"
      "            ('item_indptr', np.int64, np.int64, item_indptr, 'sum'),\n"
      "            ('user_index', np.int32, np.int32, ri, 'chunked-sum'),\n"
      "            ('item_rating', np.float32, np.float32, vals.T[mask.T], 'sum')]:\n"
      "        v = np.asarray(v).astype(t)\n"
      "        d = f.create_dataset(name, data=col(v).astype(st),\n"
      "                             chunks=True if how != 'sum' else None,\n"
      "                             fletcher32=how == 'fletcher')\n"
      "        if how != 'fletcher':\n"
      "            d.attrs['checksum_block'] = np.int64(1 << 20)  # any multiple of 64\n"
      "            d.attrs['checksum'] = checksums(v, 1 << 20)\n"
      "with h5py.File(sys.argv[4], 'w') as f:\n"
      "    attrs(f, 1)\n"
      "    f.create_dataset('user_ids', data=col(users), chunks=True, fletcher32=True)\n"
      "    f.create_dataset('item_ids', data=col(items), compression='gzip')\n"
      "    f.create_dataset('indptr', data=col(indptr).astype(np.int32))\n"
      "    f.create_dataset('item_index', data=col(cols).astype(np.int64))\n"
      "    f.create_dataset('rating', data=col(vals[mask]), chunks=True, fletcher32=True)\n"
      "# Schema 2 with a user (5) and an item (7) that have no ratings.\n"
      "m2 = mask.copy(); m2[5, :] = False; m2[:, 7] = False\n"
      "r2, c2 = np.nonzero(m2); ci2, ri2 = np.nonzero(m2.T)\n"
      "with h5py.File(sys.argv[6], 'w') as f:\n"
      "    attrs(f, 2); f.attrs['nnz'] = np.int64(m2.sum())\n"
      "    for name, t, v in [('user_ids', np.int64, users), ('item_ids', np.int64, items),\n"
      "            ('indptr', np.int64, np.concatenate([[0], np.cumsum(m2.sum(1))])),\n"
      "            ('item_index', np.int32, c2), ('rating', np.float32, vals[m2]),\n"
      "            ('item_indptr', np.int64, np.concatenate([[0], np.cumsum(m2.sum(0))])),\n"
      "            ('user_index', np.int32, ri2), ('item_rating', np.float32, vals.T[m2.T])]:\n"
      "        v = np.asarray(v).astype(t)\n"
      "        d = f.create_dataset(name, data=col(v))\n"
      "        d.attrs['checksum_block'] = np.int64(1 << 18)\n"
      "        d.attrs['checksum'] = checksums(v)\n"
      "open(sys.argv[5], 'w').write('%r %r' % (float(np.sum(vals[mask] * (users[rows] + 2.0 * items[cols]))),\n"
      "                                        float(np.sum(vals[m2] * (users[r2] + 2.0 * items[c2])))))\n";
  char p[512], py[512], foreign[3][512], sum_path[512], cmd[4000];
  clearn_ratings *r = NULL;
  FILE *fp;
  double want = 0, want2 = 0;
  if (access("/usr/bin/python3", X_OK) != 0 ||
      system("/usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1") != 0) {
    printf("note: /usr/bin/python3 with h5py not found; h5py check skipped\n");
    return;
  }
  CHECK_OK(clearn_ratings_generate(200, 150, 5000, 5, 2, 0.5, 2, 4, &r));
  if (r == NULL) return;
  CHECK_OK(clearn_ratings_save(r, path_in(p, sizeof p, "for_h5py.h5")));
  fp = fopen(path_in(py, sizeof py, "h5py_check.py"), "w");
  fputs(script, fp);
  fclose(fp);
  path_in(foreign[0], sizeof foreign[0], "from_h5py.h5");
  path_in(foreign[1], sizeof foreign[1], "from_h5py_v1.h5");
  path_in(foreign[2], sizeof foreign[2], "from_h5py_empty_rows.h5");
  path_in(sum_path, sizeof sum_path, "from_h5py.sum");
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' %.17g '%s' '%s' '%s' '%s'", py,
           p, weighted_sum(r), foreign[0], foreign[1], sum_path, foreign[2]);
  fflush(NULL);
  CHECK(system(cmd) == 0, "h5py check failed: %s", cmd);
  fp = fopen(sum_path, "r");
  CHECK(fp && fscanf(fp, "%lf %lf", &want, &want2) == 2, "h5py wrote its sums");
  if (fp) fclose(fp);
  for (int v = 0; v < 2; v++) {
    clearn_ratings *f = NULL;
    CHECK_OK(clearn_ratings_load(foreign[v], &f));
    if (f) {
      CHECK_CLOSE(weighted_sum(f), want, 1e-12, 0);
      CHECK(clearn_ratings_n_users(f) == 40 && clearn_ratings_user_ids(f)[0] == -200,
            "foreign file: users");
      check_invariants(f, v ? "schema 1 file written by h5py" : "file written by h5py");
      /* Part reads convert types and decompress slices the same way. */
      check_parts(foreign[v], f, 3);
    }
    clearn_ratings_free(f);
  }
  /* Ids without ratings: a whole load keeps them, parts (also a single
   * one) leave them out; the parts' triples are still the whole file's. */
  {
    clearn_ratings *w = NULL;
    CHECK_OK(clearn_ratings_load(foreign[2], &w));
    if (w) {
      triple *all = triples_of(w);
      CHECK(clearn_ratings_n_users(w) == 40 && clearn_ratings_n_items(w) == 30,
            "ids without ratings kept: %lld users, %lld items",
            (long long)clearn_ratings_n_users(w), (long long)clearn_ratings_n_items(w));
      CHECK_CLOSE(weighted_sum(w), want2, 1e-12, 0);
      for (int64_t n = 1; n <= 3; n++) {
        int64_t users = 0, w_at = 0, bad = 0;
        for (int64_t part = 0; part < n; part++) {
          clearn_ratings *x = NULL;
          CHECK_OK(clearn_ratings_load_part(foreign[2], part, n, &x));
          if (x == NULL) continue;
          triple *t = triples_of(x);
          check_invariants(x, "part of a file with ids without ratings");
          users += clearn_ratings_n_users(x);
          for (int64_t k = 0; k < clearn_ratings_nnz(x); k++, w_at++)
            bad += w_at >= clearn_ratings_nnz(w) || t[k].u != all[w_at].u ||
                   t[k].i != all[w_at].i || !same_float(t[k].v, all[w_at].v);
          free(t);
          clearn_ratings_free(x);
        }
        CHECK(users == 39 && w_at == clearn_ratings_nnz(w) && bad == 0,
              "%lld parts: %lld users, %lld of %lld ratings, %lld differ", (long long)n,
              (long long)users, (long long)w_at, (long long)clearn_ratings_nnz(w),
              (long long)bad);
      }
      free(all);
    }
    clearn_ratings_free(w);
  }
  clearn_ratings_free(r);
}

static void remove_dir(void) {
  DIR *d = opendir(g_dir);
  struct dirent *e;
  char p[512];
  if (d == NULL) return;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
      unlink(path_in(p, sizeof p, e->d_name));
  closedir(d);
  rmdir(g_dir);
}

/* Run every part, or only those named on the command line (for debugging
 * one part under valgrind: test_ratings hdf5). */
int main(int argc, char **argv) {
  static const struct {
    const char *name;
    void (*fn)(void);
  } parts[] = {
      {"container", test_container}, {"text", test_text_good},
      {"decimals", test_text_decimals}, {"bad", test_text_bad},
      {"large", test_text_large}, {"hdf5", test_hdf5}, {"part", test_part},
      {"sweep", test_sweep},
      {"splits", test_splits}, {"generator", test_generator},
      {"h5py", test_h5py}, {"movielens", test_movielens},
  };
  char tmpl[] = "ratings_files.XXXXXX";
  if (mkdtemp(tmpl) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(g_dir, sizeof g_dir, "%s", tmpl);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  (void)tu_normal;
  for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
    int run = argc < 2;
    for (int a = 1; a < argc; a++) run |= strcmp(argv[a], parts[k].name) == 0;
    if (run) parts[k].fn();
  }
  remove_dir();
  return TEST_SUMMARY();
}
