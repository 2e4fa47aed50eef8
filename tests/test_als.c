/*
 * test_als.c -- the ALS recommender (kind "als").
 *
 * Usage: test_als SCRIPT PYTHON
 *   SCRIPT  tests/als_ref.py (NumPy reference of the same updates)
 *   PYTHON  interpreter with numpy (CMake's CLEARN_TEST_PYTHON)
 *
 * Every data set is generated here from a fixed seed: ratings from a known
 * low-rank model plus Gaussian noise of a known level, with non-dense,
 * partly negative ids so the id maps are exercised.  Checked:
 *   - recovery: held-out RMSE close to the noise level;
 *   - the factors after 1 and 2 iterations equal NumPy's (tests/als_ref.py,
 *     same initialization reproduced from the documented hash) to 1e-4
 *     for explicit ALS-WR, plain L2, biases and implicit feedback;
 *   - 4 threads give bitwise the factors of 1 thread; float32 close to
 *     float64; CG with enough steps close to Cholesky;
 *   - nonnegative: no negative factor, KKT conditions of the row NNLS;
 *   - save/load: identical predictions, recommendations, similar items;
 *   - cold-start policies, recommend (exclusion, order, brute force),
 *     similar_items, fold_in, progress stop, tol, parameter errors.
 * Without PYTHON or numpy the NumPy comparison is skipped with a message
 * on stderr and the test exits 77 after running everything else.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <clearn/clearn.h>

#include "als_testutil.h"

/* ---- data -----------------------------------------------------------------
 */

/* Original ids: scattered, some negative. */
static int64_t user_id(int64_t u) { return 7 * u - 50; }
static int64_t item_id(int64_t i) { return 1000003 * i + 11; }

/* Ratings r = mean + u.v (+ biases) + noise on a random `density` share of
 * the grid (every user and item gets at least 2 ratings); a test_share of
 * them goes to `test` instead of `train` (test may be NULL). */
static void gen_lowrank(int64_t nu, int64_t ni, int rank, double density,
                        double noise, double mean, double bias_sd,
                        double test_share, unsigned long long seed,
                        triples *train, triples *test) {
  tu_rng r = {seed};
  double *U = malloc((size_t)(nu * rank) * sizeof(double));
  double *V = malloc((size_t)(ni * rank) * sizeof(double));
  double *bu = malloc((size_t)nu * sizeof(double));
  double *bi = malloc((size_t)ni * sizeof(double));
  int64_t u, i, cap = nu * ni;
  int j;
  if (!U || !V || !bu || !bi) exit(2);
  for (u = 0; u < nu * rank; u++) U[u] = tu_normal(&r) / sqrt((double)rank);
  for (i = 0; i < ni * rank; i++) V[i] = tu_normal(&r);
  for (u = 0; u < nu; u++) bu[u] = bias_sd * tu_normal(&r);
  for (i = 0; i < ni; i++) bi[i] = bias_sd * tu_normal(&r);
  memset(train, 0, sizeof *train);
  if (test) memset(test, 0, sizeof *test);
  for (u = 0; u < nu; u++)
    for (i = 0; i < ni; i++) {
      double s = mean + bu[u] + bi[i];
      int forced = i == u % ni || i == (u * 7 + 3) % ni || u == i % nu ||
                   u == (i * 5 + 1) % nu;
      if (!forced && tu_uniform(&r) >= density) continue;
      for (j = 0; j < rank; j++) s += U[u * rank + j] * V[i * rank + j];
      s += noise * tu_normal(&r);
      if (test && !forced && tu_uniform(&r) < test_share)
        triples_push(test, cap, user_id(u), item_id(i), (float)s);
      else
        triples_push(train, cap, user_id(u), item_id(i), (float)s);
    }
  free(U);
  free(V);
  free(bu);
  free(bi);
}

/* Implicit-style data: counts 1..9 on the observed pairs, some zeros. */
static void gen_counts(int64_t nu, int64_t ni, double density,
                       unsigned long long seed, triples *t) {
  tu_rng r = {seed};
  int64_t u, i;
  memset(t, 0, sizeof *t);
  for (u = 0; u < nu; u++)
    for (i = 0; i < ni; i++) {
      int forced = i == u % ni || u == i % nu;
      double x = tu_uniform(&r);
      if (!forced && x >= density) continue;
      triples_push(t, nu * ni, user_id(u), item_id(i),
                   x < density * 0.1 ? 0.0f
                                     : (float)(1 + (int)(9 * tu_uniform(&r))));
    }
}

/* The items and ratings of user uid in t, into new arrays *it and *v
 * (the caller frees them); returns their count. */
static int64_t ratings_of(const triples *t, int64_t uid, int64_t **it,
                          float **v) {
  int64_t q, n = 0;
  *it = malloc((size_t)t->n * sizeof(int64_t));
  *v = malloc((size_t)t->n * sizeof(float));
  if (*it == NULL || *v == NULL) exit(2);
  for (q = 0; q < t->n; q++)
    if (t->u[q] == uid) {
      (*it)[n] = t->i[q];
      (*v)[n++] = t->v[q];
    }
  return n;
}

/* ---- estimator helpers ----------------------------------------------------
 */

/* max |a - b| / max(1, max |b|) over two attribute matrices (any float
 * dtype). */
static double max_rel_diff(const clearn_matrix *a, const clearn_matrix *b) {
  int64_t r, c, n_r = clearn_matrix_rows(b), n_c = clearn_matrix_cols(b);
  double d = 0, s = 1;
  if (clearn_matrix_rows(a) != n_r || clearn_matrix_cols(a) != n_c)
    return INFINITY;
  for (r = 0; r < n_r; r++)
    for (c = 0; c < n_c; c++) {
      double x = mget(a, r, c), y = mget(b, r, c);
      if (fabs(x - y) > d || isnan(x - y))
        d = isnan(x - y) ? INFINITY : fabs(x - y);
      if (fabs(y) > s) s = fabs(y);
    }
  return d / s;
}

/* Fits settings a and b on r; du, dv: max_rel_diff of a's user and item
 * factors against b's; returns whether both are bitwise equal. */
static int compare_fits(const char *a, const char *b, const clearn_ratings *r,
                        double *du, double *dv) {
  clearn_estimator *ea = fit_als(a, r, NULL), *eb = fit_als(b, r, NULL);
  clearn_matrix *ua = attr(ea, "user_factors"), *ub = attr(eb, "user_factors");
  clearn_matrix *va = attr(ea, "item_factors"), *vb = attr(eb, "item_factors");
  int same = same_bytes(ua, ub) && same_bytes(va, vb);
  *du = max_rel_diff(ua, ub);
  *dv = max_rel_diff(va, vb);
  clearn_matrix_free(ua);
  clearn_matrix_free(ub);
  clearn_matrix_free(va);
  clearn_matrix_free(vb);
  clearn_estimator_free(ea);
  clearn_estimator_free(eb);
  return same;
}

/* ---- tests ----------------------------------------------------------------
 */

static void test_recovery(void) {
  triples tr, te;
  clearn_ratings *rtr, *rte;
  clearn_estimator *est;
  clearn_matrix *h;
  double rm_tr, rm_te;
  int64_t it;
  gen_lowrank(400, 300, 4, 0.25, 0.1, 3.0, 0.0, 0.1, 11, &tr, &te);
  rtr = make_ratings(&tr);
  rte = make_ratings(&te);
  est = fit_als("rank=5 reg=0.002 max_iter=25 cold_start=drop", rtr, rte);
  rm_tr = rmse_of(est, rtr);
  rm_te = rmse_of(est, rte);
  printf("recovery: %lld train / %lld test ratings, noise 0.1: train RMSE "
         "%.4f, test RMSE %.4f\n",
         (long long)tr.n, (long long)te.n, rm_tr, rm_te);
  CHECK(rm_tr < 0.1 && rm_tr > 0.08, "train RMSE %g", rm_tr);
  CHECK(rm_te < 0.115, "test RMSE %g, noise 0.1", rm_te);
  /* History: monotone loss, valid_rmse equals score_ratings at the end. */
  h = attr(est, "history");
  CHECK(clearn_matrix_rows(h) == 25 && clearn_matrix_cols(h) == 5,
        "history %lld x %lld", (long long)clearn_matrix_rows(h),
        (long long)clearn_matrix_cols(h));
  for (it = 1; it < clearn_matrix_rows(h); it++)
    CHECK(mget(h, it, 0) <= mget(h, it - 1, 0) * (1 + 1e-9),
          "loss went up at iteration %lld", (long long)it + 1);
  CHECK_CLOSE(mget(h, 24, 2), rm_te, 1e-12, 0);
  CHECK_CLOSE(mget(h, 24, 1), rm_tr, 1e-12, 0);
  CHECK(mget(h, 24, 3) >= 0, "seconds");
  clearn_matrix_free(h);
  clearn_estimator_free(est);

  /* With biases on data that has them. */
  triples_free(&tr);
  triples_free(&te);
  clearn_ratings_free(rtr);
  clearn_ratings_free(rte);
  gen_lowrank(400, 300, 3, 0.25, 0.1, 3.5, 0.5, 0.1, 12, &tr, &te);
  rtr = make_ratings(&tr);
  rte = make_ratings(&te);
  est = fit_als("rank=3 reg=0.002 max_iter=25 biases=true cold_start=drop", rtr,
                rte);
  rm_te = rmse_of(est, rte);
  printf("recovery with biases: test RMSE %.4f\n", rm_te);
  CHECK(rm_te < 0.115, "biased test RMSE %g", rm_te);
  clearn_estimator_free(est);
  triples_free(&tr);
  triples_free(&te);
  clearn_ratings_free(rtr);
  clearn_ratings_free(rte);
}

/* ---- NumPy reference ---------------------------------------------------- */

typedef struct {
  const char *name;
  int rank;
  double reg;
  int weighted, biases, implicit;
  double alpha;
  int iters;
  long long seed;
  const triples *data;
  double rexp; /* reg_exponent */
} ref_problem;

static char tmpdir[512];

static void path_of(char *buf, size_t cap, const char *name, const char *ext) {
  snprintf(buf, cap, "%s/%s%s", tmpdir, name, ext);
}

static int write_raw(const char *name, const char *ext, const void *p,
                     size_t bytes) {
  char path[700];
  FILE *f;
  size_t w;
  path_of(path, sizeof path, name, ext);
  if ((f = fopen(path, "wb")) == NULL) return 0;
  w = fwrite(p, 1, bytes, f);
  return fclose(f) == 0 && w == bytes;
}

static double *read_raw(const char *name, const char *ext, size_t n) {
  char path[700];
  FILE *f;
  double *p = malloc(n * sizeof(double) + 1);
  size_t got;
  path_of(path, sizeof path, name, ext);
  if (p == NULL || (f = fopen(path, "rb")) == NULL) {
    free(p);
    return NULL;
  }
  got = fread(p, sizeof(double), n, f);
  fclose(f);
  if (got != n) {
    free(p);
    return NULL;
  }
  return p;
}

static void remove_tmpdir(void) {
  char cmd[700];
  if (tmpdir[0] == '\0' || getenv("CLEARN_KEEP_TMP")) return;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "note: could not remove %s\n", tmpdir);
}

/* Compare one attribute with the reference file (row-major float64). */
static void compare_ref(const char *pname, const clearn_matrix *got,
                        const char *ext, double tol) {
  int64_t n = clearn_matrix_rows(got) * clearn_matrix_cols(got), j;
  double *ref = read_raw(pname, ext, (size_t)n), d = 0, s = 1;
  CHECK(ref != NULL, "%s%s: reference missing or short", pname, ext);
  if (ref == NULL) return;
  for (j = 0; j < n; j++) {
    double x =
        mget(got, j / clearn_matrix_cols(got), j % clearn_matrix_cols(got));
    if (!(fabs(x - ref[j]) <= d)) d = fabs(x - ref[j]);
    if (fabs(ref[j]) > s) s = fabs(ref[j]);
  }
  printf("  %-16s %-3s max |clearn - numpy| = %.3g (scale %.3g)\n", pname,
         ext + 1, d, s);
  CHECK(d <= tol * s, "%s%s differs from numpy by %g (scale %g)", pname, ext, d,
        s);
  free(ref);
}

static void test_numpy(const char *script, const char *python, int *skipped) {
  triples ex, im;
  ref_problem probs[] = {
      {"wr_1", 5, 0.1, 1, 0, 0, 0, 1, 3, &ex, 1},
      {"wr_2", 5, 0.1, 1, 0, 0, 0, 2, 3, &ex, 1},
      {"plain_2", 4, 0.5, 0, 0, 0, 0, 2, 99, &ex, 1},
      {"bias_1", 5, 0.05, 1, 1, 0, 0, 1, 7, &ex, 1},
      {"bias_2", 5, 0.05, 1, 1, 0, 0, 2, 7, &ex, 1},
      {"implicit_1", 6, 0.3, 0, 0, 1, 2.0, 1, 5, &im, 1},
      {"implicit_2", 6, 0.3, 1, 0, 1, 0.5, 2, 5, &im, 1},
      {"exp_2", 5, 0.4, 1, 0, 0, 0, 2, 3, &ex, 0.5},
      {"exp_bias_2", 5, 0.2, 1, 1, 0, 0, 2, 7, &ex, 0.75},
      {"exp_implicit_2", 6, 0.3, 1, 0, 1, 0.5, 2, 5, &im, 0.25},
  };
  int np = (int)(sizeof probs / sizeof probs[0]), q;
  char path[700];
  const char *base;
  FILE *mf;

  *skipped = 0;
  if (python[0] == '\0' || access(python, X_OK) != 0) {
    fprintf(stderr,
            "SKIPPED (numpy comparison): %s not found or not "
            "executable\n",
            python[0] ? python : "(no python given)");
    *skipped = 1;
    return;
  }
  gen_lowrank(60, 45, 3, 0.3, 0.2, 3.0, 0.3, 0.0, 21, &ex, NULL);
  gen_counts(50, 40, 0.25, 22, &im);
  base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/clearn-als-XXXXXX",
           base && *base ? base : "/tmp");
  if (mkdtemp(tmpdir) == NULL) {
    CHECK(0, "mkdtemp %s: %s", tmpdir, strerror(errno));
    goto done;
  }
  path_of(path, sizeof path, "manifest", ".txt");
  mf = fopen(path, "w");
  CHECK(mf != NULL, "cannot write %s", path);
  if (mf == NULL) goto done;
  for (q = 0; q < np; q++) {
    const ref_problem *p = &probs[q];
    const triples *t = p->data;
    fprintf(mf, "%s %d %.17g %d %d %d %.17g %d %lld %.17g\n", p->name,
            p->rank, p->reg, p->weighted, p->biases, p->implicit, p->alpha,
            p->iters, p->seed, p->rexp);
    if (!write_raw(p->name, ".users", t->u, (size_t)t->n * 8) ||
        !write_raw(p->name, ".items", t->i, (size_t)t->n * 8) ||
        !write_raw(p->name, ".values", t->v, (size_t)t->n * 4))
      CHECK(0, "cannot write the data of %s", p->name);
  }
  fclose(mf);
  if (!run_reference(python, script, tmpdir, skipped)) goto done;

  printf("NumPy reference (tests/als_ref.py), dtype float64:\n");
  for (q = 0; q < np; q++) {
    const ref_problem *p = &probs[q];
    clearn_ratings *r = make_ratings(p->data);
    char set[256];
    clearn_estimator *est;
    clearn_matrix *U, *V;
    snprintf(set, sizeof set,
             "rank=%d reg=%.17g weighted_reg=%s biases=%s implicit=%s "
             "alpha=%.17g max_iter=%d seed=%lld reg_exponent=%.17g "
             "dtype=float64",
             p->rank, p->reg, p->weighted ? "true" : "false",
             p->biases ? "true" : "false", p->implicit ? "true" : "false",
             p->alpha, p->iters, p->seed, p->rexp);
    est = fit_als(set, r, NULL);
    U = attr(est, "user_factors");
    V = attr(est, "item_factors");
    compare_ref(p->name, U, ".U", 1e-4);
    compare_ref(p->name, V, ".V", 1e-4);
    clearn_matrix_free(U);
    clearn_matrix_free(V);
    {
      clearn_matrix *h = attr(est, "history"), *loss;
      clearn_matrix_create(1, 1, CLEARN_FLOAT64, &loss);
      *(double *)clearn_matrix_mutable_data(loss) = mget(h, p->iters - 1, 0);
      compare_ref(p->name, loss, ".loss", 1e-10);
      clearn_matrix_free(loss);
      clearn_matrix_free(h);
    }
    if (p->biases) {
      clearn_matrix *ub = attr(est, "user_bias"), *ib = attr(est, "item_bias");
      compare_ref(p->name, ub, ".ub", 1e-4);
      compare_ref(p->name, ib, ".ib", 1e-4);
      clearn_matrix_free(ub);
      clearn_matrix_free(ib);
    }
    clearn_estimator_free(est);
    /* float32 factors against the same reference, looser. */
    if (q == 1 || q == 4 || q == 6 || q == 7 || q == 8 || q == 9) {
      char set32[300];
      clearn_matrix *U32;
      snprintf(set32, sizeof set32, "%.*s dtype=float32",
               (int)(strstr(set, " dtype=") - set), set);
      est = fit_als(set32, r, NULL);
      U32 = attr(est, "user_factors");
      compare_ref(p->name, U32, ".U", 1e-3);
      clearn_matrix_free(U32);
      clearn_estimator_free(est);
    }
    clearn_ratings_free(r);
  }
done:
  remove_tmpdir();
  triples_free(&ex);
  triples_free(&im);
}

/* ---- determinism, dtypes, solvers --------------------------------------- */

static void test_threads_bitwise(void) {
  triples t, c;
  clearn_ratings *r, *rc;
  const char *cfgs[] = {
      "rank=8 max_iter=1 biases=true",
      "rank=8 max_iter=2 solver=cg cg_steps=3",
      "rank=8 max_iter=1 dtype=float64 nonnegative=true",
      "rank=8 max_iter=1 implicit=true alpha=3 weighted_reg=false",
      "rank=8 max_iter=1 implicit=true solver=cg",
  };
  int q;
  gen_lowrank(300, 200, 4, 0.15, 0.2, 3.0, 0.3, 0, 31, &t, NULL);
  gen_counts(300, 200, 0.1, 32, &c);
  r = make_ratings(&t);
  rc = make_ratings(&c);
  for (q = 0; q < (int)(sizeof cfgs / sizeof cfgs[0]); q++) {
    char s1[200], s4[200];
    const clearn_ratings *data = strstr(cfgs[q], "implicit") ? rc : r;
    double du, dv;
    int same;
    snprintf(s1, sizeof s1, "%s num_threads=1", cfgs[q]);
    snprintf(s4, sizeof s4, "%s num_threads=4", cfgs[q]);
    same = compare_fits(s4, s1, data, &du, &dv);
    CHECK(same, "'%s': 4 threads differ from 1 thread (max %g, %g)", cfgs[q],
          du, dv);
  }
  clearn_ratings_free(r);
  clearn_ratings_free(rc);
  triples_free(&t);
  triples_free(&c);
}

static void test_dtype_and_cg(void) {
  triples t, c;
  clearn_ratings *r, *rc;
  clearn_estimator *a, *b;
  clearn_matrix *ua, *ub;
  gen_lowrank(200, 150, 4, 0.2, 0.2, 3.0, 0.3, 0, 41, &t, NULL);
  gen_counts(200, 150, 0.1, 42, &c);
  r = make_ratings(&t);
  rc = make_ratings(&c);

  /* float32 vs float64 after 3 iterations. */
  a = fit_als("rank=6 max_iter=3 biases=true dtype=float32", r, NULL);
  b = fit_als("rank=6 max_iter=3 biases=true dtype=float64", r, NULL);
  ua = attr(a, "user_factors");
  ub = attr(b, "user_factors");
  CHECK(clearn_matrix_dtype(ua) == CLEARN_FLOAT32 &&
            clearn_matrix_dtype(ub) == CLEARN_FLOAT64,
        "dtypes");
  printf("float32 vs float64 user factors: %.3g\n", max_rel_diff(ua, ub));
  CHECK(max_rel_diff(ua, ub) < 1e-3, "float32 vs float64: %g",
        max_rel_diff(ua, ub));
  CHECK_CLOSE(rmse_of(a, r), rmse_of(b, r), 1e-4, 0);
  clearn_matrix_free(ua);
  clearn_matrix_free(ub);
  clearn_estimator_free(a);
  clearn_estimator_free(b);

  /* CG with more steps than unknowns solves the rows (nearly) exactly. */
  a = fit_als("rank=6 max_iter=2 biases=true dtype=float64", r, NULL);
  b = fit_als(
      "rank=6 max_iter=2 biases=true dtype=float64 solver=cg cg_steps=30", r,
      NULL);
  ua = attr(a, "user_factors");
  ub = attr(b, "user_factors");
  printf("explicit CG (30 steps) vs Cholesky: %.3g\n", max_rel_diff(ub, ua));
  CHECK(max_rel_diff(ub, ua) < 1e-6, "explicit CG vs Cholesky: %g",
        max_rel_diff(ub, ua));
  clearn_matrix_free(ua);
  clearn_matrix_free(ub);
  clearn_estimator_free(a);
  clearn_estimator_free(b);

  /* The same with reg_exponent, through the float64 generic path and the
   * float32 one (the AVX-512 kernels where the CPU has them). */
  {
    const char *dts[2] = {"float64", "float32"};
    const double tol[2] = {1e-6, 1e-3};
    int d;
    for (d = 0; d < 2; d++) {
      char s1[160], s2[200];
      snprintf(s1, sizeof s1,
               "rank=6 max_iter=2 biases=true reg=0.3 reg_exponent=0.5 "
               "dtype=%s",
               dts[d]);
      snprintf(s2, sizeof s2, "%s solver=cg cg_steps=30", s1);
      a = fit_als(s1, r, NULL);
      b = fit_als(s2, r, NULL);
      ua = attr(a, "user_factors");
      ub = attr(b, "user_factors");
      printf("reg_exponent=0.5 %s: CG (30 steps) vs Cholesky: %.3g\n", dts[d],
             max_rel_diff(ub, ua));
      CHECK(max_rel_diff(ub, ua) < tol[d], "%s: CG vs Cholesky: %g", dts[d],
            max_rel_diff(ub, ua));
      clearn_matrix_free(ua);
      clearn_matrix_free(ub);
      clearn_estimator_free(a);
      clearn_estimator_free(b);
    }
  }

  a = fit_als("rank=6 max_iter=2 implicit=true alpha=2 dtype=float64", rc,
              NULL);
  b = fit_als("rank=6 max_iter=2 implicit=true alpha=2 dtype=float64 solver=cg "
              "cg_steps=30",
              rc, NULL);
  ua = attr(a, "item_factors");
  ub = attr(b, "item_factors");
  printf("implicit CG (30 steps) vs Cholesky: %.3g\n", max_rel_diff(ub, ua));
  CHECK(max_rel_diff(ub, ua) < 1e-6, "implicit CG vs Cholesky: %g",
        max_rel_diff(ub, ua));
  clearn_matrix_free(ua);
  clearn_matrix_free(ub);
  clearn_estimator_free(b);
  /* A few warm-started steps per iteration converge to the same fit. */
  b = fit_als(
      "rank=6 max_iter=15 implicit=true alpha=2 dtype=float64 solver=cg "
      "cg_steps=3",
      rc, NULL);
  {
    clearn_estimator *c15 = fit_als("rank=6 max_iter=15 implicit=true alpha=2 "
                                    "dtype=float64",
                                    rc, NULL);
    clearn_matrix *h1 = attr(b, "history"), *h2 = attr(c15, "history");
    printf("implicit loss after 15 iterations: cg(3) %.6f, cholesky %.6f\n",
           mget(h1, 14, 0), mget(h2, 14, 0));
    CHECK_CLOSE(mget(h1, 14, 0), mget(h2, 14, 0), 1e-2, 0);
    clearn_matrix_free(h1);
    clearn_matrix_free(h2);
    clearn_estimator_free(c15);
  }
  clearn_estimator_free(a);
  clearn_estimator_free(b);
  clearn_ratings_free(r);
  clearn_ratings_free(rc);
  triples_free(&t);
  triples_free(&c);
}

/* CG's heavy rows (rated rows past CG_FREE_BYTES: at rank 8, more than
 * 32,768 ratings) take their steps in lockstep, in blocks of the other
 * side's rows (two blocks here), shared out among the threads: three items
 * rated by all 40,000 users, and a fit on 3 threads is bitwise the fit on
 * 1, for explicit ratings with biases and for implicit feedback; 30 steps
 * agree with the exact float64 solve. */
static void test_heavy_cg(void) {
  static const char *cfgs[] = {
      "rank=8 max_iter=2 solver=cg cg_steps=3 biases=true",
      "rank=8 max_iter=2 implicit=true alpha=2 solver=cg",
  };
  triples t;
  tu_rng g = {61};
  int64_t u, nu = 40000, ni = 40, j;
  clearn_ratings *r;
  int q;
  memset(&t, 0, sizeof t);
  for (u = 0; u < nu; u++) {
    for (j = 0; j < 3; j++)
      triples_push(&t, 5 * nu, user_id(u), item_id(j),
                   (float)(1 + (int)(5 * tu_uniform(&g))));
    triples_push(&t, 5 * nu, user_id(u),
                 item_id(3 + (int64_t)(tu_uniform(&g) * (double)(ni - 3))),
                 (float)(1 + (int)(5 * tu_uniform(&g))));
  }
  r = make_ratings(&t);
  for (q = 0; q < (int)(sizeof cfgs / sizeof cfgs[0]); q++) {
    char s1[200], s3[200];
    double du, dv;
    int same;
    snprintf(s1, sizeof s1, "%s num_threads=1", cfgs[q]);
    snprintf(s3, sizeof s3, "%s num_threads=3", cfgs[q]);
    same = compare_fits(s3, s1, r, &du, &dv);
    CHECK(same, "'%s' with heavy rows: 3 threads differ from 1 (max %g, %g)",
          cfgs[q], du, dv);
  }
  {
    double du, dv;
    compare_fits("rank=8 max_iter=2 solver=cg cg_steps=30 biases=true reg=0.1",
                 "rank=8 max_iter=2 biases=true reg=0.1 dtype=float64", r, &du,
                 &dv);
    printf("heavy rows, CG 30 steps vs exact float64: users %.3g, items %.3g\n",
           du, dv);
    CHECK(du < 1e-4 && dv < 1e-4, "heavy rows, CG vs exact: %g, %g", du, dv);
  }
  clearn_ratings_free(r);
  triples_free(&t);
}

/* The float32 kernels (on CPUs with AVX-512; the generic path elsewhere)
 * against the float64 BLAS/LAPACK path, on data with an item rated by
 * every one of 40,000 users: at rank 8 that row is too long for matrix-free
 * CG (it forms its Gram), the others are short.  For explicit and implicit
 * feedback, Cholesky and CG with more steps than unknowns, the factors
 * agree to float32 precision. */
static void test_float32_kernels(void) {
  static const char *cfgs[] = {
      "rank=8 max_iter=2 implicit=true alpha=2",
      "rank=8 max_iter=2 implicit=true alpha=2 solver=cg cg_steps=30",
      "rank=8 max_iter=2 implicit=true alpha=0.5 weighted_reg=false",
      "rank=8 max_iter=2 solver=cg cg_steps=30 biases=true",
      "rank=8 max_iter=2 biases=true",
  };
  triples t;
  tu_rng g = {51};
  int64_t u, nu = 40000, ni = 30;
  clearn_ratings *r;
  int q;
  memset(&t, 0, sizeof t);
  for (u = 0; u < nu; u++) {
    int64_t a = 1 + (int64_t)(tu_uniform(&g) * (double)(ni - 1));
    int64_t b = 1 + (u % (ni - 1));
    triples_push(&t, 3 * nu, user_id(u), item_id(0),
                 (float)(1 + (int)(5 * tu_uniform(&g))));
    triples_push(&t, 3 * nu, user_id(u), item_id(a),
                 (float)(1 + (int)(5 * tu_uniform(&g))));
    if (b != a)
      triples_push(&t, 3 * nu, user_id(u), item_id(b),
                   (float)(1 + (int)(5 * tu_uniform(&g))));
  }
  r = make_ratings(&t);
  for (q = 0; q < (int)(sizeof cfgs / sizeof cfgs[0]); q++) {
    char s32[300], s64[300];
    double du, dv;
    snprintf(s32, sizeof s32, "%s dtype=float32 reg=0.1", cfgs[q]);
    /* the float64 reference solves exactly */
    snprintf(s64, sizeof s64, "%s dtype=float64 reg=0.1", cfgs[q]);
    compare_fits(s32, s64, r, &du, &dv);
    printf("float32 kernels vs float64 (%s): users %.3g, items %.3g\n", s32,
           du, dv);
    CHECK(du < 1e-4 && dv < 1e-4, "'%s' float32 vs float64: users %g, items %g",
          cfgs[q], du, dv);
  }
  clearn_ratings_free(r);
  triples_free(&t);
}

/* The exact float32 kernel against the float64 path at ranks that put the
 * Gram's tiles, the right-hand side's and column sums' extra tile rows
 * and the padding of the factorization's blocks of 4 in every shape:
 * ranks below, at and just past 16, 64 and a multiple of 4, with and
 * without biases.  The rows are longer than a chunk at every rank. */
static void test_float32_ranks(void) {
  static const int ranks[] = {1, 3, 4, 10, 11, 12, 16, 17, 33, 64, 70};
  triples t;
  clearn_ratings *r;
  int q, b;
  gen_lowrank(300, 260, 4, 0.4, 0.3, 3.0, 0.3, 0, 53, &t, NULL);
  r = make_ratings(&t);
  for (q = 0; q < (int)(sizeof ranks / sizeof ranks[0]); q++)
    for (b = 0; b < 2; b++) {
      char s32[100], s64[120];
      double du, dv;
      snprintf(s32, sizeof s32, "rank=%d max_iter=2 reg=0.1 biases=%s",
               ranks[q], b ? "true" : "false");
      snprintf(s64, sizeof s64, "%s dtype=float64", s32);
      compare_fits(s32, s64, r, &du, &dv);
      printf("float32 vs float64 (%s): users %.3g, items %.3g\n", s32, du, dv);
      CHECK(du < 1e-4 && dv < 1e-4,
            "'%s' float32 vs float64: users %g, items %g", s32, du, dv);
    }
  clearn_ratings_free(r);
  triples_free(&t);
}

/* The fast CG passes (blocks of 16 factors, the last one masked or not,
 * the bias column, implicit weights, ranks past 64 with the accumulators
 * in memory) against the exact float64 path: with more steps than
 * unknowns CG reaches the same factors, to float32 precision. */
static void test_cg_ranks(void) {
  static const int ranks[] = {3, 16, 17, 33, 64, 70};
  static const char *const kinds[3] = {"", "biases=true",
                                       "implicit=true alpha=2"};
  triples t;
  clearn_ratings *r;
  int q, b;
  gen_lowrank(300, 260, 4, 0.4, 0.3, 3.0, 0.3, 0, 57, &t, NULL);
  r = make_ratings(&t);
  for (q = 0; q < (int)(sizeof ranks / sizeof ranks[0]); q++)
    for (b = 0; b < 3; b++) {
      char scg[160], s64[160];
      double du, dv;
      snprintf(s64, sizeof s64, "rank=%d max_iter=2 reg=0.1 %s dtype=float64",
               ranks[q], kinds[b]);
      snprintf(scg, sizeof scg,
               "rank=%d max_iter=2 reg=0.1 %s solver=cg cg_steps=%d", ranks[q],
               kinds[b], 3 * ranks[q] + 10);
      compare_fits(scg, s64, r, &du, &dv);
      printf("CG vs float64 exact (%s): users %.3g, items %.3g\n", scg, du, dv);
      CHECK(du < 1e-4 && dv < 1e-4, "'%s' vs float64 exact: users %g, items %g",
            scg, du, dv);
    }
  clearn_ratings_free(r);
  triples_free(&t);
}

/* The exact fast path factors in float32; a system too ill-conditioned for
 * that is solved again in float64 rather than refused.  Rank 64, every user
 * with 3 ratings, a ridge of 4e-5 without count weighting: the Grams have
 * rank 3 or so, and one item's system (of this seeded fit, on AVX-512)
 * fails the float32 factorization, whose rounding (about k eps32 |A|)
 * exceeds the ridge, while the float64 one of the same float32 Gram
 * succeeds.  Without the retry the fit fails ("not positive definite"); a
 * ridge a little lower defeats both, as it did before float32 lanes.  The
 * fit must succeed as the float64 path's does and predict as well. */
static void test_float32_retry(void) {
  triples t;
  clearn_ratings *r;
  clearn_estimator *a, *b;
  int64_t u, q;
  double ra, rb;
  memset(&t, 0, sizeof t);
  for (u = 0; u < 200; u++)
    for (q = 0; q < 3; q++)
      triples_push(&t, 600, 1000 + u, 50 + (u * 7 + q * 13) % 40,
                   (float)(1 + (u + q) % 5));
  r = make_ratings(&t);
  a = fit_als("rank=64 max_iter=1 reg=4e-5 weighted_reg=false", r, NULL);
  b = fit_als("rank=64 max_iter=1 reg=4e-5 weighted_reg=false dtype=float64", r,
              NULL);
  ra = rmse_of(a, r);
  rb = rmse_of(b, r);
  printf("ill-conditioned rows, float32 (retried in float64) vs float64: "
         "train RMSE %.3g vs %.3g\n",
         ra, rb);
  CHECK(isfinite(ra) && fabs(ra - rb) < 1e-3,
        "ill-conditioned rows: train RMSE %g, float64 path %g", ra, rb);
  clearn_estimator_free(a);
  clearn_estimator_free(b);
  clearn_ratings_free(r);
  triples_free(&t);
}

/* The exact solve factors several rows' systems side by side; a row's
 * solution must not depend on which rows share its factorization.  One
 * more user, sorted before all others, shifts every user into another
 * place of the groups: after one iteration (whose user half-step sees the
 * same seeded item factors) every other user's factors are bitwise the
 * same. */
static void test_row_groups(void) {
  triples t, t2;
  clearn_ratings *r, *r2;
  clearn_estimator *a, *b;
  clearn_matrix *ua, *ub, *ia, *ib;
  int64_t q, rows;
  int kk;
  gen_lowrank(150, 90, 4, 0.3, 0.3, 3.0, 0.2, 0, 57, &t, NULL);
  memset(&t2, 0, sizeof t2);
  triples_push(&t2, t.n + 2, -1000000, item_id(0), 4.0f);
  triples_push(&t2, t.n + 2, -1000000, item_id(1), 2.0f);
  for (q = 0; q < t.n; q++) triples_push(&t2, t.n + 2, t.u[q], t.i[q], t.v[q]);
  r = make_ratings(&t);
  r2 = make_ratings(&t2);
  for (kk = 0; kk < 2; kk++) {
    /* rank 13: the systems are padded to 16 rows */
    const char *s =
        kk ? "rank=13 max_iter=1 reg=0.1" : "rank=12 max_iter=1 reg=0.1";
    int64_t k = kk ? 13 : 12, diff = 0;
    a = fit_als(s, r, NULL);
    b = fit_als(s, r2, NULL);
    ua = attr(a, "user_factors");
    ub = attr(b, "user_factors");
    ia = attr(a, "user_ids");
    ib = attr(b, "user_ids");
    rows = clearn_matrix_rows(ua);
    CHECK(clearn_matrix_rows(ub) == rows + 1 && mget(ib, 0, 0) == -1000000 &&
              mget(ib, 0, 1) == mget(ia, 0, 0),
          "the new user is not the first row");
    for (q = 0; q < rows * k; q++)
      diff += memcmp((const float *)clearn_matrix_data(ua) + q,
                     (const float *)clearn_matrix_data(ub) + k + q,
                     sizeof(float)) != 0;
    printf("row groups shifted by one (%s): %lld of %lld factors differ\n", s,
           (long long)diff, (long long)(rows * k));
    CHECK(diff == 0, "a row's factors depend on its group");
    clearn_matrix_free(ua);
    clearn_matrix_free(ub);
    clearn_matrix_free(ia);
    clearn_matrix_free(ib);
    clearn_estimator_free(a);
    clearn_estimator_free(b);
  }
  clearn_ratings_free(r);
  clearn_ratings_free(r2);
  triples_free(&t);
  triples_free(&t2);
}

/* KKT conditions of min |Y x - r|^2 + lam |x|^2, x >= 0 for the first
 * user of the model, after folding that user's ratings in again (the fold-in
 * solves against the final item factors). */
static void test_nonnegative(void) {
  triples t;
  clearn_ratings *r;
  clearn_estimator *est;
  clearn_matrix *U, *V, *ids;
  int64_t j, q, a, k = 6, n_zero = 0;
  double reg = 0.05;
  gen_lowrank(150, 120, 4, 0.2, 0.2, 3.0, 0.0, 0, 51, &t, NULL);
  r = make_ratings(&t);
  for (q = 0; q < 2; q++) {
    est =
        fit_als(q ? "rank=6 reg=0.05 max_iter=5 nonnegative=true dtype=float64 "
                    "biases=true"
                  : "rank=6 reg=0.05 max_iter=5 nonnegative=true dtype=float64",
                r, NULL);
    U = attr(est, "user_factors");
    V = attr(est, "item_factors");
    for (j = 0; j < clearn_matrix_rows(U) * k; j++) {
      CHECK(mget(U, j / k, j % k) >= 0, "negative user factor");
      n_zero += mget(U, j / k, j % k) == 0;
    }
    for (j = 0; j < clearn_matrix_rows(V) * k; j++)
      CHECK(mget(V, j / k, j % k) >= 0, "negative item factor");
    clearn_matrix_free(U);
    clearn_matrix_free(V);
    clearn_estimator_free(est);
  }
  printf("nonnegative: %lld exact zeros among the user factors\n",
         (long long)n_zero);
  CHECK(n_zero > 0, "no active constraint at all: the test proves little");

  /* KKT on a fold-in (no biases). */
  est = fit_als("rank=6 reg=0.05 max_iter=5 nonnegative=true dtype=float64", r,
                NULL);
  ids = attr(est, "user_ids");
  {
    int64_t uid = (int64_t)mget(ids, 0, 3), n = 0, *it;
    float *v;
    double A[36] = {0}, b[6] = {0}, x[6], lam, scale = 0;
    n = ratings_of(&t, uid, &it, &v);
    CHECK_OK(clearn_estimator_fold_in(est, uid, it, v, n, NULL));
    U = attr(est, "user_factors");
    V = attr(est, "item_factors");
    {
      clearn_matrix *iids = attr(est, "item_ids");
      for (q = 0; q < n; q++) {
        int64_t row = -1;
        for (j = 0; j < clearn_matrix_cols(iids); j++)
          if ((int64_t)mget(iids, 0, j) == it[q]) row = j;
        for (j = 0; j < k; j++) {
          b[j] += v[q] * mget(V, row, j);
          for (a = 0; a < k; a++)
            A[j * k + a] += mget(V, row, j) * mget(V, row, a);
        }
      }
      clearn_matrix_free(iids);
    }
    lam = reg * (double)n;
    for (j = 0; j < k; j++) {
      A[j * k + j] += lam;
      x[j] = mget(U, 3, j);
      scale = fmax(scale, fabs(b[j]));
    }
    for (j = 0; j < k; j++) {
      double g = -b[j];
      for (a = 0; a < k; a++) g += A[j * k + a] * x[a];
      if (x[j] > 0)
        CHECK(fabs(g) <= 1e-9 * scale, "KKT: x[%lld] = %g > 0 but gradient %g",
              (long long)j, x[j], g);
      else
        CHECK(g >= -1e-9 * scale, "KKT: x[%lld] = 0 but gradient %g < 0",
              (long long)j, g);
    }
    free(it);
    free(v);
    clearn_matrix_free(U);
    clearn_matrix_free(V);
  }
  clearn_matrix_free(ids);
  clearn_estimator_free(est);
  clearn_ratings_free(r);
  triples_free(&t);
}

/* ---- prediction, recommendation, persistence ---------------------------- */

static int same_doubles(const double *a, const double *b, int64_t n) {
  return memcmp(a, b, (size_t)n * sizeof(double)) == 0;
}

static void test_save_load_recommend(void) {
  triples t, te;
  clearn_ratings *r, *rte;
  clearn_estimator *est, *back = NULL;
  char path[600];
  const char *base = getenv("TMPDIR");
  int64_t users[6], items[6], recs[6 * 12], recs2[6 * 12], sim[5], sim2[5];
  double p1[6], p2[6], sc[6 * 12], sc2[6 * 12], ss[5], ss2[5];
  clearn_matrix *U, *V, *ids, *iids, *ub, *ib, *mu;
  int64_t q, j, k = 12;
  gen_lowrank(120, 80, 3, 0.2, 0.2, 3.0, 0.3, 0.1, 61, &t, &te);
  r = make_ratings(&t);
  rte = make_ratings(&te);
  est = fit_als("rank=5 max_iter=8 biases=true dtype=float64", r, NULL);

  /* recommend: sorted, excludes training items, scores = predictions,
   * and the top-k of a brute force over all unrated items. */
  for (q = 0; q < 5; q++) users[q] = user_id(q * 13);
  users[5] = 123456789; /* unknown */
  CHECK_OK(clearn_estimator_recommend(est, users, 6, k, NULL, recs, sc));
  U = attr(est, "user_factors");
  V = attr(est, "item_factors");
  ids = attr(est, "user_ids");
  iids = attr(est, "item_ids");
  ub = attr(est, "user_bias");
  ib = attr(est, "item_bias");
  mu = attr(est, "global_mean");
  for (q = 0; q < 5; q++) {
    int64_t urow = clearn_ratings_user_index(r, users[q]), better = 0;
    for (j = 0; j < k; j++) {
      int64_t p;
      double pred;
      CHECK(recs[q * k + j] >= 0, "missing recommendation");
      for (p = 0; p < t.n; p++)
        CHECK(!(t.u[p] == users[q] && t.i[p] == recs[q * k + j]),
              "recommended item %lld was rated by user %lld in training",
              (long long)recs[q * k + j], (long long)users[q]);
      if (j > 0) CHECK(sc[q * k + j] <= sc[q * k + j - 1], "scores not sorted");
      CHECK_OK(clearn_estimator_predict_pairs(est, &users[q], &recs[q * k + j],
                                              1, &pred));
      CHECK_CLOSE(sc[q * k + j], pred, 1e-12, 1e-12);
    }
    /* brute force: no unrated item scores above the k-th. */
    for (j = 0; j < clearn_matrix_cols(iids); j++) {
      int64_t item = (int64_t)mget(iids, 0, j), p, rated = 0;
      double s = mget(mu, 0, 0) + mget(ub, 0, urow) + mget(ib, 0, j);
      int a;
      for (a = 0; a < 5; a++) s += mget(U, urow, a) * mget(V, j, a);
      for (p = 0; p < t.n; p++) rated |= t.u[p] == users[q] && t.i[p] == item;
      for (p = 0; p < k; p++) rated |= recs[q * k + p] == item;
      if (!rated && s > sc[q * k + k - 1] + 1e-9) better++;
    }
    CHECK(better == 0,
          "user %lld: %lld unrated items beat the k-th "
          "recommendation",
          (long long)users[q], (long long)better);
  }
  for (j = 0; j < k; j++)
    CHECK(recs[5 * k + j] == -1 && isnan(sc[5 * k + j]), "unknown user row");

  /* exclude = another ratings object: its items go, training items may come. */
  {
    int64_t r2[12], only_train = 0;
    double s2[12];
    CHECK_OK(clearn_estimator_recommend(est, users, 1, k, rte, r2, s2));
    for (j = 0; j < k; j++) {
      int64_t p;
      for (p = 0; p < te.n; p++)
        CHECK(!(te.u[p] == users[0] && te.i[p] == r2[j]), "excluded test item");
      for (p = 0; p < t.n; p++)
        only_train += t.u[p] == users[0] && t.i[p] == r2[j];
    }
    printf(
        "recommend with exclude=test: %lld training items among the top %lld\n",
        (long long)only_train, (long long)k);
  }
  /* more slots than items */
  {
    int64_t n_items = clearn_ratings_n_items(r), kk = n_items + 3;
    int64_t *rr = malloc((size_t)kk * sizeof(int64_t)), n_ok = 0;
    double *s = malloc((size_t)kk * sizeof(double));
    CHECK_OK(clearn_estimator_recommend(est, users, 1, kk, rte, rr, s));
    for (j = 0; j < kk; j++) n_ok += rr[j] >= 0;
    CHECK(n_ok <= n_items && rr[kk - 1] == -1 && isnan(s[kk - 1]),
          "slots beyond the items: %lld filled", (long long)n_ok);
    free(rr);
    free(s);
  }

  /* similar_items: cosine, self excluded, matches brute force. */
  CHECK_OK(clearn_estimator_similar_items(est, item_id(4), 5, sim, ss));
  {
    int64_t src = clearn_ratings_item_index(r, item_id(4));
    for (j = 0; j < 5; j++) {
      int64_t row = clearn_ratings_item_index(r, sim[j]);
      double d = 0, na = 0, nb = 0;
      int a;
      CHECK(sim[j] != item_id(4), "item similar to itself");
      for (a = 0; a < 5; a++) {
        d += mget(V, src, a) * mget(V, row, a);
        na += pow(mget(V, src, a), 2);
        nb += pow(mget(V, row, a), 2);
      }
      CHECK_CLOSE(ss[j], d / sqrt(na * nb), 1e-10, 1e-12);
      if (j > 0) CHECK(ss[j] <= ss[j - 1], "similar_items not sorted");
    }
    for (j = 0; j < clearn_matrix_cols(iids); j++) {
      double d = 0, na = 0, nb = 0;
      int a;
      if (j == src || j == clearn_ratings_item_index(r, sim[0]) ||
          j == clearn_ratings_item_index(r, sim[1]) ||
          j == clearn_ratings_item_index(r, sim[2]) ||
          j == clearn_ratings_item_index(r, sim[3]) ||
          j == clearn_ratings_item_index(r, sim[4]))
        continue;
      for (a = 0; a < 5; a++) {
        d += mget(V, src, a) * mget(V, j, a);
        na += pow(mget(V, src, a), 2);
        nb += pow(mget(V, j, a), 2);
      }
      CHECK(d / sqrt(na * nb) <= ss[4] + 1e-12,
            "item %lld more similar than "
            "the 5th",
            (long long)j);
    }
  }
  {
    int64_t s3[3];
    double v3[3];
    CHECK_OK(clearn_estimator_similar_items(est, -999, 3, s3, v3));
    CHECK(s3[0] == -1 && isnan(v3[0]), "unknown item");
  }

  /* predictions incl. cold pairs */
  items[0] = item_id(1);
  items[1] = item_id(2);
  items[2] = 5; /* unknown item */
  items[3] = item_id(3);
  items[4] = 5;
  items[5] = item_id(0);
  CHECK_OK(clearn_estimator_predict_pairs(est, users, items, 6, p1));

  /* fold in a new user, then save and load: everything identical. */
  {
    int64_t fi[4] = {item_id(1), item_id(2), item_id(3), 77};
    float fv[4] = {4.5f, 1.0f, 3.0f, 5.0f};
    int64_t ign = -1, nu = 31337, rr[12];
    double pp;
    CHECK_OK(clearn_estimator_fold_in(est, nu, fi, fv, 4, &ign));
    CHECK(ign == 1, "n_ignored = %lld", (long long)ign);
    CHECK_OK(clearn_estimator_predict_pairs(est, &nu, &fi[0], 1, &pp));
    CHECK(isfinite(pp), "prediction for the folded-in user");
    CHECK_OK(clearn_estimator_recommend(est, &nu, 1, k, NULL, rr, NULL));
    for (j = 0; j < k; j++)
      CHECK(rr[j] != fi[0] && rr[j] != fi[1] && rr[j] != fi[2],
            "folded-in items must be excluded");
  }
  snprintf(path, sizeof path, "%s/clearn-als-%d.h5",
           base && *base ? base : "/tmp", (int)getpid());
  CHECK_OK(clearn_estimator_save(est, path));
  CHECK_OK(clearn_estimator_load(path, "als", &back));
  if (back) {
    int64_t all[7];
    clearn_matrix *h1 = attr(est, "history"), *h2 = attr(back, "history");
    clearn_matrix *a1 = attr(est, "user_factors"),
                  *a2 = attr(back, "user_factors");
    memcpy(all, users, sizeof users);
    all[6] = 31337;
    CHECK(same_bytes(h1, h2) && same_bytes(a1, a2),
          "history / factors after load");
    CHECK_OK(clearn_estimator_recommend(est, all, 7, 6, NULL, recs, sc));
    CHECK_OK(clearn_estimator_recommend(back, all, 7, 6, NULL, recs2, sc2));
    CHECK(memcmp(recs, recs2, sizeof(int64_t) * 7 * 6) == 0 &&
              same_doubles(sc, sc2, 7 * 6),
          "recommend differs after load");
    CHECK_OK(clearn_estimator_predict_pairs(back, users, items, 6, p2));
    CHECK(memcmp(p1, p2, sizeof p1) == 0, "predict differs after load");
    CHECK_OK(clearn_estimator_similar_items(est, item_id(4), 5, sim, ss));
    CHECK_OK(clearn_estimator_similar_items(back, item_id(4), 5, sim2, ss2));
    CHECK(memcmp(sim, sim2, sizeof sim) == 0 && same_doubles(ss, ss2, 5),
          "similar_items differs after load");
    /* a second fold-in on the loaded model works too */
    {
      int64_t fi = item_id(7), nu2 = -5;
      float fv = 4.0f;
      CHECK_OK(clearn_estimator_fold_in(back, nu2, &fi, &fv, 1, NULL));
      CHECK_OK(clearn_estimator_recommend(back, &nu2, 1, 3, NULL, recs2, NULL));
      CHECK(recs2[0] >= 0 && recs2[0] != fi, "recommend after second fold-in");
    }
    clearn_matrix_free(h1);
    clearn_matrix_free(h2);
    clearn_matrix_free(a1);
    clearn_matrix_free(a2);
  }
  remove(path);
  clearn_estimator_free(back);
  clearn_matrix_free(U);
  clearn_matrix_free(V);
  clearn_matrix_free(ids);
  clearn_matrix_free(iids);
  clearn_matrix_free(ub);
  clearn_matrix_free(ib);
  clearn_matrix_free(mu);
  clearn_estimator_free(est);
  clearn_ratings_free(r);
  clearn_ratings_free(rte);
  triples_free(&t);
  triples_free(&te);
}

/* recommend on float32 models (the AVX-512 selection where available):
 * with and without biases, every user of a 300-user set (several blocks
 * of users, so several threads), against a brute force over the model's
 * own factors in float64; 1 and 4 threads give the same answer. */
static void test_recommend_float32(void) {
  static const char *cfgs[] = {"rank=5 max_iter=4 biases=true",
                               "rank=5 max_iter=4"};
  triples t, te;
  clearn_ratings *r, *rte;
  int64_t nu = 300, ni = 120, k = 7, q, j, c;
  int64_t *users = malloc((size_t)(nu + 1) * sizeof(int64_t));
  int64_t *recs = malloc((size_t)((nu + 1) * k) * sizeof(int64_t));
  int64_t *recs1 = malloc((size_t)((nu + 1) * k) * sizeof(int64_t));
  double *sc = malloc((size_t)((nu + 1) * k) * sizeof(double));
  unsigned char *rated = malloc((size_t)ni);
  gen_lowrank(nu, ni, 3, 0.15, 0.2, 3.0, 0.3, 0.1, 71, &t, &te);
  r = make_ratings(&t);
  rte = make_ratings(&te);
  for (q = 0; q < nu; q++) users[q] = user_id(q);
  users[nu] = 987654321; /* unknown */
  for (c = 0; c < 2; c++) {
    char s4[120], s1[120];
    clearn_estimator *est, *est1;
    clearn_matrix *U, *V, *ub = NULL, *ib = NULL, *mu = NULL;
    int64_t bad = 0, unsorted = 0, off = 0;
    snprintf(s4, sizeof s4, "%s dtype=float32 num_threads=4", cfgs[c]);
    snprintf(s1, sizeof s1, "%s dtype=float32 num_threads=1", cfgs[c]);
    est = fit_als(s4, r, NULL);
    est1 = fit_als(s1, r, NULL);
    CHECK_OK(clearn_estimator_recommend(est, users, nu + 1, k, NULL, recs, sc));
    CHECK_OK(
        clearn_estimator_recommend(est1, users, nu + 1, k, NULL, recs1, NULL));
    CHECK(memcmp(recs, recs1, (size_t)((nu + 1) * k) * sizeof(int64_t)) == 0,
          "'%s': recommend differs between 1 and 4 threads", cfgs[c]);
    U = attr(est, "user_factors");
    V = attr(est, "item_factors");
    if (c == 0) {
      ub = attr(est, "user_bias");
      ib = attr(est, "item_bias");
      mu = attr(est, "global_mean");
    }
    for (q = 0; q < nu; q++) {
      int64_t urow = clearn_ratings_user_index(r, users[q]);
      memset(rated, 0, (size_t)ni);
      for (j = 0; j < (int64_t)t.n; j++)
        if (t.u[j] == users[q])
          rated[clearn_ratings_item_index(r, t.i[j])] = 1;
      for (j = 0; j < k; j++) {
        int64_t row = clearn_ratings_item_index(r, recs[q * k + j]);
        double pred;
        if (row < 0 || rated[row]) bad++;
        if (j > 0 && sc[q * k + j] > sc[q * k + j - 1]) unsorted++;
        CHECK_OK(clearn_estimator_predict_pairs(est, &users[q],
                                                &recs[q * k + j], 1, &pred));
        if (fabs(pred - sc[q * k + j]) > 1e-5 * (1 + fabs(pred))) off++;
        if (row >= 0) rated[row] = 1;
      }
      /* no unrated, unrecommended item scores above the k-th */
      for (j = 0; j < ni; j++) {
        double s = c == 0 ? mget(mu, 0, 0) + mget(ub, 0, urow) + mget(ib, 0, j)
                          : 0;
        int a;
        for (a = 0; a < 5; a++) s += mget(U, urow, a) * mget(V, j, a);
        if (!rated[j] && s > sc[q * k + k - 1] + 1e-5 * (1 + fabs(s))) bad++;
      }
    }
    for (j = 0; j < k; j++)
      if (recs[nu * k + j] != -1 || !isnan(sc[nu * k + j])) bad++;
    CHECK(bad == 0 && unsorted == 0 && off == 0,
          "'%s' recommend: %lld wrong items, %lld unsorted, %lld scores off",
          cfgs[c], (long long)bad, (long long)unsorted, (long long)off);
    /* exclude = the test split: none of its items come back */
    CHECK_OK(clearn_estimator_recommend(est, users, nu, k, rte, recs, NULL));
    for (q = 0, bad = 0; q < nu; q++)
      for (j = 0; j < (int64_t)te.n; j++) {
        int64_t x;
        if (te.u[j] != users[q]) continue;
        for (x = 0; x < k; x++) bad += recs[q * k + x] == te.i[j];
      }
    CHECK(bad == 0, "'%s': %lld excluded test items recommended", cfgs[c],
          (long long)bad);
    clearn_matrix_free(U);
    clearn_matrix_free(V);
    clearn_matrix_free(ub);
    clearn_matrix_free(ib);
    clearn_matrix_free(mu);
    clearn_estimator_free(est);
    clearn_estimator_free(est1);
  }
  clearn_ratings_free(r);
  clearn_ratings_free(rte);
  triples_free(&t);
  triples_free(&te);
  free(users);
  free(recs);
  free(recs1);
  free(sc);
  free(rated);
}

static void test_cold_start(void) {
  triples t;
  clearn_ratings *r, *test;
  clearn_estimator *est;
  clearn_matrix *ib, *ub, *mu;
  int64_t users[3] = {user_id(0), 999999, 999999};
  int64_t items[3] = {99, item_id(2), 99};
  int64_t used = -1;
  float vals[3] = {3, 4, 5};
  double p[3], rm;
  gen_lowrank(50, 40, 2, 0.3, 0.1, 3.0, 0.3, 0, 71, &t, NULL);
  r = make_ratings(&t);
  CHECK_OK(clearn_ratings_from_triples(users, items, vals, 3, &test));
  est = fit_als("rank=3 max_iter=3 biases=true", r, NULL);
  ib = attr(est, "item_bias");
  ub = attr(est, "user_bias");
  mu = attr(est, "global_mean");
  CHECK_CLOSE(mget(mu, 0, 0), 3.0, 0, 0.2);

  CHECK_OK(clearn_estimator_predict_pairs(est, users, items, 3, p));
  CHECK(isnan(p[0]) && isnan(p[1]) && isnan(p[2]), "nan policy");
  CHECK_OK(clearn_estimator_score_ratings(est, test, "rmse", &rm, &used));
  CHECK(isnan(rm), "nan policy RMSE %g", rm);

  CHECK_OK(clearn_estimator_set_param_string(est, "cold_start", "drop"));
  CHECK_OK(clearn_estimator_predict_pairs(est, users, items, 3, p));
  CHECK(isnan(p[0]) && isnan(p[1]), "drop policy predicts NaN");
  CHECK_OK(clearn_estimator_score_ratings(est, test, "rmse", &rm, &used));
  CHECK(used == 0 && isnan(rm), "drop: used %lld", (long long)used);

  CHECK_OK(clearn_estimator_set_param_string(est, "cold_start", "mean"));
  CHECK_OK(clearn_estimator_predict_pairs(est, users, items, 3, p));
  CHECK_CLOSE(p[0], mget(mu, 0, 0) + mget(ub, 0, 0), 1e-12, 0);
  CHECK_CLOSE(p[1],
              mget(mu, 0, 0) +
                  mget(ib, 0, clearn_ratings_item_index(r, item_id(2))),
              1e-12, 0);
  CHECK_CLOSE(p[2], mget(mu, 0, 0), 1e-12, 0);
  CHECK_OK(clearn_estimator_score_ratings(est, test, "rmse", &rm, &used));
  CHECK(used == 3 && isfinite(rm), "mean: used %lld", (long long)used);
  clearn_matrix_free(ib);
  clearn_matrix_free(ub);
  clearn_matrix_free(mu);
  clearn_estimator_free(est);
  clearn_ratings_free(r);
  clearn_ratings_free(test);
  triples_free(&t);
}

static void test_fold_in(void) {
  triples t;
  clearn_ratings *r;
  clearn_estimator *est;
  clearn_matrix *U0, *U1;
  int64_t uid = user_id(17), row, n = 0, q, *it, nu0;
  float *v;
  double d = 0, s = 0;
  gen_lowrank(200, 150, 3, 0.2, 0.1, 3.0, 0.0, 0, 81, &t, NULL);
  r = make_ratings(&t);
  est = fit_als("rank=4 reg=0.01 max_iter=300 dtype=float64", r, NULL);
  U0 = attr(est, "user_factors");
  nu0 = clearn_matrix_rows(U0);
  n = ratings_of(&t, uid, &it, &v);
  CHECK_OK(clearn_estimator_fold_in(est, uid, it, v, n, NULL));
  U1 = attr(est, "user_factors");
  CHECK(clearn_matrix_rows(U1) == nu0, "fold_in of a known user adds a row");
  row = clearn_ratings_user_index(r, uid);
  for (q = 0; q < 4; q++) {
    d = fmax(d, fabs(mget(U1, row, q) - mget(U0, row, q)));
    s = fmax(s, fabs(mget(U0, row, q)));
  }
  /* ALS converges slowly along directions that trade user against item
   * factors, so the fitted user is compared with its exact solve against
   * the final item factors loosely, and its predictions tightly. */
  {
    clearn_matrix *V = attr(est, "item_factors");
    double pd = 0;
    for (q = 0; q < n; q++) {
      int64_t ir = clearn_ratings_item_index(r, it[q]), a;
      double p0 = 0, p1 = 0;
      for (a = 0; a < 4; a++) {
        p0 += mget(U0, row, a) * mget(V, ir, a);
        p1 += mget(U1, row, a) * mget(V, ir, a);
      }
      pd = fmax(pd, fabs(p1 - p0));
    }
    printf("fold_in of a fitted user's own ratings: factor change %.3g (scale "
           "%.3g), prediction change %.3g\n",
           d, s, pd);
    CHECK(d <= 0.01 * s, "fold_in moved the user by %g", d);
    CHECK(pd <= 0.005, "fold_in changed the user's predictions by %g", pd);
    clearn_matrix_free(V);
  }
  /* only unknown items: a zero factor, all ignored */
  {
    int64_t bad[2] = {1, 2}, ign = 0, nid = 424242;
    float bv[2] = {1, 2};
    clearn_matrix *U2;
    CHECK_OK(clearn_estimator_fold_in(est, nid, bad, bv, 2, &ign));
    CHECK(ign == 2, "ignored %lld", (long long)ign);
    U2 = attr(est, "user_factors");
    CHECK(clearn_matrix_rows(U2) == nu0 + 1, "new user row");
    CHECK(mget(U2, nu0, 0) == 0 && mget(U2, nu0, 2) == 0,
          "no known item: zero factor");
    clearn_matrix_free(U2);
  }
  /* many new users: the arrays grow, lookups stay right */
  for (q = 0; q < 300; q++) {
    int64_t id = 5000000 - 3 * q, item = item_id(q % 150);
    float val = 4;
    double pr;
    CHECK_OK(clearn_estimator_fold_in(est, id, &item, &val, 1, NULL));
    CHECK_OK(clearn_estimator_predict_pairs(est, &id, &item, 1, &pr));
    CHECK(isfinite(pr), "prediction for folded user %lld", (long long)id);
  }
  {
    double pr;
    CHECK_OK(clearn_estimator_predict_pairs(est, &uid, &it[0], 1, &pr));
    CHECK(isfinite(pr), "old user still found");
  }
  {
    float nanv = NAN;
    CHECK_RC(clearn_estimator_fold_in(est, 1, it, &nanv, 1, NULL),
             CLEARN_ENUMERIC);
  }
  free(it);
  free(v);
  clearn_matrix_free(U0);
  clearn_matrix_free(U1);
  clearn_estimator_free(est);
  clearn_ratings_free(r);
  triples_free(&t);
}

/* fold_in solves with the fit-time reg_exponent, also after save and
 * load: the folded-in row satisfies its normal equations
 * (V_u^T V_u + reg n^e I) x = V_u^T r with the fitted e, and not those of
 * ALS-WR's e = 1. */
static void test_fold_in_reg_exponent(void) {
  triples t;
  clearn_ratings *r;
  clearn_estimator *fit, *est = NULL;
  clearn_matrix *U, *V;
  char dir[] = "/tmp/clearn_rexp_XXXXXX", path[600], cmd[700];
  int64_t uid = user_id(23), nid = 7777777, row, n = 0, q, *it;
  float *v;
  double resid[2] = {0, 0}, scale = 0;
  const double reg = 0.3, e = 0.5;
  int w, a, b;
  if (mkdtemp(dir) == NULL) {
    CHECK(0, "mkdtemp: %s", strerror(errno));
    return;
  }
  snprintf(path, sizeof path, "%s/m.h5", dir);
  gen_lowrank(200, 150, 3, 0.2, 0.1, 3.0, 0.3, 0, 83, &t, NULL);
  r = make_ratings(&t);
  fit = fit_als("rank=4 reg=0.3 reg_exponent=0.5 max_iter=3 dtype=float64",
                r, NULL);
  CHECK_OK(clearn_estimator_save(fit, path));
  CHECK_OK(clearn_estimator_load(path, "als", &est));
  clearn_estimator_free(fit);
  if (est == NULL) goto done;
  {
    double got = 0;
    CHECK_OK(clearn_estimator_get_param_double(est, "reg_exponent", &got));
    CHECK(got == e, "loaded reg_exponent %g", got);
  }
  n = ratings_of(&t, uid, &it, &v);
  CHECK(n > 5, "user has %lld ratings", (long long)n);
  CHECK_OK(clearn_estimator_fold_in(est, nid, it, v, n, NULL));
  U = attr(est, "user_factors");
  V = attr(est, "item_factors");
  row = clearn_matrix_rows(U) - 1;
  /* w = 0: lam = reg n^e (the fitted setting), w = 1: lam = reg n */
  for (w = 0; w < 2; w++) {
    double lam = reg * (w == 0 ? pow((double)n, e) : (double)n);
    for (a = 0; a < 4; a++) {
      double lhs = lam * mget(U, row, a), rhs = 0;
      for (q = 0; q < n; q++) {
        int64_t ir = clearn_ratings_item_index(r, it[q]);
        double pr = 0;
        for (b = 0; b < 4; b++) pr += mget(V, ir, b) * mget(U, row, b);
        lhs += mget(V, ir, a) * pr;
        rhs += mget(V, ir, a) * v[q];
      }
      resid[w] = fmax(resid[w], fabs(lhs - rhs));
      if (w == 0) scale = fmax(scale, fabs(rhs));
    }
  }
  printf("fold_in after load, reg_exponent=0.5: normal-equation residual "
         "%.3g with e = 0.5, %.3g with e = 1 (scale %.3g)\n",
         resid[0], resid[1], scale);
  CHECK(resid[0] <= 1e-10 * scale, "fold_in residual %g", resid[0]);
  CHECK(resid[1] >= 1e-2 * scale, "fold_in also solves e = 1 (%g)", resid[1]);
  clearn_matrix_free(U);
  clearn_matrix_free(V);
  free(it);
  free(v);
done:
  clearn_estimator_free(est);
  clearn_ratings_free(r);
  triples_free(&t);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "note: could not remove %s\n", dir);
}

/* ---- progress, tol, errors ----------------------------------------------- */

static int calls;
static int stop_after_2(void *ud, int iteration, const char *const *names,
                        const double *values, int n) {
  (void)ud;
  calls++;
  CHECK(n == 5 && iteration == calls, "iteration %d, n %d", iteration, n);
  CHECK_STR(names[0], "train_loss");
  CHECK_STR(names[1], "train_rmse");
  CHECK_STR(names[2], "valid_rmse");
  CHECK_STR(names[3], "seconds");
  CHECK_STR(names[4], "comm_seconds");
  CHECK(values[4] == 0.0, "comm_seconds %g in a serial fit", values[4]);
  CHECK(isfinite(values[0]) && isfinite(values[1]) && isfinite(values[2]),
        "values %g %g %g", values[0], values[1], values[2]);
  return iteration >= 2;
}

static void test_progress_tol(void) {
  triples t, te;
  clearn_ratings *r, *rte;
  clearn_estimator *est;
  clearn_matrix *n_iter, *h;
  gen_lowrank(100, 80, 3, 0.2, 0.1, 3.0, 0.0, 0.1, 91, &t, &te);
  r = make_ratings(&t);
  rte = make_ratings(&te);
  est = make_als("rank=3 max_iter=20 cold_start=drop");
  CHECK_OK(clearn_estimator_set_progress(est, stop_after_2, NULL));
  CHECK_OK(clearn_estimator_fit_ratings(est, r, rte));
  n_iter = attr(est, "n_iter");
  h = attr(est, "history");
  CHECK(calls == 2 && mget(n_iter, 0, 0) == 2 && clearn_matrix_rows(h) == 2,
        "stopped after %d calls, n_iter %g", calls, mget(n_iter, 0, 0));
  clearn_matrix_free(n_iter);
  clearn_matrix_free(h);
  clearn_estimator_free(est);

  /* without validation: NaN in valid_rmse */
  est = fit_als("rank=3 max_iter=2", r, NULL);
  h = attr(est, "history");
  CHECK(isnan(mget(h, 1, 2)), "valid_rmse without validation");
  clearn_matrix_free(h);
  clearn_estimator_free(est);

  /* tol: stops early with OK; unmet: ENOTCONVERGED and a usable model */
  est = fit_als("rank=3 max_iter=100 tol=1e-3", r, NULL);
  n_iter = attr(est, "n_iter");
  printf("tol=1e-3 stopped after %g iterations\n", mget(n_iter, 0, 0));
  CHECK(mget(n_iter, 0, 0) < 100 && mget(n_iter, 0, 0) >= 2, "n_iter %g",
        mget(n_iter, 0, 0));
  clearn_matrix_free(n_iter);
  clearn_estimator_free(est);
  est = make_als("rank=3 max_iter=2 tol=1e-12");
  CHECK_RC(clearn_estimator_fit_ratings(est, r, NULL), CLEARN_ENOTCONVERGED);
  CHECK(clearn_estimator_is_fitted(est), "ENOTCONVERGED keeps the model");
  clearn_estimator_free(est);
  clearn_ratings_free(r);
  clearn_ratings_free(rte);
  triples_free(&t);
  triples_free(&te);
}

/* train_metrics = false: bitwise the same factors (the metrics only read
 * them), NaN train loss and RMSE in every history row while the validation
 * RMSE is still scored (the same value); tol > 0 refuses it; the history
 * with its NaNs saves and loads. */
static void test_train_metrics(void) {
  static const char *const kinds[4] = {"", "solver=cg", "implicit=true",
                                       "biases=true"};
  const char *base = getenv("TMPDIR");
  char set[160], path[512];
  triples t, te;
  clearn_ratings *r, *rte;
  clearn_estimator *est, *back = NULL;
  int q;
  int64_t j;
  gen_lowrank(120, 90, 3, 0.2, 0.1, 3.0, 0.0, 0.1, 93, &t, &te);
  r = make_ratings(&t);
  rte = make_ratings(&te);
  for (q = 0; q < 4; q++) {
    clearn_estimator *a, *b;
    clearn_matrix *ha, *hb, *ua, *ub, *va, *vb;
    snprintf(set, sizeof set, "rank=3 max_iter=3 cold_start=drop %s", kinds[q]);
    a = fit_als(set, r, rte);
    snprintf(set, sizeof set,
             "rank=3 max_iter=3 cold_start=drop train_metrics=false %s",
             kinds[q]);
    b = fit_als(set, r, rte);
    ha = attr(a, "history");
    hb = attr(b, "history");
    ua = attr(a, "user_factors");
    ub = attr(b, "user_factors");
    va = attr(a, "item_factors");
    vb = attr(b, "item_factors");
    CHECK(same_bytes(ua, ub) && same_bytes(va, vb),
          "'%s': factors differ without the train metrics", kinds[q]);
    CHECK(clearn_matrix_rows(hb) == 3, "history rows %lld",
          (long long)clearn_matrix_rows(hb));
    for (j = 0; j < 3 && clearn_matrix_rows(hb) == 3; j++) {
      CHECK(isfinite(mget(ha, j, 0)) && isfinite(mget(ha, j, 1)),
            "'%s': row %lld: train metrics with train_metrics = true", kinds[q],
            (long long)j);
      CHECK(isnan(mget(hb, j, 0)) && isnan(mget(hb, j, 1)),
            "'%s': row %lld: train loss %g, RMSE %g, expected NaN", kinds[q],
            (long long)j, mget(hb, j, 0), mget(hb, j, 1));
      CHECK(mget(hb, j, 2) == mget(ha, j, 2) && isfinite(mget(hb, j, 2)),
            "'%s': row %lld: validation RMSE %.17g vs %.17g", kinds[q],
            (long long)j, mget(hb, j, 2), mget(ha, j, 2));
      CHECK(mget(hb, j, 3) >= 0, "seconds %g", mget(hb, j, 3));
    }
    if (q == 0) {
      snprintf(path, sizeof path, "%s/clearn-als-tm-%d.h5",
               base && *base ? base : "/tmp", (int)getpid());
      CHECK_OK(clearn_estimator_save(b, path));
      CHECK_OK(clearn_estimator_load(path, "als", &back));
      if (back) {
        clearn_matrix *h2 = attr(back, "history");
        CHECK(same_bytes(hb, h2), "history with NaN train metrics after load");
        clearn_matrix_free(h2);
        clearn_estimator_free(back);
      }
      remove(path);
      /* a resume may turn them on: 2 iterations without, 1 with, equal to
       * the 3 iterations with them from the start */
      {
        clearn_estimator *c = fit_als(
            "rank=3 max_iter=2 cold_start=drop train_metrics=false", r, rte);
        clearn_matrix *hc, *uc;
        CHECK_OK(clearn_estimator_set_param_int(c, "max_iter", 3));
        CHECK_OK(clearn_estimator_set_param_string(c, "train_metrics", "true"));
        CHECK_OK(clearn_estimator_resume_ratings(c, r, rte));
        hc = attr(c, "history");
        uc = attr(c, "user_factors");
        CHECK(clearn_matrix_rows(hc) == 3 && isnan(mget(hc, 1, 0)) &&
                  mget(hc, 2, 0) == mget(ha, 2, 0) &&
                  mget(hc, 2, 1) == mget(ha, 2, 1),
              "resumed history: loss %g after 2, %.17g after 3 (want %.17g)",
              mget(hc, 1, 0), mget(hc, 2, 0), mget(ha, 2, 0));
        CHECK(same_bytes(uc, ua), "resumed factors");
        clearn_matrix_free(hc);
        clearn_matrix_free(uc);
        clearn_estimator_free(c);
      }
    }
    clearn_matrix_free(ha);
    clearn_matrix_free(hb);
    clearn_matrix_free(ua);
    clearn_matrix_free(ub);
    clearn_matrix_free(va);
    clearn_matrix_free(vb);
    clearn_estimator_free(a);
    clearn_estimator_free(b);
  }
  /* the stop test needs the losses, in either order of setting */
  est = make_als("tol=1e-3");
  CHECK_RC(clearn_estimator_set_param_string(est, "train_metrics", "false"),
           CLEARN_EPARAM);
  CHECK(strstr(clearn_estimator_errmsg(est), "'tol' > 0 needs train_metrics") !=
            NULL,
        "%s", clearn_estimator_errmsg(est));
  clearn_estimator_free(est);
  est = make_als("train_metrics=false");
  CHECK_RC(clearn_estimator_set_param_string(est, "tol", "1e-3"),
           CLEARN_EPARAM);
  clearn_estimator_free(est);
  clearn_ratings_free(r);
  clearn_ratings_free(rte);
  triples_free(&t);
  triples_free(&te);
}

static void test_errors(void) {
  clearn_estimator *est = make_als("");
  clearn_matrix *X, *y, *out = NULL;
  double xd[2] = {1, 2}, yd[1] = {1}, v;
  char buf[64];
  int64_t iv;
  triples t;
  clearn_ratings *r;

  CHECK_RC(clearn_estimator_set_param_int(est, "rank", 0), CLEARN_EPARAM);
  CHECK_STR(clearn_estimator_errmsg(est),
            "als: parameter 'rank' = 0: must be >= 1");
  CHECK_RC(clearn_estimator_set_param_double(est, "reg", -1), CLEARN_EPARAM);
  CHECK_STR(clearn_estimator_errmsg(est),
            "als: parameter 'reg' = -1: must be >= 0");
  CHECK_RC(clearn_estimator_set_param_double(est, "reg_exponent", 1.5),
           CLEARN_EPARAM);
  CHECK_STR(clearn_estimator_errmsg(est),
            "als: parameter 'reg_exponent' = 1.5: must be in [0, 1]");
  CHECK_RC(clearn_estimator_set_param_string(est, "reg_exponent", "-0.25"),
           CLEARN_EPARAM);
  CHECK_STR(clearn_estimator_errmsg(est),
            "als: parameter 'reg_exponent' = -0.25: must be in [0, 1]");
  CHECK_RC(clearn_estimator_set_param_string(est, "reg_exponent", "half"),
           CLEARN_EPARAM);
  CHECK_STR(clearn_estimator_errmsg(est),
            "als: parameter 'reg_exponent' = 'half': not a number");
  CHECK_OK(clearn_estimator_get_param_double(est, "reg_exponent", &v));
  CHECK(v == 1.0, "reg_exponent default (ALS-WR) %g, unchanged by refusals",
        v);
  CHECK_RC(clearn_estimator_set_param_int(est, "max_iter", 0), CLEARN_EPARAM);
  CHECK_RC(clearn_estimator_set_param_int(est, "cg_steps", 0), CLEARN_EPARAM);
  CHECK_RC(clearn_estimator_set_param_int(est, "num_threads", -1),
           CLEARN_EPARAM);
  CHECK_RC(clearn_estimator_set_param_double(est, "alpha", -0.5),
           CLEARN_EPARAM);
  CHECK_RC(clearn_estimator_set_param_double(est, "tol", -1), CLEARN_EPARAM);
  CHECK_RC(clearn_estimator_set_param_string(est, "solver", "lu"),
           CLEARN_EPARAM);
  CHECK_STR(clearn_estimator_errmsg(est),
            "als: parameter 'solver' = 'lu': must be one of cholesky|cg|gibbs");
  CHECK_RC(clearn_estimator_set_param_string(est, "dtype", "float16"),
           CLEARN_EPARAM);
  CHECK_RC(clearn_estimator_set_param_string(est, "cold_start", "zero"),
           CLEARN_EPARAM);
  CHECK_RC(clearn_estimator_set_param_string(est, "rnak", "3"), CLEARN_EPARAM);
  /* defaults (Spark's where it has them) */
  CHECK_OK(clearn_estimator_get_param_int(est, "rank", &iv));
  CHECK(iv == 10, "rank default %lld", (long long)iv);
  CHECK_OK(clearn_estimator_get_param_double(est, "reg", &v));
  CHECK(v == 0.1, "reg default %g", v);
  CHECK_OK(clearn_estimator_get_param_int(est, "max_iter", &iv));
  CHECK(iv == 10, "max_iter default");
  CHECK_OK(
      clearn_estimator_get_param_string(est, "dtype", buf, sizeof buf, NULL));
  CHECK_STR(buf, "float32");
  CHECK_OK(clearn_estimator_get_param_string(est, "weighted_reg", buf,
                                             sizeof buf, NULL));
  CHECK_STR(buf, "true");
  /* cross-parameter checks */
  CHECK_OK(clearn_estimator_set_param_string(est, "biases", "true"));
  CHECK_RC(clearn_estimator_set_param_string(est, "implicit", "true"),
           CLEARN_EPARAM);
  CHECK(strstr(clearn_estimator_errmsg(est), "biases") != NULL, "%s",
        clearn_estimator_errmsg(est));
  CHECK_OK(clearn_estimator_set_param_string(est, "solver", "cg"));
  CHECK_RC(clearn_estimator_set_param_string(est, "nonnegative", "true"),
           CLEARN_EPARAM);
  CHECK_OK(clearn_estimator_set_param_string(est, "solver", "cholesky"));
  CHECK_OK(clearn_estimator_set_param_string(est, "biases", "false"));

  /* supervised calls and unfitted use */
  clearn_matrix_wrap(xd, 1, 2, CLEARN_FLOAT64, &X);
  clearn_matrix_wrap(yd, 1, 1, CLEARN_FLOAT64, &y);
  CHECK_RC(clearn_estimator_fit(est, X, y, NULL), CLEARN_EUNSUPPORTED);
  CHECK_RC(clearn_estimator_predict(est, X, &out), CLEARN_EUNSUPPORTED);
  CHECK_RC(clearn_estimator_get_attr(est, "user_factors", &out),
           CLEARN_ENOTFITTED);
  CHECK_RC(clearn_estimator_recommend(est, &iv, 1, 3, NULL, &iv, NULL),
           CLEARN_ENOTFITTED);

  /* reg = 0 with ALS-WR and rows with fewer ratings than the rank: the
   * failure names a row and keeps the previous model. */
  gen_lowrank(30, 30, 2, 0.05, 0.1, 3.0, 0.0, 0, 101, &t, NULL);
  r = make_ratings(&t);
  CHECK_OK(clearn_estimator_set_param_int(est, "rank", 8));
  CHECK_OK(clearn_estimator_fit_ratings(est, r, NULL));
  CHECK_OK(clearn_estimator_set_param_double(est, "reg", 0));
  CHECK_RC(clearn_estimator_fit_ratings(est, r, NULL), CLEARN_ENUMERIC);
  CHECK(strstr(clearn_estimator_errmsg(est), "not positive definite") != NULL,
        "%s", clearn_estimator_errmsg(est));
  CHECK(clearn_estimator_is_fitted(est), "failed fit keeps the previous model");
  CHECK_OK(clearn_estimator_get_attr(est, "n_iter", &out));
  clearn_matrix_free(out);
  CHECK_RC(clearn_estimator_get_attr(est, "user_bias", &out), CLEARN_EINVAL);
  CHECK_RC(clearn_estimator_get_attr(est, "factors", &out), CLEARN_EINVAL);
  CHECK_RC(clearn_estimator_score_ratings(est, r, "mse", &v, NULL),
           CLEARN_EINVAL);
  clearn_ratings_free(r);
  triples_free(&t);
  clearn_matrix_free(X);
  clearn_matrix_free(y);
  clearn_estimator_free(est);
}

/* Checkpoints are complete models; resuming from one ends bitwise where
 * the uninterrupted fit ends (CG warm-starts from the saved rows, implicit
 * fits recompute Y^T Y, biases come back too). */
static void test_checkpoint_resume(void) {
  triples t, c;
  clearn_ratings *r, *rc;
  const char *cfgs[] = {
      "rank=6 max_iter=7 biases=true",
      "rank=6 max_iter=7 solver=cg cg_steps=2",
      "rank=6 max_iter=7 implicit=true alpha=2",
      "rank=6 max_iter=7 dtype=float64 nonnegative=true",
      "rank=6 max_iter=7 reg=0.3 reg_exponent=0.5 biases=true",
  };
  char dir[] = "/tmp/clearn_ckpt_XXXXXX", path[600], cmd[700];
  int q;
  if (mkdtemp(dir) == NULL) {
    CHECK(0, "mkdtemp: %s", strerror(errno));
    return;
  }
  snprintf(path, sizeof path, "%s/ckpt.h5", dir);
  gen_lowrank(200, 120, 4, 0.15, 0.2, 3.0, 0.3, 0, 41, &t, NULL);
  gen_counts(200, 120, 0.1, 42, &c);
  r = make_ratings(&t);
  rc = make_ratings(&c);
  for (q = 0; q < (int)(sizeof cfgs / sizeof cfgs[0]); q++) {
    const clearn_ratings *data = strstr(cfgs[q], "implicit") ? rc : r;
    clearn_estimator *full = fit_als(cfgs[q], data, NULL), *part, *back = NULL;
    clearn_matrix *a, *b, *ha, *hb;
    part = make_als(cfgs[q]);
    CHECK_OK(clearn_estimator_set_checkpoint(part, path, 3));
    CHECK_OK(clearn_estimator_set_param_int(part, "max_iter", 5));
    CHECK_OK(clearn_estimator_fit_ratings(part, data, NULL));
    /* the checkpoint holds iteration 3, not the final 5 */
    CHECK_OK(clearn_estimator_load(path, "als", &back));
    if (back == NULL) continue;
    ha = attr(back, "history");
    CHECK(clearn_matrix_rows(ha) == 3, "'%s': checkpoint has %lld iterations",
          cfgs[q], (long long)clearn_matrix_rows(ha));
    clearn_matrix_free(ha);
    CHECK_OK(clearn_estimator_set_param_int(back, "max_iter", 7));
    CHECK_OK(clearn_estimator_resume_ratings(back, data, NULL));
    a = attr(full, "user_factors");
    b = attr(back, "user_factors");
    CHECK(same_bytes(a, b), "'%s': resumed user factors differ (max %g)",
          cfgs[q], max_rel_diff(b, a));
    clearn_matrix_free(a);
    clearn_matrix_free(b);
    a = attr(full, "item_factors");
    b = attr(back, "item_factors");
    CHECK(same_bytes(a, b), "'%s': resumed item factors differ (max %g)",
          cfgs[q], max_rel_diff(b, a));
    clearn_matrix_free(a);
    clearn_matrix_free(b);
    ha = attr(full, "history");
    hb = attr(back, "history");
    CHECK(clearn_matrix_rows(hb) == 7 && mget(ha, 6, 0) == mget(hb, 6, 0) &&
              mget(ha, 2, 1) == mget(hb, 2, 1),
          "'%s': resumed history %lld rows, last loss %.17g vs %.17g",
          cfgs[q], (long long)clearn_matrix_rows(hb), mget(hb, 6, 0),
          mget(ha, 6, 0));
    clearn_matrix_free(ha);
    clearn_matrix_free(hb);
    /* Already complete: resuming again changes nothing. */
    CHECK_OK(clearn_estimator_resume_ratings(back, data, NULL));
    hb = attr(back, "history");
    CHECK(clearn_matrix_rows(hb) == 7, "resume of a complete model ran %lld",
          (long long)clearn_matrix_rows(hb));
    clearn_matrix_free(hb);
    clearn_estimator_free(full);
    clearn_estimator_free(part);
    clearn_estimator_free(back);
  }
  /* Wrong data, wrong parameters, not fitted, bad settings. */
  {
    clearn_estimator *e = fit_als("rank=6 max_iter=2", r, NULL), *f;
    CHECK_OK(clearn_estimator_set_param_int(e, "max_iter", 3));
    CHECK_RC(clearn_estimator_resume_ratings(e, rc, NULL), CLEARN_EINVAL);
    CHECK(strstr(clearn_last_error(), "not the same ids") ||
              strstr(clearn_last_error(), "ratings differ"),
          "message: %s", clearn_last_error());
    CHECK_OK(clearn_estimator_set_param_double(e, "reg", 0.5));
    CHECK_RC(clearn_estimator_resume_ratings(e, r, NULL), CLEARN_EINVAL);
    CHECK_STR(clearn_last_error(),
              "als: resume: parameter 'reg' differs from the one the model "
              "was fitted with; resuming needs the same parameters (only "
              "max_iter, tol, num_threads, cold_start and train_metrics may "
              "change)");
    CHECK_OK(clearn_estimator_set_param_double(e, "reg", 0.1));
    CHECK_OK(clearn_estimator_set_param_double(e, "reg_exponent", 0.5));
    CHECK_RC(clearn_estimator_resume_ratings(e, r, NULL), CLEARN_EINVAL);
    CHECK_STR(clearn_last_error(),
              "als: resume: parameter 'reg_exponent' differs from the one the "
              "model was fitted with; resuming needs the same parameters "
              "(only max_iter, tol, num_threads, cold_start and train_metrics "
              "may change)");
    f = make_als("rank=6");
    CHECK_RC(clearn_estimator_resume_ratings(f, r, NULL), CLEARN_ENOTFITTED);
    CHECK_RC(clearn_estimator_set_checkpoint(f, path, 0), CLEARN_EINVAL);
    CHECK_STR(clearn_last_error(),
              "als: set_checkpoint: every = 0 must be >= 1");
    /* A checkpoint that cannot be written fails the fit, keeps no model. */
    CHECK_OK(clearn_estimator_set_checkpoint(f, "/nonexistent-dir/c.h5", 1));
    CHECK_RC(clearn_estimator_fit_ratings(f, r, NULL), CLEARN_EIO);
    CHECK(strstr(clearn_last_error(), "checkpoint after iteration 1") != NULL,
          "message: %s", clearn_last_error());
    CHECK_RC(clearn_estimator_resume_ratings(f, r, NULL), CLEARN_ENOTFITTED);
    clearn_estimator_free(e);
    clearn_estimator_free(f);
  }
  clearn_ratings_free(r);
  clearn_ratings_free(rc);
  triples_free(&t);
  triples_free(&c);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "note: could not remove %s\n", dir);
}

int main(int argc, char **argv) {
  const char *script = argc > 1 ? argv[1] : "";
  const char *python = argc > 2 ? argv[2] : "";
  int skipped = 0;
  test_errors();
  test_recovery();
  test_threads_bitwise();
  test_dtype_and_cg();
  test_float32_kernels();
  test_float32_ranks();
  test_float32_retry();
  test_cg_ranks();
  test_heavy_cg();
  test_row_groups();
  test_nonnegative();
  test_save_load_recommend();
  test_recommend_float32();
  test_cold_start();
  test_fold_in();
  test_fold_in_reg_exponent();
  test_progress_tol();
  test_train_metrics();
  test_checkpoint_resume();
  test_numpy(script, python, &skipped);
  if (skipped && tu_failures == 0) {
    printf("%s: %d checks, 0 failures (NumPy comparison skipped)\n", __FILE__,
           tu_checks);
    return 77;
  }
  return TEST_SUMMARY();
}
