/*
 * test_mpi_fit.c -- the distributed layer (libclearn_mpi): fit and score on
 * rows spread over the ranks of a communicator.  Run by ctest under
 * mpiexec with 1, 2 and 4 ranks (tests/mpi.cmake).
 *
 * Every rank generates the same full data set from a fixed seed and takes
 * its own contiguous block of rows, of uneven sizes (with 3 or more ranks
 * rank 1 holds no rows at all), so every rank can also fit the serial
 * reference on the full data and compare.  Checked:
 *   - Ridge with and without intercept, with and without weights, one and
 *     several targets, ordinary data and data with large feature means
 *     (which take the explicitly centered path): the distributed model
 *     equals the serial one to 1e-10 relative and is bitwise the same on
 *     every rank; the distributed score equals the serial score;
 *   - weights given on some ranks and NULL (unit weights) on others;
 *   - a sub-communicator (MPI_Comm_split into halves), each half fitting
 *     its own data;
 *   - bad input on one rank (NaN in X on the last rank, wrong column count
 *     on rank 0, other parameters or another kind on one rank, a NULL
 *     estimator on one rank, no rows anywhere): every rank returns the same
 *     status, the message on the other ranks names the failing rank, the
 *     previously fitted model is untouched and the caller's communicator
 *     still works afterwards;
 *   - linear_regression refuses a distributed fit on every rank;
 *   - MPI_COMM_NULL is CLEARN_EINVAL.
 * A hang would be a failure too: ctest stops the run after its TIMEOUT.
 *
 * Each rank prints its own failures tagged with its rank; the exit code is
 * non-zero on every rank if any rank failed (failure counts are summed).
 * CLEARN_TEST_VERBOSE=1 (mpiexec -x CLEARN_TEST_VERBOSE) also prints each
 * case and every expected error message.
 */
#include <mpi.h>
#include <stdint.h>

#include "clearn/clearn_mpi.h"
#include "testutil.h"

static int g_rank, g_size; /* in MPI_COMM_WORLD */

/* CHECK with the world rank in front of the message. */
#define RCHECK(cond, fmt, ...)                                                 \
  CHECK(cond, "[rank %d/%d] " fmt, g_rank, g_size, __VA_ARGS__)

/* ---- data ------------------------------------------------------------- */

typedef struct {
  int64_t n, p, t;
  double *X, *y, *w; /* n x p, n x t, n */
} dataset;

/* X[i, j] = shift * (j + 1) + N(0, (j + 1) / 2); y = X B^T + c + noise;
 * weights uniform in [0.2, 2). */
static void make_data(dataset *d, int64_t n, int64_t p, int64_t t,
                      double shift, unsigned long long seed) {
  tu_rng r = {seed};
  double *B = malloc((size_t)(p * t) * sizeof(double));
  int64_t i, j, k;
  d->n = n;
  d->p = p;
  d->t = t;
  d->X = malloc((size_t)(n * p) * sizeof(double));
  d->y = malloc((size_t)(n * t) * sizeof(double));
  d->w = malloc((size_t)n * sizeof(double));
  for (k = 0; k < p * t; k++) B[k] = tu_normal(&r);
  for (i = 0; i < n; i++) {
    for (j = 0; j < p; j++)
      d->X[i * p + j] = shift * (double)(j + 1) +
                        0.5 * (double)(j + 1) * tu_normal(&r);
    for (k = 0; k < t; k++) {
      double v = 0.3 * (double)(k + 1) + 0.1 * tu_normal(&r);
      for (j = 0; j < p; j++) v += B[k * p + j] * d->X[i * p + j];
      d->y[i * t + k] = v;
    }
    d->w[i] = 0.2 + 1.8 * tu_uniform(&r);
  }
  free(B);
}

static void free_data(dataset *d) {
  free(d->X);
  free(d->y);
  free(d->w);
}

/* Contiguous block of rank r of size ranks: shares proportional to r + 1
 * (uneven), and none for rank 1 when there are 3 or more ranks. */
static void row_block(int64_t n, int r, int size, int64_t *off,
                      int64_t *cnt) {
  int64_t total = 0, before = 0;
  int q;
  for (q = 0; q < size; q++) {
    int64_t share = (size >= 3 && q == 1) ? 0 : q + 1;
    if (q < r) before += share;
    total += share;
  }
  *off = n * before / total;
  *cnt = n * (before + ((size >= 3 && r == 1) ? 0 : r + 1)) / total - *off;
}

/* Borrowed views of this rank's block (weights only if want_w). */
typedef struct {
  clearn_matrix *X, *y, *w;
  int64_t off, cnt;
} local_views;

static void local_open(local_views *v, const dataset *d, MPI_Comm comm,
                       int want_w) {
  int r, s;
  MPI_Comm_rank(comm, &r);
  MPI_Comm_size(comm, &s);
  row_block(d->n, r, s, &v->off, &v->cnt);
  clearn_matrix_wrap(d->X + v->off * d->p, v->cnt, d->p, CLEARN_FLOAT64, &v->X);
  clearn_matrix_wrap(d->y + v->off * d->t, v->cnt, d->t, CLEARN_FLOAT64, &v->y);
  v->w = NULL;
  if (want_w)
    clearn_matrix_wrap(d->w + v->off, v->cnt, 1, CLEARN_FLOAT64, &v->w);
}

static void local_close(local_views *v) {
  clearn_matrix_free(v->X);
  clearn_matrix_free(v->y);
  clearn_matrix_free(v->w);
}

/* ---- helpers ------------------------------------------------------------ */

static clearn_estimator *make_est(const char *kind, double alpha,
                                  int fit_intercept) {
  clearn_estimator *e = NULL;
  int rc = clearn_estimator_create(kind, &e);
  RCHECK(rc == CLEARN_OK, "create %s: %s", kind, clearn_last_error());
  if (rc != CLEARN_OK) return NULL;
  if (alpha >= 0)
    RCHECK(clearn_estimator_set_param_double(e, "alpha", alpha) == CLEARN_OK,
           "set alpha: %s", clearn_last_error());
  RCHECK(clearn_estimator_set_param_int(e, "fit_intercept", fit_intercept) ==
             CLEARN_OK,
         "set fit_intercept: %s", clearn_last_error());
  return e;
}

/* coef (t x p) then intercept (t) of a fitted estimator, malloc'd. */
static double *model_params(const clearn_estimator *e, int64_t *len) {
  clearn_matrix *c = NULL, *b = NULL;
  double *out = NULL;
  *len = 0;
  if (clearn_estimator_get_attr(e, "coef", &c) == CLEARN_OK &&
      clearn_estimator_get_attr(e, "intercept", &b) == CLEARN_OK) {
    int64_t nc = clearn_matrix_rows(c) * clearn_matrix_cols(c);
    int64_t nb = clearn_matrix_cols(b);
    out = malloc((size_t)(nc + nb + 1) * sizeof(double));
    memcpy(out, clearn_matrix_data(c), (size_t)nc * sizeof(double));
    memcpy(out + nc, clearn_matrix_data(b), (size_t)nb * sizeof(double));
    *len = nc + nb;
  }
  RCHECK(out != NULL, "get_attr: %s", clearn_estimator_errmsg(e));
  clearn_matrix_free(c);
  clearn_matrix_free(b);
  return out;
}

/* Max |a - b| <= rtol * max(max |b|, 1) over the vector: coefficients near
 * zero are judged against the vector's scale, not their own. */
static void check_vec_close(const char *what, const double *a, const double *b,
                            int64_t n, double rtol) {
  double scale = 1.0, worst = 0.0;
  int64_t i, at = 0;
  for (i = 0; i < n; i++)
    if (fabs(b[i]) > scale) scale = fabs(b[i]);
  for (i = 0; i < n; i++)
    if (!(fabs(a[i] - b[i]) <= worst)) { /* also catches NaN */
      worst = isnan(a[i] - b[i]) ? INFINITY : fabs(a[i] - b[i]);
      at = i;
    }
  RCHECK(worst <= rtol * scale,
         "%s: element %lld is %.17g, expected %.17g (max diff %.3g, "
         "allowed %.3g)",
         what, (long long)at, n ? a[at] : 0.0, n ? b[at] : 0.0, worst,
         rtol * scale);
}

/* Bitwise the same on every rank of comm: MIN and MAX of the bit patterns
 * as unsigned 64-bit integers coincide exactly when all ranks agree. */
static void check_same_on_all_ranks(const char *what, const double *v,
                                    int64_t n, MPI_Comm comm) {
  uint64_t *bits = malloc((size_t)(2 * n + 1) * sizeof(uint64_t));
  uint64_t *lo = malloc((size_t)(n + 1) * sizeof(uint64_t));
  uint64_t *hi = malloc((size_t)(n + 1) * sizeof(uint64_t));
  int64_t i, bad = -1;
  memcpy(bits, v, (size_t)n * sizeof(double));
  MPI_Allreduce(bits, lo, (int)n, MPI_UINT64_T, MPI_MIN, comm);
  MPI_Allreduce(bits, hi, (int)n, MPI_UINT64_T, MPI_MAX, comm);
  for (i = 0; i < n && bad < 0; i++)
    if (lo[i] != hi[i]) bad = i;
  RCHECK(bad < 0, "%s: element %lld differs between ranks (%.17g here)",
         what, (long long)bad, bad >= 0 ? v[bad] : 0.0);
  free(bits);
  free(lo);
  free(hi);
}

/* The caller's communicator still works after clearn's errors. */
static void check_comm_usable(const char *what, MPI_Comm comm) {
  int s = 0, one = 1, size = 0;
  int rc1 = MPI_Barrier(comm);
  int rc2 = MPI_Allreduce(&one, &s, 1, MPI_INT, MPI_SUM, comm);
  MPI_Comm_size(comm, &size);
  RCHECK(rc1 == MPI_SUCCESS && rc2 == MPI_SUCCESS && s == size,
         "%s: communicator unusable afterwards (barrier %d, allreduce %d, "
         "sum %d of %d)",
         what, rc1, rc2, s, size);
}

/* Every rank of comm got the same status `want`; on ranks other than
 * `culprit` the message names "rank <culprit>" (culprit < 0: no check).
 * Also: the per-thread message is the handle's message (one error slot). */
static void check_failed_everywhere(const char *what, int rc, int want,
                                    const clearn_estimator *e, int culprit,
                                    MPI_Comm comm) {
  int r, lo = 0, hi = 0;
  char tag[32];
  const char *msg = e ? clearn_estimator_errmsg(e) : clearn_last_error();
  MPI_Comm_rank(comm, &r);
  if (getenv("CLEARN_TEST_VERBOSE"))
    fprintf(stderr, "[rank %d] %s: %s\n", g_rank, what, msg);
  RCHECK(rc == want, "%s: status %d (%s), expected %d (%s); message: %s",
         what, rc, clearn_status_str(rc), want, clearn_status_str(want), msg);
  MPI_Allreduce(&rc, &lo, 1, MPI_INT, MPI_MIN, comm);
  MPI_Allreduce(&rc, &hi, 1, MPI_INT, MPI_MAX, comm);
  RCHECK(lo == hi, "%s: ranks returned different statuses (%d to %d)", what,
         lo, hi);
  snprintf(tag, sizeof tag, "rank %d", culprit);
  if (culprit >= 0 && r != culprit)
    RCHECK(strstr(msg, tag) != NULL, "%s: message does not name %s: \"%s\"",
           what, tag, msg);
  RCHECK(strlen(msg) > 0, "%s: empty error message", what);
  if (e != NULL)
    RCHECK(strcmp(clearn_last_error(), msg) == 0,
           "%s: clearn_last_error() \"%s\" differs from the handle's \"%s\"",
           what, clearn_last_error(), msg);
}

/* Model unchanged bitwise against a snapshot taken before a failed fit. */
static void check_model_kept(const char *what, const clearn_estimator *e,
                             const double *before, int64_t len) {
  int64_t n = 0;
  double *now;
  RCHECK(clearn_estimator_is_fitted(e), "%s: model lost", what);
  now = model_params(e, &n);
  RCHECK(now != NULL && n == len &&
             memcmp(now, before, (size_t)len * sizeof(double)) == 0,
         "%s: the previous model was modified", what);
  free(now);
}

/* ---- distributed Ridge equals serial Ridge ------------------------------ */

/* Fit serially on the full data and distributed on the blocks of comm
 * (weights: 0 none, 1 on every rank, 2 only on even ranks of comm, unit
 * weights elsewhere); compare models, predictions and scores. */
static void ridge_case(const char *label, MPI_Comm comm, const dataset *d,
                       int fit_intercept, int weights, double alpha) {
  clearn_estimator *ser = make_est("ridge", alpha, fit_intercept);
  clearn_estimator *dis = make_est("ridge", alpha, fit_intercept);
  clearn_matrix *X = NULL, *y = NULL, *w = NULL, *ps = NULL, *pd = NULL;
  double *wref = NULL, *ms = NULL, *md = NULL, s_ser = 0, s_dis = 0;
  int64_t ls = 0, ld = 0, i;
  int r, rc;
  local_views v;
  MPI_Comm_rank(comm, &r);
  if (getenv("CLEARN_TEST_VERBOSE"))
    fprintf(stderr, "[rank %d] %s\n", g_rank, label);
  local_open(&v, d, comm, weights == 1 || (weights == 2 && r % 2 == 0));
  if (weights) {
    /* The serial reference: ranks without weights contribute weight 1. */
    int s, q;
    MPI_Comm_size(comm, &s);
    wref = malloc((size_t)d->n * sizeof(double));
    memcpy(wref, d->w, (size_t)d->n * sizeof(double));
    for (q = 0; q < s && weights == 2; q++) {
      int64_t off, cnt;
      row_block(d->n, q, s, &off, &cnt);
      for (i = 0; q % 2 == 1 && i < cnt; i++) wref[off + i] = 1.0;
    }
    clearn_matrix_wrap(wref, d->n, 1, CLEARN_FLOAT64, &w);
  }
  clearn_matrix_wrap(d->X, d->n, d->p, CLEARN_FLOAT64, &X);
  clearn_matrix_wrap(d->y, d->n, d->t, CLEARN_FLOAT64, &y);

  rc = clearn_estimator_fit(ser, X, y, w);
  RCHECK(rc == CLEARN_OK, "%s: serial fit: %s", label,
         clearn_estimator_errmsg(ser));
  rc = clearn_mpi_estimator_fit(dis, comm, v.X, v.y, v.w);
  RCHECK(rc == CLEARN_OK, "%s: distributed fit: %s (%s)", label,
         clearn_status_str(rc), clearn_estimator_errmsg(dis));
  if (rc == CLEARN_OK) {
    char what[160];
    ms = model_params(ser, &ls);
    md = model_params(dis, &ld);
    RCHECK(ms && md && ls == ld && ld == d->t * (d->p + 1),
           "%s: %lld vs %lld model values", label, (long long)ld,
           (long long)ls);
    if (ms && md && ls == ld) {
      snprintf(what, sizeof what, "%s: coef", label);
      check_vec_close(what, md, ms, d->t * d->p, 1e-10);
      snprintf(what, sizeof what, "%s: intercept", label);
      check_vec_close(what, md + d->t * d->p, ms + d->t * d->p, d->t, 1e-10);
      snprintf(what, sizeof what, "%s: model across ranks", label);
      check_same_on_all_ranks(what, md, ld, comm);
    }
    if (!fit_intercept && md)
      for (i = 0; i < d->t; i++)
        RCHECK(md[d->t * d->p + i] == 0.0, "%s: intercept %g without "
               "fit_intercept", label, md[d->t * d->p + i]);

    /* Predictions of this rank's rows. */
    rc = clearn_estimator_predict(dis, v.X, &pd);
    RCHECK(rc == CLEARN_OK, "%s: predict: %s", label,
           clearn_estimator_errmsg(dis));
    if (rc == CLEARN_OK &&
        clearn_estimator_predict(ser, v.X, &ps) == CLEARN_OK) {
      snprintf(what, sizeof what, "%s: predictions", label);
      check_vec_close(what, clearn_matrix_data(pd), clearn_matrix_data(ps),
                      v.cnt * d->t, 1e-10);
    }

    /* Score over the distributed rows against the serial score. */
    rc = clearn_estimator_score(ser, X, y, w, &s_ser);
    RCHECK(rc == CLEARN_OK, "%s: serial score: %s", label,
           clearn_estimator_errmsg(ser));
    rc = clearn_mpi_estimator_score(dis, comm, v.X, v.y, v.w, &s_dis);
    RCHECK(rc == CLEARN_OK, "%s: distributed score: %s", label,
           clearn_estimator_errmsg(dis));
    RCHECK(fabs(s_dis - s_ser) <= 1e-10, "%s: score %.17g, serial %.17g",
           label, s_dis, s_ser);
    RCHECK(s_ser > 0.5 && s_ser <= 1.0, "%s: implausible R^2 %.17g", label,
           s_ser);
    snprintf(what, sizeof what, "%s: score across ranks", label);
    check_same_on_all_ranks(what, &s_dis, 1, comm);
  }
  free(ms);
  free(md);
  free(wref);
  clearn_matrix_free(ps);
  clearn_matrix_free(pd);
  clearn_matrix_free(X);
  clearn_matrix_free(y);
  clearn_matrix_free(w);
  local_close(&v);
  clearn_estimator_free(ser);
  clearn_estimator_free(dis);
}

static void test_ridge_matches_serial(void) {
  /* shift 0.5: centered in the Gram matrix; 1e4: the explicit path. */
  const double shifts[2] = {0.5, 1e4};
  const int64_t targets[2] = {1, 3};
  int si, ti, fi, wi;
  for (si = 0; si < 2; si++)
    for (ti = 0; ti < 2; ti++) {
      dataset d;
      make_data(&d, 203, 7, targets[ti], shifts[si], 1234 + 17 * si + ti);
      /* Without an intercept, large means make X^T X so ill-conditioned
       * (~1e9) that any summation order moves the solution at 1e-7: the
       * explicit path exists only for the centered fit, so test that. */
      for (fi = si == 1; fi < 2; fi++)
        for (wi = 0; wi < 3; wi++) {
          char label[128];
          snprintf(label, sizeof label,
                   "ridge shift=%g t=%lld fit_intercept=%d weights=%s",
                   shifts[si], (long long)targets[ti], fi,
                   wi == 0 ? "none" : wi == 1 ? "all" : "even ranks");
          ridge_case(label, MPI_COMM_WORLD, &d, fi, wi, 0.7);
        }
      free_data(&d);
    }
  check_comm_usable("after the ridge fits", MPI_COMM_WORLD);
}

/* ---- sub-communicator ---------------------------------------------------- */

static void test_subcomm(void) {
  MPI_Comm half = MPI_COMM_NULL;
  int color = g_size >= 2 && g_rank >= g_size / 2, hr, hs;
  dataset d;
  double *m = NULL, other = 0, mine;
  int64_t len = 0;
  clearn_estimator *e = make_est("ridge", 0.3, 1);
  local_views v;
  int rc;
  if (g_size < 2) {
    clearn_estimator_free(e);
    return;
  }
  MPI_Comm_split(MPI_COMM_WORLD, color, g_rank, &half);
  MPI_Comm_rank(half, &hr);
  MPI_Comm_size(half, &hs);
  /* Each half has its own data and compares with its own serial fit. */
  make_data(&d, 150 + 11 * color, 5, 2, 2.0, 99 + (unsigned)color);
  ridge_case(color ? "sub-communicator, upper half" :
                     "sub-communicator, lower half",
             half, &d, 1, 1, 0.3);

  /* The halves really fitted different data. */
  local_open(&v, &d, half, 0);
  rc = clearn_mpi_estimator_fit(e, half, v.X, v.y, NULL);
  RCHECK(rc == CLEARN_OK, "sub-communicator fit: %s",
         clearn_estimator_errmsg(e));
  if (rc == CLEARN_OK && (m = model_params(e, &len)) != NULL) {
    /* Rank 0 of the upper half sends its first coefficient to world 0. */
    if (g_rank == 0)
      MPI_Recv(&other, 1, MPI_DOUBLE, g_size / 2, 7, MPI_COMM_WORLD,
               MPI_STATUS_IGNORE);
    else if (g_rank == g_size / 2)
      MPI_Send(m, 1, MPI_DOUBLE, 0, 7, MPI_COMM_WORLD);
    mine = m[0];
    if (g_rank == 0)
      RCHECK(other != mine, "both halves fitted coef[0] = %.17g", mine);
  }
  /* An error on one half's last rank stays in that half. */
  if (hr == hs - 1 && v.cnt > 0) d.X[v.off * d.p] = NAN;
  rc = clearn_mpi_estimator_fit(e, half, v.X, v.y, NULL);
  check_failed_everywhere("sub-communicator NaN", rc, CLEARN_ENUMERIC, e,
                          hs - 1, half);
  check_comm_usable("sub-communicator after an error", half);
  check_comm_usable("world after a sub-communicator error", MPI_COMM_WORLD);
  free(m);
  local_close(&v);
  free_data(&d);
  clearn_estimator_free(e);
  MPI_Comm_free(&half);
}

/* ---- bad input on one rank ----------------------------------------------- */

/* A fitted distributed Ridge on good data and a snapshot of its model. */
static clearn_estimator *fitted_ridge(const dataset *d, double **snap,
                                      int64_t *len) {
  clearn_estimator *e = make_est("ridge", 1.0, 1);
  local_views v;
  int rc;
  local_open(&v, d, MPI_COMM_WORLD, 0);
  rc = clearn_mpi_estimator_fit(e, MPI_COMM_WORLD, v.X, v.y, NULL);
  RCHECK(rc == CLEARN_OK, "setup fit: %s", clearn_estimator_errmsg(e));
  *snap = model_params(e, len);
  local_close(&v);
  return e;
}

static void test_nan_on_last_rank(void) {
  dataset d;
  double *snap = NULL;
  int64_t len = 0;
  clearn_estimator *e;
  local_views v;
  int rc, last = g_size - 1;
  make_data(&d, 120, 4, 2, 1.0, 7);
  e = fitted_ridge(&d, &snap, &len);
  local_open(&v, &d, MPI_COMM_WORLD, 1);
  if (g_rank == last) d.X[(v.off + v.cnt - 1) * d.p + 2] = NAN;
  rc = clearn_mpi_estimator_fit(e, MPI_COMM_WORLD, v.X, v.y, v.w);
  check_failed_everywhere("NaN in X on the last rank", rc, CLEARN_ENUMERIC, e,
                          last, MPI_COMM_WORLD);
  if (g_rank == last)
    RCHECK(strstr(clearn_estimator_errmsg(e), "not finite") != NULL,
           "NaN message: %s", clearn_estimator_errmsg(e));
  check_model_kept("NaN in X", e, snap, len);
  check_comm_usable("after NaN in X", MPI_COMM_WORLD);

  /* The same for score, which must not hang either. */
  {
    double s = -1;
    rc = clearn_mpi_estimator_score(e, MPI_COMM_WORLD, v.X, v.y, NULL, &s);
    check_failed_everywhere("score with NaN in X on the last rank", rc,
                            CLEARN_ENUMERIC, e, last, MPI_COMM_WORLD);
    RCHECK(s == -1, "score wrote %g on failure", s);
    check_comm_usable("after score with NaN", MPI_COMM_WORLD);
  }
  local_close(&v);
  free(snap);
  free_data(&d);
  clearn_estimator_free(e);
}

static void test_wrong_columns_on_rank0(void) {
  dataset d, wide;
  double *snap = NULL, s = -1;
  int64_t len = 0;
  clearn_estimator *e;
  local_views v, vw;
  int rc;
  if (g_size < 2) return; /* one rank: nothing to disagree with */
  make_data(&d, 120, 4, 2, 1.0, 8);
  make_data(&wide, 120, 5, 2, 1.0, 8);
  e = fitted_ridge(&d, &snap, &len);
  local_open(&v, &d, MPI_COMM_WORLD, 0);
  local_open(&vw, &wide, MPI_COMM_WORLD, 0);
  rc = clearn_mpi_estimator_fit(e, MPI_COMM_WORLD, g_rank == 0 ? vw.X : v.X,
                                v.y, NULL);
  check_failed_everywhere("5 columns on rank 0, 4 elsewhere", rc,
                          CLEARN_ESHAPE, e, 0, MPI_COMM_WORLD);
  check_model_kept("wrong columns", e, snap, len);
  check_comm_usable("after wrong columns", MPI_COMM_WORLD);

  /* Wrong target count on the last rank. */
  {
    dataset d3;
    local_views v3;
    make_data(&d3, 120, 4, 3, 1.0, 8);
    local_open(&v3, &d3, MPI_COMM_WORLD, 0);
    rc = clearn_mpi_estimator_fit(e, MPI_COMM_WORLD, v.X,
                                  g_rank == g_size - 1 ? v3.y : v.y, NULL);
    check_failed_everywhere("3 targets on the last rank", rc, CLEARN_ESHAPE,
                            e, g_size - 1, MPI_COMM_WORLD);
    check_model_kept("wrong targets", e, snap, len);
    local_close(&v3);
    free_data(&d3);
  }

  /* Score: the fitted model has 4 features; rank 0 passes 5. */
  rc = clearn_mpi_estimator_score(e, MPI_COMM_WORLD, g_rank == 0 ? vw.X : v.X,
                                  v.y, NULL, &s);
  check_failed_everywhere("score with 5 columns on rank 0", rc, CLEARN_ESHAPE,
                          e, 0, MPI_COMM_WORLD);
  check_comm_usable("after score with wrong columns", MPI_COMM_WORLD);
  local_close(&v);
  local_close(&vw);
  free(snap);
  free_data(&d);
  free_data(&wide);
  clearn_estimator_free(e);
}

static void test_parameter_mismatch(void) {
  dataset d;
  double *snap = NULL;
  int64_t len = 0;
  clearn_estimator *e, *lr = NULL;
  local_views v;
  int rc, last = g_size - 1;
  if (g_size < 2) return;
  make_data(&d, 120, 4, 2, 1.0, 9);
  e = fitted_ridge(&d, &snap, &len);
  local_open(&v, &d, MPI_COMM_WORLD, 0);

  if (g_rank == last) clearn_estimator_set_param_double(e, "alpha", 2.0);
  rc = clearn_mpi_estimator_fit(e, MPI_COMM_WORLD, v.X, v.y, NULL);
  check_failed_everywhere("alpha differs on the last rank", rc, CLEARN_EINVAL,
                          e, last, MPI_COMM_WORLD);
  RCHECK(strstr(clearn_estimator_errmsg(e), "alpha") != NULL,
         "message does not name the parameter: %s",
         clearn_estimator_errmsg(e));
  check_model_kept("alpha differs", e, snap, len);
  if (g_rank == last) clearn_estimator_set_param_double(e, "alpha", 1.0);

  if (g_rank == 1) clearn_estimator_set_param_int(e, "fit_intercept", 0);
  rc = clearn_mpi_estimator_fit(e, MPI_COMM_WORLD, v.X, v.y, NULL);
  check_failed_everywhere("fit_intercept differs on rank 1", rc,
                          CLEARN_EINVAL, e, 1, MPI_COMM_WORLD);
  check_model_kept("fit_intercept differs", e, snap, len);
  if (g_rank == 1) clearn_estimator_set_param_int(e, "fit_intercept", 1);
  check_comm_usable("after parameter mismatches", MPI_COMM_WORLD);

  /* Another kind on the last rank (parameter blocks of different sizes). */
  {
    clearn_estimator *use = e;
    if (g_rank == last) use = lr = make_est("linear_regression", -1, 1);
    rc = clearn_mpi_estimator_fit(use, MPI_COMM_WORLD, v.X, v.y, NULL);
    check_failed_everywhere("linear_regression on the last rank", rc,
                            CLEARN_EINVAL, use, last, MPI_COMM_WORLD);
    if (g_rank != last) check_model_kept("other kind", e, snap, len);
    check_comm_usable("after a kind mismatch", MPI_COMM_WORLD);
  }

  /* The same parameters again: the fit goes through. */
  rc = clearn_mpi_estimator_fit(e, MPI_COMM_WORLD, v.X, v.y, NULL);
  RCHECK(rc == CLEARN_OK, "fit after restoring parameters: %s",
         clearn_estimator_errmsg(e));
  local_close(&v);
  free(snap);
  free_data(&d);
  clearn_estimator_free(e);
  clearn_estimator_free(lr);
}

static void test_null_estimator_on_one_rank(void) {
  dataset d;
  double *snap = NULL, s = 0;
  int64_t len = 0;
  clearn_estimator *e;
  local_views v;
  int rc, last = g_size - 1;
  make_data(&d, 60, 3, 1, 1.0, 10);
  e = fitted_ridge(&d, &snap, &len);
  local_open(&v, &d, MPI_COMM_WORLD, 0);
  rc = clearn_mpi_estimator_fit(g_rank == last ? NULL : e, MPI_COMM_WORLD,
                                v.X, v.y, NULL);
  check_failed_everywhere("NULL estimator on the last rank", rc,
                          CLEARN_EINVAL, g_rank == last ? NULL : e, last,
                          MPI_COMM_WORLD);
  if (g_rank != last) check_model_kept("NULL estimator", e, snap, len);
  rc = clearn_mpi_estimator_score(e, MPI_COMM_WORLD, v.X, v.y, NULL,
                                  g_rank == last ? NULL : &s);
  check_failed_everywhere("NULL out on the last rank", rc, CLEARN_EINVAL, e,
                          last, MPI_COMM_WORLD);
  check_comm_usable("after NULL arguments", MPI_COMM_WORLD);
  local_close(&v);
  free(snap);
  free_data(&d);
  clearn_estimator_free(e);
}

/* No rows on any rank; weights that sum to zero over all ranks. */
static void test_degenerate_totals(void) {
  dataset d;
  double *snap = NULL, *zeros;
  int64_t len = 0;
  clearn_estimator *e;
  clearn_matrix *X0 = NULL, *y0 = NULL, *wz = NULL;
  local_views v;
  int rc;
  make_data(&d, 60, 3, 1, 1.0, 11);
  e = fitted_ridge(&d, &snap, &len);
  clearn_matrix_wrap(d.X, 0, d.p, CLEARN_FLOAT64, &X0);
  clearn_matrix_wrap(d.y, 0, d.t, CLEARN_FLOAT64, &y0);
  rc = clearn_mpi_estimator_fit(e, MPI_COMM_WORLD, X0, y0, NULL);
  check_failed_everywhere("0 rows on every rank", rc, CLEARN_ESHAPE, e, -1,
                          MPI_COMM_WORLD);
  check_model_kept("0 rows", e, snap, len);

  local_open(&v, &d, MPI_COMM_WORLD, 0);
  zeros = calloc((size_t)(v.cnt + 1), sizeof(double));
  clearn_matrix_wrap(zeros, v.cnt, 1, CLEARN_FLOAT64, &wz);
  rc = clearn_mpi_estimator_fit(e, MPI_COMM_WORLD, v.X, v.y, wz);
  check_failed_everywhere("weights summing to 0", rc, CLEARN_EINVAL, e, -1,
                          MPI_COMM_WORLD);
  check_model_kept("zero weights", e, snap, len);
  check_comm_usable("after degenerate totals", MPI_COMM_WORLD);
  clearn_matrix_free(X0);
  clearn_matrix_free(y0);
  clearn_matrix_free(wz);
  free(zeros);
  local_close(&v);
  free(snap);
  free_data(&d);
  clearn_estimator_free(e);
}

/* ---- what the distributed layer refuses ---------------------------------- */

static void test_linear_regression_unsupported(void) {
  dataset d;
  clearn_estimator *lr = make_est("linear_regression", -1, 1);
  clearn_matrix *X = NULL, *y = NULL;
  double *snap = NULL;
  int64_t len = 0;
  local_views v;
  int rc;
  make_data(&d, 80, 3, 2, 1.0, 12);
  /* A serial fit first: the refused distributed fit must keep it. */
  clearn_matrix_wrap(d.X, d.n, d.p, CLEARN_FLOAT64, &X);
  clearn_matrix_wrap(d.y, d.n, d.t, CLEARN_FLOAT64, &y);
  rc = clearn_estimator_fit(lr, X, y, NULL);
  RCHECK(rc == CLEARN_OK, "serial linear_regression: %s",
         clearn_estimator_errmsg(lr));
  snap = model_params(lr, &len);
  local_open(&v, &d, MPI_COMM_WORLD, 1);
  rc = clearn_mpi_estimator_fit(lr, MPI_COMM_WORLD, v.X, v.y, v.w);
  check_failed_everywhere("distributed linear_regression", rc,
                          CLEARN_EUNSUPPORTED, lr, -1, MPI_COMM_WORLD);
  RCHECK(strstr(clearn_estimator_errmsg(lr), "ridge") != NULL,
         "the refusal should point to ridge: %s",
         clearn_estimator_errmsg(lr));
  if (snap) check_model_kept("linear_regression", lr, snap, len);

  /* Scoring a serially fitted linear_regression over ranks is fine. */
  {
    double s_ser = 0, s_dis = 0;
    clearn_estimator_score(lr, X, y, NULL, &s_ser);
    rc = clearn_mpi_estimator_score(lr, MPI_COMM_WORLD, v.X, v.y, NULL,
                                    &s_dis);
    RCHECK(rc == CLEARN_OK && fabs(s_dis - s_ser) <= 1e-12,
           "linear_regression distributed score %.17g vs %.17g (%s)", s_dis,
           s_ser, clearn_estimator_errmsg(lr));
  }
  check_comm_usable("after linear_regression", MPI_COMM_WORLD);
  clearn_matrix_free(X);
  clearn_matrix_free(y);
  local_close(&v);
  free(snap);
  free_data(&d);
  clearn_estimator_free(lr);
}

static void test_comm_null_and_unfitted(void) {
  dataset d;
  clearn_estimator *e = make_est("ridge", 1.0, 1);
  local_views v;
  double s = -1;
  int rc;
  make_data(&d, 40, 3, 1, 1.0, 13);
  local_open(&v, &d, MPI_COMM_WORLD, 0);
  rc = clearn_mpi_estimator_fit(e, MPI_COMM_NULL, v.X, v.y, NULL);
  RCHECK(rc == CLEARN_EINVAL, "fit on MPI_COMM_NULL: %d (%s)", rc,
         clearn_estimator_errmsg(e));
  RCHECK(strstr(clearn_estimator_errmsg(e), "MPI_COMM_NULL") != NULL,
         "message: %s", clearn_estimator_errmsg(e));
  RCHECK(!clearn_estimator_is_fitted(e), "fitted after a refused fit%s", "");
  rc = clearn_mpi_estimator_score(e, MPI_COMM_NULL, v.X, v.y, NULL, &s);
  RCHECK(rc == CLEARN_EINVAL, "score on MPI_COMM_NULL: %d (%s)", rc,
         clearn_estimator_errmsg(e));

  rc = clearn_mpi_estimator_score(e, MPI_COMM_WORLD, v.X, v.y, NULL, &s);
  check_failed_everywhere("score before fit", rc, CLEARN_ENOTFITTED, e, -1,
                          MPI_COMM_WORLD);
  RCHECK(s == -1, "score wrote %g before fit", s);
  check_comm_usable("after MPI_COMM_NULL", MPI_COMM_WORLD);
  local_close(&v);
  free_data(&d);
  clearn_estimator_free(e);
}

int main(int argc, char **argv) {
  int total = 0, checks = 0;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  /* Several ranks share few cores: one BLAS thread each. */
  clearn_set_num_threads(1);

  test_ridge_matches_serial();
  test_subcomm();
  test_nan_on_last_rank();
  test_wrong_columns_on_rank0();
  test_parameter_mismatch();
  test_null_estimator_on_one_rank();
  test_degenerate_totals();
  test_linear_regression_unsupported();
  test_comm_null_and_unfitted();

  MPI_Allreduce(&tu_failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Allreduce(&tu_checks, &checks, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (g_rank == 0)
    printf("%s on %d rank%s: %d checks, %d failures\n", __FILE__, g_size,
           g_size == 1 ? "" : "s", checks, total);
  MPI_Finalize();
  return total ? 1 : 0;
}
