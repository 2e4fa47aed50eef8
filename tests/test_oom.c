/*
 * test_oom.c -- allocation failure, SQLite's way: every allocation clearn
 * makes in a scenario is made to fail in turn (k = 1, 2, ... until the
 * scenario runs through without reaching k), and each time the scenario
 * must report an error with a message -- or succeed, if the failed
 * allocation had a fallback -- never crash, and leak nothing.
 *
 * The test links the static library with the linker's --wrap for malloc,
 * calloc, realloc, posix_memalign and free (tests/oom.cmake), so only
 * clearn's own calls are counted and failed; allocations inside HDF5,
 * OpenBLAS or libgomp are not.  Live allocations are tracked in a pointer
 * set: what a scenario allocated and did not free (after freeing every
 * object it was handed) is a leak.
 *
 * Scenarios: ratings from triples, save / load (HDF5), text load and
 * split; every estimator kind's fit, predict, save and load (clearn_kind_*),
 * ALS's fit_ratings, recommend, fold_in and save / load; clone; a model
 * round trip through bytes.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <clearn/clearn.h>

#include "testutil.h"

/* ---- the allocator wrappers ------------------------------------------------ */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t s);
void *__real_realloc(void *p, size_t n);
int __real_posix_memalign(void **p, size_t a, size_t n);
void __real_free(void *p);

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long fail_at;     /* 0: never */
static long n_allocs;    /* allocations seen since the last reset */
static int failed;       /* the armed allocation was reached */
#define SET_BITS 20
#define SET_SIZE (1u << SET_BITS)
static void *live[SET_SIZE]; /* open addressing; (void *)1 = tombstone */
static long n_live;

static unsigned slot_of(void *p) {
  uintptr_t x = (uintptr_t)p;
  x ^= x >> 17;
  x *= 0x9E3779B97F4A7C15ull;
  return (unsigned)(x >> (64 - SET_BITS));
}

static void set_add(void *p) {
  unsigned i = slot_of(p);
  while (live[i] != NULL && live[i] != (void *)1) i = (i + 1) & (SET_SIZE - 1);
  live[i] = p;
  n_live++;
}

static int set_del(void *p) {
  unsigned i = slot_of(p);
  while (live[i] != NULL) {
    if (live[i] == p) {
      live[i] = (void *)1;
      n_live--;
      return 1;
    }
    i = (i + 1) & (SET_SIZE - 1);
  }
  return 0;
}

/* 1 if this allocation is to fail. */
static int tick(void) {
  int f = 0;
  n_allocs++;
  if (fail_at > 0 && n_allocs == fail_at) {
    failed = 1;
    f = 1;
  }
  return f;
}

void *__wrap_malloc(size_t n) {
  void *p = NULL;
  pthread_mutex_lock(&mu);
  if (!tick() && (p = __real_malloc(n)) != NULL) set_add(p);
  pthread_mutex_unlock(&mu);
  return p;
}

void *__wrap_calloc(size_t n, size_t s) {
  void *p = NULL;
  pthread_mutex_lock(&mu);
  if (!tick() && (p = __real_calloc(n, s)) != NULL) set_add(p);
  pthread_mutex_unlock(&mu);
  return p;
}

void *__wrap_realloc(void *old, size_t n) {
  void *p = NULL;
  pthread_mutex_lock(&mu);
  if (!tick()) {
    int known = old == NULL || set_del(old);
    p = __real_realloc(old, n);
    if (p != NULL && known) set_add(p);
    else if (p == NULL && old != NULL && known) set_add(old);
  }
  pthread_mutex_unlock(&mu);
  return p;
}

int __wrap_posix_memalign(void **out, size_t a, size_t n) {
  int rc = 12; /* ENOMEM */
  pthread_mutex_lock(&mu);
  if (!tick() && (rc = __real_posix_memalign(out, a, n)) == 0) set_add(*out);
  pthread_mutex_unlock(&mu);
  return rc;
}

void __wrap_free(void *p) {
  if (p == NULL) return;
  pthread_mutex_lock(&mu);
  set_del(p); /* memory from unwrapped code (e.g. strdup) is not tracked */
  pthread_mutex_unlock(&mu);
  __real_free(p);
}

static void arm(long k) {
  pthread_mutex_lock(&mu);
  fail_at = k;
  n_allocs = 0;
  failed = 0;
  n_live = 0;
  memset(live, 0, sizeof live);
  pthread_mutex_unlock(&mu);
}

/* ---- scenarios --------------------------------------------------------------
 * Each returns the status of the first call that failed (or CLEARN_OK) and
 * frees everything it made, whatever happened. */

static char g_dir[64];
static clearn_ratings *g_r; /* made outside the sweeps */

typedef int (*scenario)(const char *arg);

static int sc_ratings(const char *arg) {
  int64_t u[8] = {1, 1, 2, 3, 3, 9, 9, 4}, i[8] = {10, 11, 10, 12, 10, 11, 12, 12};
  float v[8] = {5, 3, 4, 2, 1, 4.5f, 2, 3};
  clearn_ratings *r = NULL, *back = NULL, *tr = NULL, *te = NULL, *txt = NULL;
  char path[128], tpath[128];
  int rc;
  FILE *f;
  (void)arg;
  snprintf(path, sizeof path, "%s/r.h5", g_dir);
  snprintf(tpath, sizeof tpath, "%s/r.dat", g_dir);
  if ((f = fopen(tpath, "w")) != NULL) {
    fputs("1::10::5::1\n1::11::3::2\n2::10::4::3\n3::12::2::4\n", f);
    fclose(f);
  }
  rc = clearn_ratings_from_triples(u, i, v, 8, &r);
  if (rc == CLEARN_OK) rc = clearn_ratings_save(r, path);
  if (rc == CLEARN_OK) rc = clearn_ratings_load(path, &back);
  if (rc == CLEARN_OK) rc = clearn_ratings_load_part(path, 1, 2, &txt);
  clearn_ratings_free(txt);
  txt = NULL;
  if (rc == CLEARN_OK) rc = clearn_ratings_split_random(r, 0.3, 1, &tr, &te);
  clearn_ratings_free(tr);
  clearn_ratings_free(te);
  tr = te = NULL;
  if (rc == CLEARN_OK) rc = clearn_ratings_split_hash(r, 0.3, 1, &tr, &te);
  if (rc == CLEARN_OK)
    rc = clearn_ratings_load_text(tpath, "auto", 0, NULL, &txt);
  clearn_ratings_free(r);
  clearn_ratings_free(back);
  clearn_ratings_free(tr);
  clearn_ratings_free(te);
  clearn_ratings_free(txt);
  return rc;
}

/* fit, predict, score, clone, save, load, bytes for a supervised kind */
static int sc_kind(const char *kind) {
  double X[40], y[20];
  clearn_matrix *mx = NULL, *my = NULL, *pred = NULL;
  clearn_estimator *est = NULL, *cl = NULL, *back = NULL, *fromb = NULL;
  void *buf = NULL;
  size_t len = 0;
  char path[128];
  double score;
  int rc, k;
  for (k = 0; k < 20; k++) {
    X[2 * k] = k % 7 + 0.5 * k;
    X[2 * k + 1] = (k * 5) % 11;
    y[k] = (k % 3 == 0) ? 1 : 0;
  }
  snprintf(path, sizeof path, "%s/m.h5", g_dir);
  rc = clearn_matrix_wrap(X, 20, 2, CLEARN_FLOAT64, &mx);
  if (rc == CLEARN_OK) rc = clearn_matrix_wrap(y, 20, 1, CLEARN_FLOAT64, &my);
  if (rc == CLEARN_OK) rc = clearn_estimator_create(kind, &est);
  if (rc == CLEARN_OK) rc = clearn_estimator_fit(est, mx, my, NULL);
  if (rc == CLEARN_ENOTCONVERGED) rc = CLEARN_OK;
  if (rc == CLEARN_OK && clearn_estimator_is_fitted(est)) {
    rc = strcmp(kind, "standard_scaler") == 0
             ? clearn_estimator_transform(est, mx, &pred)
             : clearn_estimator_predict(est, mx, &pred);
    if (rc == CLEARN_OK && strcmp(kind, "standard_scaler") != 0)
      rc = clearn_estimator_score(est, mx, my, NULL, &score);
  }
  if (rc == CLEARN_OK) rc = clearn_estimator_clone(est, &cl);
  if (rc == CLEARN_OK) rc = clearn_estimator_save(est, path);
  if (rc == CLEARN_OK) rc = clearn_estimator_load(path, kind, &back);
  if (rc == CLEARN_OK) rc = clearn_estimator_save_bytes(est, &buf, &len);
  if (rc == CLEARN_OK) rc = clearn_estimator_load_bytes(buf, len, kind, &fromb);
  clearn_free(buf);
  clearn_matrix_free(mx);
  clearn_matrix_free(my);
  clearn_matrix_free(pred);
  clearn_estimator_free(est);
  clearn_estimator_free(cl);
  clearn_estimator_free(back);
  clearn_estimator_free(fromb);
  return rc;
}

static int sc_als(const char *settings) {
  clearn_estimator *est = NULL, *back = NULL;
  int64_t users[2] = {clearn_ratings_user_ids(g_r)[0], -77}, top[8];
  int64_t fi[3] = {clearn_ratings_item_ids(g_r)[0],
                   clearn_ratings_item_ids(g_r)[1], 123456789};
  float fv[3] = {4, 2, 5};
  double sc[8], p[2];
  char path[128], buf[200], *tok, *save = NULL;
  int rc;
  snprintf(path, sizeof path, "%s/als.h5", g_dir);
  rc = clearn_estimator_create("als", &est);
  snprintf(buf, sizeof buf, "%s", settings);
  for (tok = strtok_r(buf, " ", &save); rc == CLEARN_OK && tok;
       tok = strtok_r(NULL, " ", &save)) {
    char *eq = strchr(tok, '=');
    *eq = '\0';
    rc = clearn_estimator_set_param_string(est, tok, eq + 1);
  }
  if (rc == CLEARN_OK) rc = clearn_estimator_fit_ratings(est, g_r, g_r);
  if (rc == CLEARN_OK)
    rc = clearn_estimator_recommend(est, users, 2, 4, NULL, top, sc);
  if (rc == CLEARN_OK)
    rc = clearn_estimator_predict_pairs(est, users, fi, 2, p);
  if (rc == CLEARN_OK)
    rc = clearn_estimator_similar_items(est, fi[0], 4, top, sc);
  if (rc == CLEARN_OK) rc = clearn_estimator_save(est, path);
  if (rc == CLEARN_OK) rc = clearn_estimator_load(path, "als", &back);
  if (rc == CLEARN_OK) rc = clearn_estimator_set_param_int(back, "max_iter", 3);
  if (rc == CLEARN_OK) rc = clearn_estimator_resume_ratings(back, g_r, NULL);
  if (rc == CLEARN_OK)
    rc = clearn_estimator_fold_in(est, 5555, fi, fv, 3, NULL);
  clearn_estimator_free(est);
  clearn_estimator_free(back);
  return rc;
}

/* Sweep k over every allocation of the scenario. */
static void sweep(const char *name, scenario f, const char *arg) {
  long k, total, errors = 0, oks = 0;
  int rc;
  arm(0);
  rc = f(arg);
  total = n_allocs;
  CHECK(rc == CLEARN_OK, "%s: runs without failures: %s", name,
        clearn_last_error());
  CHECK(n_live == 0, "%s: %ld allocations left without failures", name,
        n_live);
  for (k = 1;; k++) {
    arm(k);
    rc = f(arg);
    if (!failed) break; /* ran through before allocation k */
    if (rc == CLEARN_OK) {
      oks++;
    } else {
      errors++;
      CHECK(clearn_last_error()[0] != '\0', "%s: k = %ld: status %d, no message",
            name, k, rc);
    }
    CHECK(n_live == 0, "%s: k = %ld (status %d: %s): %ld allocations leaked",
          name, k, rc, clearn_last_error(), n_live);
    if (n_live != 0) break; /* one report per scenario is enough */
  }
  arm(0);
  printf("%-28s %5ld allocations: %ld failures reported, %ld absorbed\n", name,
         total, errors, oks);
}

int main(void) {
  char cmd[128];
  int k;
  snprintf(g_dir, sizeof g_dir, "/tmp/clearn_oom_XXXXXX");
  if (mkdtemp(g_dir) == NULL) return 2;
  clearn_set_num_threads(2);
  /* The tracker itself: an object kept is seen as live, failing the first
   * allocation fails the call. */
  {
    clearn_matrix *m = NULL;
    arm(0);
    CHECK_OK(clearn_matrix_create(3, 3, CLEARN_FLOAT64, &m));
    CHECK(n_live >= 1, "tracker sees %ld live allocations", n_live);
    clearn_matrix_free(m);
    CHECK(n_live == 0, "tracker: %ld live after free", n_live);
    arm(1);
    CHECK_RC(clearn_matrix_create(3, 3, CLEARN_FLOAT64, &m), CLEARN_ENOMEM);
    CHECK(failed && m == NULL, "%s", "armed allocation failed the call");
    arm(0);
  }
  if (clearn_ratings_generate(60, 25, 500, 3, 3, 0.3, 1, 5, &g_r) != CLEARN_OK)
    return 2;
  sweep("ratings", sc_ratings, NULL);
  for (k = 0; k < clearn_kind_count(); k++) {
    const char *kind = clearn_kind_name(k);
    char name[64];
    if (strcmp(kind, "als") == 0) continue;
    snprintf(name, sizeof name, "kind %s", kind);
    sweep(name, sc_kind, kind);
  }
  sweep("als explicit biases", sc_als, "rank=3 max_iter=2 biases=true");
  sweep("als cg", sc_als, "rank=3 max_iter=2 solver=cg");
  sweep("als implicit nonneg", sc_als,
        "rank=3 max_iter=2 implicit=true nonnegative=true dtype=float64");
  clearn_ratings_free(g_r);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  if (system(cmd) != 0) fprintf(stderr, "note: could not remove %s\n", g_dir);
  return TEST_SUMMARY();
}
