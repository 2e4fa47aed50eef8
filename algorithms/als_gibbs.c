/*
 * als_gibbs.c -- Bayesian matrix factorization by Gibbs sampling: the
 * "als" estimator's solver="gibbs" (BPMF, Salakhutdinov and Mnih, ICML
 * 2008, as libFM's MCMC mode runs it).
 *
 * Model: r_ui - mu ~ N(x_u . y_i, 1 / alpha), mu the training mean; user
 * rows x_u ~ N(mu_U, Lambda_U^-1) with (mu_U, Lambda_U) under a
 * Normal-Wishart prior (mean 0, beta0 2, scale I, nu0 = rank), items
 * likewise; alpha ~ Gamma(1, 1).  Instead of ALS's one point estimate the
 * fit draws from the posterior and AVERAGES the predictions of the draws,
 * which on MovieLens is worth more than any tuning of the point estimate
 * (bench/RESULTS.md: ml-1m test RMSE 0.840 within 18 sweeps at rank 16,
 * where ALS plateaus at 0.841).
 *
 * Why this shape.  A row's conditional given the other side, the
 * hyper-parameters and alpha is Gaussian with precision
 *   P = Lambda + alpha sum_i y_i y_i^T
 * -- ALS's Gram matrix -- and mean P^-1 (alpha sum_i (r_ui - mu) y_i +
 * Lambda mu_U).  With P = R^T R (the Cholesky factor ALS's exact solve
 * computes anyway) a draw is mean + R^-1 z, z standard normal: an ALS row
 * update plus one triangular solve, in the same parallel loop over rows.
 *
 * One sweep: draw (mu_U, Lambda_U) given all user rows, every user row,
 * (mu_V, Lambda_V), every item row, then alpha given the squared training
 * error.  The first burn_in sweeps are exact ALS sweeps of the centered
 * ratings instead (reg, weighted_reg, reg_exponent as for the other
 * solvers): a warm start, which cuts the sampler's burn-in from tens of
 * sweeps to none.  Every later sweep is one sample.
 *
 * The average of S draws' predictions, (1/S) sum_s x_u^s . y_i^s, is the
 * dot product of the concatenations [x_u^1 .. x_u^S] / sqrt(S) and
 * [y_i^1 .. y_i^S] / sqrt(S): the fitted model is an ordinary factor model
 * of rank S * rank (mu as its global mean, zero biases), so predict,
 * recommend, save and load need nothing new.
 *
 * Determinism.  A row's normal draws come from a counter-based hash of
 * (seed, sweep, side, original id, column) (splitmix64's finalizer, then
 * Box-Muller), so they depend on nothing else.  The hyper-parameters are
 * drawn by every participant alike from the whole side (which the
 * exchange gives each of them after every half-sweep), summed over fixed
 * blocks of rows in block order, from a sequential stream seeded by
 * (seed, sweep, side); the squared errors behind alpha and the metrics are
 * summed per item row and then over rows in row order.  So 1 and k
 * threads, 1 and N ranks give bitwise the same model.
 */
#include "als_gibbs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "rng.h"

#define SIDE_USERS 0x75736572ULL
#define SIDE_ITEMS 0x6974656dULL
/* stream tags: per-row normals, hyper-parameters, noise precision */
#define TAG_ROW 0x67696262726f77ULL
#define TAG_HYPER 0x6769626268797065ULL
#define TAG_ALPHA 0x67696262616c7068ULL
#define BETA0 2.0
#define HYPER_BLOCK 1024

/* ---- random draws -------------------------------------------------------- */

static uint64_t stream_key(uint64_t seed, uint64_t tag, int64_t sweep,
                           uint64_t side) {
  return clearn__mix64(
      clearn__mix64(clearn__mix64(seed ^ tag) + (uint64_t)sweep) ^ side);
}

static double box_muller(uint64_t a, uint64_t b) {
  double u1 = ((double)(a >> 11) + 0.5) * 0x1p-53; /* (0, 1) */
  double u2 = (double)(b >> 11) * 0x1p-53;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Normals 2m and 2m + 1 of a row: both Box-Muller outputs (cosine,
 * sine) of the uniforms hashed from key + 2m and key + 2m + 1. */
static void normal_pair(uint64_t key, uint64_t m, double *z) {
  uint64_t a = clearn__mix64(key + 2 * m), b = clearn__mix64(key + 2 * m + 1);
  double u1 = ((double)(a >> 11) + 0.5) * 0x1p-53; /* (0, 1) */
  double t = 6.283185307179586 * ((double)(b >> 11) * 0x1p-53);
  double r = sqrt(-2.0 * log(u1));
  z[0] = r * cos(t);
  z[1] = r * sin(t);
}

static void row_normals(uint64_t base, int64_t id, int64_t k, double *z) {
  uint64_t key = clearn__mix64(base ^ (uint64_t)id);
  int64_t j;
  double p[2];
  for (j = 0; j + 1 < k; j += 2) normal_pair(key, (uint64_t)j / 2, z + j);
  if (j < k) {
    normal_pair(key, (uint64_t)j / 2, p);
    z[j] = p[0];
  }
}

double clearn__gibbs_normal(uint64_t seed, int64_t sweep, uint64_t side,
                            int64_t id, int64_t j) {
  double p[2];
  normal_pair(
      clearn__mix64(stream_key(seed, TAG_ROW, sweep, side) ^ (uint64_t)id),
      (uint64_t)j / 2, p);
  return p[j & 1];
}

static double rng_normal(clearn__rng *r) {
  uint64_t a = clearn__rng_next(r);
  return box_muller(a, clearn__rng_next(r));
}

/* Gamma(shape, 1), Marsaglia and Tsang (2000); shape < 1 by the boost
 * Gamma(shape + 1) U^(1 / shape). */
static double rng_gamma(clearn__rng *r, double shape) {
  double d, c, boost = 1.0;
  if (shape < 1.0) {
    double u = ((double)(clearn__rng_next(r) >> 11) + 0.5) * 0x1p-53;
    boost = pow(u, 1.0 / shape);
    shape += 1.0;
  }
  d = shape - 1.0 / 3.0;
  c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double x = rng_normal(r), v = 1.0 + c * x, u;
    if (v <= 0) continue;
    v = v * v * v;
    u = ((double)(clearn__rng_next(r) >> 11) + 0.5) * 0x1p-53;
    if (log(u) < 0.5 * x * x + d - d * v + d * log(v)) return boost * d * v;
  }
}

double clearn__gibbs_gamma(uint64_t key, double shape) {
  clearn__rng r;
  clearn__rng_seed(&r, key);
  return rng_gamma(&r, shape);
}

/* ---- small dense algebra (k x k, row-major, float64) ----------------------
 */

/* A = L L^T, L lower in place (the upper triangle is left as it was read
 * from, so A must be full on entry).  -1 if not positive definite. */
static int chol_lower(int64_t k, double *A) {
  int64_t i, j, q;
  for (j = 0; j < k; j++) {
    double d = A[j * k + j];
    for (q = 0; q < j; q++) d -= A[j * k + q] * A[j * k + q];
    if (!(d > 0)) return -1;
    d = sqrt(d);
    A[j * k + j] = d;
    for (i = j + 1; i < k; i++) {
      double s = A[i * k + j];
      for (q = 0; q < j; q++) s -= A[i * k + q] * A[j * k + q];
      A[i * k + j] = s / d;
    }
  }
  return 0;
}

/* w = L^-T w (L lower): back substitution on L^T. */
static void solve_lt(int64_t k, const double *L, double *w) {
  int64_t i, q;
  for (i = k - 1; i >= 0; i--) {
    double s = w[i];
    for (q = i + 1; q < k; q++) s -= L[q * k + i] * w[q];
    w[i] = s / L[i * k + i];
  }
}

/* ---- one row ------------------------------------------------------------- */

#define SUMS_C_CHUNK 64 /* ratings per chunk of the portable sums */

/* G (ld x ld, upper triangle and whatever else its tiles cover) = sum_q
 * y_q y_q^T and b = sum_q (v_q - mu) y_q over the rated rows y_q =
 * O[idx[q]] (stride ld), read in place.  A row's sums depend only on its
 * ratings, in their order.  (ALS's generic path gathers the rows and calls
 * SYRK: at the ranks of tens this sampler runs at, the copies and the BLAS
 * call overheads cost several times the flops, and float64 rows rule out
 * ALS's float32 fast path.) */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
static void
row_sums_c(int64_t k, int64_t ld, int64_t n, const int32_t *idx,
           const float *val, const double *O, double mu, double *restrict G,
           double *restrict b) {
  /* The rated rows in chunks that stay in L1, each swept once per tile of
   * 4 rows of G by 8 columns held in a local block the compiler keeps in
   * vector registers (fixed trip counts: the 8 columns vectorize, 4 or 2
   * doubles wide), over the whole 8-column blocks of the upper triangle;
   * the columns past them go one by one.  A CPU with AVX2 runs a clone
   * compiled for it. */
  int64_t k8 = k & ~(int64_t)7, r0, a0, j0, q, a, j;
  memset(G, 0, (size_t)(ld * ld) * sizeof(double));
  memset(b, 0, (size_t)ld * sizeof(double));
  for (r0 = 0; r0 < n; r0 += SUMS_C_CHUNK) {
    int64_t m = n - r0 < SUMS_C_CHUNK ? n - r0 : SUMS_C_CHUNK;
    const int32_t *ix = idx + r0;
    for (q = 0; q < m; q++) {
      const double *restrict y = O + (int64_t)ix[q] * ld;
      double t = (double)val[r0 + q] - mu;
      for (a = 0; a < k; a++) b[a] += t * y[a];
    }
    for (a0 = 0; a0 + 4 <= k8; a0 += 4)
      for (j0 = a0 & ~(int64_t)7; j0 < k8; j0 += 8) {
        double acc[4][8];
        for (a = 0; a < 4; a++)
          for (j = 0; j < 8; j++) acc[a][j] = G[(a0 + a) * ld + j0 + j];
        for (q = 0; q < m; q++) {
          const double *restrict y = O + (int64_t)ix[q] * ld;
          for (a = 0; a < 4; a++)
            for (j = 0; j < 8; j++) acc[a][j] += y[a0 + a] * y[j0 + j];
        }
        for (a = 0; a < 4; a++)
          for (j = 0; j < 8; j++) G[(a0 + a) * ld + j0 + j] = acc[a][j];
      }
    for (j = k8; j < k; j++) /* the last columns, rows 0 .. j */
      for (q = 0; q < m; q++) {
        const double *restrict y = O + (int64_t)ix[q] * ld;
        double c = y[j];
        for (a = 0; a <= j; a++) G[a * ld + j] += y[a] * c;
      }
  }
}

#if defined(__GNUC__) && defined(__x86_64__)
#define GIBBS_AVX512 1
#include <immintrin.h>
/* The same sums with AVX-512 for ld a multiple of 8 and O 64-byte
 * aligned, as ALS's float32 Gram kernel does them: the rated rows go in
 * chunks small enough to stay in L1, and each chunk is swept once per
 * register tile of G's upper triangle -- RB rows by NC 8-double column
 * blocks, RB * NC accumulators, so a rating costs NC loads and RB
 * broadcasts for RB * NC FMAs.  With B the tile also sums b (one more
 * accumulator row).  `first`: store, else add to what G and b hold.
 * pf: rows to prefetch into L1 while sweeping (the chunk after this one),
 * one per rating. */
__attribute__((always_inline, target("avx512f"))) static inline void
sums_tile(int64_t ld, int64_t n, const int32_t *idx, const float *val,
          const double *O, double mu, int64_t a0, int64_t j0, double *G,
          double *b, int first, const int32_t *pf, int64_t n_pf, const int RB,
          const int NC, const int B) {
  __m512d acc[5][4], v[4];
  int a, c;
  int64_t q;
#pragma GCC unroll 5
  for (a = 0; a < RB + B; a++)
#pragma GCC unroll 4
    for (c = 0; c < NC; c++) {
      const double *src =
          a < RB ? G + (a0 + a) * ld + j0 + 8 * c : b + j0 + 8 * c;
      acc[a][c] = first ? _mm512_setzero_pd() : _mm512_load_pd(src);
    }
  for (q = 0; q < n; q++) {
    const double *y = O + (int64_t)idx[q] * ld;
    if (q < n_pf) {
      const char *p = (const char *)(O + (int64_t)pf[q] * ld);
      int64_t l;
      for (l = 0; l < ld; l += 8) _mm_prefetch(p + 8 * l, _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (c = 0; c < NC; c++) v[c] = _mm512_load_pd(y + j0 + 8 * c);
#pragma GCC unroll 5
    for (a = 0; a < RB + B; a++) {
      __m512d s = _mm512_set1_pd(a < RB ? y[a0 + a] : (double)val[q] - mu);
#pragma GCC unroll 4
      for (c = 0; c < NC; c++) acc[a][c] = _mm512_fmadd_pd(s, v[c], acc[a][c]);
    }
  }
#pragma GCC unroll 5
  for (a = 0; a < RB + B; a++)
#pragma GCC unroll 4
    for (c = 0; c < NC; c++)
      _mm512_store_pd(a < RB ? G + (a0 + a) * ld + j0 + 8 * c : b + j0 + 8 * c,
                      acc[a][c]);
}

#define SUMS_RB 4        /* G rows per tile: two tiles per 8-row band */
#define SUMS_CHUNK 16384 /* bytes of rated rows per chunk */

/* Every tile of one chunk: the 8-row bands of G's upper triangle, each
 * split into two tiles of SUMS_RB rows, swept over column blocks four at
 * a time; band 0's second tile carries b.  The first sweep prefetches
 * the next chunk. */
__attribute__((target("avx512f"))) static void
sums_chunk(int64_t ld, int64_t n, const int32_t *idx, const float *val,
           const double *O, double mu, double *G, double *b, int first,
           const int32_t *pf, int64_t n_pf) {
  int64_t nb = ld / 8, band, cb;
  int half;
  for (band = 0; band < nb; band++)
    for (half = 0; half < 2; half++) {
      int64_t a0 = 8 * band + SUMS_RB * half;
      int with_b = band == 0 && half == 1;
      for (cb = band; cb < nb; cb += 4) {
        int ncb = nb - cb < 4 ? (int)(nb - cb) : 4;
        int64_t np = band == 0 && half == 0 && cb == 0 ? n_pf : 0;
        switch (with_b * 8 + ncb) {
#define SUMS_T(BB, C)                                                          \
  case BB * 8 + C:                                                             \
    sums_tile(ld, n, idx, val, O, mu, a0, 8 * cb, G, b, first, pf, np,         \
              SUMS_RB, C, BB);                                                 \
    break;
          SUMS_T(0, 1)
          SUMS_T(0, 2)
          SUMS_T(0, 3) SUMS_T(0, 4) SUMS_T(1, 1) SUMS_T(1, 2) SUMS_T(1, 3)
              SUMS_T(1, 4)
#undef SUMS_T
                  default : break;
        }
      }
    }
}

/* ld = 16 (ranks 9 to 16) in one pass: the three tiles of the upper
 * triangle (24 accumulators) and b (2) fit in the 32 registers, so each
 * rated row is read once. */
__attribute__((target("avx512f"))) static void
row_sums_16(int64_t n, const int32_t *idx, const float *val, const double *O,
            double mu, double *G, double *b) {
  __m512d c[8], d[8], e[8], b0 = _mm512_setzero_pd(), b1 = b0;
  int64_t q;
  int a;
  for (a = 0; a < 8; a++) c[a] = d[a] = e[a] = b0;
  for (q = 0; q < n; q++) {
    const double *y = O + (int64_t)idx[q] * 16;
    __m512d y0 = _mm512_load_pd(y), y1 = _mm512_load_pd(y + 8);
    __m512d t = _mm512_set1_pd((double)val[q] - mu);
    if (q + 6 < n) {
      const char *pf = (const char *)(O + (int64_t)idx[q + 6] * 16);
      _mm_prefetch(pf, _MM_HINT_T0);
      _mm_prefetch(pf + 64, _MM_HINT_T0);
    }
#pragma GCC unroll 8
    for (a = 0; a < 8; a++) {
      __m512d s = _mm512_set1_pd(y[a]);
      c[a] = _mm512_fmadd_pd(s, y0, c[a]);
      d[a] = _mm512_fmadd_pd(s, y1, d[a]);
    }
#pragma GCC unroll 8
    for (a = 0; a < 8; a++)
      e[a] = _mm512_fmadd_pd(_mm512_set1_pd(y[8 + a]), y1, e[a]);
    b0 = _mm512_fmadd_pd(t, y0, b0);
    b1 = _mm512_fmadd_pd(t, y1, b1);
  }
  for (a = 0; a < 8; a++) {
    _mm512_store_pd(G + a * 16, c[a]);
    _mm512_store_pd(G + a * 16 + 8, d[a]);
    _mm512_store_pd(G + (8 + a) * 16 + 8, e[a]);
  }
  _mm512_store_pd(b, b0);
  _mm512_store_pd(b + 8, b1);
}

__attribute__((target("avx512f"))) static void
row_sums_avx512(int64_t ld, int64_t n, const int32_t *idx, const float *val,
                const double *O, double mu, double *G, double *b) {
  int64_t chunk = SUMS_CHUNK / (8 * ld) > 8 ? SUMS_CHUNK / (8 * ld) : 8, r0;
  if (ld == 16) {
    row_sums_16(n, idx, val, O, mu, G, b);
    return;
  }
  if (n == 0) {
    memset(G, 0, (size_t)(ld * ld) * sizeof(double));
    memset(b, 0, (size_t)ld * sizeof(double));
  }
  for (r0 = 0; r0 < n; r0 += chunk) {
    int64_t m = n - r0 < chunk ? n - r0 : chunk, nx = n - r0 - m;
    sums_chunk(ld, m, idx + r0, val + r0, O, mu, G, b, r0 == 0, idx + r0 + m,
               nx < m ? nx : m);
  }
}

/* Rank 16 from the sums: P = alpha G + Lam and its Cholesky factor R
 * (upper, P = R^T R) with each 16-double row as two vectors; the
 * right-looking update subtracts whole rows, so the lower triangle holds
 * finite garbage that nothing reads.  Then x = R^-1 (R^-T b + z) as
 * draw_body.  A 64-byte aligned (16 x 16); G aligned (stride 16). */
__attribute__((target("avx512f"))) static int
draw16_avx512(const double *G, const double *b, double alpha, const double *Lam,
              const double *lam_mu, const double *z, double *A, double *w,
              double *x) {
  const __m512d al = _mm512_set1_pd(alpha);
  int i, j, q;
  for (i = 0; i < 16; i++) {
    /* the tiles left G's lower 8 x 8 block unwritten: zeros there */
    __mmask8 mlo = (__mmask8)(i < 8 ? 0xffu << i : 0u);
    __mmask8 mhi = (__mmask8)(i < 8 ? 0xffu : 0xffu << (i - 8));
    __m512d lo = _mm512_fmadd_pd(al, _mm512_load_pd(G + i * 16),
                                 _mm512_loadu_pd(Lam + i * 16));
    __m512d hi = _mm512_fmadd_pd(al, _mm512_load_pd(G + i * 16 + 8),
                                 _mm512_loadu_pd(Lam + i * 16 + 8));
    _mm512_store_pd(A + i * 16, _mm512_maskz_mov_pd(mlo, lo));
    _mm512_store_pd(A + i * 16 + 8, _mm512_maskz_mov_pd(mhi, hi));
    w[i] = alpha * b[i] + lam_mu[i];
  }
  for (j = 0; j < 16; j++) {
    double d = A[j * 16 + j];
    __m512d vlo, vhi, inv;
    if (!(d > 0)) return CLEARN_ENUMERIC;
    d = sqrt(d);
    inv = _mm512_set1_pd(1.0 / d);
    vlo = _mm512_mul_pd(_mm512_load_pd(A + j * 16), inv);
    vhi = _mm512_mul_pd(_mm512_load_pd(A + j * 16 + 8), inv);
    _mm512_store_pd(A + j * 16, vlo);
    _mm512_store_pd(A + j * 16 + 8, vhi);
    A[j * 16 + j] = d;
    for (i = j + 1; i < 16; i++) {
      __m512d r = _mm512_set1_pd(A[j * 16 + i]);
      _mm512_store_pd(A + i * 16,
                      _mm512_fnmadd_pd(r, vlo, _mm512_load_pd(A + i * 16)));
      _mm512_store_pd(A + i * 16 + 8,
                      _mm512_fnmadd_pd(r, vhi, _mm512_load_pd(A + i * 16 + 8)));
    }
  }
  for (i = 0; i < 16; i++) {
    w[i] /= A[i * 16 + i];
    for (q = i + 1; q < 16; q++) w[q] -= A[i * 16 + q] * w[i];
  }
  if (z)
    for (i = 0; i < 16; i++) w[i] += z[i];
  for (i = 15; i >= 0; i--) {
    double s = w[i];
    for (q = i + 1; q < 16; q++) s -= A[i * 16 + q] * w[q];
    w[i] = s / A[i * 16 + i];
  }
  memcpy(x, w, 16 * sizeof(double));
  return CLEARN_OK;
}

/* Ranks 17 to 64 (ld a multiple of 8, NV = ld / 8 blocks of 8 columns)
 * from the sums, as draw16_avx512 but factoring P = alpha G + Lam = R^T R
 * row by row (up-looking): R's row i is (P[i][i..] - sum_{q < i} R[q][i]
 * R[q][i..]) / R[i][i], summed in registers, even and odd q in two
 * partial sums.  Only the blocks holding columns >= i are formed; their
 * columns < i hold finite garbage that nothing reads.  R: k rows of stride
 * ld, 64-byte aligned. */
__attribute__((always_inline, target("avx512f"))) static inline int
drawN_body(int64_t k, int64_t ld, const double *G, const double *b,
           double alpha, const double *Lam, const double *lam_mu,
           const double *z, double *R, double *w, double *x, const int NV) {
  const __m512d al = _mm512_set1_pd(alpha);
  int64_t i, q, j;
  int v, nvk = (int)((k + 7) / 8);
  for (i = 0; i < k; i++) {
    int v0 = (int)(i / 8);
    __m512d s0[8], s1[8], inv;
    double d;
#pragma GCC unroll 8
    for (v = 0; v < NV; v++) {
      int64_t left = k - 8 * v;
      __mmask8 mk = left >= 8 ? 0xFF : (__mmask8)((1u << left) - 1);
      s0[v] = s1[v] = _mm512_setzero_pd();
      if (v < v0 || v >= nvk) continue;
      s0[v] = _mm512_fmadd_pd(al, _mm512_load_pd(G + i * ld + 8 * v),
                              _mm512_maskz_loadu_pd(mk, Lam + i * k + 8 * v));
    }
    for (q = 0; q + 1 < i; q += 2) {
      __m512d r0 = _mm512_set1_pd(R[q * ld + i]);
      __m512d r1 = _mm512_set1_pd(R[(q + 1) * ld + i]);
#pragma GCC unroll 8
      for (v = 0; v < NV; v++) {
        if (v < v0 || v >= nvk) continue;
        s0[v] = _mm512_fnmadd_pd(r0, _mm512_load_pd(R + q * ld + 8 * v), s0[v]);
        s1[v] = _mm512_fnmadd_pd(r1, _mm512_load_pd(R + (q + 1) * ld + 8 * v),
                                 s1[v]);
      }
    }
    if (q < i) {
      __m512d r0 = _mm512_set1_pd(R[q * ld + i]);
#pragma GCC unroll 8
      for (v = 0; v < NV; v++) {
        if (v < v0 || v >= nvk) continue;
        s0[v] = _mm512_fnmadd_pd(r0, _mm512_load_pd(R + q * ld + 8 * v), s0[v]);
      }
    }
#pragma GCC unroll 8
    for (v = 0; v < NV; v++) {
      if (v < v0 || v >= nvk) continue;
      s0[v] = _mm512_add_pd(s0[v], s1[v]);
      _mm512_store_pd(R + i * ld + 8 * v, s0[v]);
    }
    d = R[i * ld + i];
    if (!(d > 0)) return CLEARN_ENUMERIC;
    d = sqrt(d);
    inv = _mm512_set1_pd(1.0 / d);
#pragma GCC unroll 8
    for (v = 0; v < NV; v++) {
      if (v < v0 || v >= nvk) continue;
      _mm512_store_pd(R + i * ld + 8 * v, _mm512_mul_pd(s0[v], inv));
    }
    R[i * ld + i] = d;
  }
  /* w = R^-T (alpha b + lam_mu), + z, then x = R^-1 w */
  for (i = 0; i < k; i++) w[i] = alpha * b[i] + lam_mu[i];
  for (i = 0; i < k; i++) {
    w[i] /= R[i * ld + i];
    for (j = i + 1; j < k; j++) w[j] -= R[i * ld + j] * w[i];
  }
  if (z)
    for (i = 0; i < k; i++) w[i] += z[i];
  for (i = k - 1; i >= 0; i--) {
    double t = w[i];
    for (j = i + 1; j < k; j++) t -= R[i * ld + j] * w[j];
    w[i] = t / R[i * ld + i];
  }
  memcpy(x, w, (size_t)k * sizeof(double));
  return CLEARN_OK;
}

__attribute__((target("avx512f"))) static int
drawN_avx512(int64_t k, int64_t ld, const double *G, const double *b,
             double alpha, const double *Lam, const double *lam_mu,
             const double *z, double *R, double *w, double *x) {
  switch (ld / 8) {
#define DRAW_NV(N)                                                             \
  case N:                                                                      \
    return drawN_body(k, ld, G, b, alpha, Lam, lam_mu, z, R, w, x, N);
    DRAW_NV(3)
    DRAW_NV(4) DRAW_NV(5) DRAW_NV(6) DRAW_NV(7) DRAW_NV(8)
#undef DRAW_NV
        default : return CLEARN_EINVAL;
  }
}

static int have_avx512(void) { return clearn__avx512_ok(); }
#else
#define GIBBS_AVX512 0
#endif

/* The row's system from its sums G, b; then the draw (see below).  Inlined
 * with constant k for the usual ranks, where fixed trip counts let the
 * compiler unroll and vectorize the short triangular loops (2x at 16). */
static inline __attribute__((always_inline)) int
draw_body(int64_t k, int64_t ld, const double *G, const double *b, double alpha,
          const double *Lam, const double *lam_mu, const double *z,
          double *restrict A, double *restrict w, double *x) {
  int64_t i, j, q;
  for (i = 0; i < k; i++) {
    for (j = i; j < k; j++)
      A[i * k + j] = alpha * G[i * ld + j] + Lam[i * k + j];
    w[i] = alpha * b[i] + lam_mu[i];
  }
  /* P = R^T R (LAPACK, R upper in A): w = P^-1 b, then x = w + R^-1 z,
   * whose covariance is R^-1 R^-T = P^-1. */
  if (clearn__dposv1(k, A, w) != CLEARN_OK) return CLEARN_ENUMERIC;
  if (z) {
    double *u = w + k;
    for (i = k - 1; i >= 0; i--) {
      double s = z[i];
      for (q = i + 1; q < k; q++) s -= A[i * k + q] * u[q];
      u[i] = s / A[i * k + i];
    }
    for (i = 0; i < k; i++) w[i] += u[i];
  }
  memcpy(x, w, (size_t)k * sizeof(double));
  return CLEARN_OK;
}

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "default")))
#endif
static int
draw_from_sums(int64_t k, int64_t ld, const double *G, const double *b,
               double alpha, const double *Lam, const double *lam_mu,
               const double *z, double *restrict A, double *restrict w,
               double *x) {
#define GIBBS_K(K)                                                             \
  case K:                                                                      \
    if (ld == K) return draw_body(K, K, G, b, alpha, Lam, lam_mu, z, A, w, x); \
    break;
  switch (k) {
    GIBBS_K(8)
    GIBBS_K(16)
    GIBBS_K(24)
    GIBBS_K(32)
    GIBBS_K(48)
    GIBBS_K(64)
  default:
    break;
  }
#undef GIBBS_K
  return draw_body(k, ld, G, b, alpha, Lam, lam_mu, z, A, w, x);
}

int clearn__gibbs_draw_row(int64_t k, int64_t ld, int64_t n, const int32_t *idx,
                           const float *val, const double *O, double mu,
                           double alpha, const double *Lam,
                           const double *lam_mu, const double *z, double *ws,
                           double *x) {
  double *G = ws, *b = G + ld * ld, *A = b + ld, *w = A + k * k;
#if GIBBS_AVX512
  if (ld % 8 == 0 && ((uintptr_t)O & 63) == 0 && ((uintptr_t)ws & 63) == 0 &&
      have_avx512()) {
    row_sums_avx512(ld, n, idx, val, O, mu, G, b);
    if (k == 16 && ld == 16)
      return draw16_avx512(G, b, alpha, Lam, lam_mu, z, A, w, x);
    if (k > 16 && ld <= 64)
      return drawN_avx512(k, ld, G, b, alpha, Lam, lam_mu, z, A, A + k * ld, x);
    return draw_from_sums(k, ld, G, b, alpha, Lam, lam_mu, z, A, w, x);
  }
#endif
  row_sums_c(k, ld, n, idx, val, O, mu, G, b);
  return draw_from_sums(k, ld, G, b, alpha, Lam, lam_mu, z, A, w, x);
}

/* ---- hyper-parameters ---------------------------------------------------- */

double clearn__gibbs_nw_posterior(int64_t k, int64_t ld, int64_t n,
                                  const double *X, int nt, double *mean,
                                  double *Winv) {
  int64_t nb = (n + HYPER_BLOCK - 1) / HYPER_BLOCK, b, i, j;
  double *part =
      malloc((size_t)((nb > 0 ? nb : 1) * (k * k + k)) * sizeof(double));
  double *s = mean, nn = (double)n, c;
  if (part == NULL) return -1;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (b = 0; b < nb; b++) {
    int64_t r0 = b * HYPER_BLOCK,
            rn = n - r0 < HYPER_BLOCK ? n - r0 : HYPER_BLOCK;
    double *pb = part + b * (k * k + k);
    int64_t r, q;
    clearn__dsyrk_tn(rn, k, 1.0, X + r0 * ld, ld, 0.0, pb);
    for (q = 0; q < k; q++) pb[k * k + q] = 0;
    for (r = r0; r < r0 + rn; r++)
      for (q = 0; q < k; q++) pb[k * k + q] += X[r * ld + q];
  }
  memset(Winv, 0, (size_t)(k * k) * sizeof(double));
  memset(s, 0, (size_t)k * sizeof(double));
  for (b = 0; b < nb; b++) {
    const double *pb = part + b * (k * k + k);
    for (i = 0; i < k; i++) {
      for (j = i; j < k; j++) Winv[i * k + j] += pb[i * k + j];
      s[i] += pb[k * k + i];
    }
  }
  free(part);
  /* Winv = I + sum x x^T - n xbar xbar^T + beta0 n / (beta0 + n) xbar
   * xbar^T; with s = n xbar the last two are -c s s^T, c = 1 / n - beta0 /
   * (n (beta0 + n)). */
  c = n > 0 ? 1.0 / nn - BETA0 / (nn * (BETA0 + nn)) : 0;
  for (i = 0; i < k; i++)
    for (j = i; j < k; j++) {
      double v = Winv[i * k + j] - c * s[i] * s[j] + (i == j ? 1.0 : 0.0);
      Winv[i * k + j] = Winv[j * k + i] = v;
    }
  for (i = 0; i < k; i++) mean[i] = s[i] / (BETA0 + nn);
  return (double)k + nn;
}

/* Wishart(W, nu) with W = Winv^-1: Winv = L L^T, so L^-T is a factor of W
 * and (L^-T A)(L^-T A)^T is a draw for A lower triangular with A_ii^2 ~
 * chi^2(nu - i), A_ij ~ N(0, 1) below the diagonal (Bartlett). */
static int wishart_rng(clearn__rng *r, int64_t k, const double *Winv, double nu,
                       double *ws, double *Lam) {
  double *L = ws, *M = ws + k * k, *col = ws + 2 * k * k;
  int64_t i, j, q;
  memcpy(L, Winv, (size_t)(k * k) * sizeof(double));
  if (chol_lower(k, L) != 0) return CLEARN_ENUMERIC;
  memset(M, 0, (size_t)(k * k) * sizeof(double));
  for (i = 0; i < k; i++) {
    M[i * k + i] = sqrt(2.0 * rng_gamma(r, 0.5 * (nu - (double)i)));
    for (j = 0; j < i; j++) M[i * k + j] = rng_normal(r);
  }
  /* M = L^-T A, column by column */
  for (j = 0; j < k; j++) {
    for (i = 0; i < k; i++) col[i] = M[i * k + j];
    solve_lt(k, L, col);
    for (i = 0; i < k; i++) M[i * k + j] = col[i];
  }
  for (i = 0; i < k; i++)
    for (j = 0; j <= i; j++) {
      double s = 0;
      for (q = 0; q < k; q++) s += M[i * k + q] * M[j * k + q];
      Lam[i * k + j] = Lam[j * k + i] = s;
    }
  return CLEARN_OK;
}

int clearn__gibbs_wishart(uint64_t key, int64_t k, const double *Winv,
                          double nu, double *ws, double *Lam) {
  clearn__rng r;
  clearn__rng_seed(&r, key);
  return wishart_rng(&r, k, Winv, nu, ws, Lam);
}

/* Draw (mu, Lambda) of one side given its rows X (n x k): Lam, and lmu =
 * Lam mu (what the rows' right-hand sides need).  ws: 5 k^2 + 2 k. */
static int draw_hyper(uint64_t key, int64_t k, int64_t ld, int64_t n,
                      const double *X, int nt, double *ws, double *Lam,
                      double *lmu) {
  double *mean = ws, *Winv = ws + k, *Q = Winv + k * k, *w = Q + k * k;
  double *wws = w + k, nu;
  clearn__rng r;
  int64_t i, j;
  nu = clearn__gibbs_nw_posterior(k, ld, n, X, nt, mean, Winv);
  if (nu < 0) return CLEARN_ENOMEM;
  clearn__rng_seed(&r, key);
  if (wishart_rng(&r, k, Winv, nu, wws, Lam) != CLEARN_OK)
    return CLEARN_ENUMERIC;
  /* mu ~ N(mean, ((beta0 + n) Lam)^-1): with Q = L L^T, mean + L^-T z */
  for (i = 0; i < k * k; i++) Q[i] = (BETA0 + (double)n) * Lam[i];
  if (chol_lower(k, Q) != 0) return CLEARN_ENUMERIC;
  for (i = 0; i < k; i++) w[i] = rng_normal(&r);
  solve_lt(k, Q, w);
  for (i = 0; i < k; i++) w[i] += mean[i];
  for (i = 0; i < k; i++) {
    double s = 0;
    for (j = 0; j < k; j++) s += Lam[i * k + j] * w[j];
    lmu[i] = s;
  }
  return CLEARN_OK;
}

static void *alloc_lines(size_t n, size_t size) {
  void *p = NULL;
  if (size != 0 && n > SIZE_MAX / size) return NULL;
  return posix_memalign(&p, 64, n * size != 0 ? n * size : 1) == 0 ? p : NULL;
}

/* ---- one side ------------------------------------------------------------ */

typedef struct {
  int64_t k, ld; /* rank; row stride of the factors (k rounded up to 8) */
  double alpha;
  const double *Lam, *lmu; /* NULL: a burn-in (ALS) sweep */
  double reg, rexp, mu;
  int weighted;
  uint64_t base; /* row stream of this sweep and side */
  /* Items only (the second half of a sweep, when both sides are final):
   * terms[r] = row r's squared training error under this draw. */
  double *terms;
} side_cfg;

/* Every row [0, n) of X (rows of this participant; ids their original
 * ids) from its ratings against the other side O.  *bad = first failing
 * row or -1. */
/* Row r's squared training error under its new row x, from the sums the
 * draw left in ws (G upper, stride ld; b): sum t^2 - 2 x.b + x^T G x,
 * O(k^2) instead of a dot product per rating. */
static double row_sse(int64_t k, int64_t ld, const float *val, int64_t n,
                      double mu, const double *ws, const double *x) {
  const double *G = ws, *b = ws + ld * ld;
  double tt = 0, xb = 0, quad = 0;
  int64_t q, a, j;
  for (q = 0; q < n; q++) tt += ((double)val[q] - mu) * ((double)val[q] - mu);
  for (a = 0; a < k; a++) {
    double s = 0;
    for (j = a + 1; j < k; j++) s += G[a * ld + j] * x[j];
    quad += x[a] * (G[a * ld + a] * x[a] + 2 * s);
    xb += x[a] * b[a];
  }
  return tt - 2 * xb + quad;
}

static int side_step(const side_cfg *c, int nt, int64_t n, const int64_t *ptr,
                     const int32_t *idx, const float *val, const double *O,
                     const int64_t *ids, double *X, int64_t *bad) {
  int64_t k = c->k, first_bad = n;
  int rc_all = CLEARN_OK, nomem = 0;
#pragma omp parallel num_threads(nt)
  {
    size_t kk = (size_t)k;
    size_t ld = (size_t)c->ld,
           wsn = (ld * ld + ld + kk * ld + 2 * kk + 7) & ~(size_t)7;
    /* 64-byte aligned, as the AVX-512 sums need */
    double *ws = alloc_lines(wsn + kk * kk + 2 * kk, sizeof(double));
    double *Lr = ws ? ws + wsn : NULL, *z = Lr ? Lr + kk * kk : NULL;
    double *zero = z ? z + kk : NULL;
    int64_t r;
    if (ws == NULL) {
#pragma omp atomic write
      nomem = 1;
    } else {
      memset(zero, 0, kk * sizeof(double));
    }
#pragma omp for schedule(dynamic, 16)
    for (r = 0; r < n; r++) {
      int64_t m = ptr[r + 1] - ptr[r], j;
      int e;
      if (ws == NULL) continue;
      if (c->Lam) {
        row_normals(c->base, ids[r], k, z);
        e = clearn__gibbs_draw_row(k, c->ld, m, idx + ptr[r], val + ptr[r], O,
                                   c->mu, c->alpha, c->Lam, c->lmu, z, ws,
                                   X + r * c->ld);
      } else if (m == 0) {
        /* no data term and a count-weighted penalty of 0: 0 is the
         * minimum-norm solution (as ALS's solve_row) */
        memset(X + r * c->ld, 0, kk * sizeof(double));
        e = CLEARN_OK;
      } else {
        double lam = c->weighted ? c->reg * pow((double)m, c->rexp) : c->reg;
        memset(Lr, 0, kk * kk * sizeof(double));
        for (j = 0; j < k; j++) Lr[j * k + j] = lam;
        e = clearn__gibbs_draw_row(k, c->ld, m, idx + ptr[r], val + ptr[r], O,
                                   c->mu, 1.0, Lr, zero, NULL, ws,
                                   X + r * c->ld);
      }
      if (c->terms)
        c->terms[r] =
            e == CLEARN_OK && m > 0
                ? row_sse(k, c->ld, val + ptr[r], m, c->mu, ws, X + r * c->ld)
                : 0;
      if (e != CLEARN_OK) {
#pragma omp critical
        if (r < first_bad) {
          first_bad = r;
          rc_all = e;
        }
      }
    }
    free(ws);
  }
  *bad = first_bad < n ? first_bad : -1;
  return nomem ? CLEARN_ENOMEM : rc_all;
}

/* ---- the sweeps ---------------------------------------------------------- */

/* Dot product of two factor rows over their ld (a multiple of 8, zero
 * padded) entries, in eight partial sums (a fixed order the compiler can
 * vectorize). */
static double dot8(const double *a, const double *b, int64_t ld) {
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j, i;
  for (j = 0; j < ld; j += 8)
    for (i = 0; i < 8; i++) s[i] += a[j + i] * b[j + i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

static int gather(const clearn__exchange *ex, void *buf, size_t elem,
                  const int64_t *off, int rc) {
  return ex ? ex->gather(ex->ctx, buf, elem, off, rc) : rc;
}

/* Block s of the concatenation Fc (rows x (S k), dtype dt) = F (rows x k). */
static void put_block(void *Fc, const double *F, int64_t rows, int64_t k,
                      int64_t ldf, int64_t S, int64_t s, clearn_dtype dt) {
  int64_t r, j, ld = S * k;
  for (r = 0; r < rows; r++)
    for (j = 0; j < k; j++) {
      if (dt == CLEARN_FLOAT32)
        ((float *)Fc)[r * ld + s * k + j] = (float)F[r * ldf + j];
      else
        ((double *)Fc)[r * ld + s * k + j] = F[r * ldf + j];
    }
}

/* Keep the first S2 of S blocks of every row, scaled by 1/sqrt(S2): rows
 * move to a stride of S2 k in place (never past their source). */
static void finish_blocks(void *Fc, int64_t rows, int64_t k, int64_t S,
                          int64_t S2, clearn_dtype dt) {
  int64_t r, j;
  double sc = 1.0 / sqrt((double)S2);
  for (r = 0; r < rows; r++)
    for (j = 0; j < S2 * k; j++) {
      if (dt == CLEARN_FLOAT32) {
        float *f = Fc;
        f[r * S2 * k + j] = (float)(sc * f[r * S * k + j]);
      } else {
        double *f = Fc;
        f[r * S2 * k + j] = sc * f[r * S * k + j];
      }
    }
}

/* rows x k in dtype -> rows x ld float64, padding zero */
static void to_f64(const void *src, clearn_dtype dt, int64_t rows, int64_t k,
                   int64_t ld, double *dst) {
  int64_t r, j;
  for (r = 0; r < rows; r++)
    for (j = 0; j < ld; j++)
      dst[r * ld + j] = j >= k ? 0.0
                        : dt == CLEARN_FLOAT32
                            ? ((const float *)src)[r * k + j]
                            : ((const double *)src)[r * k + j];
}

static int row_fail(int rc, const char *side, int64_t id, int burn) {
  if (rc == CLEARN_ENOMEM)
    return clearn__err(CLEARN_ENOMEM, "als: out of memory for the row "
                                      "workspaces");
  return clearn__err(rc,
                     burn ? "als: gibbs: %s %lld: the row's burn-in normal "
                            "equations are not positive definite; use reg > 0"
                          : "als: gibbs: %s %lld: the row's conditional "
                            "precision is not positive definite",
                     side, (long long)id);
}

int clearn__als_gibbs_run(const clearn__gibbs_cfg *cfg,
                          const clearn__rshard *sh, const clearn__exchange *ex,
                          const clearn__progress *progress, const void *U0,
                          const void *V0, double *history, int64_t *n_done,
                          void **Uo, void **Vo, int64_t *n_samples) {
  const int64_t k = cfg->k, me = sh->rank, S = cfg->n_sweeps - cfg->burn_in;
  const int64_t ld = (k + 7) & ~(int64_t)7;
  const int64_t NU = sh->n_users, NI = sh->n_items;
  const int64_t u0 = sh->user_off[me], nu = sh->user_off[me + 1] - u0;
  const int64_t i0 = sh->item_off[me], ni = sh->item_off[me + 1] - i0;
  const int64_t nva = sh->has_valid ? sh->va_off[sh->size] : 0;
  const int64_t va_me = sh->has_valid ? sh->va_off[me + 1] - sh->va_off[me] : 0;
  const int64_t nva_r = sh->has_valid ? sh->va_ptr[va_me] : 0;
  const size_t es = clearn_dtype_size(cfg->dt);
  double *U = NULL, *V = NULL, *vacc = NULL, *terms = NULL;
  double *vterms = NULL, *Lam = NULL, *lmu = NULL, *hws = NULL;
  void *Uc = NULL, *Vc = NULL;
  double alpha = 2.0;
  int64_t it, bad, kept = 0;
  int rc = CLEARN_OK, stop = 0;

  *Uo = *Vo = NULL;
  *n_done = 0;
  *n_samples = 0;
  U = alloc_lines((size_t)(NU > 0 ? NU : 1) * (size_t)ld, sizeof(double));
  V = alloc_lines((size_t)(NI > 0 ? NI : 1) * (size_t)ld, sizeof(double));
  vacc = clearn__malloc((size_t)(nva_r > 0 ? nva_r : 1), sizeof(double));
  terms = clearn__malloc((size_t)(NI > 0 ? NI : 1), sizeof(double));
  vterms = clearn__malloc((size_t)(2 * (nva > 0 ? nva : 1)), sizeof(double));
  Lam = clearn__malloc((size_t)(k * k), sizeof(double));
  lmu = clearn__malloc((size_t)k, sizeof(double));
  hws = clearn__malloc((size_t)(8 * k * k + 4 * k), sizeof(double));
  Uc = alloc_lines((size_t)(NU > 0 ? NU : 1) * (size_t)(S * k), es);
  Vc = alloc_lines((size_t)(NI > 0 ? NI : 1) * (size_t)(S * k), es);
  if (!U || !V || !vacc || !terms || !vterms || !Lam || !lmu || !hws || !Uc ||
      !Vc)
    rc = clearn__err(CLEARN_ENOMEM,
                     "als: gibbs: cannot allocate %lld samples of rank %lld "
                     "(the model has rank samples x rank)",
                     (long long)S, (long long)k);
  rc = ex ? ex->agree(ex->ctx, rc) : rc;
  if (rc != CLEARN_OK) goto cleanup;
  to_f64(U0, cfg->dt, NU, k, ld, U);
  to_f64(V0, cfg->dt, NI, k, ld, V);

  for (it = 0; it < cfg->n_sweeps && !stop; it++) {
    double t0 = omp_get_wtime(), c0 = ex ? ex->seconds(ex->ctx) : 0;
    double sse = 0, *h = history + it * cfg->n_hist;
    const int sampling = it >= cfg->burn_in;
    const double n_avg = sampling ? (double)(it - cfg->burn_in + 1) : 1.0;
    side_cfg sc;
    int64_t r;
    sc.k = k;
    sc.ld = ld;
    sc.alpha = alpha;
    sc.Lam = sampling ? Lam : NULL;
    sc.lmu = lmu;
    sc.reg = cfg->reg;
    sc.rexp = cfg->rexp;
    sc.weighted = cfg->weighted;
    sc.mu = cfg->mu;
    sc.terms = NULL;

    /* users */
    if (sampling &&
        (rc = draw_hyper(stream_key(cfg->seed, TAG_HYPER, it, SIDE_USERS), k,
                         ld, NU, U, cfg->nt, hws, Lam, lmu)) != CLEARN_OK) {
      rc = clearn__err(rc,
                       "als: gibbs: the user hyper-parameters could not "
                       "be drawn (sweep %lld)",
                       (long long)(it + 1));
      goto cleanup;
    }
    sc.base = stream_key(cfg->seed, TAG_ROW, it, SIDE_USERS);
    rc = side_step(&sc, cfg->nt, nu, sh->u_ptr, sh->u_idx, sh->u_val, V,
                   sh->user_ids + u0, U + u0 * ld, &bad);
    if (rc != CLEARN_OK)
      rc = row_fail(rc, "user", bad >= 0 ? sh->user_ids[u0 + bad] : -1,
                    !sampling);
    if ((rc = gather(ex, U, (size_t)ld * sizeof(double), sh->user_off, rc)) !=
        CLEARN_OK)
      goto cleanup;

    /* items */
    if (sampling &&
        (rc = draw_hyper(stream_key(cfg->seed, TAG_HYPER, it, SIDE_ITEMS), k,
                         ld, NI, V, cfg->nt, hws, Lam, lmu)) != CLEARN_OK) {
      rc = clearn__err(rc,
                       "als: gibbs: the item hyper-parameters could not "
                       "be drawn (sweep %lld)",
                       (long long)(it + 1));
      goto cleanup;
    }
    sc.base = stream_key(cfg->seed, TAG_ROW, it, SIDE_ITEMS);
    sc.terms = terms + i0;
    rc = side_step(&sc, cfg->nt, ni, sh->i_ptr, sh->i_idx, sh->i_val, U,
                   sh->item_ids + i0, V + i0 * ld, &bad);
    if (rc != CLEARN_OK)
      rc = row_fail(rc, "item", bad >= 0 ? sh->item_ids[i0 + bad] : -1,
                    !sampling);
    if ((rc = gather(ex, V, (size_t)ld * sizeof(double), sh->item_off, rc)) !=
        CLEARN_OK)
      goto cleanup;

    if (sh->has_valid) {
      int64_t v0 = sh->va_off[me];
#pragma omp parallel for num_threads(cfg->nt) schedule(dynamic, 64)
      for (r = 0; r < va_me; r++) {
        int64_t q, cnt = 0, ur = sh->va_urow[r];
        double e = 0;
        for (q = sh->va_ptr[r]; q < sh->va_ptr[r + 1]; q++) {
          int64_t ir = sh->va_irow[q];
          double p;
          if (ur >= 0 && ir >= 0) {
            p = dot8(U + ur * ld, V + ir * ld, ld);
            vacc[q] = sampling && it > cfg->burn_in ? vacc[q] + p : p;
            p = cfg->mu + vacc[q] / n_avg;
          } else if (cfg->cold == 2) {
            p = cfg->mu;
          } else if (cfg->cold == 1) {
            continue;
          } else {
            p = NAN;
          }
          e += (p - sh->va_val[q]) * (p - sh->va_val[q]);
          cnt++;
        }
        vterms[2 * (v0 + r)] = e;
        vterms[2 * (v0 + r) + 1] = (double)cnt;
      }
    }
    rc = gather(ex, terms, sizeof(double), sh->item_off, CLEARN_OK);
    if (rc == CLEARN_OK && sh->has_valid)
      rc = gather(ex, vterms, 2 * sizeof(double), sh->va_off, CLEARN_OK);
    if (rc != CLEARN_OK) goto cleanup;
    for (r = 0; r < NI; r++) sse += terms[r];
    h[0] = sse / (double)sh->nnz;
    h[1] = sqrt(h[0]);
    h[2] = NAN;
    if (sh->has_valid) {
      double vse = 0, used = 0;
      for (r = 0; r < nva; r++) {
        vse += vterms[2 * r];
        used += vterms[2 * r + 1];
      }
      if (used > 0) h[2] = sqrt(vse / used);
    }
    if (!isfinite(sse)) {
      rc = clearn__err(CLEARN_ENUMERIC,
                       "als: gibbs: the training error is not finite after "
                       "sweep %lld",
                       (long long)(it + 1));
      goto cleanup;
    }
    /* alpha | rest ~ Gamma(1 + nnz / 2, rate 1 + sse / 2) */
    alpha = clearn__gibbs_gamma(stream_key(cfg->seed, TAG_ALPHA, it, 0),
                                1.0 + 0.5 * (double)sh->nnz) /
            (1.0 + 0.5 * sse);
    if (sampling) {
      put_block(Uc, U, NU, k, ld, S, kept, cfg->dt);
      put_block(Vc, V, NI, k, ld, S, kept, cfg->dt);
      kept++;
    }
    h[3] = omp_get_wtime() - t0;
    h[4] = (ex ? ex->seconds(ex->ctx) : 0) - c0;
    *n_done = it + 1;
    if (progress && progress->fn &&
        progress->fn(progress->user_data, (int)(it + 1), cfg->hist_names, h,
                     cfg->n_hist) != 0)
      stop = 1;
    if (ex) stop = ex->any(ex->ctx, stop);
  }
  if (kept == 0) {
    /* stopped during the burn-in: the ALS point is the one "sample" */
    put_block(Uc, U, NU, k, ld, S, 0, cfg->dt);
    put_block(Vc, V, NI, k, ld, S, 0, cfg->dt);
    kept = 1;
  }
  finish_blocks(Uc, NU, k, S, kept, cfg->dt);
  finish_blocks(Vc, NI, k, S, kept, cfg->dt);
  *Uo = Uc;
  *Vo = Vc;
  Uc = Vc = NULL;
  *n_samples = kept;

cleanup:
  free(U);
  free(V);
  free(vacc);
  free(terms);
  free(vterms);
  free(Lam);
  free(lmu);
  free(hws);
  free(Uc);
  free(Vc);
  return rc;
}
