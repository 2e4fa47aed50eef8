/*
 * test_als_gibbs.c -- ALS with solver=gibbs (algorithms/als_gibbs.c).
 *
 * Usage: test_als_gibbs SCRIPT PYTHON
 *   SCRIPT  tests/als_gibbs_ref.py (NumPy reference of the pieces)
 *   PYTHON  interpreter with numpy (/usr/bin/python3)
 *
 * Checks:
 *   - one row's draw and its conditional mean (portable and AVX-512 sums),
 *     the Normal-Wishart conditional and the row stream's normals equal
 *     NumPy's, computed at test time;
 *   - Gamma and Wishart draws have the right moments (fixed keys, so the
 *     outcome is deterministic);
 *   - a fit: bitwise the same for 1, 2 and 3 threads and for a repeated
 *     seed, different for another seed; the model has rank
 *     (max_iter - burn_in) * rank, predicts mu + its dot products, its
 *     last history row has its own validation RMSE and the last draw's
 *     training error;
 *   - on generated low-rank data its test RMSE matches or beats the best
 *     ALS of a reg grid;
 *   - save/load round trip predicts identically;
 *   - parameter combinations it refuses, and resume, with their messages.
 * Without PYTHON or numpy the NumPy comparison is skipped with a message
 * and the test exits 77 after running everything else.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <clearn/clearn.h>

#include "../algorithms/als_gibbs.h"
#include "als_testutil.h"

/* ---- data ---------------------------------------------------------------- */

/* r = 3.5 + u.v + noise on a `density` share of the grid (every user and
 * item at least twice); test_share of them to *test. */
static void gen_lowrank(int64_t nu, int64_t ni, int rank, double density,
                        double noise, double test_share,
                        unsigned long long seed, triples *train,
                        triples *test) {
  tu_rng r = {seed};
  double *U = malloc((size_t)(nu * rank) * sizeof(double));
  double *V = malloc((size_t)(ni * rank) * sizeof(double));
  int64_t u, i, cap = nu * ni;
  int j;
  triples *ts[2] = {train, test};
  for (j = 0; j < 2; j++) {
    memset(ts[j], 0, sizeof *ts[j]);
    ts[j]->u = malloc((size_t)cap * sizeof(int64_t));
    ts[j]->i = malloc((size_t)cap * sizeof(int64_t));
    ts[j]->v = malloc((size_t)cap * sizeof(float));
    if (!ts[j]->u || !ts[j]->i || !ts[j]->v) exit(2);
  }
  if (!U || !V) exit(2);
  for (u = 0; u < nu * rank; u++) U[u] = tu_normal(&r) / sqrt((double)rank);
  for (i = 0; i < ni * rank; i++) V[i] = tu_normal(&r);
  for (u = 0; u < nu; u++)
    for (i = 0; i < ni; i++) {
      double s = 3.5;
      int forced = i == u % ni || i == (u * 7 + 3) % ni || u == i % nu ||
                   u == (i * 5 + 1) % nu;
      triples *t;
      if (!forced && tu_uniform(&r) >= density) continue;
      for (j = 0; j < rank; j++) s += U[u * rank + j] * V[i * rank + j];
      s += noise * tu_normal(&r);
      t = !forced && tu_uniform(&r) < test_share ? test : train;
      t->u[t->n] = 7 * u - 50;
      t->i[t->n] = 1000003 * i + 11;
      t->v[t->n++] = (float)s;
    }
  free(U);
  free(V);
}

/* ---- the pieces against NumPy -------------------------------------------- */

static char tmpdir[512];

static int write_raw(const char *name, const void *p, size_t bytes) {
  char path[700];
  FILE *f;
  size_t w;
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  if ((f = fopen(path, "wb")) == NULL) return 0;
  w = fwrite(p, 1, bytes, f);
  return fclose(f) == 0 && w == bytes;
}

/* n doubles of file name, or NULL (checked) when it is short. */
static double *read_raw(const char *name, size_t n) {
  char path[700];
  double *p = malloc(n * sizeof(double) + 1);
  FILE *f;
  size_t got = 0;
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  if (p && (f = fopen(path, "rb")) != NULL) {
    got = fread(p, sizeof(double), n, f);
    fclose(f);
  }
  CHECK(got == n, "%s: %zu of %zu values", name, got, n);
  if (got != n) {
    free(p);
    return NULL;
  }
  return p;
}

static void remove_tmpdir(void) {
  char cmd[600];
  if (tmpdir[0] == '\0') return;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

#define RK 5   /* rank of the row problem */
#define RLD 8  /* its padded stride */
#define RN 9   /* ratings */
#define RNR 12 /* rows of the other side */
#define NWK 4
#define NWN 37
#define NZ 7

static void test_pieces_numpy(const char *script, const char *python,
                              int *skipped) {
  tu_rng rng = {2024};
  double O[RNR * RK], par[2] = {3.25, 1.7}, Lam[RK * RK], lmu[RK], z[RK];
  double B[RK * RK], X[NWN * NWK], zc[NZ], mean[NWK], Winv[NWK * NWK], nu;
  double *Opad = NULL, *ws = NULL, x[RK], xm[RK], xp[RK];
  double *rx = NULL, *rmean = NULL, *rnm = NULL, *rnw = NULL, *rnu = NULL,
         *rz = NULL;
  int32_t idx[RN];
  float val[RN];
  int64_t meta[3] = {RK, RN, RNR}, nwmeta[2] = {NWK, NWN};
  int64_t zmeta[5] = {11, 3, 0x75736572, -50, NZ};
  int64_t i, j, q;
  int ok = 1;
  const char *base;

  *skipped = 0;
  for (i = 0; i < RNR * RK; i++) O[i] = tu_normal(&rng);
  for (q = 0; q < RN; q++) {
    idx[q] = (int32_t)((q * 5 + 2) % RNR);
    val[q] = (float)(1 + (q * 3) % 5);
  }
  /* Lam = B B^T + I (SPD), lmu arbitrary */
  for (i = 0; i < RK * RK; i++) B[i] = tu_normal(&rng);
  for (i = 0; i < RK; i++)
    for (j = 0; j < RK; j++) {
      double s = i == j ? 1.0 : 0.0;
      for (q = 0; q < RK; q++) s += B[i * RK + q] * B[j * RK + q];
      Lam[i * RK + j] = s;
    }
  for (i = 0; i < RK; i++) lmu[i] = tu_normal(&rng), z[i] = tu_normal(&rng);
  for (i = 0; i < NWN * NWK; i++)
    X[i] = 0.3 * tu_normal(&rng) + 0.1 * (double)(i % NWK);

  /* C side: portable sums (stride k) and padded, aligned rows (the
   * AVX-512 sums where the CPU has them). */
  if (posix_memalign((void **)&Opad, 64, RNR * RLD * sizeof(double)) != 0 ||
      posix_memalign((void **)&ws, 64,
                     (RLD * RLD + RLD + RK * RLD + 2 * RK) * sizeof(double)) !=
          0)
    exit(2);
  for (i = 0; i < RNR; i++)
    for (j = 0; j < RLD; j++) Opad[i * RLD + j] = j < RK ? O[i * RK + j] : 0;
  CHECK_OK(clearn__gibbs_draw_row(RK, RK, RN, idx, val, O, par[0], par[1], Lam,
                                  lmu, z, ws, x));
  CHECK_OK(clearn__gibbs_draw_row(RK, RK, RN, idx, val, O, par[0], par[1], Lam,
                                  lmu, NULL, ws, xm));
  CHECK_OK(clearn__gibbs_draw_row(RK, RLD, RN, idx, val, Opad, par[0], par[1],
                                  Lam, lmu, z, ws, xp));
  nu = clearn__gibbs_nw_posterior(NWK, NWK, NWN, X, 2, mean, Winv);
  for (j = 0; j < NZ; j++)
    zc[j] = clearn__gibbs_normal(11, 3, 0x75736572, -50, j);
  /* a non-SPD precision is refused */
  {
    double bad[RK * RK], zero[RK] = {0}, out[RK];
    memset(bad, 0, sizeof bad);
    for (i = 0; i < RK; i++) bad[i * RK + i] = -1.0;
    CHECK_RC(clearn__gibbs_draw_row(RK, RK, 0, idx, val, O, 0, 1, bad, zero,
                                    NULL, ws, out),
             CLEARN_ENUMERIC);
  }

  if (python[0] == '\0' || access(python, X_OK) != 0) {
    fprintf(stderr, "SKIPPED (numpy comparison): %s not found\n",
            python[0] ? python : "(no python given)");
    *skipped = 1;
    goto done;
  }
  base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/clearn-gibbs-XXXXXX",
           base && *base ? base : "/tmp");
  if (mkdtemp(tmpdir) == NULL) {
    CHECK(0, "mkdtemp %s: %s", tmpdir, strerror(errno));
    tmpdir[0] = '\0';
    goto done;
  }
  ok &= write_raw("row.meta", meta, sizeof meta);
  ok &= write_raw("row.O", O, sizeof O);
  ok &= write_raw("row.idx", idx, sizeof idx);
  ok &= write_raw("row.val", val, sizeof val);
  ok &= write_raw("row.par", par, sizeof par);
  ok &= write_raw("row.Lam", Lam, sizeof Lam);
  ok &= write_raw("row.lmu", lmu, sizeof lmu);
  ok &= write_raw("row.z", z, sizeof z);
  ok &= write_raw("nw.meta", nwmeta, sizeof nwmeta);
  ok &= write_raw("nw.X", X, sizeof X);
  ok &= write_raw("normal.meta", zmeta, sizeof zmeta);
  CHECK(ok, "cannot write the inputs to %s", tmpdir);
  if (!run_reference(python, script, tmpdir, skipped) && *skipped) goto done;
  rx = read_raw("row.x", RK);
  rmean = read_raw("row.mean", RK);
  rnm = read_raw("nw.mean", NWK);
  rnw = read_raw("nw.Winv", NWK * NWK);
  rnu = read_raw("nw.nu", 1);
  rz = read_raw("normal.z", NZ);
  if (!rx || !rmean || !rnm || !rnw || !rnu || !rz) goto done;
  for (i = 0; i < RK; i++) {
    CHECK_CLOSE(x[i], rx[i], 1e-10, 1e-12);
    CHECK_CLOSE(xp[i], rx[i], 1e-10, 1e-12);
    CHECK_CLOSE(xm[i], rmean[i], 1e-10, 1e-12);
  }
  CHECK(fabs(x[0] - xm[0]) > 1e-6, "the draw equals the mean");
  for (i = 0; i < NWK; i++) CHECK_CLOSE(mean[i], rnm[i], 1e-12, 1e-14);
  for (i = 0; i < NWK * NWK; i++) CHECK_CLOSE(Winv[i], rnw[i], 1e-11, 1e-13);
  CHECK_CLOSE(nu, rnu[0], 0, 0);
  for (j = 0; j < NZ; j++) CHECK_CLOSE(zc[j], rz[j], 1e-13, 1e-15);
  printf("NumPy reference (tests/als_gibbs_ref.py): row draw, mean, "
         "Normal-Wishart conditional, row normals checked\n");
done:
  remove_tmpdir();
  free(rx);
  free(rmean);
  free(rnm);
  free(rnw);
  free(rnu);
  free(rz);
  free(Opad);
  free(ws);
}

/* The specialized paths against the portable ones, which the NumPy check
 * above covers: the AVX-512 one-pass sums and constant-k solves at rank 16
 * (stride 16 against 17), the chunked AVX-512 sums at strides 8 to 64
 * (ranks 5, 13, 24, 32, 40 and 64 against stride k + 1), with more
 * ratings than one chunk holds. */
static void test_paths_agree(void) {
  const int64_t ks[7] = {5, 13, 16, 24, 32, 40, 64};
  const int64_t lds[7] = {8, 16, 16, 24, 32, 40, 64};
  const int64_t n = 300, nr = 200;
  int t;
  for (t = 0; t < 7; t++) {
    int64_t k = ks[t], ld = lds[t], ldp = k + 1, i, j;
    tu_rng rng = {99 + (unsigned long long)t};
    double *Oa = NULL, *Ob = malloc((size_t)(nr * ldp) * sizeof(double));
    double *ws = NULL, *Lam = malloc((size_t)(k * k) * sizeof(double));
    double lmu[64], z[64], xa[64], xb[64];
    int32_t idx[300];
    float val[300];
    if (posix_memalign((void **)&Oa, 64, (size_t)(nr * ld) * sizeof(double)) ||
        posix_memalign((void **)&ws, 64,
                       (size_t)(2 * (ld + 1) * (ld + 1) + 3 * (ld + 1)) *
                           sizeof(double)) ||
        Ob == NULL || Lam == NULL)
      exit(2);
    for (i = 0; i < nr; i++)
      for (j = 0; j < ldp; j++) {
        double v = j < k ? tu_normal(&rng) : 0;
        if (j < ld) Oa[i * ld + j] = v;
        Ob[i * ldp + j] = v;
      }
    for (i = 0; i < n; i++) {
      idx[i] = (int32_t)((i * 7 + 3) % nr);
      val[i] = (float)(1 + i % 5);
    }
    for (i = 0; i < k; i++) {
      for (j = 0; j < k; j++) Lam[i * k + j] = i == j ? 2.0 : 0.1;
      lmu[i] = 0.2 * (double)i;
      z[i] = tu_normal(&rng);
    }
    CHECK_OK(clearn__gibbs_draw_row(k, ld, n, idx, val, Oa, 3.0, 1.3, Lam, lmu,
                                    z, ws, xa));
    CHECK_OK(clearn__gibbs_draw_row(k, ldp, n, idx, val, Ob, 3.0, 1.3, Lam, lmu,
                                    z, ws, xb));
    for (i = 0; i < k; i++) CHECK_CLOSE(xa[i], xb[i], 1e-10, 1e-12);
    free(Oa);
    free(Ob);
    free(Lam);
    free(ws);
  }
}

/* Moments of the Gamma and Wishart draws over fixed keys. */
static void test_moments(void) {
  const double shapes[3] = {0.6, 2.5, 400.0};
  int s, q, n = 20000;
  for (s = 0; s < 3; s++) {
    double m = 0, v = 0;
    for (q = 0; q < n; q++) {
      double g =
          clearn__gibbs_gamma(1000 * (uint64_t)s + (uint64_t)q, shapes[s]);
      CHECK(g > 0, "Gamma(%g) draw %g", shapes[s], g);
      m += g;
      v += g * g;
    }
    m /= n;
    v = v / n - m * m;
    /* mean shape, variance shape: within 4 standard errors */
    CHECK(fabs(m - shapes[s]) < 4 * sqrt(shapes[s] / n), "Gamma(%g): mean %g",
          shapes[s], m);
    CHECK(fabs(v - shapes[s]) < 0.08 * shapes[s], "Gamma(%g): variance %g",
          shapes[s], v);
  }
  {
    /* Wishart(W, nu): mean nu W, W = Winv^-1 */
    const double Winv[9] = {2.0, 0.5, 0.0, 0.5, 1.0, 0.2, 0.0, 0.2, 0.5};
    double W[9], M[9] = {0}, L[9], ws[27], nu = 6.5;
    int i, j;
    /* W by Gauss-Jordan on the 3 x 3 */
    double a[3][6];
    for (i = 0; i < 3; i++)
      for (j = 0; j < 6; j++) a[i][j] = j < 3 ? Winv[i * 3 + j] : (j - 3 == i);
    for (i = 0; i < 3; i++) {
      double p = a[i][i];
      int r;
      for (j = 0; j < 6; j++) a[i][j] /= p;
      for (r = 0; r < 3; r++)
        if (r != i) {
          double f = a[r][i];
          for (j = 0; j < 6; j++) a[r][j] -= f * a[i][j];
        }
    }
    for (i = 0; i < 3; i++)
      for (j = 0; j < 3; j++) W[i * 3 + j] = a[i][j + 3];
    n = 8000;
    for (q = 0; q < n; q++) {
      CHECK_OK(clearn__gibbs_wishart((uint64_t)q * 7 + 1, 3, Winv, nu, ws, L));
      for (i = 0; i < 9; i++) M[i] += L[i] / n;
      CHECK(L[1] == L[3] && L[0] > 0, "draw %d not symmetric positive", q);
    }
    for (i = 0; i < 9; i++)
      CHECK(fabs(M[i] - nu * W[i]) <
                0.05 * nu * sqrt(W[(i / 3) * 4] * W[(i % 3) * 4]),
            "Wishart mean [%d] %g vs nu W %g", i, M[i], nu * W[i]);
  }
}

/* ---- fits ---------------------------------------------------------------- */

static clearn_ratings *g_tr, *g_te;
static triples g_trip; /* g_tr's triples */

static void test_invariance_and_model(void) {
  const char *base = "rank=4 max_iter=7 burn_in=2 solver=gibbs reg=1 "
                     "weighted_reg=false seed=5";
  char set[256];
  clearn_estimator *a, *b;
  clearn_matrix *ua, *ub, *va, *vb, *ha, *hb, *mu, *uid, *iid;
  int t;
  int64_t n_users = clearn_ratings_n_users(g_tr), q;
  snprintf(set, sizeof set, "%s num_threads=1", base);
  a = fit_als(set, g_tr, g_te);
  ua = attr(a, "user_factors");
  va = attr(a, "item_factors");
  ha = attr(a, "history");
  CHECK(clearn_matrix_cols(ua) == 5 * 4 && clearn_matrix_rows(ua) == n_users,
        "user_factors %lld x %lld, expected %lld x 20",
        (long long)clearn_matrix_rows(ua), (long long)clearn_matrix_cols(ua),
        (long long)n_users);
  CHECK(clearn_matrix_cols(va) == 20, "item_factors has %lld columns",
        (long long)clearn_matrix_cols(va));
  CHECK(clearn_matrix_rows(ha) == 7, "history has %lld rows",
        (long long)clearn_matrix_rows(ha));
  for (t = 2; t <= 3; t++) {
    snprintf(set, sizeof set, "%s num_threads=%d", base, t);
    b = fit_als(set, g_tr, g_te);
    ub = attr(b, "user_factors");
    vb = attr(b, "item_factors");
    hb = attr(b, "history");
    CHECK(same_bytes(ua, ub) && same_bytes(va, vb),
          "%d threads: factors differ from 1 thread", t);
    for (q = 0; q < 7; q++)
      CHECK(mget(ha, q, 1) == mget(hb, q, 1) &&
                mget(ha, q, 2) == mget(hb, q, 2),
            "%d threads: history row %lld differs", t, (long long)q);
    clearn_matrix_free(ub);
    clearn_matrix_free(vb);
    clearn_matrix_free(hb);
    clearn_estimator_free(b);
  }
  snprintf(set, sizeof set, "%s seed=6", base);
  b = fit_als(set, g_tr, g_te);
  ub = attr(b, "user_factors");
  CHECK(!same_bytes(ua, ub), "seeds 5 and 6 gave the same model");
  clearn_matrix_free(ub);
  clearn_estimator_free(b);

  /* the model predicts mu + U V^T, and its last history row is its own
   * train and validation RMSE (float64 factors: to rounding) */
  clearn_matrix_free(ua);
  clearn_matrix_free(va);
  clearn_matrix_free(ha);
  clearn_estimator_free(a);
  snprintf(set, sizeof set, "%s dtype=float64", base);
  a = fit_als(set, g_tr, g_te);
  ua = attr(a, "user_factors");
  va = attr(a, "item_factors");
  ha = attr(a, "history");
  mu = attr(a, "global_mean");
  uid = attr(a, "user_ids");
  iid = attr(a, "item_ids");
  {
    int64_t users[3], items[3];
    double pred[3];
    for (q = 0; q < 3; q++) {
      users[q] = (int64_t)mget(uid, 0, q * 5);
      items[q] = (int64_t)mget(iid, 0, q * 3 + 1);
    }
    CHECK_OK(clearn_estimator_predict_pairs(a, users, items, 3, pred));
    for (q = 0; q < 3; q++) {
      double s = mget(mu, 0, 0);
      int64_t j;
      for (j = 0; j < 20; j++) s += mget(ua, q * 5, j) * mget(va, q * 3 + 1, j);
      CHECK_CLOSE(pred[q], s, 1e-12, 1e-12);
    }
  }
  /* train columns: the last draw's error (the average of the draws
   * smooths their noise: its training RMSE is the lower) */
  CHECK_CLOSE(mget(ha, 6, 1), sqrt(mget(ha, 6, 0)), 1e-15, 0);
  CHECK(rmse_of(a, g_tr) < mget(ha, 6, 1),
        "averaged model's train RMSE %g not below the last draw's %g",
        rmse_of(a, g_tr), mget(ha, 6, 1));
  {
    double v = NAN;
    CHECK_OK(clearn_estimator_score_ratings(a, g_te, "rmse", &v, NULL));
    CHECK_CLOSE(mget(ha, 6, 2), v, 1e-9, 0);
  }
  CHECK(mget(ha, 6, 2) < mget(ha, 2, 2),
        "validation RMSE of the average (%g) not below the first draw's (%g)",
        mget(ha, 6, 2), mget(ha, 2, 2));
  clearn_matrix_free(ua);
  clearn_matrix_free(va);
  clearn_matrix_free(ha);
  clearn_matrix_free(mu);
  clearn_matrix_free(uid);
  clearn_matrix_free(iid);
  clearn_estimator_free(a);
  /* one sample: the model is the last draw, whose training error the
   * history has from the sums (sum t^2 - 2 x.b + x^T G x) */
  a = fit_als("rank=4 max_iter=3 burn_in=2 solver=gibbs reg=1 "
              "weighted_reg=false dtype=float64",
              g_tr, NULL);
  ha = attr(a, "history");
  CHECK_CLOSE(mget(ha, 2, 1), rmse_of(a, g_tr), 1e-9, 0);
  CHECK_CLOSE(mget(ha, 1, 1) * mget(ha, 1, 1), mget(ha, 1, 0), 1e-14, 0);
  clearn_matrix_free(ha);
  clearn_estimator_free(a);
}

static void test_against_als(void) {
  const char *regs[] = {"0.02", "0.05", "0.1", "0.2"};
  double best = INFINITY, g;
  char set[256];
  int q;
  clearn_estimator *e;
  for (q = 0; q < 4; q++) {
    snprintf(set, sizeof set, "rank=4 max_iter=15 reg=%s", regs[q]);
    e = fit_als(set, g_tr, NULL);
    if (rmse_of(e, g_te) < best) best = rmse_of(e, g_te);
    clearn_estimator_free(e);
  }
  e = fit_als("rank=4 max_iter=40 burn_in=5 solver=gibbs reg=1 "
              "weighted_reg=false",
              g_tr, NULL);
  g = rmse_of(e, g_te);
  printf("generated data, test RMSE: best ALS of 4 regs %.4f, gibbs %.4f "
         "(noise 0.3)\n",
         best, g);
  CHECK(g <= best * 1.005, "gibbs %g above the best ALS %g", g, best);
  CHECK(g < 0.36, "gibbs test RMSE %g far above the noise 0.3", g);
  clearn_estimator_free(e);
}

static void test_save_load(void) {
  clearn_estimator *a = fit_als("rank=3 max_iter=5 burn_in=2 solver=gibbs "
                                "reg=1 weighted_reg=false",
                                g_tr, NULL),
                   *b = NULL;
  char path[600];
  const char *base = getenv("TMPDIR");
  int64_t users[4], items[4], recs[2 * 5], recs2[2 * 5], q;
  double p1[4], p2[4], s1[2 * 5], s2[2 * 5];
  clearn_matrix *uid = attr(a, "user_ids"), *iid = attr(a, "item_ids");
  clearn_matrix *ua, *ub;
  snprintf(path, sizeof path, "%s/clearn-gibbs-%ld.h5",
           base && *base ? base : "/tmp", (long)getpid());
  for (q = 0; q < 4; q++) {
    users[q] = (int64_t)mget(uid, 0, q * 7);
    items[q] = (int64_t)mget(iid, 0, q * 2);
  }
  CHECK_OK(clearn_estimator_save(a, path));
  CHECK_OK(clearn_estimator_load(path, "als", &b));
  remove(path);
  if (b == NULL) goto done;
  ua = attr(a, "user_factors");
  ub = attr(b, "user_factors");
  CHECK(same_bytes(ua, ub), "loaded user factors differ");
  clearn_matrix_free(ua);
  clearn_matrix_free(ub);
  CHECK_OK(clearn_estimator_predict_pairs(a, users, items, 4, p1));
  CHECK_OK(clearn_estimator_predict_pairs(b, users, items, 4, p2));
  for (q = 0; q < 4; q++)
    CHECK(p1[q] == p2[q], "prediction %lld differs", (long long)q);
  CHECK_OK(clearn_estimator_recommend(a, users, 2, 5, NULL, recs, s1));
  CHECK_OK(clearn_estimator_recommend(b, users, 2, 5, NULL, recs2, s2));
  CHECK(memcmp(recs, recs2, sizeof recs) == 0 && memcmp(s1, s2, sizeof s1) == 0,
        "recommendations differ after load");
done:
  clearn_matrix_free(uid);
  clearn_matrix_free(iid);
  clearn_estimator_free(a);
  clearn_estimator_free(b);
}

/* fold_in on a sampled model: a ridge row against the concatenated draws;
 * a known user's ratings under a new id are then predicted far better
 * than by the global mean. */
static void test_fold_in(void) {
  clearn_estimator *a = fit_als("rank=4 max_iter=8 burn_in=2 solver=gibbs "
                                "reg=1 weighted_reg=false",
                                g_tr, NULL);
  int64_t it[400], users[400], q, n = 0, src = g_trip.u[0], nid = 987654321;
  float v[400];
  double pred[400], se = 0, se0 = 0, mean = 0;
  for (q = 0; q < g_trip.n; q++) mean += g_trip.v[q] / (double)g_trip.n;
  for (q = 0; q < g_trip.n && n < 400; q++)
    if (g_trip.u[q] == src) {
      it[n] = g_trip.i[q];
      v[n] = g_trip.v[q];
      users[n++] = nid;
    }
  CHECK_OK(clearn_estimator_fold_in(a, nid, it, v, n, NULL));
  CHECK_OK(clearn_estimator_predict_pairs(a, users, it, n, pred));
  for (q = 0; q < n; q++) {
    se += (pred[q] - v[q]) * (pred[q] - v[q]);
    se0 += (mean - v[q]) * (mean - v[q]);
  }
  CHECK(n >= 5 && se < 0.5 * se0,
        "fold_in of %lld ratings: squared error %g, the mean's %g",
        (long long)n, se, se0);
  clearn_estimator_free(a);
}

/* settings refused when set or at fit, with the message's key part */
static void test_errors(void) {
  const struct {
    const char *set, *msg;
  } bad[] = {
      {"solver=gibbs implicit=true", "parameter 'implicit' is not available "
                                     "with solver = gibbs"},
      {"solver=gibbs biases=true", "parameter 'biases' is not available"},
      {"solver=gibbs nonnegative=true", "parameter 'nonnegative' is not"},
      {"solver=gibbs tol=0.01", "parameter 'tol' is not available"},
      {"solver=gibbs max_iter=5 burn_in=5", "parameter 'burn_in' = 5 must be "
                                            "below max_iter = 5"},
      {"solver=gibbs burn_in=-1", "burn_in"},
  };
  int q;
  for (q = 0; q < (int)(sizeof bad / sizeof bad[0]); q++) {
    clearn_estimator *e = make_als(bad[q].set);
    int rc = e ? clearn_estimator_fit_ratings(e, g_tr, NULL) : CLEARN_EPARAM;
    CHECK(rc == CLEARN_EPARAM, "'%s': status %d", bad[q].set, rc);
    CHECK(strstr(clearn_last_error(), bad[q].msg) != NULL,
          "'%s': message '%s' lacks '%s'", bad[q].set, clearn_last_error(),
          bad[q].msg);
    clearn_estimator_free(e);
  }
  {
    clearn_estimator *e = fit_als("rank=3 max_iter=3 burn_in=1 solver=gibbs "
                                  "reg=1",
                                  g_tr, NULL);
    CHECK_RC(clearn_estimator_resume_ratings(e, g_tr, NULL), CLEARN_EINVAL);
    CHECK(strstr(clearn_last_error(), "solver = gibbs cannot resume") != NULL,
          "resume message: %s", clearn_last_error());
    clearn_estimator_free(e);
  }
}

int main(int argc, char **argv) {
  const char *script = argc > 1 ? argv[1] : "";
  const char *python = argc > 2 ? argv[2] : "";
  int skipped = 0;
  triples tr, te;
  gen_lowrank(150, 90, 3, 0.25, 0.3, 0.15, 77, &tr, &te);
  g_tr = make_ratings(&tr);
  g_trip = tr;
  g_te = make_ratings(&te);
  test_pieces_numpy(script, python, &skipped);
  test_paths_agree();
  test_moments();
  test_invariance_and_model();
  test_against_als();
  test_save_load();
  test_fold_in();
  test_errors();
  clearn_ratings_free(g_tr);
  clearn_ratings_free(g_te);
  triples_free(&tr);
  triples_free(&te);
  if (skipped && tu_failures == 0) {
    printf("%s: %d checks passed; NumPy comparison skipped\n", __FILE__,
           tu_checks);
    return 77;
  }
  return TEST_SUMMARY();
}
