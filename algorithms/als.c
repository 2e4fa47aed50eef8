/*
 * als.c -- matrix factorization by alternating least squares (kind "als").
 *
 * Model: r_ui ~ x_u . y_i, plus mu + b_u + c_i with biases=true, where
 * x_u (user factors) and y_i (item factors) have `rank` entries.  ALS fixes
 * one side and solves every row of the other exactly (or by a few CG
 * steps), then swaps; each half-iteration is a set of independent k x k
 * ridge problems, one per row, which is what makes the method simple to
 * run in parallel: OpenMP over rows, dynamic schedule, single-threaded BLAS
 * inside (src/linalg.c switches OpenBLAS to one thread for the fit).
 *
 * Explicit feedback (Zhou et al. 2008, Spark's ALS):
 *   min sum_(u,i) (r_ui - mu - b_u - c_i - x_u.y_i)^2
 *       + reg (sum_u w_u (|x_u|^2 + b_u^2) + sum_i w_i (|y_i|^2 + c_i^2))
 *   with w_u = n_u^e (n_u the row's rating count, e = reg_exponent;
 *   weighted_reg=true) or 1.  e = 1 (the default) is ALS-WR as Spark has
 *   it; e < 1 lets the penalty grow more slowly than the data term, so
 *   rows with many ratings are shrunk less (e = 1/2 is MyMediaLite's
 *   "frequency regularization", after Menon and Elkan; e = 0 is plain L2).
 *   (Implicit feedback counts the positive ratings only, as Spark does.)
 *   Biases are solved with the factors by augmenting the row's unknowns
 *   with a constant column: user u solves for [x_u; b_u] against design
 *   rows [y_i, 1] and targets r_ui - mu - c_i (and symmetrically for
 *   items), so they share the row's L2 penalty.  mu is the training mean,
 *   fixed, not learned.
 *
 * Implicit feedback (Hu, Koren, Volinsky 2008): preference p_ui = 1 if
 *   r_ui > 0 else 0, confidence c_ui = 1 + alpha |r_ui|, every (u, i) pair
 *   counts (unrated ones with c = 1, p = 0):
 *   min sum_(all u,i) c_ui (p_ui - x_u.y_i)^2 + reg (same L2 terms).
 *   Row normal equations: (Y^T Y + sum_rated (c-1) y y^T + lam I) x =
 *   sum_rated c p y; Y^T Y is computed once per half-iteration.  No biases.
 *
 * Row solve.  The rated rows of the other side are gathered into a
 * contiguous n_u x k buffer; the Gram matrix is one SYRK on it (level-3
 * BLAS in the factor dtype), the right-hand side one GEMV, and the k x k
 * system is solved in float64 by Cholesky (its O(k^3) is small next to the
 * SYRK's O(n_u k^2), and float32 Cholesky of a poorly conditioned Gram
 * loses digits for nothing).  solver="cg" instead runs cg_steps conjugate
 * gradient steps warm-started from the row's current value, never forming
 * the Gram (A p = Y_u^T (w .* (Y_u p)) + Y^T Y p + lam p), as the
 * `implicit` library does.  nonnegative=true solves each row's normal
 * equations exactly under x >= 0 by the Lawson-Hanson active-set method
 * (Spark uses an NNLS solver on the same normal equations); biases stay
 * unconstrained.
 *
 * solver="gibbs" (algorithms/als_gibbs.c) samples instead of solving:
 * Bayesian matrix factorization (BPMF) whose sweeps draw every row from
 * its Gaussian conditional -- the same Gram matrix and Cholesky factor as
 * the exact solve, plus a triangular solve -- and whose model is the
 * average of the draws, stored as their concatenation (rank = samples x
 * rank) with the training mean as a global mean and zero biases.  It
 * writes no checkpoints and cannot resume; fold_in then solves a ridge row
 * against that concatenation (reg, weighted_reg as set), not a draw.
 *
 * Fast path.  Float32 fits (explicit or implicit, Cholesky or CG) on a
 * CPU with AVX-512 skip the gather and the small BLAS/LAPACK calls, whose
 * fixed costs dominate at ranks of tens: a register-blocked kernel reads
 * the rated rows in place, chunk by chunk, for the Gram's upper triangle
 * and the right-hand side, and a padded float32 Cholesky solves 16 rows'
 * systems side by side, one per vector lane (a system too ill-conditioned
 * for float32 is solved again in float64; section "fast path" below).
 * Implicit feedback scales each chunk's rows by sqrt(alpha |r|) into a
 * small buffer for the same kernel, weighs the matrix-free CG terms by
 * alpha |r|, and adds Y^T Y (kept in float64) to each system.  Same
 * equations, same result up to rounding.  A CPU with AVX2 and FMA but not
 * AVX-512 runs CG's passes with 8-float kernels, and the exact solve forms
 * its Gram and right-hand side with one (g8_system) before the generic
 * float64 Cholesky or NNLS; the generic path stays for float64 and other
 * CPUs.
 *
 * Determinism.  A row's solve reads only that row's ratings, the other
 * side's factors, the shared Y^T Y and (for CG) the row's previous value,
 * in a per-thread workspace of fixed alignment, with single-threaded BLAS:
 * its result does not depend on which thread runs it, so 1 and k threads
 * give bitwise identical factors.  Y^T Y is summed over fixed blocks of
 * rows in block order, and the loss over rows in row order, for the same
 * reason.  Initial factors are uniform in [0, 1/sqrt(rank)) from a
 * counter-based hash of (seed, side, ORIGINAL id, column) (splitmix64's
 * finalizer), so a row's start depends on nothing else:
 *   key = mix(mix(mix(seed) ^ side) ^ id), side = 0x75736572 (users) or
 *   0x6974656d (items); value_j = (mix(key + j) >> 11) 2^-53 / sqrt(rank).
 * tests/als_ref.py reproduces it to check the updates against NumPy.
 *
 * Metrics per iteration: train_loss (the objective above divided by the
 * number of training ratings), train_rmse and valid_rmse (predictions
 * against the stored values, cold-start pairs of the validation set as the
 * cold_start parameter says, exactly as clearn_estimator_score_ratings),
 * seconds (wall time of the iteration including the metrics).
 *
 * Serving.  recommend scores blocks of 64 users against all items with one
 * GEMM (BLAS threads as set by clearn_set_num_threads), then selects each
 * user's top k with a k-heap in parallel; ties go to the smaller item row.
 * similar_items ranks the cosine of item factors (an unknown item, like an
 * unknown user in recommend, gives a row of -1 / NaN).  fold_in solves the
 * user's row exactly (Cholesky or NNLS, whatever the solver parameter --
 * there is no previous value to warm-start CG from) with the fit-time reg,
 * reg_exponent, alpha and weighting stored in the model.
 *
 * The model keeps, beside factors and id maps, each user's training items
 * (for recommend's default exclusion).  Users live in the order of their
 * rows with a sorted index for lookup, so fold_in appends a new user in
 * amortized O(n_users) instead of rebuilding every array.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "als_gibbs.h"
#include "internal.h"
#include "rng.h"

/* The float32 row kernels (Gram, right-hand side, Cholesky, CG passes,
 * prediction dots) use AVX-512 when the compiler can target it and the
 * CPU has it at run time; on a CPU with AVX2 and FMA but not AVX-512, CG's
 * passes (c->fast 2) and the exact solve's Gram (c->g8) use AVX2; anything
 * else takes the BLAS/LAPACK path. */
#if defined(__GNUC__) && defined(__x86_64__)
#define ALS_AVX512 1
#include <immintrin.h>
#define AVX512_FN __attribute__((target("avx512f")))
#define AVX512_INLINE                                                          \
  static inline __attribute__((always_inline, target("avx512f")))
#define AVX2_FN __attribute__((target("avx2,fma")))
#define AVX2_INLINE                                                            \
  static inline __attribute__((always_inline, target("avx2,fma")))
#else
#define ALS_AVX512 0
#endif

/* ---- parameters ---------------------------------------------------------- */

enum { SOLVER_CHOLESKY = 0, SOLVER_CG = 1, SOLVER_GIBBS = 2 };
enum { DT_F32 = 0, DT_F64 = 1 };
enum { COLD_NAN = 0, COLD_DROP = 1, COLD_MEAN = 2 };

typedef struct {
  int64_t rank;
  double reg;
  double reg_exponent;
  int64_t max_iter;
  double tol;
  int64_t seed;
  int implicit;
  double alpha;
  int weighted_reg;
  int biases;
  int solver;
  int64_t cg_steps;
  int64_t burn_in;
  int nonnegative;
  int64_t num_threads;
  int dtype;
  int cold_start;
  int train_metrics;
} als_params;

#define INF (1.0 / 0.0)

static const clearn__param_spec als_param_specs[] = {
    {"rank", CLEARN_PARAM_INT, offsetof(als_params, rank), "10", 1, INF, 0, 1,
     NULL, "number of latent factors"},
    {"reg", CLEARN_PARAM_DOUBLE, offsetof(als_params, reg), "0.1", 0, INF, 0, 1,
     NULL,
     "L2 regularization (times each row's rating count ^ reg_exponent if "
     "weighted_reg)"},
    {"reg_exponent", CLEARN_PARAM_DOUBLE, offsetof(als_params, reg_exponent),
     "1", 0, 1, 0, 0, NULL,
     "weighted_reg: reg times the row's count to this power (1: ALS-WR)"},
    {"max_iter", CLEARN_PARAM_INT, offsetof(als_params, max_iter), "10", 1, INF,
     0, 1, NULL, "number of ALS iterations (users then items)"},
    {"tol", CLEARN_PARAM_DOUBLE, offsetof(als_params, tol), "0", 0, INF, 0, 1,
     NULL,
     "stop when the train loss changes by <= tol relative (0: run max_iter)"},
    {"seed", CLEARN_PARAM_INT, offsetof(als_params, seed), "0", 0, INF, 0, 1,
     NULL, "seed of the initial factors (each row from seed and its id)"},
    {"implicit", CLEARN_PARAM_BOOL, offsetof(als_params, implicit), "false", 0,
     1, 0, 0, NULL,
     "implicit feedback (Hu-Koren-Volinsky): confidence 1 + alpha |r|"},
    {"alpha", CLEARN_PARAM_DOUBLE, offsetof(als_params, alpha), "1.0", 0, INF,
     0, 1, NULL, "implicit feedback: confidence slope"},
    {"weighted_reg", CLEARN_PARAM_BOOL, offsetof(als_params, weighted_reg),
     "true", 0, 1, 0, 0, NULL,
     "scale reg by each row's rating count (ALS-WR, as Spark)"},
    {"biases", CLEARN_PARAM_BOOL, offsetof(als_params, biases), "false", 0, 1,
     0, 0, NULL,
     "model global mean + user and item biases (explicit feedback only)"},
    {"solver", CLEARN_PARAM_STRING, offsetof(als_params, solver), "cholesky", 0,
     0, 0, 0, "cholesky|cg|gibbs",
     "row solver: exact Cholesky, cg_steps warm-started CG steps, or gibbs: "
     "Bayesian factorization (BPMF) by Gibbs sampling, max_iter sweeps of "
     "which the first burn_in are ALS, predictions averaged over the rest "
     "(the model's rank is then their number times rank; history: train_loss "
     "and train_rmse of each sweep's draw, valid_rmse of the average; no "
     "checkpoints or resume)"},
    {"cg_steps", CLEARN_PARAM_INT, offsetof(als_params, cg_steps), "3", 1, INF,
     0, 1, NULL, "conjugate gradient steps per row (solver=cg)"},
    {"burn_in", CLEARN_PARAM_INT, offsetof(als_params, burn_in), "5", 0, INF, 0,
     1, NULL,
     "solver=gibbs: first sweeps run as exact ALS of the mean-centered "
     "ratings (reg, weighted_reg, reg_exponent), not averaged; < max_iter"},
    {"nonnegative", CLEARN_PARAM_BOOL, offsetof(als_params, nonnegative),
     "false", 0, 1, 0, 0, NULL,
     "non-negative factors (exact active-set NNLS per row)"},
    {"num_threads", CLEARN_PARAM_INT, offsetof(als_params, num_threads), "0", 0,
     4096, 0, 0, NULL,
     "threads for the row updates (0: clearn_get_num_threads())"},
    {"dtype", CLEARN_PARAM_STRING, offsetof(als_params, dtype), "float32", 0, 0,
     0, 0, "float32|float64", "element type of the factors"},
    {"cold_start", CLEARN_PARAM_STRING, offsetof(als_params, cold_start), "nan",
     0, 0, 0, 0, "nan|drop|mean",
     "unseen user or item: NaN, NaN left out of scores, or mean + bias"},
    {"train_metrics", CLEARN_PARAM_BOOL, offsetof(als_params, train_metrics),
     "true", 0, 1, 0, 0, NULL,
     "train loss and RMSE after every iteration (a pass over the ratings; "
     "false leaves them NaN in history, as Spark and implicit skip them; "
     "tol > 0 needs them; solver=gibbs has them anyway)"},
};

static const char *const als_attrs[] = {
    "user_factors", "item_factors", "user_ids", "item_ids", "user_bias",
    "item_bias",    "global_mean",  "history",  "n_iter"};

static int als_check(const void *params) {
  const als_params *p = params;
  if (p->implicit && p->biases)
    return clearn__err(CLEARN_EPARAM,
                       "als: parameter 'biases' = true is not available with "
                       "implicit = true (implicit feedback has no rating "
                       "scale to bias)");
  if (p->tol > 0 && !p->train_metrics && p->solver != SOLVER_GIBBS)
    return clearn__err(CLEARN_EPARAM,
                       "als: parameter 'tol' > 0 needs train_metrics = true "
                       "(the stop test compares the train losses of "
                       "successive iterations)");
  if (p->nonnegative && p->solver == SOLVER_CG)
    return clearn__err(CLEARN_EPARAM,
                       "als: parameter 'nonnegative' = true needs solver = "
                       "cholesky (the NNLS row solve is exact)");
  if (p->solver == SOLVER_GIBBS) {
    const char *bad = p->implicit      ? "implicit"
                      : p->biases      ? "biases"
                      : p->nonnegative ? "nonnegative"
                      : p->tol > 0     ? "tol"
                                       : NULL;
    if (bad)
      return clearn__err(CLEARN_EPARAM,
                         "als: parameter '%s' is not available with solver = "
                         "gibbs (explicit ratings, centered on their mean, "
                         "no biases, unconstrained factors, a fixed number "
                         "of sweeps)",
                         bad);
  }
  return CLEARN_OK;
}

static int als_threads(const als_params *p) {
  return p->num_threads > 0 ? (int)p->num_threads : clearn__threads();
}

/* Threads for a parallel loop of about `flops` operations: num_threads if
 * it is set, else clearn_get_num_threads() capped so that every thread
 * gets about a millisecond of work.  A larger team costs more in start-up
 * and barriers than it saves -- far more on shared cores, where libgomp's
 * idle threads spin while the busy ones wait to be scheduled (a tiny fit
 * ran 15x slower on a loaded 2-core machine). */
#define FLOPS_PER_THREAD 2e6
static int als_team(const als_params *p, double flops) {
  int n = als_threads(p);
  double cap = flops / FLOPS_PER_THREAD;
  if (p->num_threads > 0) return n;
  return cap < 1 ? 1 : cap < n ? (int)cap : n;
}

/* ---- model --------------------------------------------------------------- */

/* Files written before comm_seconds existed have the first 4 columns. */
#define HIST_COLS 5
#define HIST_COLS_V1 4
static const char *const hist_names[HIST_COLS] = {
    "train_loss", "train_rmse", "valid_rmse", "seconds", "comm_seconds"};

typedef struct {
  int64_t k;
  clearn_dtype dt;
  size_t es;
  /* fit-time settings, kept so fold_in solves like the fit did */
  int biased, implicit, weighted, nonneg;
  double reg, rexp, alpha, mu; /* rexp: reg_exponent */

  int64_t n_users, cap_users;
  int64_t *user_ids;              /* id of each row of U, ascending after fit */
  int64_t *user_sorted;           /* rows ordered by id, for lookup */
  void *U;                        /* cap_users x k */
  double *ub;                     /* cap_users, NULL unless biased */
  int64_t *seen_start, *seen_len; /* cap_users: training items per user */
  int32_t *seen;                  /* pool of item rows, sorted per user */
  int64_t seen_n, seen_cap;

  int64_t n_items;
  int64_t *item_ids; /* ascending */
  void *V;           /* n_items x k */
  double *ib;

  int64_t n_iter;
  double *history; /* n_iter x HIST_COLS */
} als_model;

static void als_model_free(void *model) {
  als_model *m = model;
  if (m == NULL) return;
  free(m->user_ids);
  free(m->user_sorted);
  free(m->U);
  free(m->ub);
  free(m->seen_start);
  free(m->seen_len);
  free(m->seen);
  free(m->item_ids);
  free(m->V);
  free(m->ib);
  free(m->history);
  free(m);
}

/* n * size bytes aligned to a cache line, so that rows of 16 floats are
 * read without line splits; freed with free().  NULL on overflow.  A big
 * array asks for huge pages: the half-steps read the other side's factor
 * rows in rating order, all over tens of megabytes, and with 4 KiB pages
 * nearly every row was a TLB miss. */
static void *malloc_lines(size_t n, size_t size) {
  void *p = NULL;
  if (size != 0 && n > SIZE_MAX / size) return NULL;
  if (posix_memalign(&p, 64, n * size != 0 ? n * size : 1) != 0) return NULL;
  clearn__advise_huge(p, n * size);
  return p;
}

/* Allocate every array of a model with n_users / n_items rows (contents
 * undefined except seen arrays, which are empty). */
static int model_alloc(int64_t k, clearn_dtype dt, int biased, int64_t nu,
                       int64_t ni, int64_t seen_cap, als_model **out) {
  als_model *m = calloc(1, sizeof *m);
  int64_t cu = nu > 0 ? nu : 1;
  *out = NULL;
  if (m == NULL) return clearn__err(CLEARN_ENOMEM, "als: out of memory");
  m->k = k;
  m->dt = dt;
  m->es = clearn_dtype_size(dt);
  m->biased = biased;
  m->n_users = nu;
  m->cap_users = cu;
  m->n_items = ni;
  m->seen_cap = seen_cap > 0 ? seen_cap : 1;
  m->user_ids = clearn__malloc((size_t)cu, sizeof(int64_t));
  m->user_sorted = clearn__malloc((size_t)cu, sizeof(int64_t));
  m->U = malloc_lines((size_t)cu * (size_t)k, m->es);
  m->seen_start = clearn__calloc((size_t)cu, sizeof(int64_t));
  m->seen_len = clearn__calloc((size_t)cu, sizeof(int64_t));
  m->seen = clearn__malloc((size_t)m->seen_cap, sizeof(int32_t));
  m->item_ids = clearn__malloc((size_t)(ni > 0 ? ni : 1), sizeof(int64_t));
  m->V = malloc_lines((size_t)(ni > 0 ? ni : 1) * (size_t)k, m->es);
  if (biased) {
    m->ub = clearn__calloc((size_t)cu, sizeof(double));
    m->ib = clearn__calloc((size_t)(ni > 0 ? ni : 1), sizeof(double));
  }
  if (!m->user_ids || !m->user_sorted || !m->U || !m->seen_start ||
      !m->seen_len || !m->seen || !m->item_ids || !m->V ||
      (biased && (!m->ub || !m->ib))) {
    als_model_free(m);
    return clearn__err(CLEARN_ENOMEM,
                       "als: cannot allocate a model of %lld users, %lld "
                       "items and rank %lld",
                       (long long)nu, (long long)ni, (long long)k);
  }
  *out = m;
  return CLEARN_OK;
}

/* Row of user_id in U, or -1. */
static int64_t user_row(const als_model *m, int64_t id) {
  int64_t lo = 0, hi = m->n_users;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (m->user_ids[m->user_sorted[mid]] < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < m->n_users && m->user_ids[m->user_sorted[lo]] == id
             ? m->user_sorted[lo]
             : -1;
}

static int64_t item_row(const als_model *m, int64_t id) {
  return clearn__id_lookup(m->item_ids, m->n_items, id);
}

/* ---- element helpers over the factor dtype ------------------------------- */

/* Dot product in float64 with four partial sums (a fixed order, so still
 * deterministic, and one the compiler can vectorize). */
static double dot_dt(const void *a, const void *b, int64_t k, clearn_dtype dt) {
  double s[4] = {0, 0, 0, 0};
  int64_t j, k4 = k & ~(int64_t)3;
  if (dt == CLEARN_FLOAT32) {
    const float *x = a, *y = b;
    for (j = 0; j < k4; j += 4) {
      s[0] += (double)x[j] * (double)y[j];
      s[1] += (double)x[j + 1] * (double)y[j + 1];
      s[2] += (double)x[j + 2] * (double)y[j + 2];
      s[3] += (double)x[j + 3] * (double)y[j + 3];
    }
    for (; j < k; j++) s[0] += (double)x[j] * (double)y[j];
  } else {
    const double *x = a, *y = b;
    for (j = 0; j < k4; j += 4) {
      s[0] += x[j] * y[j];
      s[1] += x[j + 1] * y[j + 1];
      s[2] += x[j + 2] * y[j + 2];
      s[3] += x[j + 3] * y[j + 3];
    }
    for (; j < k; j++) s[0] += x[j] * y[j];
  }
  return (s[0] + s[1]) + (s[2] + s[3]);
}

static double elem(const void *a, clearn_dtype dt, int64_t j) {
  return dt == CLEARN_FLOAT32 ? (double)((const float *)a)[j]
                              : ((const double *)a)[j];
}

static void to_f64(const void *src, clearn_dtype dt, int64_t n, double *dst) {
  int64_t j;
  if (dt == CLEARN_FLOAT32)
    for (j = 0; j < n; j++) dst[j] = ((const float *)src)[j];
  else
    memcpy(dst, src, (size_t)n * sizeof(double));
}

static void from_f64(const double *src, int64_t n, void *dst, clearn_dtype dt) {
  int64_t j;
  if (dt == CLEARN_FLOAT32)
    for (j = 0; j < n; j++) ((float *)dst)[j] = (float)src[j];
  else
    memcpy(dst, src, (size_t)n * sizeof(double));
}

static void *row_ptr(const void *M, int64_t row, int64_t k, size_t es) {
  return (char *)M + (size_t)row * (size_t)k * es;
}

/* C (p x p, upper) = A^T A, A n x p row-major (lda). */
static int syrk_dt(clearn_dtype dt, int64_t n, int64_t p, const void *A,
                   int64_t lda, void *C) {
  return dt == CLEARN_FLOAT32 ? clearn__ssyrk_tn(n, p, 1.0f, A, lda, 0.0f, C)
                              : clearn__dsyrk_tn(n, p, 1.0, A, lda, 0.0, C);
}

/* y (m) = A^T x, A n x m (lda). */
static int gemv_t_dt(clearn_dtype dt, int64_t n, int64_t m, const void *A,
                     int64_t lda, const void *x, void *y) {
  return dt == CLEARN_FLOAT32 ? clearn__sgemv_t(n, m, 1.0f, A, lda, x, 0.0f, y)
                              : clearn__dgemv_t(n, m, 1.0, A, lda, x, 0.0, y);
}

/* y (n) = A x, A n x m (lda). */
static int gemv_n_dt(clearn_dtype dt, int64_t n, int64_t m, const void *A,
                     int64_t lda, const void *x, void *y) {
  return dt == CLEARN_FLOAT32 ? clearn__sgemv_n(n, m, 1.0f, A, lda, x, 0.0f, y)
                              : clearn__dgemv_n(n, m, 1.0, A, lda, x, 0.0, y);
}

/* ---- deterministic initialization ---------------------------------------- */

#define SIDE_USERS 0x75736572ULL
#define SIDE_ITEMS 0x6974656dULL

static void init_rows(void *F, const int64_t *ids, int64_t n, int64_t k,
                      clearn_dtype dt, uint64_t seed, uint64_t side, int nt) {
  double scale = 1.0 / sqrt((double)k);
  uint64_t base = clearn__mix64(clearn__mix64(seed) ^ side);
  int64_t r;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (r = 0; r < n; r++) {
    uint64_t key = clearn__mix64(base ^ (uint64_t)ids[r]);
    int64_t j;
    for (j = 0; j < k; j++) {
      double v =
          (double)(clearn__mix64(key + (uint64_t)j) >> 11) * 0x1p-53 * scale;
      if (dt == CLEARN_FLOAT32)
        ((float *)F)[r * k + j] = (float)v;
      else
        ((double *)F)[r * k + j] = v;
    }
  }
}

/* ---- per-row solve ------------------------------------------------------- */

typedef struct {
  int64_t k, kp; /* rank; kp = k + 1 with biases (the constant column) */
  clearn_dtype dt;
  size_t es;
  int implicit, weighted, cg, nonneg;
  int64_t cg_steps;
  double reg, rexp, alpha, mu; /* rexp: reg_exponent */
  const double *YtY; /* implicit: k x k, full */
  const float *YtYf; /* implicit, fast CG: YtY in float32, rows of ldg */
  int fast; /* float32 rows through the AVX-512 kernels (1), CG on AVX2 (2) */
  int g8;   /* exact float32 solve, Gram and right-hand side on AVX2 */
} als_cfg;

/* Per-thread workspace, one 64-byte aligned block so every thread's
 * buffers have the same alignment (BLAS kernels may sum in an order that
 * depends on it). */
typedef struct {
  void *block;
  void *Y;        /* cap x kp, dtype: gathered rows */
  void *tv, *qv;  /* cap, dtype */
  void *G;        /* kp x kp, dtype */
  void *vT, *oT;  /* kp, dtype */
  double *t, *wt; /* cap: targets, implicit weights alpha |r| */
  double *A, *S;  /* kp x kp */
  double *z, *x, *r, *p, *Ap, *w, *s; /* kp (ldp) */
  int *P;                             /* kp: NNLS passive set */
  /* fast path: A is kp x ldp, rows 64-byte aligned */
  int64_t ldg, ldp; /* k rounded up to 16 floats, kp + 1 up to 8 */
  float *Gf;        /* lanes x k x ldg: float32 Grams, upper triangle */
  float *bf, *sf;   /* lanes x ldg: right-hand sides, column sums */
  float *tf;        /* chunk: the targets of a chunk's ratings */
  float *vf;        /* ldg: CG direction in float32 */
  int64_t pr, ld8;  /* lane-interleaved systems: rows, columns */
  float *A8;        /* pr x ld8 x LANES: the systems, lane-interleaved */
  float *x8, *inv8; /* pr x LANES: solutions, inverse diagonals */
  float *Yc;        /* implicit: a chunk of weighted rows (chunk x k) */
} als_ws;

static size_t align64(size_t b) { return (b + 63) & ~(size_t)63; }

/* Systems factored side by side by the exact fast solve (one per float32
 * vector lane). */
#define LANES 16

/* Rated rows per sweep of the exact solve on AVX2 (g8_system), and rows
 * of its Gram per tile. */
#define G8_CHUNK 64
#define G8_TR 6

/* Rated rows per chunk of the fast path: a third of L1 (CHUNK_BYTES). */
#define CHUNK_BYTES 16384
static size_t fast_chunk(const als_cfg *c) {
  size_t ldg = ((size_t)c->k + 15) & ~(size_t)15;
  return CHUNK_BYTES / (4 * ldg) > 8 ? CHUNK_BYTES / (4 * ldg) : 8;
}

static int ws_alloc(als_ws *w, const als_cfg *c, int64_t cap) {
  size_t kp = (size_t)c->kp, es = c->es, k = (size_t)c->k;
  /* The fast path reads factor rows in place: no gathered copies. */
  size_t n = c->fast || c->g8 ? 1 : (size_t)(cap > 0 ? cap : 1);
  size_t ldg = (k + 15) & ~(size_t)15, ldp = (kp + 8) & ~(size_t)7;
  /* the exact fast solve factors LANES systems at a time */
  size_t lanes = c->fast && !c->cg ? LANES : 1;
  size_t sizes[28], off = 0;
  void **slots[28];
  int i, ns = 0;
  char *b;
  memset(w, 0, sizeof *w);
  w->ldg = (int64_t)ldg;
  w->ldp = (int64_t)ldp;
  w->pr = (c->kp + 3) & ~(int64_t)3;
  w->ld8 = w->pr + 4;
#define SLOT(ptr, bytes) (slots[ns] = (void **)&(ptr), sizes[ns++] = (bytes))
  SLOT(w->Y, n * kp * es);
  SLOT(w->tv, n * es);
  SLOT(w->qv, n * es);
  SLOT(w->G, kp * kp * es);
  SLOT(w->vT, kp * es);
  SLOT(w->oT, kp * es);
  SLOT(w->t, n * sizeof(double));
  SLOT(w->wt, n * sizeof(double));
  SLOT(w->A, kp * ldp * sizeof(double));
  SLOT(w->S, kp * kp * sizeof(double));
  SLOT(w->z, ldp * sizeof(double));
  SLOT(w->x, ldp * sizeof(double));
  SLOT(w->r, kp * sizeof(double));
  SLOT(w->p, kp * sizeof(double));
  SLOT(w->Ap, kp * sizeof(double));
  SLOT(w->w, kp * sizeof(double));
  SLOT(w->s, kp * sizeof(double));
  SLOT(w->P, kp * sizeof(int));
  /* the Grams (and their chunk buffers) are the exact solve's: CG's passes
   * are matrix-free */
  SLOT(w->Gf, (c->fast && !c->cg ? lanes * k : 1) * ldg * sizeof(float));
  SLOT(w->bf, lanes * ldg * sizeof(float));
  SLOT(w->sf, lanes * ldg * sizeof(float));
  SLOT(w->tf, (c->fast && !c->cg ? fast_chunk(c) : 1) * sizeof(float));
  SLOT(w->vf, ldg * sizeof(float));
  SLOT(w->A8, (size_t)(lanes > 1 ? w->pr * w->ld8 : 1) * LANES * sizeof(float));
  SLOT(w->x8, (size_t)(lanes > 1 ? w->pr : 1) * LANES * sizeof(float));
  SLOT(w->inv8, (size_t)(lanes > 1 ? w->pr : 1) * LANES * sizeof(float));
  SLOT(w->Yc, (c->fast && !c->cg && c->implicit ? fast_chunk(c) * k
               : c->g8 && c->implicit           ? G8_CHUNK * k
                                                : 1) *
                  sizeof(float));
#undef SLOT
  for (i = 0; i < ns; i++) off += align64(sizes[i]);
  if (posix_memalign(&w->block, 64, off) != 0) {
    w->block = NULL;
    return CLEARN_ENOMEM;
  }
  b = w->block;
  for (i = 0, off = 0; i < ns; i++) {
    *slots[i] = b + off;
    off += align64(sizes[i]);
  }
  return CLEARN_OK;
}

static void ws_free(als_ws *w) {
  free(w->block);
  w->block = NULL;
}

/* Solve S x = b (S p x p SPD, upper triangle used, destroyed). */
static int chol_solve(int64_t p, double *S, double *b) {
  return clearn__dposv1(p, S, b);
}

/* Lawson-Hanson NNLS on the normal equations: min 1/2 x^T A x - b^T x
 * subject to x_j >= 0 for j < n_con (later entries are free).  A is p x p
 * SPD with the upper triangle valid.  Solution in x. */
static int nnls(int64_t p, int64_t n_con, const double *A, const double *b,
                als_ws *w, double *x) {
  int64_t i, j, it, max_it = 3 * p + 10;
  double bmax = 0, tol;
  int *P = w->P, rc;
  double *S = w->S, *z = w->z, *g = w->w;
  for (j = 0; j < p; j++) bmax = fmax(bmax, fabs(b[j]));
  tol = 1e-12 * (1.0 + bmax);
  for (j = 0; j < p; j++) {
    x[j] = 0;
    P[j] = j >= n_con; /* free variables are always passive */
  }
  for (it = 0; it < max_it; it++) {
    int64_t add = -1, np;
    double best = tol;
    if (it > 0 || n_con < p) {
      /* Solve on the passive set P (feasible step loop). */
      for (;;) {
        int feasible = 1;
        double step = 1.0;
        np = 0;
        for (i = 0; i < p; i++)
          if (P[i]) {
            int64_t jj = 0;
            for (j = 0; j < p; j++)
              if (P[j]) {
                S[np * p + jj] = A[i <= j ? i * p + j : j * p + i];
                jj++;
              }
            z[np++] = b[i];
          }
        /* S is np x np with leading dimension p: compact it. */
        for (i = 1; i < np; i++)
          memmove(S + i * np, S + i * p, (size_t)np * sizeof(double));
        if (np > 0 && (rc = chol_solve(np, S, z)) != CLEARN_OK) return rc;
        /* Scatter z back to full length in g. */
        for (i = p - 1, j = np - 1; i >= 0; i--) g[i] = P[i] ? z[j--] : 0.0;
        for (i = 0; i < n_con; i++)
          if (P[i] && g[i] <= 0) {
            double den = x[i] - g[i], a = den > 0 ? x[i] / den : 0.0;
            feasible = 0;
            if (a < step) step = a;
          }
        if (feasible) {
          memcpy(x, g, (size_t)p * sizeof(double));
          break;
        }
        for (i = 0; i < p; i++) x[i] += step * (g[i] - x[i]);
        for (i = 0; i < n_con; i++)
          if (P[i] && x[i] <= 1e-15 * (1.0 + fabs(g[i]))) {
            P[i] = 0;
            x[i] = 0;
          }
        if (++it >= max_it) return CLEARN_OK;
      }
    }
    /* Gradient of the objective's negative: g = b - A x. */
    for (i = 0; i < p; i++) {
      double s = b[i];
      for (j = 0; j < p; j++) s -= A[i <= j ? i * p + j : j * p + i] * x[j];
      g[i] = s;
    }
    for (i = 0; i < n_con; i++)
      if (!P[i] && g[i] > best) {
        best = g[i];
        add = i;
      }
    if (add < 0) break;
    P[add] = 1;
  }
  return CLEARN_OK;
}

/* out = A v for the row's normal matrix, without forming it:
 * A = Y_u^T diag(w) Y_u + [Y^T Y] + lam I, w = 1 (explicit) or alpha |r|. */
static void cg_apply(const als_cfg *c, als_ws *w, int64_t n, double lam,
                     const double *v, double *out) {
  int64_t kp = c->kp, i, j;
  from_f64(v, kp, w->vT, c->dt);
  gemv_n_dt(c->dt, n, kp, w->Y, kp, w->vT, w->qv);
  if (c->implicit) {
    to_f64(w->qv, c->dt, n, w->t);
    for (i = 0; i < n; i++) w->t[i] *= w->wt[i];
    from_f64(w->t, n, w->qv, c->dt);
  }
  gemv_t_dt(c->dt, n, kp, w->Y, kp, w->qv, w->oT);
  to_f64(w->oT, c->dt, kp, out);
  for (i = 0; i < kp; i++) {
    double s = lam * v[i];
    if (c->implicit)
      for (j = 0; j < kp; j++) s += c->YtY[i * kp + j] * v[j];
    out[i] += s;
  }
}

static double dot_d(const double *a, const double *b, int64_t n) {
  double s = 0;
  int64_t i;
  for (i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/* Conjugate gradient on A x = b (b in w->z), warm-started from x. */
static void cg_row(const als_cfg *c, als_ws *w, int64_t n, double lam,
                   void *xrow, double *bias) {
  int64_t kp = c->kp, i, it;
  double *x = w->x, *r = w->r, *p = w->p, *Ap = w->Ap, rs, rsn;
  to_f64(xrow, c->dt, c->k, x);
  if (kp > c->k) x[c->k] = *bias;
  cg_apply(c, w, n, lam, x, Ap);
  for (i = 0; i < kp; i++) p[i] = r[i] = w->z[i] - Ap[i];
  rs = dot_d(r, r, kp);
  for (it = 0; it < c->cg_steps && rs > 1e-30; it++) {
    double pAp, a;
    cg_apply(c, w, n, lam, p, Ap);
    pAp = dot_d(p, Ap, kp);
    if (!(pAp > 0)) break;
    a = rs / pAp;
    for (i = 0; i < kp; i++) {
      x[i] += a * p[i];
      r[i] -= a * Ap[i];
    }
    rsn = dot_d(r, r, kp);
    for (i = 0; i < kp; i++) p[i] = r[i] + (rsn / rs) * p[i];
    rs = rsn;
  }
  from_f64(x, c->k, xrow, c->dt);
  if (kp > c->k) *bias = x[c->k];
}

/* The count ALS-WR scales reg by: the row's ratings, or for implicit
 * feedback its positive ones (as Spark). */
static double reg_count(int implicit, const float *val, int64_t n) {
  int64_t i, c = 0;
  if (!implicit) return (double)n;
  for (i = 0; i < n; i++) c += val[i] > 0;
  return (double)c;
}

/* A row's L2 weight lam from its count n (see the objective on top). */
static double row_lam(double reg, int weighted, double rexp, double n) {
  if (!weighted) return reg;
  return reg * (rexp == 1.0 ? n : pow(n, rexp));
}

/* A rating's target in the right-hand side: the rating (less the global
 * mean and the other side's bias with biases), or for implicit feedback
 * the preference times the confidence, 1 + alpha |r| if r > 0, else 0. */
static inline double target(const als_cfg *c, float v, const double *obias,
                            int32_t other) {
  if (c->implicit) return v > 0 ? 1.0 + c->alpha * fabs((double)v) : 0.0;
  return c->kp > c->k ? v - c->mu - obias[other] : (double)v;
}

/* ---- fast path: float32 rows with AVX-512 ---------------------------------
 *
 * The generic path gathers a row's n rated factor rows into a buffer,
 * then SSYRK, GEMV and LAPACK's Cholesky work on it.  For ranks of tens,
 * as recommenders use, each of those calls is small enough for its fixed
 * costs (packing, blocking, dispatch) to cost more than its flops: at
 * rank 64 on ml-20m's shape they ran at a third of the SGEMM rate and the
 * 65 x 65 Cholesky took longer than LAPACK's flop count suggests.  Here
 * the rated rows are read in place (no gather), in chunks that stay in L1
 * while a register-blocked kernel sweeps them once per tile of the Gram's
 * upper triangle (the same sweeps also sum the right-hand side); the exact
 * solve factors 16 rows' systems at once in float32, one per vector lane.
 * A row's result still depends only on its own inputs, in a fixed order,
 * so thread counts do not change it. */
#if ALS_AVX512

#define TILE_ACC 16       /* accumulator rows of a Gram tile (at most) */
#define TILE_NC 4         /* 16-float column blocks per tile */
#define PREFETCH_AHEAD 8

/* Cache lines of the factor row at p (k floats), into L1 (t0) or L2. */
static inline __attribute__((always_inline)) void
prefetch_row(const float *p, int64_t k, int t0) {
  const char *b = (const char *)p, *e = (const char *)(p + k) - 1;
  int straddles;
  for (; b <= e; b += 64) {
    if (t0)
      _mm_prefetch(b, _MM_HINT_T0);
    else
      _mm_prefetch(b, _MM_HINT_T1);
  }
  straddles = ((uintptr_t)e & 63) < ((uintptr_t)(b - 64) & 63);
  if (straddles && t0) _mm_prefetch(e, _MM_HINT_T0);
  if (straddles && !t0) _mm_prefetch(e, _MM_HINT_T1);
}

/* G[i0 + a][16 (c0 + c) + j] (+)= sum_r y_r[i0 + a] y_r[16 (c0 + c) + j]
 * for a < RB, c < NC, over the n rows y_r = rp[r]: stored when `first`, else
 * added.  XR extra rows ride along: the first (XR >= 1) is the right-hand
 * side, bo[16 (c0 + c) + j] (+)= sum_r t[r] y_r[...], the second (XR = 2) the
 * column sums so[...] (+)= sum_r y_r[...].  The tile's last column block is
 * loaded under mask mlast (columns past k read as 0).  The loop also
 * prefetches the rows pf[0 .. n_pf) of F (k floats each) into L1, spread
 * evenly over its iterations: the next chunk arrives while this one is
 * computed (into L1 rather than L2: 10 % less time in this kernel, five of
 * five paired runs at rank 64 on ml-20m's shape). */
AVX512_INLINE void gram_tile(const float *F, int64_t k, const float *const *rp,
                             int64_t n, int64_t i0, int64_t c0, __mmask16 mlast,
                             float *G, int64_t ldg, int first,
                             const int32_t *pf, int64_t n_pf, const float *t,
                             float *bo, float *so, const int RB, const int NC,
                             const int XR) {
  __m512 acc[TILE_ACC][TILE_NC], v[TILE_NC];
  int a, c;
  int64_t r, pf_at = 0, pf_j = 0;
  int64_t stride = n_pf > 0 && n / n_pf > 0 ? n / n_pf : 1;
#pragma GCC unroll 16
  for (a = 0; a < RB + XR; a++)
#pragma GCC unroll 4
    for (c = 0; c < NC; c++) acc[a][c] = _mm512_setzero_ps();
  for (r = 0; r < n; r++) {
    /* the tile's row and column entries of y_r, each at a fixed offset
     * from one pointer: no index register per broadcast */
    const float *yr = rp[r] + i0, *yc = rp[r] + 16 * c0;
    /* opaque to gcc, which would otherwise index each broadcast by its own
     * register and spill them */
    __asm__("" : "+r"(yr), "+r"(yc));
    if (r == pf_at && pf_j < n_pf) {
      prefetch_row(F + (size_t)pf[pf_j++] * (size_t)k, k, 1);
      pf_at += stride;
    }
#pragma GCC unroll 4
    for (c = 0; c < NC; c++)
      v[c] = c == NC - 1 ? _mm512_maskz_loadu_ps(mlast, yc + 16 * c)
                         : _mm512_loadu_ps(yc + 16 * c);
#pragma GCC unroll 16
    for (a = 0; a < RB + XR; a++) {
      if (a == RB + 1) {
#pragma GCC unroll 4
        for (c = 0; c < NC; c++) acc[a][c] = _mm512_add_ps(v[c], acc[a][c]);
      } else {
        __m512 s = _mm512_set1_ps(a < RB ? yr[a] : t[r]);
#pragma GCC unroll 4
        for (c = 0; c < NC; c++)
          acc[a][c] = _mm512_fmadd_ps(s, v[c], acc[a][c]);
      }
    }
  }
#pragma GCC unroll 16
  for (a = 0; a < RB + XR; a++)
#pragma GCC unroll 4
    for (c = 0; c < NC; c++) {
      float *g = (a < RB    ? G + (i0 + a) * ldg
                  : a == RB ? bo
                            : so) +
                 16 * (c0 + c);
      _mm512_store_ps(g, first ? acc[a][c]
                               : _mm512_add_ps(_mm512_load_ps(g), acc[a][c]));
    }
}

/* Rows per tile (extra rows included) for a tile NC column blocks wide:
 * about 24 accumulators, the rest of the 32 registers for the row's
 * column blocks and the broadcast.  A tall narrow tile keeps enough
 * independent sums in flight to hide the FMA latency, and covers a
 * band's rows in fewer sweeps over the chunk. */
static const int tile_rows[TILE_NC + 1] = {0, 16, 12, 8, 6};

/* The Gram's upper triangle (in whole 16 x 16 blocks) (+)= the n rows'
 * outer products, the rows F + idx[r] k (F + r k if idx is NULL): 16-row
 * bands, each split into groups of up to TILE_NC column blocks, each group
 * swept over the rows once per tile of tile_rows[width] rows.  With
 * xr > 0 the first band's sweeps also sum the right-hand side b (targets
 * t) and, with xr = 2, the column sums s (see gram_tile), in each group's
 * last tile when there is room, else in a tile of their own.  The tiles
 * share out the prefetching of pf (see gram_tile): a few rows each, as
 * many as the line fill buffers can have in flight.  n is at most
 * fast_chunk(). */
AVX512_FN static void gram_chunk(const float *F, int64_t k, const int32_t *idx,
                                 int64_t n, float *G, int64_t ldg, int first,
                                 const int32_t *pf, int64_t n_pf,
                                 const float *t, float *b, float *s, int xr) {
  int64_t nc = (k + 15) / 16, band, cb, tiles = 0, tn = 0, r, pass;
  __mmask16 tail = k % 16 ? (__mmask16)((1u << (k % 16)) - 1) : 0xFFFF;
  const float *rp[CHUNK_BYTES / 64];
  for (r = 0; r < n; r++)
    rp[r] = idx ? F + (size_t)idx[r] * (size_t)k : F + r * k;
  /* pass 0 counts the tiles (to share out the prefetches), pass 1 runs
   * them */
  for (pass = 0; pass < 2; pass++)
    for (band = 0; band < nc; band++) {
      int64_t lo = 16 * band, hi = lo + 16 < k ? lo + 16 : k;
      for (cb = band; cb < nc; cb += TILE_NC) {
        int ncb = nc - cb < TILE_NC ? (int)(nc - cb) : TILE_NC;
        int tr = tile_rows[ncb], x0 = band == 0 ? xr : 0;
        __mmask16 m = cb + ncb == nc ? tail : 0xFFFF;
        int64_t i0 = lo;
        /* the extra rows join the last tile if it has room for them */
        while (i0 < hi || x0 > 0) {
          int rb = hi - i0 < tr ? (int)(hi - i0) : tr;
          int x = i0 + rb == hi && rb + x0 <= tr ? x0 : 0;
          int64_t p0, p1;
          const int32_t *tp;
          if (x) x0 = 0;
          if (pass == 0) {
            tiles++;
            i0 += rb;
            continue;
          }
          p0 = tn * n_pf / tiles;
          p1 = (tn + 1) * n_pf / tiles;
          tp = pf ? pf + p0 : NULL;
          tn++;
          /* clang-format off */
          switch (x * 256 + rb * 8 + ncb) {
#define GT(X, R, C)                                                            \
  case X * 256 + R * 8 + C:                                                    \
    gram_tile(F, k, rp, n, i0, cb, m, G, ldg, first, tp, p1 - p0, t, b, s, R, \
              C, X);                                                           \
    break;
            /* the (x, rb, ncb) that occur, from the loop above */
            GT(0, 1, 1) GT(0, 2, 1) GT(0, 3, 1) GT(0, 4, 1) GT(0, 4, 2)
            GT(0, 4, 4) GT(0, 5, 1) GT(0, 6, 1) GT(0, 6, 4) GT(0, 7, 1)
            GT(0, 8, 1) GT(0, 8, 3) GT(0, 9, 1) GT(0, 10, 1) GT(0, 11, 1)
            GT(0, 12, 1) GT(0, 12, 2) GT(0, 13, 1) GT(0, 14, 1) GT(0, 15, 1)
            GT(0, 16, 1) GT(1, 0, 1) GT(1, 0, 3) GT(1, 1, 1) GT(1, 2, 1)
            GT(1, 3, 1) GT(1, 4, 1) GT(1, 4, 2) GT(1, 4, 4) GT(1, 5, 1)
            GT(1, 6, 1) GT(1, 7, 1) GT(1, 8, 1) GT(1, 9, 1) GT(1, 10, 1)
            GT(1, 11, 1) GT(1, 12, 1) GT(1, 13, 1) GT(1, 14, 1) GT(1, 15, 1)
            GT(2, 0, 1) GT(2, 0, 3) GT(2, 1, 1) GT(2, 2, 1) GT(2, 3, 1)
            GT(2, 4, 1) GT(2, 4, 2) GT(2, 4, 4) GT(2, 5, 1) GT(2, 6, 1)
            GT(2, 7, 1) GT(2, 8, 1) GT(2, 9, 1) GT(2, 10, 1) GT(2, 11, 1)
            GT(2, 12, 1) GT(2, 13, 1) GT(2, 14, 1)
#undef GT
          default: /* unreachable: the list holds every shape */
            abort();
          }
          /* clang-format on */
          i0 += rb;
        }
      }
    }
}

/* Column blocks j0 .. j0 + NB of rhs_chunk, its sums in registers. */
AVX512_INLINE void rhs_block(const float *F, int64_t k, const int32_t *idx,
                             const float *t, int64_t n, int64_t j0,
                             __mmask16 mlast, int biased, int pf, float *b,
                             float *s, int first, const int NB) {
  __m512 ab[4], as[4];
  int j;
  int64_t r;
#pragma GCC unroll 4
  for (j = 0; j < NB; j++) {
    ab[j] = first ? _mm512_setzero_ps() : _mm512_load_ps(b + 16 * (j0 + j));
    as[j] = first ? _mm512_setzero_ps() : _mm512_load_ps(s + 16 * (j0 + j));
  }
  for (r = 0; r < n; r++) {
    const float *y = F + (size_t)idx[r] * (size_t)k + 16 * j0;
    __m512 tv = _mm512_set1_ps(t[r]);
    if (pf && r + PREFETCH_AHEAD < n)
      prefetch_row(F + (size_t)idx[r + PREFETCH_AHEAD] * (size_t)k, k, 1);
#pragma GCC unroll 4
    for (j = 0; j < NB; j++) {
      __m512 v =
          _mm512_maskz_loadu_ps(j == NB - 1 ? mlast : 0xFFFF, y + 16 * j);
      ab[j] = _mm512_fmadd_ps(tv, v, ab[j]);
      if (biased) as[j] = _mm512_add_ps(v, as[j]);
    }
  }
#pragma GCC unroll 4
  for (j = 0; j < NB; j++) {
    _mm512_store_ps(b + 16 * (j0 + j), ab[j]);
    _mm512_store_ps(s + 16 * (j0 + j), as[j]);
  }
}

/* b (+)= sum_r t_r y_r and (with biases) s (+)= sum_r y_r over the chunk,
 * t_r the row's targets (into tbuf, in float32), stored when `first`;
 * *tsum += sum t_r.  Each element is summed over the rows in order, four
 * column blocks at a time in registers.  It is the chunk's first touch of
 * the rated rows, so it prefetches ahead. */
AVX512_FN static void rhs_chunk(const als_cfg *c, const float *F,
                                const int32_t *idx, const float *val,
                                const double *obias, int64_t n, float *tbuf,
                                float *b, float *s, int first, double *tsum) {
  int64_t k = c->k, nc = (k + 15) / 16, r, j0;
  __mmask16 tail = k % 16 ? (__mmask16)((1u << (k % 16)) - 1) : 0xFFFF;
  int biased = c->kp > k;
  double ts = 0;
  for (r = 0; r < n; r++) {
    double td = target(c, val[r], obias, idx[r]);
    tbuf[r] = (float)td;
    ts += td;
  }
  for (j0 = 0; j0 < nc; j0 += 4) {
    __mmask16 m = j0 + 4 >= nc ? tail : 0xFFFF;
    int pf = j0 == 0;
    switch (nc - j0 < 4 ? nc - j0 : 4) {
    case 1:
      rhs_block(F, k, idx, tbuf, n, j0, m, biased, pf, b, s, first, 1);
      break;
    case 2:
      rhs_block(F, k, idx, tbuf, n, j0, m, biased, pf, b, s, first, 2);
      break;
    case 3:
      rhs_block(F, k, idx, tbuf, n, j0, m, biased, pf, b, s, first, 3);
      break;
    default:
      rhs_block(F, k, idx, tbuf, n, j0, m, biased, pf, b, s, first, 4);
      break;
    }
  }
  *tsum += ts;
}

/* The row's system for the CG steps from the float32 Gram (k x ldg, upper
 * 16 x 16 blocks), right-hand side bf and column sums sf: A (kp x ldp,
 * float64) = [G s; s^T n] + lam I with b in column kp; for implicit
 * feedback YtY (k x k, float64, NULL otherwise) is added to G. */
AVX512_FN static void build_system(int64_t k, int64_t kp, int64_t n, double lam,
                                   const float *G, int64_t ldg, const float *bf,
                                   const float *sf, double tsum,
                                   const double *YtY, double *A, int64_t ldp) {
  int64_t i, l;
  for (i = 0; i < kp; i++) {
    double *a = A + i * ldp;
    for (l = i & ~(int64_t)7; l < ldp; l += 8) {
      /* columns l .. l + 7: G's row where it exists, else 0 */
      __mmask8 in_g = i < k ? (__mmask8)(l + 8 <= k ? 0xFF
                                         : l < k    ? (1u << (k - l)) - 1
                                                    : 0)
                            : 0;
      __m512d v = _mm512_cvtps_pd(_mm512_castps512_ps256(
          _mm512_maskz_loadu_ps((__mmask16)in_g, G + i * ldg + l)));
      if (YtY) v = _mm512_add_pd(v, _mm512_maskz_loadu_pd(in_g, YtY + i * k + l));
      /* zero left of the diagonal */
      v = _mm512_maskz_mov_pd(l >= i ? 0xFF : (__mmask8)(0xFF << (i - l)), v);
      _mm512_store_pd(a + l, v);
    }
    if (kp > k) a[k] = i < k ? (double)sf[i] : (double)n;
    a[kp] = i < k ? (double)bf[i] : tsum;
    a[i] += lam;
  }
}

/* ---- the exact solve, LANES systems at a time -----------------------------
 * A 65 x 65 Cholesky vectorized along its rows is bound by the latency of
 * its column steps (sqrt, division, short dependent updates), not by its
 * flops.  Factored LANES at a time, one system per float32 lane, every
 * operation is a whole-vector one on independent data.  The systems are
 * float32 because their Grams are: the factorization's rounding (about k
 * eps32 relative) is no larger than the float32 sums' own, and float64
 * lanes took twice the time (the factorization and building the systems
 * were 28 % of the user half-step at rank 64).  Element (i, l) of the
 * systems is the vector at A8 + (i ld8 + l) LANES; rows and columns past
 * kp are padding (identity rows, zero columns) up to pr, a multiple of 4;
 * the right-hand side is column pr.  Each lane's arithmetic is the same
 * sequence whatever the other lanes hold, so a row's solution still
 * depends on its own system only. */

/* Columns of v[0 .. 16) become its rows (a 16 x 16 transpose). */
AVX512_INLINE void transpose16(__m512 v[16]) {
  __m512 t[16], u[16];
  int i;
  for (i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]);
  }
  /* t[2i] holds rows 2i, 2i+1 interleaved by pairs of columns 0,1 / 4,5 ..;
   * combine 64-bit pairs of four rows */
  for (i = 0; i < 4; i++) {
    u[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  /* u[4i + j]: rows 4i .. 4i+3, column j of every 128-bit lane */
  for (i = 0; i < 4; i++) {
    t[i] = _mm512_shuffle_f32x4(u[i], u[4 + i], 0x88);
    t[4 + i] = _mm512_shuffle_f32x4(u[i], u[4 + i], 0xDD);
    t[8 + i] = _mm512_shuffle_f32x4(u[8 + i], u[12 + i], 0x88);
    t[12 + i] = _mm512_shuffle_f32x4(u[8 + i], u[12 + i], 0xDD);
  }
  for (i = 0; i < 4; i++) {
    v[i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0x88);
    v[8 + i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0xDD);
    v[4 + i] = _mm512_shuffle_f32x4(t[4 + i], t[12 + i], 0x88);
    v[12 + i] = _mm512_shuffle_f32x4(t[4 + i], t[12 + i], 0xDD);
  }
}

#define E8(A, ld, i, l)                                                        \
  ((A) + ((size_t)(i) * (size_t)(ld) + (size_t)(l)) * LANES)

/* The lanes' systems in w->A8 from their float32 Grams (lane s: w->Gf + s k
 * ldg, upper 16 x 16 blocks), right-hand sides and column sums (w->bf, w->sf
 * + s ldg), rating counts n, ridges lam and target sums tsum: A = [G s;
 * s^T n] + lam I (+ YtY for implicit feedback), b in column pr.  Lanes
 * not in `active` get the identity and b = 0.  Entries left of column
 * (i & ~15) in row i are not written: the factorization never reads them. */
AVX512_FN static void build8(const als_cfg *c, als_ws *w, unsigned active,
                             const double *n, const double *lam,
                             const double *tsum) {
  int64_t k = c->k, kp = c->kp, ldg = w->ldg, pr = w->pr, ld = w->ld8;
  int64_t i, l, s, t;
  float *A = w->A8;
  float lamv[LANES];
  __m512 one = _mm512_set1_ps(1.0f), lv;
  for (s = 0; s < LANES; s++)
    lamv[s] = (active >> s) & 1 ? (float)lam[s] : 1.0f;
  lv = _mm512_loadu_ps(lamv);
  for (i = 0; i < pr; i++) {
    for (l = i & ~(int64_t)15; l < ld; l += 16) {
      __m512 v[16];
      __mmask16 in_g = 0;
      int64_t nl = ld - l < 16 ? ld - l : 16; /* ld is a multiple of 4 */
      if (i < k) /* columns l .. l + 15 of G's upper triangle */
        in_g = (__mmask16)((l >= i ? 0xFFFFu : 0xFFFFu << (i - l)) &
                           (l + 16 <= k ? 0xFFFFu
                            : l < k     ? (1u << (k - l)) - 1
                                        : 0));
      if (!in_g) {
        for (t = 0; t < nl; t++)
          _mm512_store_ps(E8(A, ld, i, l + t), _mm512_setzero_ps());
        continue;
      }
      for (s = 0; s < LANES; s++)
        v[s] = (active >> s) & 1
                   ? _mm512_maskz_loadu_ps(in_g, w->Gf + (s * k + i) * ldg + l)
                   : _mm512_setzero_ps();
      transpose16(v);
      for (t = 0; t < nl; t++) {
        if (c->implicit && ((in_g >> t) & 1))
          v[t] =
              _mm512_mask_add_ps(v[t], (__mmask16)active, v[t],
                                 _mm512_set1_ps((float)c->YtY[i * k + l + t]));
        _mm512_store_ps(E8(A, ld, i, l + t), v[t]);
      }
    }
  }
  for (s = 0; s < LANES; s++) {
    if (!((active >> s) & 1)) continue;
    for (i = 0; i < k; i++) {
      E8(A, ld, i, pr)[s] = w->bf[s * ldg + i];
      if (kp > k) E8(A, ld, i, k)[s] = w->sf[s * ldg + i];
    }
    if (kp > k) {
      E8(A, ld, k, k)[s] = (float)n[s];
      E8(A, ld, k, pr)[s] = (float)tsum[s];
    }
  }
  for (i = 0; i < pr; i++) {
    float *d = E8(A, ld, i, i);
    _mm512_store_ps(d, _mm512_add_ps(_mm512_load_ps(d), i < kp ? lv : one));
  }
}

/* Rows i0 .. i0 + 3, columns l .. l + 3 of the systems, less the updates
 * of all rows above i0 (U's rows 0 .. i0 - 1), in acc. */
AVX512_INLINE void chol8_tile(const float *A, int64_t ld, int64_t i0, int64_t l,
                              __m512 acc[4][4]) {
  __m512 u[4];
  int64_t m;
  int a, q;
#pragma GCC unroll 4
  for (a = 0; a < 4; a++)
#pragma GCC unroll 4
    for (q = 0; q < 4; q++)
      acc[a][q] = _mm512_load_ps(E8(A, ld, i0 + a, l + q));
  const float *um = E8(A, ld, 0, i0), *ym = E8(A, ld, 0, l);
  for (m = i0; m > 0; m--, um += ld * LANES, ym += ld * LANES) {
#pragma GCC unroll 4
    for (a = 0; a < 4; a++) u[a] = _mm512_load_ps(um + a * LANES);
#pragma GCC unroll 4
    for (q = 0; q < 4; q++) {
      __m512 y = _mm512_load_ps(ym + q * LANES);
#pragma GCC unroll 4
      for (a = 0; a < 4; a++) acc[a][q] = _mm512_fnmadd_ps(u[a], y, acc[a][q]);
    }
  }
}

/* Factor the lanes' systems A = U^T U in place (U in the upper triangle),
 * carrying b (column pr) along, which solves U^T y = b; then U x = y into x
 * (pr x LANES).  Left-looking by blocks of 4 rows: each 4 x 4 tile of the
 * block's rows takes the updates of all rows above in registers, then the
 * diagonal tile is factored and the tiles right of it are solved against
 * it, still in registers.  Returns the lanes with a non-positive or
 * non-finite pivot. */
AVX512_FN static unsigned chol8(int64_t p, int64_t pr, int64_t ld, float *A,
                                float *x, float *inv) {
  const __m512 zero = _mm512_setzero_ps(), inf = _mm512_set1_ps(INFINITY),
               one = _mm512_set1_ps(1.0f);
  unsigned bad = 0;
  int64_t i0, i, l;
  int a, b, q;
  for (i0 = 0; i0 < pr; i0 += 4) {
    __m512 acc[4][4];
    /* the diagonal tile: U's 4 x 4 block and the inverse pivots */
    chol8_tile(A, ld, i0, i0, acc);
    for (a = 0; a < 4; a++) {
      __m512 d = acc[a][a], iv;
      bad |= (unsigned)(uint16_t) ~(_mm512_cmp_ps_mask(d, zero, _CMP_GT_OQ) &
                                    _mm512_cmp_ps_mask(d, inf, _CMP_LT_OQ));
      iv = _mm512_div_ps(one, _mm512_sqrt_ps(d));
      _mm512_store_ps(inv + (i0 + a) * LANES, iv);
      for (q = a; q < 4; q++) acc[a][q] = _mm512_mul_ps(iv, acc[a][q]);
      for (b = a + 1; b < 4; b++)
        for (q = b; q < 4; q++)
          acc[b][q] = _mm512_fnmadd_ps(acc[a][b], acc[a][q], acc[b][q]);
    }
    for (a = 0; a < 4; a++)
      for (q = a; q < 4; q++)
        _mm512_store_ps(E8(A, ld, i0 + a, i0 + q), acc[a][q]);
    /* the tiles right of it (the last one holds b) */
    for (l = i0 + 4; l < ld; l += 4) {
      const float *d0 = E8(A, ld, i0, i0);
      chol8_tile(A, ld, i0, l, acc);
#pragma GCC unroll 4
      for (a = 0; a < 4; a++) {
        __m512 iv = _mm512_load_ps(inv + (i0 + a) * LANES);
#pragma GCC unroll 4
        for (b = 0; b < a; b++) {
          /* U[i0 + b][i0 + a] */
          __m512 ub = _mm512_load_ps(d0 + ((size_t)b * ld + a) * LANES);
#pragma GCC unroll 4
          for (q = 0; q < 4; q++)
            acc[a][q] = _mm512_fnmadd_ps(ub, acc[b][q], acc[a][q]);
        }
#pragma GCC unroll 4
        for (q = 0; q < 4; q++) {
          acc[a][q] = _mm512_mul_ps(iv, acc[a][q]);
          _mm512_store_ps(E8(A, ld, i0 + a, l + q), acc[a][q]);
        }
      }
    }
  }
  /* U x = y from the bottom, four sums to shorten the chains */
  for (i = pr - 1; i >= 0; i--) {
    __m512 s0 = zero, s1 = zero, s2 = zero, s3 = zero;
    if (i >= p) {
      _mm512_store_ps(x + i * LANES, zero);
      continue;
    }
    for (l = i + 1; l + 4 <= p; l += 4) {
      const float *u = E8(A, ld, i, l), *xl = x + l * LANES;
      s0 = _mm512_fmadd_ps(_mm512_load_ps(u), _mm512_load_ps(xl), s0);
      s1 = _mm512_fmadd_ps(_mm512_load_ps(u + LANES),
                           _mm512_load_ps(xl + LANES), s1);
      s2 = _mm512_fmadd_ps(_mm512_load_ps(u + 2 * LANES),
                           _mm512_load_ps(xl + 2 * LANES), s2);
      s3 = _mm512_fmadd_ps(_mm512_load_ps(u + 3 * LANES),
                           _mm512_load_ps(xl + 3 * LANES), s3);
    }
    for (; l < p; l++)
      s0 = _mm512_fmadd_ps(_mm512_load_ps(E8(A, ld, i, l)),
                           _mm512_load_ps(x + l * LANES), s0);
    _mm512_store_ps(
        x + i * LANES,
        _mm512_mul_ps(_mm512_sub_ps(_mm512_load_ps(E8(A, ld, i, pr)),
                                    _mm512_add_ps(_mm512_add_ps(s0, s1),
                                                  _mm512_add_ps(s2, s3))),
                      _mm512_load_ps(inv + i * LANES)));
  }
  return bad;
}

/* ---- fast CG (solver=cg): the same steps as cg_row ----------------------
 * A row whose rated factor rows fit in L2 runs matrix-free: each step is
 * one pass over those rows (q_r = y_r . p, then out += q_r y_r while y_r
 * is in registers), the first pass also forming the right-hand side.  A
 * longer row would stream from memory once per step: in a half-step, all
 * such rows step together instead, one blocked sweep of the other side
 * per pass (heavy_cg_rows, below), with the same sums.  (They used to form
 * their Gram with the exact path's kernel: k / 2 FMAs per rating and
 * element, where the lockstep passes cost about 2 per pass.) */
#define CG_FREE_BYTES (1 << 20)

/* cg_pass's four ratings r .. r + 3: their rows (y4) and the terms q_r
 * (weighted, and with R the target less them) broadcast to all lanes. */
AVX512_INLINE void cg_group(const als_cfg *c, const float *F,
                            const int32_t *idx, const float *val,
                            const double *obias, int64_t n, int64_t r,
                            const __m512 *vv, __m512 vbv, __mmask16 tail,
                            const float **y4, __m512 *qv, const int NC,
                            const int W, const int R, const int M) {
  int64_t k = c->k;
  __m512 dd[4], e01, e23, f;
  int u, j;
#pragma GCC unroll 4
  for (u = 0; u < 4; u++) {
    y4[u] = F + (size_t)idx[r + u] * (size_t)k;
    if (R && r + u + PREFETCH_AHEAD < n)
      prefetch_row(F + (size_t)idx[r + u + PREFETCH_AHEAD] * (size_t)k, k, 1);
  }
#pragma GCC unroll 4
  for (u = 0; u < 4; u++) {
    __m512 d = _mm512_mul_ps(M && NC == 1 ? _mm512_maskz_loadu_ps(tail, y4[u])
                                          : _mm512_loadu_ps(y4[u]),
                             vv[0]);
#pragma GCC unroll 4
    for (j = 1; j < NC; j++)
      d = _mm512_fmadd_ps(M && j == NC - 1
                              ? _mm512_maskz_loadu_ps(tail, y4[u] + 16 * j)
                              : _mm512_loadu_ps(y4[u] + 16 * j),
                          vv[j], d);
    dd[u] = d;
  }
  e01 = _mm512_add_ps(_mm512_shuffle_f32x4(dd[0], dd[1], 0x44),
                      _mm512_shuffle_f32x4(dd[0], dd[1], 0xEE));
  e23 = _mm512_add_ps(_mm512_shuffle_f32x4(dd[2], dd[3], 0x44),
                      _mm512_shuffle_f32x4(dd[2], dd[3], 0xEE));
  f = _mm512_add_ps(_mm512_shuffle_f32x4(e01, e23, 0x88),
                    _mm512_shuffle_f32x4(e01, e23, 0xDD));
  f = _mm512_add_ps(f, _mm512_permute_ps(f, 0x4E));
  f = _mm512_add_ps(f, _mm512_permute_ps(f, 0xB1));
  f = _mm512_add_ps(f, vbv);
  if (W) {
    float w0 = (float)(c->alpha * fabs(val[r])),
          w1 = (float)(c->alpha * fabs(val[r + 1])),
          w2 = (float)(c->alpha * fabs(val[r + 2])),
          w3 = (float)(c->alpha * fabs(val[r + 3]));
    f = _mm512_mul_ps(f, _mm512_setr_ps(w0, w0, w0, w0, w1, w1, w1, w1, w2, w2,
                                        w2, w2, w3, w3, w3, w3));
  }
  if (R) {
    float t0 = (float)target(c, val[r], obias, idx[r]),
          t1 = (float)target(c, val[r + 1], obias, idx[r + 1]),
          t2 = (float)target(c, val[r + 2], obias, idx[r + 2]),
          t3 = (float)target(c, val[r + 3], obias, idx[r + 3]);
    f = _mm512_sub_ps(_mm512_setr_ps(t0, t0, t0, t0, t1, t1, t1, t1, t2, t2, t2,
                                     t2, t3, t3, t3, t3),
                      f);
  }
  qv[0] = _mm512_shuffle_f32x4(f, f, 0x00);
  qv[1] = _mm512_shuffle_f32x4(f, f, 0x55);
  qv[2] = _mm512_shuffle_f32x4(f, f, 0xAA);
  qv[3] = _mm512_shuffle_f32x4(f, f, 0xFF);
}

/* acc += q_r y_r for cg_group's four ratings, in order (*sb: the q_r). */
AVX512_INLINE void cg_update(const float *const *y4, const __m512 *qv,
                             __m512 *acc, double *sb, __mmask16 tail,
                             int biased, const int NC, const int M) {
  int u, j;
#pragma GCC unroll 4
  for (u = 0; u < 4; u++) {
#pragma GCC unroll 4
    for (j = 0; j < NC; j++)
      acc[j] = _mm512_fmadd_ps(qv[u],
                               M && j == NC - 1
                                   ? _mm512_maskz_loadu_ps(tail, y4[u] + 16 * j)
                                   : _mm512_loadu_ps(y4[u] + 16 * j),
                               acc[j]);
    if (biased) *sb += _mm512_cvtss_f32(qv[u]);
  }
}

/* out = Y^T (W (Y v)) over the n rows, float32 (v and out are the k-vector
 * part, vb and *outb the bias column's: 0 and unused without biases); W is
 * the identity, or for implicit feedback (W) diag(alpha |r|), when val is
 * read in every pass.  R (the first pass, v = x): out = Y^T (t - W Y x)
 * instead, the right-hand side less A's data part times x, each rating's
 * target t_r less its weighted prediction summed directly (no cancellation
 * between two large sums).  With cont the sums go on from what out and
 * *outb hold (one pass in segments: the same sums, in the same order, as
 * in one call). */
AVX512_INLINE void cg_pass(const als_cfg *c, const float *F, const int32_t *idx,
                           const float *val, const double *obias, int64_t n,
                           const float *v, float vb, float *out, double *outb,
                           int cont, const int NC, const int W, const int R,
                           const int M) {
  int64_t k = c->k, r;
  __mmask16 tail = M ? (__mmask16)((1u << (k % 16)) - 1) : 0xFFFF;
  __m512 acc[4], vv[4], ys[4], vbv = _mm512_set1_ps(vb);
  double sb = cont && outb ? *outb : 0;
  int biased = c->kp > k, j;
#pragma GCC unroll 4
  for (j = 0; j < NC; j++) {
    acc[j] = cont ? _mm512_load_ps(out + 16 * j) : _mm512_setzero_ps();
    vv[j] = _mm512_load_ps(v + 16 * j);
  }
  /* Four ratings at a time: their four dot products reduce together (lanes
   * i and i ^ 8 first, then i ^ 4, i ^ 2, i ^ 1, as in the one-rating loop
   * below), a third of the shuffles and adds; each y_r . v lands in a
   * 128-bit lane, then goes to all lanes for the updates, which run in
   * rating order.  The same results as one at a time.  The loop is a
   * software pipeline: a group's updates wait on its reduction, a long
   * chain of dependent shuffles and adds, so they are issued after the next
   * group's dot products, which do not (the out-of-order window alone does
   * not overlap the two: 10 % less time per pass on rows in L2). */
  if (n >= 4) {
    const float *yp[4];
    __m512 qv[4];
    cg_group(c, F, idx, val, obias, n, 0, vv, vbv, tail, yp, qv, NC, W, R, M);
    for (r = 4; r + 4 <= n; r += 4) {
      const float *y4[4];
      __m512 qn[4];
      int u;
      cg_group(c, F, idx, val, obias, n, r, vv, vbv, tail, y4, qn, NC, W, R, M);
      /* yp: reload the rows (L1) rather than hold 4 NC of them in
       * registers */
      __asm__("" : "+r"(yp[0]), "+r"(yp[1]), "+r"(yp[2]), "+r"(yp[3]));
      cg_update(yp, qv, acc, &sb, tail, biased, NC, M);
#pragma GCC unroll 4
      for (u = 0; u < 4; u++) {
        yp[u] = y4[u];
        qv[u] = qn[u];
      }
    }
    __asm__("" : "+r"(yp[0]), "+r"(yp[1]), "+r"(yp[2]), "+r"(yp[3]));
    cg_update(yp, qv, acc, &sb, tail, biased, NC, M);
  } else
    r = 0;
  for (; r < n; r++) {
    const float *y = F + (size_t)idx[r] * (size_t)k;
    __m512 d;
    if (R && r + PREFETCH_AHEAD < n)
      prefetch_row(F + (size_t)idx[r + PREFETCH_AHEAD] * (size_t)k, k, 1);
#pragma GCC unroll 4
    for (j = 0; j < NC; j++)
      ys[j] = M && j == NC - 1 ? _mm512_maskz_loadu_ps(tail, y + 16 * j)
                               : _mm512_loadu_ps(y + 16 * j);
    d = _mm512_mul_ps(ys[0], vv[0]);
#pragma GCC unroll 4
    for (j = 1; j < NC; j++) d = _mm512_fmadd_ps(ys[j], vv[j], d);
    /* the sum in every lane (butterfly), plus the bias column's term */
    d = _mm512_add_ps(d, _mm512_shuffle_f32x4(d, d, 0x4E));
    d = _mm512_add_ps(d, _mm512_shuffle_f32x4(d, d, 0xB1));
    d = _mm512_add_ps(d, _mm512_permute_ps(d, 0x4E));
    d = _mm512_add_ps(d, _mm512_permute_ps(d, 0xB1));
    d = _mm512_add_ps(d, vbv);
    if (W) d = _mm512_mul_ps(d, _mm512_set1_ps((float)(c->alpha * fabs(val[r]))));
    if (R)
      d = _mm512_sub_ps(_mm512_set1_ps((float)target(c, val[r], obias, idx[r])),
                        d);
#pragma GCC unroll 4
    for (j = 0; j < NC; j++) acc[j] = _mm512_fmadd_ps(d, ys[j], acc[j]);
    if (biased) sb += _mm512_cvtss_f32(d);
  }
#pragma GCC unroll 4
  for (j = 0; j < NC; j++) _mm512_store_ps(out + 16 * j, acc[j]);
  if (outb) *outb = sb;
}

/* cg_pass for any rank, the accumulators in memory (out: ldg floats). */
AVX512_FN static void cg_pass_mem(const als_cfg *c, const float *F,
                                  const int32_t *idx, const float *val,
                                  const double *obias, int64_t n,
                                  const float *v, float vb, float *out,
                                  double *outb, int cont, int res) {
  int64_t k = c->k, nc = (k + 15) / 16, r, j;
  __mmask16 tail = k % 16 ? (__mmask16)((1u << (k % 16)) - 1) : 0xFFFF;
  double sb = cont && outb ? *outb : 0;
  for (j = 0; j < nc && !cont; j++)
    _mm512_store_ps(out + 16 * j, _mm512_setzero_ps());
  for (r = 0; r < n; r++) {
    const float *y = F + (size_t)idx[r] * (size_t)k;
    __m512 d = _mm512_setzero_ps(), qv;
    float q;
    if (res && r + PREFETCH_AHEAD < n)
      prefetch_row(F + (size_t)idx[r + PREFETCH_AHEAD] * (size_t)k, k, 1);
    for (j = 0; j < nc; j++)
      d = _mm512_fmadd_ps(
          _mm512_maskz_loadu_ps(j == nc - 1 ? tail : 0xFFFF, y + 16 * j),
          _mm512_load_ps(v + 16 * j), d);
    q = _mm512_reduce_add_ps(d) + vb;
    if (c->implicit) q *= (float)(c->alpha * fabs(val[r]));
    if (res) q = (float)target(c, val[r], obias, idx[r]) - q;
    qv = _mm512_set1_ps(q);
    sb += q;
    for (j = 0; j < nc; j++) {
      __m512 yj =
          _mm512_maskz_loadu_ps(j == nc - 1 ? tail : 0xFFFF, y + 16 * j);
      _mm512_store_ps(out + 16 * j,
                      _mm512_fmadd_ps(qv, yj, _mm512_load_ps(out + 16 * j)));
    }
  }
  if (outb) *outb = sb;
}

/* cg_pass, its shape chosen at run time (res: the first pass, R). */
AVX512_FN static void cg_pass_512(const als_cfg *c, const float *F,
                                  const int32_t *idx, const float *val,
                                  const double *obias, int64_t n,
                                  const float *v, float vb, float *out,
                                  double *outb, int cont, int res) {
#define CGP1(NC, M)                                                            \
  do {                                                                         \
    if (c->implicit && res)                                                    \
      cg_pass(c, F, idx, val, obias, n, v, vb, out, outb, cont, NC, 1, 1, M);  \
    else if (c->implicit)                                                      \
      cg_pass(c, F, idx, val, obias, n, v, vb, out, outb, cont, NC, 1, 0, M);  \
    else if (res)                                                              \
      cg_pass(c, F, idx, val, obias, n, v, vb, out, outb, cont, NC, 0, 1, M);  \
    else                                                                       \
      cg_pass(c, F, idx, val, obias, n, v, vb, out, outb, cont, NC, 0, 0, M);  \
  } while (0)
#define CGP(NC)                                                                \
  do {                                                                         \
    if (c->k % 16)                                                             \
      CGP1(NC, 1);                                                             \
    else                                                                       \
      CGP1(NC, 0);                                                             \
  } while (0)
  switch ((c->k + 15) / 16) {
  case 1:
    CGP(1);
    break;
  case 2:
    CGP(2);
    break;
  case 3:
    CGP(3);
    break;
  case 4:
    CGP(4);
    break;
  default:
    cg_pass_mem(c, F, idx, val, obias, n, v, vb, out, outb, cont, res);
    break;
  }
#undef CGP
#undef CGP1
}

/* out += sign YtY v for implicit feedback (a CG pass's float32 sums, k
 * entries, from its float32 vector v): YtY's rows (c->YtYf, float32) by
 * columns, 64 outputs at a time in registers.  (In float64 this k x k
 * product per row and step was 21 % of an implicit CG fit at rank 64.) */
AVX512_FN static void add_yty_512(const als_cfg *c, const float *v, float *out,
                                  float sign) {
  int64_t k = c->k, ldg = (k + 15) & ~(int64_t)15, i0, j;
  if (!c->implicit) return;
  for (i0 = 0; i0 < ldg; i0 += 64) {
    __m512 acc[4];
    int b, nb = (int)((ldg - i0) / 16 < 4 ? (ldg - i0) / 16 : 4);
    for (b = 0; b < nb; b++) acc[b] = _mm512_setzero_ps();
    for (j = 0; j < k; j++) {
      const float *g = c->YtYf + j * ldg + i0;
      __m512 vj = _mm512_set1_ps(v[j]);
      for (b = 0; b < nb; b++)
        acc[b] = _mm512_fmadd_ps(_mm512_load_ps(g + 16 * b), vj, acc[b]);
    }
    for (b = 0; b < nb; b++)
      _mm512_store_ps(out + i0 + 16 * b,
                      _mm512_fmadd_ps(_mm512_set1_ps(sign), acc[b],
                                      _mm512_load_ps(out + i0 + 16 * b)));
  }
}

/* The implicit Gram's rows sqrt(alpha |r|) y_r of one chunk, into buf (m x
 * k); the rows pf[0 .. n_pf) are prefetched into L2 on the way. */
AVX512_FN static void scale_chunk(const als_cfg *c, const float *F,
                                  const int32_t *idx, const float *val,
                                  int64_t m, float *buf, const int32_t *pf,
                                  int64_t n_pf) {
  int64_t k = c->k, r, j;
  __mmask16 tail = k % 16 ? (__mmask16)((1u << (k % 16)) - 1) : 0xFFFF;
  for (r = 0; r < m; r++) {
    const float *y = F + (size_t)idx[r] * (size_t)k;
    __m512 s = _mm512_set1_ps((float)sqrt(c->alpha * fabs((double)val[r])));
    if (r < n_pf) prefetch_row(F + (size_t)pf[r] * (size_t)k, k, 0);
    for (j = 0; j < k; j += 16) {
      __mmask16 mk = j + 16 <= k ? 0xFFFF : tail;
      _mm512_mask_storeu_ps(buf + r * k + j, mk,
                            _mm512_mul_ps(s, _mm512_maskz_loadu_ps(mk, y + j)));
    }
  }
}

/* The row's float32 Gram (upper blocks), right-hand side and column sums
 * into lane `lane` of w->Gf, w->bf, w->sf, and *tsum, chunk by chunk.
 * pf, n_pf: the next row's rated rows, prefetched during the last chunk.
 * Implicit feedback weighs each rated row's outer product by alpha |r|:
 * the chunk is scaled into w->Yc first and the Gram kernel sweeps that
 * copy. */
static void gram_rows(const als_cfg *c, als_ws *w, int64_t lane,
                      const int32_t *idx, const float *val, int64_t n,
                      const float *other, const double *obias,
                      const int32_t *pf, int64_t n_pf, double *tsum) {
  int64_t k = c->k, ldg = w->ldg, r0;
  int64_t chunk = (int64_t)fast_chunk(c);
  float *G = w->Gf + lane * k * ldg, *bf = w->bf + lane * ldg,
        *sf = w->sf + lane * ldg;
  *tsum = 0;
  if (n == 0) {
    memset(G, 0, (size_t)(k * ldg) * sizeof(float));
    memset(bf, 0, (size_t)ldg * sizeof(float));
    memset(sf, 0, (size_t)ldg * sizeof(float));
  }
  for (r0 = 0; r0 < n; r0 += chunk) {
    int64_t m = n - r0 < chunk ? n - r0 : chunk;
    const int32_t *nx = r0 + m < n ? idx + r0 + m : pf;
    int64_t nn = r0 + m < n ? n - r0 - m : n_pf;
    if (c->implicit) {
      rhs_chunk(c, other, idx + r0, val + r0, obias, m, w->tf, bf, sf, r0 == 0,
                tsum);
      scale_chunk(c, other, idx + r0, val + r0, m, w->Yc, nx,
                  nn < chunk ? nn : chunk);
      gram_chunk(w->Yc, k, NULL, m, G, ldg, r0 == 0, NULL, 0, NULL, NULL, NULL,
                 0);
    } else {
      /* the targets, then one sweep for the Gram, b and (biases) s */
      int64_t q;
      double ts = 0;
      for (q = 0; q < m; q++) {
        double td = target(c, val[r0 + q], obias, idx[r0 + q]);
        w->tf[q] = (float)td;
        ts += td;
      }
      *tsum += ts;
      gram_chunk(other, k, idx + r0, m, G, ldg, r0 == 0, nx,
                 nn < chunk ? nn : chunk, w->tf, bf, sf, c->kp > k ? 2 : 1);
    }
  }
}

/* One row's CG on the fast path, between passes: the float64 iterates (kp
 * each), the float32 pass vector vf (v's first k entries, zero-padded to
 * ldg; its bias entry vb) and the pass's sums sf, ob. */
typedef struct {
  double *x, *r, *p, *Ap;
  float *vf, *sf;
  float vb;
  double lam, rs, ob;
} cg_vecs;

/* The mask of the 8-double block at i of a kp-vector. */
static inline __mmask8 mask8(int64_t kp, int64_t i) {
  return kp - i >= 8 ? 0xFF : (__mmask8)((1u << (kp - i)) - 1);
}

/* The pass's sums as a kp-vector of doubles, 8 entries at i (sf holds k
 * floats, the bias column's entry is ob). */
AVX512_INLINE __m512d cg_sums(const cg_vecs *s, int64_t k, int64_t kp,
                              int64_t i) {
  __mmask16 m = i < k ? mask8(k, i) : 0;
  __m512d a = _mm512_cvtps_pd(
      _mm512_castps512_ps256(_mm512_maskz_loadu_ps(m, s->sf + i)));
  if (kp > k && i <= k && k < i + 8)
    a = _mm512_mask_broadcastsd_pd(a, (__mmask8)(1u << (k - i)),
                                   _mm_set_sd(s->ob));
  return a;
}

/* v (kp) as the next pass's vector; the bias sum starts at 0. */
AVX512_FN static void cg_set_v_512(const als_cfg *c, cg_vecs *s, int64_t ldg,
                                   const double *v) {
  int64_t k = c->k, i;
  for (i = 0; i < ldg; i += 8) {
    __mmask8 m = i < k ? mask8(k, i) : 0;
    _mm256_store_ps(s->vf + i,
                    _mm512_cvtpd_ps(_mm512_maskz_loadu_pd(m, v + i)));
  }
  s->vb = c->kp > k ? (float)v[k] : 0.0f;
  s->ob = 0;
}

/* After the first pass (over x, res): r = p = b - A x and rs = r . r. */
AVX512_FN static void cg_begin_512(const als_cfg *c, cg_vecs *s) {
  int64_t k = c->k, kp = c->kp, i;
  __m512d lam = _mm512_set1_pd(s->lam), rs = _mm512_setzero_pd();
  add_yty_512(c, s->vf, s->sf, -1.0f); /* vf: x */
  for (i = 0; i < kp; i += 8) {
    __mmask8 m = mask8(kp, i);
    __m512d r = _mm512_fnmadd_pd(lam, _mm512_maskz_loadu_pd(m, s->x + i),
                                 cg_sums(s, k, kp, i));
    _mm512_mask_storeu_pd(s->r + i, m, r);
    _mm512_mask_storeu_pd(s->p + i, m, r);
    rs = _mm512_fmadd_pd(r, r, rs);
  }
  s->rs = _mm512_reduce_add_pd(rs);
}

/* After a pass over p: A p, then one CG step.  0 (nothing updated) when
 * p^T A p is not positive: the steps end. */
AVX512_FN static int cg_step_512(const als_cfg *c, cg_vecs *s) {
  int64_t k = c->k, kp = c->kp, i;
  __m512d lam = _mm512_set1_pd(s->lam), acc = _mm512_setzero_pd(), va, vb;
  double pAp, a, rsn;
  add_yty_512(c, s->vf, s->sf, 1.0f); /* vf: p */
  for (i = 0; i < kp; i += 8) {
    __mmask8 m = mask8(kp, i);
    __m512d p = _mm512_maskz_loadu_pd(m, s->p + i),
            ap = _mm512_fmadd_pd(lam, p, cg_sums(s, k, kp, i));
    _mm512_mask_storeu_pd(s->Ap + i, m, ap);
    acc = _mm512_fmadd_pd(p, ap, acc);
  }
  pAp = _mm512_reduce_add_pd(acc);
  if (!(pAp > 0)) return 0;
  a = s->rs / pAp;
  va = _mm512_set1_pd(a);
  acc = _mm512_setzero_pd();
  for (i = 0; i < kp; i += 8) {
    __mmask8 m = mask8(kp, i);
    __m512d p = _mm512_maskz_loadu_pd(m, s->p + i),
            r = _mm512_fnmadd_pd(va, _mm512_maskz_loadu_pd(m, s->Ap + i),
                                 _mm512_maskz_loadu_pd(m, s->r + i));
    _mm512_mask_storeu_pd(
        s->x + i, m,
        _mm512_fmadd_pd(va, p, _mm512_maskz_loadu_pd(m, s->x + i)));
    _mm512_mask_storeu_pd(s->r + i, m, r);
    acc = _mm512_fmadd_pd(r, r, acc);
  }
  rsn = _mm512_reduce_add_pd(acc);
  vb = _mm512_set1_pd(rsn / s->rs);
  for (i = 0; i < kp; i += 8) {
    __mmask8 m = mask8(kp, i);
    _mm512_mask_storeu_pd(s->p + i, m,
                          _mm512_fmadd_pd(vb,
                                          _mm512_maskz_loadu_pd(m, s->p + i),
                                          _mm512_maskz_loadu_pd(m, s->r + i)));
  }
  s->rs = rsn;
  return 1;
}

/* ---- fast CG on AVX2 + FMA ------------------------------------------------
 * CPUs without AVX-512 (most laptops) run CG's passes with 8-float vectors,
 * structured as cg_pass (four ratings' dot products reduced together, then
 * the updates in rating order; heavy rows in lockstep), and the steps
 * between passes in plain C.  c->fast is 2 then (the exact solve: c->g8,
 * below).  Rounding differs from the AVX-512 path's, but as there, a row's
 * result depends only on its own inputs. */

/* The lanes of the last 8-float block of a k-vector (all when 8 | k). */
AVX2_INLINE __m256i tail8(int64_t k) {
  int t = k % 8 ? (int)(k % 8) : 8;
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(t),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Block j of the row at y (NC8 blocks of 8 floats, the last under tm). */
AVX2_INLINE __m256 ld8(const float *y, int j, int NC8, __m256i tm) {
  return j == NC8 - 1 ? _mm256_maskload_ps(y + 8 * j, tm)
                      : _mm256_loadu_ps(y + 8 * j);
}

/* cg_pass with 8-float vectors for ranks k = 8 NC8 <= 64 (others take
 * cg_pass8_mem), the accumulators in registers (v read from memory). */
AVX2_INLINE void cg_pass8(const als_cfg *c, const float *F, const int32_t *idx,
                          const float *val, const double *obias, int64_t n,
                          const float *v, float vb, float *out, double *outb,
                          int cont, const int NC8, const int W, const int R) {
  int64_t k = c->k, r;
  __m256 acc[8];
  float qs[4] __attribute__((aligned(16)));
  double sb = cont && outb ? *outb : 0;
  int biased = c->kp > k, j, u;
#pragma GCC unroll 8
  for (j = 0; j < NC8; j++)
    acc[j] = cont ? _mm256_loadu_ps(out + 8 * j) : _mm256_setzero_ps();
  for (r = 0; r + 4 <= n; r += 4) {
    const float *y4[4];
    __m256 dd[4], h;
    __m128 q;
#pragma GCC unroll 4
    for (u = 0; u < 4; u++) {
      y4[u] = F + (size_t)idx[r + u] * (size_t)k;
      if (R && r + u + PREFETCH_AHEAD < n)
        prefetch_row(F + (size_t)idx[r + u + PREFETCH_AHEAD] * (size_t)k, k, 1);
    }
#pragma GCC unroll 4
    for (u = 0; u < 4; u++) {
      __m256 d = _mm256_mul_ps(_mm256_loadu_ps(y4[u]), _mm256_loadu_ps(v));
#pragma GCC unroll 8
      for (j = 1; j < NC8; j++)
        d = _mm256_fmadd_ps(_mm256_loadu_ps(y4[u] + 8 * j),
                            _mm256_loadu_ps(v + 8 * j), d);
      dd[u] = d;
    }
    /* [s0 s1 s2 s3]: the four dot products */
    h = _mm256_hadd_ps(_mm256_hadd_ps(dd[0], dd[1]),
                       _mm256_hadd_ps(dd[2], dd[3]));
    q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_add_ps(q, _mm_set1_ps(vb));
    if (W)
      q = _mm_mul_ps(q, _mm_setr_ps((float)(c->alpha * fabs(val[r])),
                                    (float)(c->alpha * fabs(val[r + 1])),
                                    (float)(c->alpha * fabs(val[r + 2])),
                                    (float)(c->alpha * fabs(val[r + 3]))));
    if (R)
      q = _mm_sub_ps(
          _mm_setr_ps((float)target(c, val[r], obias, idx[r]),
                      (float)target(c, val[r + 1], obias, idx[r + 1]),
                      (float)target(c, val[r + 2], obias, idx[r + 2]),
                      (float)target(c, val[r + 3], obias, idx[r + 3])),
          q);
    _mm_store_ps(qs, q);
    /* reload the rows (L1) rather than hold them in registers */
    __asm__("" : "+r"(y4[0]), "+r"(y4[1]), "+r"(y4[2]), "+r"(y4[3]));
#pragma GCC unroll 4
    for (u = 0; u < 4; u++) {
      __m256 qu = _mm256_broadcast_ss(&qs[u]);
#pragma GCC unroll 8
      for (j = 0; j < NC8; j++)
        acc[j] = _mm256_fmadd_ps(qu, _mm256_loadu_ps(y4[u] + 8 * j), acc[j]);
      if (biased) sb += qs[u];
    }
  }
  for (; r < n; r++) {
    const float *y = F + (size_t)idx[r] * (size_t)k;
    __m256 d = _mm256_mul_ps(_mm256_loadu_ps(y), _mm256_loadu_ps(v)), qv;
    __m128 h;
    float q;
#pragma GCC unroll 8
    for (j = 1; j < NC8; j++)
      d = _mm256_fmadd_ps(_mm256_loadu_ps(y + 8 * j),
                          _mm256_loadu_ps(v + 8 * j), d);
    h = _mm_add_ps(_mm256_castps256_ps128(d), _mm256_extractf128_ps(d, 1));
    h = _mm_hadd_ps(h, h);
    h = _mm_hadd_ps(h, h);
    q = _mm_cvtss_f32(h) + vb;
    if (W) q *= (float)(c->alpha * fabs(val[r]));
    if (R) q = (float)target(c, val[r], obias, idx[r]) - q;
    qv = _mm256_set1_ps(q);
#pragma GCC unroll 8
    for (j = 0; j < NC8; j++)
      acc[j] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(y + 8 * j), acc[j]);
    if (biased) sb += q;
  }
#pragma GCC unroll 8
  for (j = 0; j < NC8; j++) _mm256_storeu_ps(out + 8 * j, acc[j]);
  if (outb) *outb = sb;
}

/* cg_pass8 for any rank, the accumulators in memory (out: ldg floats). */
AVX2_FN static void cg_pass8_mem(const als_cfg *c, const float *F,
                                 const int32_t *idx, const float *val,
                                 const double *obias, int64_t n, const float *v,
                                 float vb, float *out, double *outb, int cont,
                                 int res) {
  int64_t k = c->k, nc = (k + 7) / 8, r, j;
  __m256i tm = tail8(k);
  double sb = cont && outb ? *outb : 0;
  for (j = 0; j < nc && !cont; j++)
    _mm256_storeu_ps(out + 8 * j, _mm256_setzero_ps());
  for (r = 0; r < n; r++) {
    const float *y = F + (size_t)idx[r] * (size_t)k;
    __m256 d = _mm256_setzero_ps(), qv;
    __m128 h;
    float q;
    if (res && r + PREFETCH_AHEAD < n)
      prefetch_row(F + (size_t)idx[r + PREFETCH_AHEAD] * (size_t)k, k, 1);
    for (j = 0; j < nc; j++)
      d = _mm256_fmadd_ps(ld8(y, (int)j, (int)nc, tm),
                          _mm256_loadu_ps(v + 8 * j), d);
    h = _mm_add_ps(_mm256_castps256_ps128(d), _mm256_extractf128_ps(d, 1));
    h = _mm_hadd_ps(h, h);
    h = _mm_hadd_ps(h, h);
    q = _mm_cvtss_f32(h) + vb;
    if (c->implicit) q *= (float)(c->alpha * fabs(val[r]));
    if (res) q = (float)target(c, val[r], obias, idx[r]) - q;
    qv = _mm256_set1_ps(q);
    sb += q;
    for (j = 0; j < nc; j++)
      _mm256_storeu_ps(out + 8 * j,
                       _mm256_fmadd_ps(qv, ld8(y, (int)j, (int)nc, tm),
                                       _mm256_loadu_ps(out + 8 * j)));
  }
  if (outb) *outb = sb;
}

AVX2_FN static void cg_pass_256(const als_cfg *c, const float *F,
                                const int32_t *idx, const float *val,
                                const double *obias, int64_t n, const float *v,
                                float vb, float *out, double *outb, int cont,
                                int res) {
#define CGP8(NC8)                                                              \
  do {                                                                         \
    if (c->implicit && res)                                                    \
      cg_pass8(c, F, idx, val, obias, n, v, vb, out, outb, cont, NC8, 1, 1);   \
    else if (c->implicit)                                                      \
      cg_pass8(c, F, idx, val, obias, n, v, vb, out, outb, cont, NC8, 1, 0);   \
    else if (res)                                                              \
      cg_pass8(c, F, idx, val, obias, n, v, vb, out, outb, cont, NC8, 0, 1);   \
    else                                                                       \
      cg_pass8(c, F, idx, val, obias, n, v, vb, out, outb, cont, NC8, 0, 0);   \
  } while (0)
  switch (c->k % 8 ? 0 : c->k / 8) {
  case 1:
    CGP8(1);
    break;
  case 2:
    CGP8(2);
    break;
  case 3:
    CGP8(3);
    break;
  case 4:
    CGP8(4);
    break;
  case 5:
    CGP8(5);
    break;
  case 6:
    CGP8(6);
    break;
  case 7:
    CGP8(7);
    break;
  case 8:
    CGP8(8);
    break;
  default:
    cg_pass8_mem(c, F, idx, val, obias, n, v, vb, out, outb, cont, res);
    break;
  }
#undef CGP8
}

/* add_yty_512 with 8-float vectors. */
AVX2_FN static void add_yty_256(const als_cfg *c, const float *v, float *out,
                                float sign) {
  int64_t k = c->k, ldg = (k + 15) & ~(int64_t)15, i0, j;
  if (!c->implicit) return;
  for (i0 = 0; i0 < ldg; i0 += 64) {
    __m256 acc[8];
    int b, nb = (int)((ldg - i0) / 8 < 8 ? (ldg - i0) / 8 : 8);
    for (b = 0; b < nb; b++) acc[b] = _mm256_setzero_ps();
    for (j = 0; j < k; j++) {
      const float *g = c->YtYf + j * ldg + i0;
      __m256 vj = _mm256_set1_ps(v[j]);
      for (b = 0; b < nb; b++)
        acc[b] = _mm256_fmadd_ps(_mm256_loadu_ps(g + 8 * b), vj, acc[b]);
    }
    for (b = 0; b < nb; b++)
      _mm256_storeu_ps(out + i0 + 8 * b,
                       _mm256_fmadd_ps(_mm256_set1_ps(sign), acc[b],
                                       _mm256_loadu_ps(out + i0 + 8 * b)));
  }
}

/* cg_set_v_512, cg_begin_512 and cg_step_512 in plain C (the AVX2 path). */
static void cg_set_v_c(const als_cfg *c, cg_vecs *s, int64_t ldg,
                       const double *v) {
  int64_t i;
  for (i = 0; i < ldg; i++) s->vf[i] = i < c->k ? (float)v[i] : 0.0f;
  s->vb = c->kp > c->k ? (float)v[c->k] : 0.0f;
  s->ob = 0;
}

static void cg_begin_c(const als_cfg *c, cg_vecs *s) {
  int64_t k = c->k, kp = c->kp, i;
  double rs = 0;
  add_yty_256(c, s->vf, s->sf, -1.0f); /* vf: x */
  for (i = 0; i < kp; i++) {
    double r = (i < k ? (double)s->sf[i] : s->ob) - s->lam * s->x[i];
    s->r[i] = s->p[i] = r;
    rs += r * r;
  }
  s->rs = rs;
}

static int cg_step_c(const als_cfg *c, cg_vecs *s) {
  int64_t k = c->k, kp = c->kp, i;
  double pAp = 0, a, rsn = 0, beta;
  add_yty_256(c, s->vf, s->sf, 1.0f); /* vf: p */
  for (i = 0; i < kp; i++) {
    s->Ap[i] = (i < k ? (double)s->sf[i] : s->ob) + s->lam * s->p[i];
    pAp += s->p[i] * s->Ap[i];
  }
  if (!(pAp > 0)) return 0;
  a = s->rs / pAp;
  for (i = 0; i < kp; i++) {
    s->x[i] += a * s->p[i];
    s->r[i] -= a * s->Ap[i];
    rsn += s->r[i] * s->r[i];
  }
  beta = rsn / s->rs;
  for (i = 0; i < kp; i++) s->p[i] = s->r[i] + beta * s->p[i];
  s->rs = rsn;
  return 1;
}

/* The fast CG's pieces for c->fast (1: AVX-512, 2: AVX2). */
static void cg_pass_any(const als_cfg *c, const float *F, const int32_t *idx,
                        const float *val, const double *obias, int64_t n,
                        const float *v, float vb, float *out, double *outb,
                        int cont, int res) {
  if (c->fast == 2)
    cg_pass_256(c, F, idx, val, obias, n, v, vb, out, outb, cont, res);
  else
    cg_pass_512(c, F, idx, val, obias, n, v, vb, out, outb, cont, res);
}

static void cg_set_v(const als_cfg *c, cg_vecs *s, int64_t ldg,
                     const double *v) {
  if (c->fast == 2)
    cg_set_v_c(c, s, ldg, v);
  else
    cg_set_v_512(c, s, ldg, v);
}

static void cg_begin(const als_cfg *c, cg_vecs *s) {
  if (c->fast == 2)
    cg_begin_c(c, s);
  else
    cg_begin_512(c, s);
}

static int cg_step(const als_cfg *c, cg_vecs *s) {
  return c->fast == 2 ? cg_step_c(c, s) : cg_step_512(c, s);
}

/* solve_row_fast for solver=cg: cg_row's steps, matrix-free (a half-step
 * takes its heavy rows to heavy_cg_rows instead). */
static int cg_row_fast(const als_cfg *c, als_ws *w, const int32_t *idx,
                       const float *val, int64_t n, const float *other,
                       const double *obias, float *xrow, double *bias) {
  int64_t k = c->k, kp = c->kp, i, it;
  cg_vecs s = {w->x, w->r, w->p, w->Ap, w->vf, w->sf, 0, 0, 0, 0};
  s.lam = row_lam(c->reg, c->weighted, c->rexp, reg_count(c->implicit, val, n));
  for (i = 0; i < k; i++) s.x[i] = xrow[i];
  if (kp > k) s.x[k] = *bias;
  cg_set_v(c, &s, w->ldg, s.x);
  cg_pass_any(c, other, idx, val, obias, n, s.vf, s.vb, s.sf, &s.ob, 0, 1);
  cg_begin(c, &s);
  for (it = 0; it < c->cg_steps && s.rs > 1e-30; it++) {
    cg_set_v(c, &s, w->ldg, s.p);
    cg_pass_any(c, other, idx, val, NULL, n, s.vf, s.vb, s.sf, &s.ob, 0, 0);
    if (!cg_step(c, &s)) break;
  }
  for (i = 0; i < k; i++) xrow[i] = (float)s.x[i];
  if (kp > k) *bias = s.x[k];
  return CLEARN_OK;
}

/* ---- CG for heavy rows, in lockstep ----------------------------------------
 * A row whose rated rows do not fit in L2 (more than CG_FREE_BYTES) would
 * stream them from memory once per CG pass; the Gram instead costs k / 2
 * FMAs per rating and element, several passes' worth.  So a half-step's
 * heavy rows take their CG steps together: each pass is one sweep over
 * the other side's factor rows in blocks of CG_FREE_BYTES, each block read
 * into L2 once, in order, then every heavy row adds the terms of its
 * ratings that fall in the block (its ratings are sorted by index, so a
 * cursor per row finds them; unsorted ones are still all taken, in order,
 * only slower).  A row's sums are then those of one matrix-free pass
 * (cg_pass with cont), and its steps are cg_row_fast's matrix-free ones:
 * the result depends on the row's inputs only, not on the blocks, the
 * thread or the other heavy rows. */
typedef struct {
  const int32_t *idx;
  const float *val;
  int64_t n, at; /* ratings; the next one of the current pass */
  int64_t *cut;  /* per block of F: where the row's ratings in it end */
  float *xrow;   /* where the solution goes */
  double *bias;
  int live; /* still stepping */
  cg_vecs s;
} heavy_row;

/* Whether a row of n ratings runs in lockstep (cg_row_fast's test). */
static int heavy_cg(const als_cfg *c, int64_t n) {
  return c->fast && c->cg && (double)n * (double)c->k * 4 > CG_FREE_BYTES;
}

/* The rows of F (k floats) in a block of heavy_pass. */
static int64_t heavy_block(int64_t k) {
  int64_t blk = (int64_t)(CG_FREE_BYTES / (4.0 * (double)k));
  return blk < 1 ? 1 : blk;
}

/* One pass (cg_pass, with res the first) for the live rows h[0 .. nh),
 * block by block of F's rows up to n_other (any ratings past it are taken
 * with the last block).  The first pass finds where each row's ratings in
 * a block end (a scan of its indices) and keeps it for the later ones. */
static void heavy_pass(const als_cfg *c, heavy_row *h, int64_t nh,
                       const float *F, int64_t n_other, const double *obias,
                       int res) {
  int64_t k = c->k, blk = heavy_block(k), b0, q, bi = 0;
  for (q = 0; q < nh; q++) h[q].at = 0;
  for (b0 = 0; b0 < n_other; b0 += blk, bi++) {
    int64_t b1 = n_other - b0 < blk ? n_other : b0 + blk;
    int last = b1 == n_other;
    const char *p = (const char *)(F + (size_t)b0 * (size_t)k),
               *e = (const char *)(F + (size_t)b1 * (size_t)k);
    /* the block into L2, in address order */
    for (; p < e; p += 64) _mm_prefetch(p, _MM_HINT_T1);
    for (q = 0; q < nh; q++) {
      heavy_row *o = &h[q];
      int64_t end = o->at;
      if (!o->live) continue;
      if (res) {
        while (end < o->n && (last || o->idx[end] < b1)) end++;
        o->cut[bi] = end;
      }
      end = o->cut[bi];
      if (end == o->at) continue;
      cg_pass_any(c, F, o->idx + o->at, o->val + o->at, obias, end - o->at,
                  o->s.vf, o->s.vb, o->s.sf, &o->s.ob, o->at > 0, res);
      o->at = end;
    }
  }
}

/* cg_row_fast's matrix-free steps for the rows h[0 .. nh) together (their
 * ratings, solution and state vectors set by the caller); F's rows number
 * n_other. */
static int heavy_cg_rows(const als_cfg *c, heavy_row *h, int64_t nh,
                         const float *F, int64_t n_other, const double *obias,
                         int64_t ldg) {
  int64_t k = c->k, kp = c->kp, q, i, it;
  for (q = 0; q < nh; q++) {
    heavy_row *o = &h[q];
    o->s.lam = row_lam(c->reg, c->weighted, c->rexp,
                       reg_count(c->implicit, o->val, o->n));
    for (i = 0; i < k; i++) o->s.x[i] = o->xrow[i];
    if (kp > k) o->s.x[k] = *o->bias;
    cg_set_v(c, &o->s, ldg, o->s.x);
    o->live = 1;
  }
  heavy_pass(c, h, nh, F, n_other, obias, 1);
  for (q = 0; q < nh; q++) cg_begin(c, &h[q].s);
  for (it = 0; it < c->cg_steps; it++) {
    int64_t n_live = 0;
    for (q = 0; q < nh; q++) {
      heavy_row *o = &h[q];
      o->live = o->live && o->s.rs > 1e-30;
      if (!o->live) continue;
      cg_set_v(c, &o->s, ldg, o->s.p);
      n_live++;
    }
    if (n_live == 0) break;
    heavy_pass(c, h, nh, F, n_other, obias, 0);
    for (q = 0; q < nh; q++)
      if (h[q].live) h[q].live = cg_step(c, &h[q].s);
  }
  for (q = 0; q < nh; q++) {
    for (i = 0; i < k; i++) h[q].xrow[i] = (float)h[q].s.x[i];
    if (kp > k) *h[q].bias = h[q].s.x[k];
  }
  return CLEARN_OK;
}

/* The heavy rows rows[0 .. nh) of a half-step (indices into ptr) owned by
 * this thread (owner[j] == me): their state, then heavy_cg_rows. */
static int heavy_cg_team(const als_cfg *c, const int64_t *rows,
                         const int *owner, int64_t nh, int me,
                         const int64_t *ptr, const int32_t *idx,
                         const float *val, const float *F, const double *obias,
                         float *X, double *xbias) {
  int64_t kp = c->kp, ldg = (c->k + 15) & ~(int64_t)15, j, mine = 0, q = 0,
          n_other = 0, n_blk;
  size_t per;
  heavy_row *h;
  char *buf = NULL;
  int rc;
  for (j = 0; j < nh; j++) {
    int64_t r = rows[j], n = ptr[r + 1] - ptr[r];
    if (n > 0 && idx[ptr[r] + n - 1] + 1 > n_other)
      n_other = idx[ptr[r] + n - 1] + 1;
    mine += owner[j] == me;
  }
  if (mine == 0) return CLEARN_OK;
  n_blk = (n_other + heavy_block(c->k) - 1) / heavy_block(c->k);
  per = 4 * align64((size_t)kp * sizeof(double)) +
        2 * align64((size_t)ldg * sizeof(float)) +
        align64((size_t)n_blk * sizeof(int64_t));
  h = calloc((size_t)mine, sizeof *h);
  if (h == NULL || posix_memalign((void **)&buf, 64, per * (size_t)mine)) {
    free(h);
    return CLEARN_ENOMEM;
  }
  for (j = 0; j < nh; j++) {
    int64_t r = rows[j];
    heavy_row *o;
    char *b;
    size_t off;
    if (owner[j] != me) continue;
    o = &h[q];
    b = buf + per * (size_t)q++;
    o->idx = idx + ptr[r];
    o->val = val + ptr[r];
    o->n = ptr[r + 1] - ptr[r];
    o->xrow = X + r * c->k;
    o->bias = xbias ? &xbias[r] : NULL;
    o->cut = (int64_t *)b;
    off = align64((size_t)n_blk * sizeof(int64_t));
#define HSLOT(f, T, cnt)                                                       \
  (o->s.f = (T *)(b + off), off += align64((size_t)(cnt) * sizeof(T)))
    HSLOT(x, double, kp);
    HSLOT(r, double, kp);
    HSLOT(p, double, kp);
    HSLOT(Ap, double, kp);
    HSLOT(vf, float, ldg);
    HSLOT(sf, float, ldg);
#undef HSLOT
  }
  rc = heavy_cg_rows(c, h, mine, F, n_other, obias, ldg);
  free(buf);
  free(h);
  return rc;
}

/* One lane of solve_lanes: a row's ratings and where its solution goes. */
typedef struct {
  const int32_t *idx;
  const float *val;
  int64_t n;
  float *x;
  double *bias;
} lane_row;

/* Lane s's system again, in float64 (build_system from the same float32
 * Gram, LAPACK's Cholesky): for a system too ill-conditioned for the
 * float32 factorization (condition number near 1 / (k eps32)), which the
 * float64 path may still solve.  Its solution goes to x (and bias). */
static int solve_lane_f64(const als_cfg *c, als_ws *w, int64_t s, double n,
                          double lam, double tsum, float *x, double *bias) {
  int64_t k = c->k, kp = c->kp, ldg = w->ldg, ldp = w->ldp, i, j;
  int rc;
  build_system(k, kp, (int64_t)n, lam, w->Gf + s * k * ldg, ldg,
               w->bf + s * ldg, w->sf + s * ldg, tsum,
               c->implicit ? c->YtY : NULL, w->A, ldp);
  for (i = 0; i < kp; i++) {
    for (j = i; j < kp; j++) w->S[i * kp + j] = w->A[i * ldp + j];
    w->z[i] = w->A[i * ldp + kp];
  }
  if ((rc = chol_solve(kp, w->S, w->z)) != CLEARN_OK) return rc;
  for (j = 0; j < k; j++) x[j] = (float)w->z[j];
  if (kp > k) *bias = w->z[k];
  return CLEARN_OK;
}

/* The exact solve of up to LANES rows (rows[0 .. nr)), each a lane of one
 * factorization; rows without ratings get 0 (as in solve_row).  pf, n_pf:
 * rated rows of the row solved after these, prefetched during the last
 * chunk.  Returns the index in rows of the first row whose system is not
 * positive definite, or -1. */
static int64_t solve_lanes(const als_cfg *c, als_ws *w, const lane_row *rows,
                           int64_t nr, const float *other, const double *obias,
                           const int32_t *pf, int64_t n_pf) {
  int64_t k = c->k, kp = c->kp, s, j;
  double n[LANES], lam[LANES], tsum[LANES];
  unsigned active = 0, bad;
  for (s = 0; s < nr; s++) {
    const lane_row *q = &rows[s];
    int last = s + 1 == nr;
    n[s] = (double)q->n;
    if (q->n == 0) {
      memset(q->x, 0, (size_t)k * sizeof(float));
      if (kp > k) *q->bias = 0;
      continue;
    }
    lam[s] = row_lam(c->reg, c->weighted, c->rexp,
                     reg_count(c->implicit, q->val, q->n));
    gram_rows(c, w, s, q->idx, q->val, q->n, other, obias,
              last ? pf : rows[s + 1].idx, last ? n_pf : rows[s + 1].n,
              &tsum[s]);
    active |= 1u << s;
  }
  if (!active) return -1;
  build8(c, w, active, n, lam, tsum);
  bad = chol8(kp, w->pr, w->ld8, w->A8, w->x8, w->inv8);
  for (s = 0; s < nr; s++) {
    if (!((active >> s) & 1)) continue;
    if ((bad >> s) & 1) {
      if (solve_lane_f64(c, w, s, n[s], lam[s], tsum[s], rows[s].x,
                         rows[s].bias) != CLEARN_OK)
        return s;
      continue;
    }
    for (j = 0; j < k; j++) rows[s].x[j] = w->x8[j * LANES + s];
    if (kp > k) *rows[s].bias = (double)w->x8[k * LANES + s];
  }
  return -1;
}

/* solve_row for c->fast: same system, same result up to rounding.  pf,
 * n_pf: rated rows of the row solved next, prefetched during the last
 * chunk. */
static int solve_row_fast(const als_cfg *c, als_ws *w, const int32_t *idx,
                          const float *val, int64_t n, const float *other,
                          const double *obias, float *xrow, double *bias,
                          const int32_t *pf, int64_t n_pf) {
  lane_row q;
  if (c->cg) return cg_row_fast(c, w, idx, val, n, other, obias, xrow, bias);
  q.idx = idx;
  q.val = val;
  q.n = n;
  q.x = xrow;
  q.bias = bias;
  return solve_lanes(c, w, &q, 1, other, obias, pf, n_pf) < 0 ? CLEARN_OK
                                                              : CLEARN_ENUMERIC;
}

/* out[r] = F[idx[r]] . b for r < n, in float64 (products exact as in
 * dot_dt) for float32 rows of F (k long) and a float64 b padded with
 * zeros to whole vectors of 8; the rows are prefetched ahead. */
AVX512_FN static void dots_wide_512(const float *F, int64_t k,
                                    const int32_t *idx, int64_t n,
                                    const double *b, double *out) {
  int64_t r, j;
  for (r = 0; r < n; r++) {
    const float *a = F + (size_t)idx[r] * (size_t)k;
    __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
    if (r + PREFETCH_AHEAD < n)
      prefetch_row(F + (size_t)idx[r + PREFETCH_AHEAD] * (size_t)k, k, 1);
    for (j = 0; j + 16 <= k; j += 16) {
      __m512 v = _mm512_loadu_ps(a + j);
      acc0 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(v)),
                             _mm512_load_pd(b + j), acc0);
      acc1 =
          _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_castpd_ps(
                              _mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))),
                          _mm512_load_pd(b + j + 8), acc1);
    }
    for (; j < k; j += 8) {
      __mmask8 m = k - j >= 8 ? 0xFF : (__mmask8)((1u << (k - j)) - 1);
      acc0 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(
                                 _mm512_maskz_loadu_ps((__mmask16)m, a + j))),
                             _mm512_load_pd(b + j), acc0);
    }
    out[r] = _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1));
  }
}

/* dots_wide_512 with 4-double vectors, on CPUs with AVX2 and FMA. */
AVX2_FN static void dots_wide_256(const float *F, int64_t k, const int32_t *idx,
                                  int64_t n, const double *b, double *out) {
  int64_t r, j;
  for (r = 0; r < n; r++) {
    const float *a = F + (size_t)idx[r] * (size_t)k;
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
    double t[4];
    if (r + PREFETCH_AHEAD < n)
      prefetch_row(F + (size_t)idx[r + PREFETCH_AHEAD] * (size_t)k, k, 1);
    for (j = 0; j + 8 <= k; j += 8) {
      acc0 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(a + j)),
                             _mm256_load_pd(b + j), acc0);
      acc1 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(a + j + 4)),
                             _mm256_load_pd(b + j + 4), acc1);
    }
    _mm256_storeu_pd(t, _mm256_add_pd(acc0, acc1));
    out[r] = (t[0] + t[1]) + (t[2] + t[3]);
    for (; j < k; j++) out[r] += (double)a[j] * b[j];
  }
}

/* out[r] = F[idx[r]] . b as dots_wide_512 says, with AVX-512 or AVX2. */
static void dots_wide(const float *F, int64_t k, const int32_t *idx, int64_t n,
                      const double *b, double *out) {
  if (clearn__avx512_ok())
    dots_wide_512(F, k, idx, n, b, out);
  else
    dots_wide_256(F, k, idx, n, b, out);
}

/* Whether recommend scores with the AVX-512 kernels. */
static int wide_ok(clearn_dtype dt) {
  return dt == CLEARN_FLOAT32 && clearn__avx512_ok();
}

/* Whether train_terms's dots may take dots_wide. */
static int dots_ok(clearn_dtype dt) {
  return dt == CLEARN_FLOAT32 && (clearn__avx512_ok() || clearn__avx2_ok());
}

/* ---- exact solve on AVX2 + FMA ----------------------------------------------
 * On CPUs with AVX2 but not AVX-512, the exact solve (float32) forms each
 * row's Gram matrix and right-hand side with 8-float vectors, reading the
 * rated rows in place, instead of gathering them and calling SSYRK and
 * SGEMV: at rank 64 on ml-1m the gather and SSYRK's packing took a fifth
 * of the fit, the SSYRK kernel a little more.  The rows are swept in
 * chunks that stay in L1, once per tile of the Gram's upper triangle (up
 * to G8_TR = 6 rows by 16 columns: 12 accumulators, with two loads and a
 * broadcast within AVX2's 16 registers); the right-hand side and the bias
 * column (a constant 1) take one more sweep per 8 columns.  The system is
 * then built in float64 as on the generic path and solved by
 * chol_solve_256 (or NNLS); a system the float32 sums leave not positive
 * definite is summed again in float64 (system_f64).  c->g8 says this path
 * runs. */

/* G[i0 + t][j0 + 8 c] (+)= sum over the chunk's m rows (rp) of
 * y[i0 + t] y[j0 + 8 c ..], for t < TR, c < NC; the last block under tm
 * when masked.  first: store instead of add. */
AVX2_INLINE void g8_tile(const float *const *rp, int64_t m, int64_t i0,
                         int64_t j0, __m256i tm, int masked, float *G,
                         int64_t ldg, int first, const int TR, const int NC) {
  __m256 acc[6][2];
  int64_t r;
  int t, q;
  for (t = 0; t < TR; t++)
    for (q = 0; q < NC; q++) acc[t][q] = _mm256_setzero_ps();
  for (r = 0; r < m; r++) {
    const float *y = rp[r];
    __m256 yj[2];
    for (q = 0; q < NC; q++)
      yj[q] = masked && q == NC - 1 ? _mm256_maskload_ps(y + j0 + 8 * q, tm)
                                    : _mm256_loadu_ps(y + j0 + 8 * q);
    for (t = 0; t < TR; t++) {
      __m256 b = _mm256_broadcast_ss(y + i0 + t);
      for (q = 0; q < NC; q++) acc[t][q] = _mm256_fmadd_ps(b, yj[q], acc[t][q]);
    }
  }
  for (t = 0; t < TR; t++)
    for (q = 0; q < NC; q++) {
      float *g = G + (i0 + t) * ldg + j0 + 8 * q;
      __m256i mk = masked && q == NC - 1 ? tm : _mm256_set1_epi32(-1);
      __m256 v = first ? acc[t][q]
                       : _mm256_add_ps(acc[t][q], _mm256_maskload_ps(g, mk));
      _mm256_maskstore_ps(g, mk, v);
    }
}

/* The Gram tiles of one chunk (g8_tile for each); meanwhile the rows of
 * F at pf[0 .. n_pf) (the next chunk's) go to L1, spread over the tiles. */
AVX2_FN static void g8_tiles(const float *const *rp, int64_t m, int64_t k,
                             float *G, int64_t ldg, int first, const float *F,
                             const int32_t *pf, int64_t n_pf) {
  __m256i tm = tail8(k);
  int64_t nb = (k + 7) / 8, i0, b0, tiles = 0, per;
  for (i0 = 0; i0 < k; i0 += G8_TR) tiles += (nb - i0 / 8 + 1) / 2;
  per = (n_pf + tiles - 1) / tiles;
  for (i0 = 0; i0 < k; i0 += G8_TR) {
    int tr = k - i0 < G8_TR ? (int)(k - i0) : G8_TR;
    for (b0 = i0 / 8; b0 < nb; b0 += 2) {
      int nc = nb - b0 < 2 ? (int)(nb - b0) : 2,
          masked = b0 + nc == nb && k % 8 != 0;
      int64_t q;
      for (q = 0; q < per && n_pf > 0; q++, n_pf--)
        prefetch_row(F + (size_t)*pf++ * (size_t)k, k, 1);
#define G8T(TR, NC)                                                            \
  g8_tile(rp, m, i0, 8 * b0, tm, masked, G, ldg, first, TR, NC)
#define G8R(TR)                                                                \
  do {                                                                         \
    if (nc == 2)                                                               \
      G8T(TR, 2);                                                              \
    else                                                                       \
      G8T(TR, 1);                                                              \
  } while (0)
      switch (tr) {
      case 6:
        G8R(6);
        break;
      case 5:
        G8R(5);
        break;
      case 4:
        G8R(4);
        break;
      case 3:
        G8R(3);
        break;
      case 2:
        G8R(2);
        break;
      default:
        G8R(1);
        break;
      }
#undef G8R
#undef G8T
    }
  }
}

/* acc += sum over the chunk's m rows (rp) of s_r y_r, for the 8-float
 * block j (the last, of nb, under tm): two accumulators, alternate rows. */
AVX2_INLINE __m256 g8_axpy(const float *const *rp, const float *s, int64_t m,
                           int64_t j, int64_t nb, __m256i tm, __m256 acc) {
  __m256 a1 = _mm256_setzero_ps();
  int64_t r;
  for (r = 0; r + 1 < m; r += 2) {
    acc = _mm256_fmadd_ps(_mm256_set1_ps(s[r]), ld8(rp[r], (int)j, (int)nb, tm),
                          acc);
    a1 = _mm256_fmadd_ps(_mm256_set1_ps(s[r + 1]),
                         ld8(rp[r + 1], (int)j, (int)nb, tm), a1);
  }
  if (r < m)
    acc = _mm256_fmadd_ps(_mm256_set1_ps(s[r]), ld8(rp[r], (int)j, (int)nb, tm),
                          acc);
  return _mm256_add_ps(acc, a1);
}

/* The row's float32 Gram (upper triangle, w->G, kp x kp) and float64
 * right-hand side (w->z) from its n ratings, as the generic path forms
 * them: implicit feedback weighs the Gram's terms by alpha |r| (the rows
 * scaled by its square root into w->Yc). */
AVX2_FN static void g8_system(const als_cfg *c, als_ws *w, const int32_t *idx,
                              const float *val, int64_t n, const float *F,
                              const double *obias, const int32_t *pf,
                              int64_t n_pf) {
  int64_t k = c->k, kp = c->kp, nb = (k + 7) / 8, r0, r, j, q;
  __m256i tm = tail8(k);
  float *G = w->G, *z = w->bf, *cs = w->sf, tv[G8_CHUNK], wv[G8_CHUNK];
  double zt = 0, sw = 0;
  for (r0 = 0; r0 < n; r0 += G8_CHUNK) {
    int64_t m = n - r0 < G8_CHUNK ? n - r0 : G8_CHUNK;
    const float *rp[G8_CHUNK], *yp[G8_CHUNK];
    for (r = 0; r < m; r++) {
      const float *y = F + (size_t)idx[r0 + r] * (size_t)k;
      tv[r] = (float)target(c, val[r0 + r], obias, idx[r0 + r]);
      wv[r] = c->implicit ? (float)(c->alpha * fabs((double)val[r0 + r])) : 1;
      yp[r] = rp[r] = y;
      if (c->implicit) {
        __m256 s = _mm256_set1_ps(sqrtf(wv[r]));
        for (j = 0; j < nb; j++)
          _mm256_maskstore_ps(w->Yc + r * k + 8 * j,
                              j == nb - 1 ? tm : _mm256_set1_epi32(-1),
                              _mm256_mul_ps(s, ld8(y, (int)j, (int)nb, tm)));
        rp[r] = w->Yc + r * k;
      }
      zt += tv[r];
      sw += wv[r];
    }
    /* prefetched meanwhile: the next chunk, or the next row's first */
    if (r0 + m < n)
      g8_tiles(rp, m, k, G, kp, r0 == 0, F, idx + r0 + m,
               n - r0 - m < G8_CHUNK ? n - r0 - m : G8_CHUNK);
    else
      g8_tiles(rp, m, k, G, kp, r0 == 0, F, pf,
               n_pf < G8_CHUNK ? n_pf : G8_CHUNK);
    /* the right-hand side and (biases) the weighted column sums */
    for (j = 0; j < nb; j++) {
      __m256 a = r0 == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(z + 8 * j);
      _mm256_storeu_ps(z + 8 * j, g8_axpy(yp, tv, m, j, nb, tm, a));
      if (kp > k) {
        a = r0 == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(cs + 8 * j);
        _mm256_storeu_ps(cs + 8 * j, g8_axpy(yp, wv, m, j, nb, tm, a));
      }
    }
  }
  for (q = 0; q < k; q++) {
    w->z[q] = z[q];
    if (kp > k) G[q * kp + k] = cs[q];
  }
  if (kp > k) {
    w->z[k] = zt;
    G[k * kp + k] = (float)sw;
  }
}

/* chol_solve for g8's systems: S (p x p, row-major upper triangle, rows
 * of ld doubles, ld a multiple of 4 and S 32-byte aligned; columns p .. ld
 * zero, as are b's entries there and each row's entries from its diagonal
 * down to a multiple of 4) = U^T U, right-looking, four pivot rows per
 * sweep: each trailing row's segment is loaded and stored once per four
 * rank-1 updates, whole aligned 4-double vectors from the multiple of 4 at
 * or below the diagonal (what lands below it is never read as U).  Then
 * the two triangular solves.  LAPACK's dpotrf and dtrsv cost several
 * times its flops at these sizes. */
AVX2_FN static int chol_solve_256(int64_t p, int64_t ld, double *S, double *b) {
  int64_t i0, i, r, c, q;
  for (i0 = 0; i0 < p; i0 += 4) {
    int64_t nb = p - i0 < 4 ? p - i0 : 4;
    const double *u[4];
    for (i = i0; i < i0 + nb; i++) { /* the block's own rows */
      double *v = S + i * ld, d = v[i];
      __m256d f;
      if (!(d > 0))
        return clearn__err(CLEARN_ENUMERIC,
                           "cholesky: matrix is not positive definite "
                           "(leading minor %d)",
                           (int)(i + 1));
      d = sqrt(d);
      v[i] = d;
      for (c = i + 1; c < ((i + 4) & ~(int64_t)3); c++) v[c] /= d;
      f = _mm256_set1_pd(1.0 / d);
      for (; c < ld; c += 4)
        _mm256_store_pd(v + c, _mm256_mul_pd(f, _mm256_load_pd(v + c)));
      for (r = i + 1; r < i0 + nb; r++) {
        double *a = S + r * ld;
        f = _mm256_set1_pd(v[r]);
        for (c = r & ~(int64_t)3; c < ld; c += 4)
          _mm256_store_pd(a + c, _mm256_fnmadd_pd(f, _mm256_load_pd(v + c),
                                                  _mm256_load_pd(a + c)));
      }
    }
    for (q = 0; q < 4; q++) u[q] = S + (i0 + (q < nb ? q : 0)) * ld;
    for (r = i0 + nb; r < p; r++) { /* the trailing rows, by all nb */
      double *a = S + r * ld;
      __m256d f0 = _mm256_set1_pd(u[0][r]),
              f1 = _mm256_set1_pd(nb > 1 ? u[1][r] : 0),
              f2 = _mm256_set1_pd(nb > 2 ? u[2][r] : 0),
              f3 = _mm256_set1_pd(nb > 3 ? u[3][r] : 0);
      for (c = r & ~(int64_t)3; c < ld; c += 4) {
        __m256d t = _mm256_load_pd(a + c);
        t = _mm256_fnmadd_pd(f0, _mm256_load_pd(u[0] + c), t);
        t = _mm256_fnmadd_pd(f1, _mm256_load_pd(u[1] + c), t);
        t = _mm256_fnmadd_pd(f2, _mm256_load_pd(u[2] + c), t);
        t = _mm256_fnmadd_pd(f3, _mm256_load_pd(u[3] + c), t);
        _mm256_store_pd(a + c, t);
      }
    }
  }
  for (i = 0; i < p; i++) { /* U^T y = b */
    const double *v = S + i * ld;
    __m256d f;
    b[i] /= v[i];
    for (c = i + 1; c < ((i + 4) & ~(int64_t)3); c++) b[c] -= v[c] * b[i];
    f = _mm256_set1_pd(b[i]);
    for (; c < ld; c += 4)
      _mm256_store_pd(b + c, _mm256_fnmadd_pd(f, _mm256_load_pd(v + c),
                                              _mm256_load_pd(b + c)));
  }
  for (i = p - 1; i >= 0; i--) { /* U x = y */
    const double *v = S + i * ld;
    __m256d t4 = _mm256_setzero_pd();
    double t = b[i], h[4];
    for (c = i + 1; c < ((i + 4) & ~(int64_t)3); c++) t -= v[c] * b[c];
    for (; c < ld; c += 4)
      t4 = _mm256_fmadd_pd(_mm256_load_pd(v + c), _mm256_load_pd(b + c), t4);
    _mm256_storeu_pd(h, t4);
    b[i] = (t - ((h[0] + h[1]) + (h[2] + h[3]))) / v[i];
  }
  return CLEARN_OK;
}

/* 1: the AVX-512 kernels; 2: CG's AVX2 ones; 0: the BLAS/LAPACK path (or
 * g8_system's Gram, g8_ok). */
static int fast_path_ok(const als_cfg *c) {
  if (c->nonneg || c->kp > 256 || c->dt != CLEARN_FLOAT32) return 0;
  if (clearn__avx512_ok()) return 1;
  return c->cg && clearn__avx2_ok() ? 2 : 0;
}

/* Whether the exact solve forms its systems with g8_system. */
static int g8_ok(const als_cfg *c) {
  return !c->fast && !c->cg && c->kp <= 256 && c->dt == CLEARN_FLOAT32 &&
         clearn__avx2_ok();
}
#else
static int solve_row_fast(const als_cfg *c, als_ws *w, const int32_t *idx,
                          const float *val, int64_t n, const float *other,
                          const double *obias, float *xrow, double *bias,
                          const int32_t *pf, int64_t n_pf) {
  (void)c, (void)w, (void)idx, (void)val, (void)n, (void)other, (void)obias;
  (void)xrow, (void)bias, (void)pf, (void)n_pf;
  return CLEARN_EUNSUPPORTED;
}

static int wide_ok(clearn_dtype dt) {
  (void)dt;
  return 0;
}

static int fast_path_ok(const als_cfg *c) {
  (void)c;
  return 0;
}

static int g8_ok(const als_cfg *c) {
  (void)c;
  return 0;
}

static int chol_solve_256(int64_t p, int64_t ld, double *S, double *b) {
  (void)p, (void)ld, (void)S, (void)b;
  return CLEARN_EUNSUPPORTED;
}

static void g8_system(const als_cfg *c, als_ws *w, const int32_t *idx,
                      const float *val, int64_t n, const float *F,
                      const double *obias, const int32_t *pf, int64_t n_pf) {
  (void)c, (void)w, (void)idx, (void)val, (void)n, (void)F, (void)obias;
  (void)pf, (void)n_pf;
}

static void dots_wide(const float *F, int64_t k, const int32_t *idx, int64_t n,
                      const double *b, double *out) {
  (void)F, (void)k, (void)idx, (void)n, (void)b, (void)out;
}

static int dots_ok(clearn_dtype dt) {
  (void)dt;
  return 0;
}

static int heavy_cg(const als_cfg *c, int64_t n) {
  (void)c, (void)n;
  return 0;
}

static int heavy_cg_team(const als_cfg *c, const int64_t *rows,
                         const int *owner, int64_t nh, int me,
                         const int64_t *ptr, const int32_t *idx,
                         const float *val, const float *F, const double *obias,
                         float *X, double *xbias) {
  (void)c, (void)rows, (void)owner, (void)nh, (void)me, (void)ptr, (void)idx;
  (void)val, (void)F, (void)obias, (void)X, (void)xbias;
  return CLEARN_EUNSUPPORTED;
}
#endif

/* The row stride of solve_row's system w->A: kp, or for chol_solve_256
 * kp rounded up to a multiple of 4 (its padding zero). */
static int64_t sys_ld(const als_cfg *c) {
  return c->g8 && !c->nonneg ? (c->kp + 3) & ~(int64_t)3 : c->kp;
}

/* solve_row's last step: w->A x = w->z (w->A kp x kp, upper triangle,
 * rows of sys_ld; it is destroyed), exactly or under x >= 0; the solution
 * into w->z. */
static int solve_system(const als_cfg *c, als_ws *w) {
  int64_t kp = c->kp;
  int rc;
  if (!c->nonneg && c->g8) return chol_solve_256(kp, sys_ld(c), w->A, w->z);
  if (!c->nonneg) return chol_solve(kp, w->A, w->z);
  memcpy(w->p, w->z, (size_t)kp * sizeof(double));
  rc = nnls(kp, c->k, w->A, w->p, w, w->x);
  if (rc == CLEARN_OK) memcpy(w->z, w->x, (size_t)kp * sizeof(double));
  return rc;
}

/* solve_row's system (w->A's upper triangle, w->z) summed in float64
 * straight from the float32 factor rows of F: the Gram of the design rows
 * [y, 1] (implicit: weighted by alpha |r|, plus Y^T Y), the ridge lam, and
 * the right-hand side. */
static void system_f64(const als_cfg *c, als_ws *w, const int32_t *idx,
                       const float *val, int64_t n, const float *F,
                       const double *obias, double lam) {
  int64_t k = c->k, kp = c->kp, ld = sys_ld(c), r, i, j;
  double *A = w->A, *z = w->z;
  memset(A, 0, (size_t)(kp * ld) * sizeof(double));
  memset(z, 0, (size_t)ld * sizeof(double));
  for (r = 0; r < n; r++) {
    const float *y = F + (size_t)idx[r] * (size_t)k;
    double t = target(c, val[r], obias, idx[r]),
           wr = c->implicit ? c->alpha * fabs((double)val[r]) : 1.0;
    for (i = 0; i < k; i++) {
      double wy = wr * y[i];
      for (j = i; j < k; j++) A[i * ld + j] += wy * y[j];
      if (kp > k) A[i * ld + k] += wy;
      z[i] += t * y[i];
    }
    if (kp > k) {
      A[k * ld + k] += wr;
      z[k] += t;
    }
  }
  for (i = 0; i < kp; i++) {
    if (c->implicit)
      for (j = i; j < k; j++) A[i * ld + j] += c->YtY[i * k + j];
    A[i * ld + i] += lam;
  }
}

/* Solve one row: its n ratings (idx into the other side, values val)
 * against the other side's factors `other` (and biases obias, NULL unless
 * biased).  xrow (k, dtype) and *bias are overwritten with the solution;
 * CG reads them first as its warm start.  A pure function of its inputs. */
static int solve_row(const als_cfg *c, als_ws *w, const int32_t *idx,
                     const float *val, int64_t n, const void *other,
                     const double *obias, void *xrow, double *bias,
                     const int32_t *pf, int64_t n_pf) {
  int64_t k = c->k, kp = c->kp, i, j, ld;
  double lam = row_lam(c->reg, c->weighted, c->rexp,
                       reg_count(c->implicit, val, n));
  int rc;
  if (n == 0) {
    /* A row without ratings (an HDF5 ratings file may list such ids): no
     * data term, so the minimum-norm solution is 0 -- also with
     * weighted_reg, whose penalty vanishes there (w = 0) and would leave a
     * singular system. */
    memset(xrow, 0, (size_t)k * c->es);
    if (kp > k) *bias = 0;
    return CLEARN_OK;
  }
  if (c->fast)
    return solve_row_fast(c, w, idx, val, n, other, obias, xrow, bias, pf,
                          n_pf);
  if (c->g8) {
    g8_system(c, w, idx, val, n, other, obias, pf, n_pf);
    goto solve;
  }
  for (i = 0; i < n; i++) {
    char *dst = (char *)w->Y + (size_t)(i * kp) * c->es;
    memcpy(dst, row_ptr(other, idx[i], k, c->es), (size_t)k * c->es);
    if (kp > k) {
      if (c->dt == CLEARN_FLOAT32)
        ((float *)dst)[k] = 1.0f;
      else
        ((double *)dst)[k] = 1.0;
    }
  }
  for (i = 0; i < n; i++) {
    if (c->implicit) w->wt[i] = c->alpha * fabs((double)val[i]);
    w->t[i] = target(c, val[i], obias, idx[i]);
  }
  from_f64(w->t, n, w->tv, c->dt);
  if ((rc = gemv_t_dt(c->dt, n, kp, w->Y, kp, w->tv, w->oT)) != CLEARN_OK)
    return rc;
  to_f64(w->oT, c->dt, kp, w->z);
  if (c->cg) {
    cg_row(c, w, n, lam, xrow, bias);
    return CLEARN_OK;
  }
  if (c->implicit) /* rows scaled by sqrt(c - 1) for the confidence term */
    for (i = 0; i < n; i++) {
      double s = sqrt(w->wt[i]);
      if (c->dt == CLEARN_FLOAT32) {
        float *y = (float *)w->Y + i * kp;
        for (j = 0; j < kp; j++) y[j] = (float)(s * y[j]);
      } else {
        double *y = (double *)w->Y + i * kp;
        for (j = 0; j < kp; j++) y[j] *= s;
      }
    }
  if ((rc = syrk_dt(c->dt, n, kp, w->Y, kp, w->G)) != CLEARN_OK) return rc;
solve:
  ld = sys_ld(c);
  for (i = 0; i < kp; i++) {
    for (j = i & ~(int64_t)3; j < i && c->g8 && !c->nonneg; j++)
      w->A[i * ld + j] = 0;
    for (j = i; j < kp; j++) {
      double g = c->dt == CLEARN_FLOAT32 ? ((const float *)w->G)[i * kp + j]
                                         : ((const double *)w->G)[i * kp + j];
      if (c->implicit) g += c->YtY[i * kp + j];
      w->A[i * ld + j] = g;
    }
    for (; j < ld; j++) w->A[i * ld + j] = 0;
    w->A[i * ld + i] += lam;
  }
  for (j = kp; j < ld; j++) w->z[j] = 0;
  rc = solve_system(c, w);
  if (rc != CLEARN_OK && c->g8) {
    /* g8_system's float32 sums round differently from SSYRK's; a system
     * they leave not positive definite is formed again in float64 */
    system_f64(c, w, idx, val, n, (const float *)other, obias, lam);
    rc = solve_system(c, w);
  }
  if (rc != CLEARN_OK) return rc;
  from_f64(w->z, k, xrow, c->dt);
  if (kp > k) *bias = w->z[k];
  return CLEARN_OK;
}

/* ---- whole-side operations ----------------------------------------------- */

#define GRAM_BLOCK 4096

/* G (k x k, full, float64) = F^T F over n rows: SYRK per fixed block of
 * rows (in parallel), partial Grams summed in block order. */
static int gram(const void *F, int64_t n, int64_t k, clearn_dtype dt, int nt,
                double *G) {
  int64_t nb = (n + GRAM_BLOCK - 1) / GRAM_BLOCK, b, i, j;
  size_t es = clearn_dtype_size(dt);
  void *part = clearn__malloc((size_t)(nb > 0 ? nb : 1) * (size_t)(k * k), es);
  if (part == NULL) return clearn__err(CLEARN_ENOMEM, "als: out of memory");
#pragma omp parallel for num_threads(nt) schedule(static)
  for (b = 0; b < nb; b++) {
    int64_t r0 = b * GRAM_BLOCK, rn = n - r0 < GRAM_BLOCK ? n - r0 : GRAM_BLOCK;
    syrk_dt(dt, rn, k, row_ptr(F, r0, k, es), k,
            (char *)part + (size_t)(b * k * k) * es);
  }
  memset(G, 0, (size_t)(k * k) * sizeof(double));
  for (b = 0; b < nb; b++) {
    const char *pb = (const char *)part + (size_t)(b * k * k) * es;
    for (i = 0; i < k; i++)
      for (j = i; j < k; j++)
        G[i * k + j] += dt == CLEARN_FLOAT32
                            ? (double)((const float *)pb)[i * k + j]
                            : ((const double *)pb)[i * k + j];
  }
  for (i = 0; i < k; i++)
    for (j = 0; j < i; j++) G[i * k + j] = G[j * k + i];
  free(part);
  return CLEARN_OK;
}

/* Update every row of one side in parallel.  On failure *bad is the
 * smallest failing row (the same whatever the thread count). */
static int half_step(const als_cfg *c, int nt, int64_t n_rows,
                     const int64_t *ptr, const int32_t *idx, const float *val,
                     const void *other, const double *obias, void *X,
                     double *xbias, int64_t cap, int64_t *bad) {
  int row_rc = CLEARN_OK, nomem = 0, *owner = NULL;
  int64_t first_bad = n_rows, nh = 0, r, *heavy = NULL;
  als_cfg cf;
  float *ytyf = NULL;
  if (c->fast && c->cg && c->implicit) {
    /* the fast CG steps add YtY p in float32 (add_yty) */
    int64_t k = c->k, ldg = (k + 15) & ~(int64_t)15, j;
    if (posix_memalign((void **)&ytyf, 64, (size_t)(k * ldg) * sizeof(float)) !=
        0)
      return CLEARN_ENOMEM;
    for (r = 0; r < k; r++)
      for (j = 0; j < ldg; j++)
        ytyf[r * ldg + j] = j < k ? (float)c->YtY[r * k + j] : 0.0f;
    cf = *c;
    cf.YtYf = ytyf;
    c = &cf;
  }
  /* CG's heavy rows run in lockstep after the others (heavy_cg_rows) */
  for (r = 0; r < n_rows; r++) nh += heavy_cg(c, ptr[r + 1] - ptr[r]);
  if (nh > 0) {
    heavy = malloc((size_t)nh * sizeof *heavy);
    owner = malloc((size_t)nh * sizeof *owner);
    if (heavy == NULL || owner == NULL) {
      free(heavy);
      free(owner);
      free(ytyf);
      return CLEARN_ENOMEM;
    }
    for (r = 0, nh = 0; r < n_rows; r++)
      if (heavy_cg(c, ptr[r + 1] - ptr[r])) heavy[nh++] = r;
  }
#pragma omp parallel num_threads(nt)
  {
    als_ws w;
    int64_t r;
    int wrc = ws_alloc(&w, c, cap);
    if (wrc != CLEARN_OK) {
#pragma omp atomic write
      nomem = 1;
    }
#if ALS_AVX512
    if (c->fast && !c->cg) {
      /* the exact fast path: LANES consecutive rows per factorization */
      int64_t g, n_groups = (n_rows + LANES - 1) / LANES;
#pragma omp for schedule(dynamic, 2)
      for (g = 0; g < n_groups; g++) {
        lane_row q[LANES];
        int64_t r0 = g * LANES, nr = n_rows - r0 < LANES ? n_rows - r0 : LANES;
        int64_t nx = r0 + nr < n_rows ? r0 + nr : r0, s;
        if (wrc != CLEARN_OK) continue;
        for (s = 0; s < nr; s++) {
          r = r0 + s;
          q[s].idx = idx + ptr[r];
          q[s].val = val + ptr[r];
          q[s].n = ptr[r + 1] - ptr[r];
          q[s].x = (float *)X + r * c->k;
          q[s].bias = xbias ? &xbias[r] : NULL;
        }
        s = solve_lanes(c, &w, q, nr, other, obias, idx + ptr[nx],
                        nx > r0 ? ptr[nx + 1] - ptr[nx] : 0);
        if (s >= 0) {
#pragma omp critical
          if (r0 + s < first_bad) {
            first_bad = r0 + s;
            row_rc = CLEARN_ENUMERIC;
          }
        }
      }
    } else
#endif
#pragma omp for schedule(dynamic, 16)
    for (r = 0; r < n_rows; r++) {
      /* the next row's ratings, for the fast path to prefetch */
      int64_t nx = r + 1 < n_rows ? r + 1 : r;
      int e;
      if (wrc != CLEARN_OK || heavy_cg(c, ptr[r + 1] - ptr[r])) continue;
      e = solve_row(c, &w, idx + ptr[r], val + ptr[r], ptr[r + 1] - ptr[r],
                    other, obias, row_ptr(X, r, c->k, c->es),
                    xbias ? &xbias[r] : NULL, idx + ptr[nx],
                    nx > r ? ptr[nx + 1] - ptr[nx] : 0);
      if (e != CLEARN_OK) {
#pragma omp critical
        if (r < first_bad) {
          first_bad = r;
          row_rc = e;
        }
      }
    }
    if (nh > 0) {
      int e;
#pragma omp single
      {
        /* each heavy row to the thread with the fewest ratings so far */
        int team = omp_get_num_threads(), t;
        int64_t load[64] = {0}, j;
        if (team > 64) team = 64;
        for (j = 0; j < nh; j++) {
          int best = 0;
          for (t = 1; t < team; t++)
            if (load[t] < load[best]) best = t;
          owner[j] = best;
          load[best] += ptr[heavy[j] + 1] - ptr[heavy[j]];
        }
      }
      e = heavy_cg_team(c, heavy, owner, nh, omp_get_thread_num(), ptr, idx,
                        val, other, obias, X, xbias);
      if (e != CLEARN_OK) {
#pragma omp atomic write
        nomem = 1;
      }
    }
    ws_free(&w);
  }
  free(heavy);
  free(owner);
  free(ytyf);
  *bad = first_bad < n_rows ? first_bad : -1;
  return nomem ? CLEARN_ENOMEM : row_rc;
}

/* Prediction for model rows u, i (either may be -1: cold start). */
static double predict_rows(const als_model *m, int64_t u, int64_t i, int cold) {
  if (u >= 0 && i >= 0) {
    double s = dot_dt(row_ptr(m->U, u, m->k, m->es),
                      row_ptr(m->V, i, m->k, m->es), m->k, m->dt);
    if (m->biased) s += m->mu + m->ub[u] + m->ib[i];
    return s;
  }
  if (cold != COLD_MEAN) return NAN;
  return m->mu + (m->biased && u >= 0 ? m->ub[u] : 0.0) +
         (m->biased && i >= 0 ? m->ib[i] : 0.0);
}

/* Per-row terms of the objective (without the 1/nnz) and of the training
 * squared error, over this participant's rows: lu[2 r] = loss, lu[2 r + 1]
 * = squared error of user row r, li[r] = penalty of item row r (r global).
 * They are summed over all rows in row order afterwards, so the totals do
 * not depend on how rows are shared out.  wide: float32 factors with
 * dots_wide available (the same products, summed in another order,
 * several times faster than dot_dt). */
#define WIDE_MAX 256
#define WIDE_BLOCK 256
static void train_terms(const als_model *m, const clearn__rshard *sh,
                        const double *YtY, int wide, int nt, double *lu,
                        double *li) {
  int64_t u, i, k = m->k, u0 = sh->user_off[sh->rank];
  int64_t nu = sh->user_off[sh->rank + 1] - u0, i0 = sh->item_off[sh->rank];
  int64_t ni = sh->item_off[sh->rank + 1] - i0;
  wide = ALS_AVX512 && wide && m->dt == CLEARN_FLOAT32 && k <= WIDE_MAX;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 64)
  for (u = 0; u < nu; u++) {
    int64_t q, q0, g = u0 + u, n = sh->u_ptr[u + 1] - sh->u_ptr[u];
    const void *x = row_ptr(m->U, g, k, m->es);
    double l = 0, e = 0, nx = dot_dt(x, x, k, m->dt), lam;
    double xbuf[WIDE_MAX + 8], dots[WIDE_BLOCK];
    double *xd = (double *)(((uintptr_t)xbuf + 63) & ~(uintptr_t)63);
    const int wd = wide; /* one value for the whole row (OpenMP shares it) */
    if (wd)
      for (q = 0; q < ((k + 15) & ~(int64_t)15); q++)
        xd[q] = q < k ? (double)((const float *)x)[q] : 0;
    for (q0 = sh->u_ptr[u]; q0 < sh->u_ptr[u + 1]; q0 += WIDE_BLOCK) {
      int64_t nb = sh->u_ptr[u + 1] - q0 < WIDE_BLOCK ? sh->u_ptr[u + 1] - q0
                                                      : WIDE_BLOCK;
      /* this block of the user's predictions */
      if (wd) dots_wide(m->V, k, sh->u_idx + q0, nb, xd, dots);
      for (q = q0; q < q0 + nb; q++) {
        int64_t it = sh->u_idx[q];
        double v = sh->u_val[q], pr;
#if ALS_AVX512
        double s = wd ? dots[q - q0]
                      : dot_dt(x, row_ptr(m->V, it, k, m->es), k, m->dt);
#else
        double s = dot_dt(x, row_ptr(m->V, it, k, m->es), k, m->dt);
#endif
        pr = m->biased ? s + m->mu + m->ub[g] + m->ib[it] : s;
        e += (v - pr) * (v - pr);
        if (m->implicit) {
          double cf = 1.0 + m->alpha * fabs(v), pf = v > 0 ? 1.0 : 0.0;
          l += cf * (pf - s) * (pf - s) - s * s;
        }
      }
    }
    if (m->implicit && wd) {
      /* as below, with x in float64 already: t = (Y^T Y) x by columns */
      double tbuf[WIDE_MAX + 8], *t = tbuf;
      int64_t a, b;
      for (b = 0; b < k; b++) t[b] = 0;
      for (a = 0; a < k; a++)
        for (b = 0; b < k; b++) t[b] += YtY[a * k + b] * xd[a];
      for (a = 0; a < k; a++) l += xd[a] * t[a];
    } else if (m->implicit) {
      /* unrated pairs: the sum over all items of s^2 = x^T (Y^T Y) x */
      int64_t a, b;
      for (a = 0; a < k; a++) {
        double t = 0;
        for (b = 0; b < k; b++) t += YtY[a * k + b] * elem(x, m->dt, b);
        l += elem(x, m->dt, a) * t;
      }
    } else {
      l = e;
    }
    lam = row_lam(m->reg, m->weighted, m->rexp,
                  reg_count(m->implicit, sh->u_val + sh->u_ptr[u], n));
    if (m->biased) nx += m->ub[g] * m->ub[g];
    lu[2 * g] = l + lam * nx;
    lu[2 * g + 1] = e;
  }
#pragma omp parallel for num_threads(nt) schedule(static)
  for (i = 0; i < ni; i++) {
    int64_t g = i0 + i;
    const void *y = row_ptr(m->V, g, k, m->es);
    double n = reg_count(m->implicit, sh->i_val + sh->i_ptr[i],
                         sh->i_ptr[i + 1] - sh->i_ptr[i]);
    double ny = dot_dt(y, y, k, m->dt);
    if (m->biased) ny += m->ib[g] * m->ib[g];
    li[g] = row_lam(m->reg, m->weighted, m->rexp, n) * ny;
  }
}

/* Per validation user of this participant (global validation row v):
 * lv[2 v] = squared error, lv[2 v + 1] = ratings scored, with the
 * cold_start policy (exactly as clearn_estimator_score_ratings). */
static void valid_terms(const als_model *m, const clearn__rshard *sh,
                        int cold, int nt, double *lv) {
  int64_t v, v0 = sh->va_off[sh->rank];
  int64_t nv = sh->va_off[sh->rank + 1] - v0;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 64)
  for (v = 0; v < nv; v++) {
    int64_t q, cnt = 0;
    double e = 0;
    for (q = sh->va_ptr[v]; q < sh->va_ptr[v + 1]; q++) {
      double pr = predict_rows(m, sh->va_urow[v], sh->va_irow[q], cold);
      if (isnan(pr) && cold == COLD_DROP) continue;
      e += (pr - sh->va_val[q]) * (pr - sh->va_val[q]);
      cnt++;
    }
    lv[2 * (v0 + v)] = e;
    lv[2 * (v0 + v) + 1] = (double)cnt;
  }
}

static int64_t max_row(const int64_t *ptr, int64_t n) {
  int64_t r, best = 0;
  for (r = 0; r < n; r++)
    if (ptr[r + 1] - ptr[r] > best) best = ptr[r + 1] - ptr[r];
  return best;
}

static int fail_row(int rc, const char *side, int64_t id, double reg) {
  if (rc == CLEARN_ENOMEM)
    return clearn__err(CLEARN_ENOMEM, "als: out of memory for the row "
                                      "workspaces");
  return clearn__err(rc,
                     "als: %s %lld: the row's normal equations are not "
                     "positive definite (reg = %g); use reg > 0",
                     side, (long long)id, reg);
}

/* Exchange wrappers: with ex == NULL (serial) they pass the status on. */
static int ex_gather(const clearn__exchange *ex, void *buf, size_t elem,
                     const int64_t *off, int rc) {
  return ex ? ex->gather(ex->ctx, buf, elem, off, rc) : rc;
}
static int ex_agree(const clearn__exchange *ex, int rc) {
  return ex ? ex->agree(ex->ctx, rc) : rc;
}
static double ex_seconds(const clearn__exchange *ex) {
  return ex ? ex->seconds(ex->ctx) : 0.0;
}

/* Continue from model r: same settings, same users and items, same data
 * (count and global mean, bitwise), then its factors and history. */
static int resume_from(als_model *m, const als_model *r, const als_params *p,
                       const clearn__rshard *sh) {
  const char *what = NULL;
  if (r->k != p->rank)
    what = "rank";
  else if (r->dt != m->dt)
    what = "dtype";
  else if (r->biased != p->biases)
    what = "biases";
  else if (r->implicit != p->implicit)
    what = "implicit";
  else if (r->weighted != p->weighted_reg)
    what = "weighted_reg";
  else if (r->nonneg != p->nonnegative)
    what = "nonnegative";
  else if (r->reg != p->reg)
    what = "reg";
  else if (r->rexp != p->reg_exponent)
    what = "reg_exponent";
  else if (r->alpha != p->alpha)
    what = "alpha";
  if (what)
    return clearn__err(CLEARN_EINVAL,
                       "als: resume: parameter '%s' differs from the one the "
                       "model was fitted with; resuming needs the same "
                       "parameters (only max_iter, tol, num_threads, "
                       "cold_start and train_metrics may change)",
                       what);
  if (r->n_users != sh->n_users || r->n_items != sh->n_items ||
      memcmp(r->user_ids, sh->user_ids,
             (size_t)sh->n_users * sizeof(int64_t)) != 0 ||
      memcmp(r->item_ids, sh->item_ids,
             (size_t)sh->n_items * sizeof(int64_t)) != 0)
    return clearn__err(CLEARN_EINVAL,
                       "als: resume: the model has %lld users and %lld items, "
                       "not the same ids as the training ratings (%lld users, "
                       "%lld items); resume on the data it was fitted on",
                       (long long)r->n_users, (long long)r->n_items,
                       (long long)sh->n_users, (long long)sh->n_items);
  if (r->seen_n != sh->nnz || r->mu != m->mu)
    return clearn__err(CLEARN_EINVAL,
                       "als: resume: the training ratings differ from those "
                       "the model was fitted on (%lld ratings with mean %.17g "
                       "there, %lld with mean %.17g here)",
                       (long long)r->seen_n, r->mu, (long long)sh->nnz, m->mu);
  memcpy(m->U, r->U, (size_t)(r->n_users * r->k) * m->es);
  memcpy(m->V, r->V, (size_t)(r->n_items * r->k) * m->es);
  if (m->biased) {
    memcpy(m->ub, r->ub, (size_t)r->n_users * sizeof(double));
    memcpy(m->ib, r->ib, (size_t)r->n_items * sizeof(double));
  }
  if (r->n_iter > 0)
    memcpy(m->history, r->history,
           (size_t)(r->n_iter * HIST_COLS) * sizeof(double));
  m->n_iter = r->n_iter;
  return CLEARN_OK;
}

/* ---- fit ----------------------------------------------------------------- */

/* solver=gibbs (algorithms/als_gibbs.c): the sweeps from m's initial
 * factors, then m becomes the rank S * k model of the S samples. */
static int gibbs_fit(const als_params *p, const clearn__rshard *sh,
                     const clearn__exchange *ex,
                     const clearn__progress *progress, int nt, als_model *m) {
  clearn__gibbs_cfg g;
  void *U = NULL, *V = NULL;
  int64_t done = 0, S = 0;
  int rc;
  g.k = p->rank;
  g.n_sweeps = p->max_iter;
  g.burn_in = p->burn_in;
  g.reg = p->reg;
  g.rexp = p->reg_exponent;
  g.weighted = p->weighted_reg;
  g.seed = (uint64_t)p->seed;
  g.mu = m->mu;
  g.dt = m->dt;
  g.nt = nt;
  g.cold = p->cold_start;
  g.hist_names = hist_names;
  g.n_hist = HIST_COLS;
  rc = clearn__als_gibbs_run(&g, sh, ex, progress, m->U, m->V, m->history,
                             &done, &U, &V, &S);
  m->n_iter = done;
  if (rc != CLEARN_OK) return rc;
  free(m->U);
  free(m->V);
  m->U = U;
  m->V = V;
  m->k = S * p->rank;
  return CLEARN_OK;
}

/* One fit over a shard (see clearn__rshard): every participant updates its
 * own rows, the exchange copies the updated blocks to all, and the metrics
 * are summed over all rows in row order, so the factors are bitwise the
 * same for any number of participants and any thread count. */
static int als_fit(const void *params, const clearn__rshard *sh,
                   const clearn__exchange *ex,
                   const clearn__progress *progress, const void *resume,
                   const clearn__checkpoint *ckpt, void **out) {
  const als_params *p = params;
  const als_model *rm = resume;
  als_model *m = NULL;
  als_cfg c;
  int blas_prev = -1, rc, stop = 0, converged = 0, nt_u, nt_i, nt_g, nt_e;
  int64_t k = p->rank, u, it, cap, bad = -1, start = 0, hist_rows;
  int64_t me = sh->rank, u0 = sh->user_off[me], i0 = sh->item_off[me];
  int64_t nu = sh->user_off[me + 1] - u0, ni = sh->item_off[me + 1] - i0;
  int64_t nv = 0, *cnt = NULL;
  double *YtY = NULL, *lu = NULL, *li = NULL, *lv = NULL, prev_loss = NAN;
  double *rs = NULL, sum = 0;
  clearn_dtype dt = p->dtype == DT_F64 ? CLEARN_FLOAT64 : CLEARN_FLOAT32;

  *out = NULL;
  /* At fit time, not in als_check: setting max_iter and burn_in one after
   * the other must not fail on the order they come in. */
  if (p->solver == SOLVER_GIBBS && p->burn_in >= p->max_iter)
    return clearn__err(CLEARN_EPARAM,
                       "als: parameter 'burn_in' = %lld must be below "
                       "max_iter = %lld with solver = gibbs (the sweeps "
                       "after the burn-in are the samples)",
                       (long long)p->burn_in, (long long)p->max_iter);
  /* gibbs: a mean-centered model is mu + zero biases + factors */
  rc = model_alloc(k, dt, p->biases || p->solver == SOLVER_GIBBS, sh->n_users,
                   sh->n_items, sh->nnz, &m);
  if (rc == CLEARN_OK) {
    m->implicit = p->implicit;
    m->weighted = p->weighted_reg;
    m->nonneg = p->nonnegative;
    m->reg = p->reg;
    m->rexp = p->reg_exponent;
    m->alpha = p->alpha;
    memcpy(m->user_ids, sh->user_ids, (size_t)sh->n_users * sizeof(int64_t));
    memcpy(m->item_ids, sh->item_ids, (size_t)sh->n_items * sizeof(int64_t));
    hist_rows = rm && rm->n_iter > p->max_iter ? rm->n_iter : p->max_iter;
    if (sh->has_valid) nv = sh->va_off[sh->size];
    m->history = clearn__malloc((size_t)hist_rows * HIST_COLS, sizeof(double));
    YtY = clearn__malloc((size_t)(k * k), sizeof(double));
    lu = clearn__malloc((size_t)(2 * sh->n_users), sizeof(double));
    li = clearn__malloc((size_t)sh->n_items, sizeof(double));
    lv = clearn__malloc((size_t)(2 * (nv > 0 ? nv : 1)), sizeof(double));
    rs = clearn__malloc((size_t)sh->n_users, sizeof(double));
    cnt = clearn__malloc((size_t)sh->n_users, sizeof(int64_t));
    if (!m->history || !YtY || !lu || !li || !lv || !rs || !cnt)
      rc = clearn__err(CLEARN_ENOMEM, "als: out of memory");
  }
  /* Every participant's allocation status, then the global mean (row sums
   * in row order), the training items of every user and their counts. */
  if ((rc = ex_agree(ex, rc)) != CLEARN_OK) goto cleanup;
  for (u = 0; u < nu; u++) {
    int64_t q;
    double s = 0;
    for (q = sh->u_ptr[u]; q < sh->u_ptr[u + 1]; q++) s += sh->u_val[q];
    rs[u0 + u] = s;
    cnt[u0 + u] = sh->u_ptr[u + 1] - sh->u_ptr[u];
  }
  memcpy(m->seen + sh->nnz_off[me], sh->u_idx,
         (size_t)(sh->nnz_off[me + 1] - sh->nnz_off[me]) * sizeof(int32_t));
  rc = ex_gather(ex, rs, sizeof(double), sh->user_off, CLEARN_OK);
  if (rc == CLEARN_OK)
    rc = ex_gather(ex, cnt, sizeof(int64_t), sh->user_off, CLEARN_OK);
  if (rc == CLEARN_OK)
    rc = ex_gather(ex, m->seen, sizeof(int32_t), sh->nnz_off, CLEARN_OK);
  if (rc != CLEARN_OK) goto cleanup;
  for (u = 0; u < sh->n_users; u++) {
    sum += rs[u];
    m->user_sorted[u] = u;
    m->seen_start[u] = u > 0 ? m->seen_start[u - 1] + cnt[u - 1] : 0;
    m->seen_len[u] = cnt[u];
  }
  m->seen_n = sh->nnz;
  m->mu = sum / (double)sh->nnz;

  c.k = k;
  c.kp = k + (p->biases ? 1 : 0);
  c.dt = dt;
  c.es = m->es;
  c.implicit = p->implicit;
  c.weighted = p->weighted_reg;
  c.cg = p->solver == SOLVER_CG;
  c.nonneg = p->nonnegative;
  c.cg_steps = p->cg_steps;
  c.reg = p->reg;
  c.rexp = p->reg_exponent;
  c.alpha = p->alpha;
  c.mu = m->mu;
  c.YtY = YtY;
  c.YtYf = NULL;
  c.fast = fast_path_ok(&c);
  c.g8 = g8_ok(&c);
  {
    /* Team sizes from this participant's share of the work. */
    double kp = (double)c.kp, ru = (double)sh->u_ptr[nu],
           ri = (double)sh->i_ptr[ni];
    double row = c.cg ? 4.0 * kp * (double)c.cg_steps : kp * kp;
    nt_u = als_team(p, ru * row + (double)nu * kp * kp * kp / 3);
    nt_i = als_team(p, ri * row + (double)ni * kp * kp * kp / 3);
    nt_g = als_team(p, (double)(sh->n_users > sh->n_items ? sh->n_users
                                                           : sh->n_items) *
                           kp * kp);
    nt_e = als_team(p, (ru + (sh->has_valid ? (double)sh->va_ptr[sh->va_off[me + 1] - sh->va_off[me]] : 0)) * 2 * kp +
                           (c.implicit ? (double)nu * kp * kp : 0));
  }
  cap = max_row(sh->u_ptr, nu);
  if (max_row(sh->i_ptr, ni) > cap) cap = max_row(sh->i_ptr, ni);

  blas_prev = clearn__blas_serial_begin();
  init_rows(m->U, m->user_ids, m->n_users, k, dt, (uint64_t)p->seed, SIDE_USERS,
            nt_e);
  init_rows(m->V, m->item_ids, m->n_items, k, dt, (uint64_t)p->seed, SIDE_ITEMS,
            nt_e);
  if (rm && p->solver == SOLVER_GIBBS)
    rc = clearn__err(CLEARN_EINVAL,
                     "als: resume: a fit with solver = gibbs cannot resume "
                     "(its model is the average of its samples)");
  else
    rc = rm ? resume_from(m, rm, p, sh) : CLEARN_OK;
  if ((rc = ex_agree(ex, rc)) != CLEARN_OK) goto cleanup;
  if (p->solver == SOLVER_GIBBS) {
    rc = gibbs_fit(p, sh, ex, progress, nt_u > nt_i ? nt_u : nt_i, m);
    goto cleanup;
  }
  if (rm) {
    start = m->n_iter;
    if (start > 0) prev_loss = m->history[(start - 1) * HIST_COLS];
    /* A model that had already converged stays as it is. */
    if (p->tol > 0 && start > 1 &&
        fabs(m->history[(start - 2) * HIST_COLS] - prev_loss) <=
            p->tol * fabs(m->history[(start - 2) * HIST_COLS]))
      converged = stop = 1;
  }

  for (it = start; it < p->max_iter && !stop; it++) {
    double t0 = omp_get_wtime(), c0 = ex_seconds(ex), loss = 0, sse = 0, *h;
    int64_t r;
    /* From the second iteration on, YtY already holds V^T V: the metrics
     * at the end of the previous iteration computed it from this V. */
    if (p->implicit && it == start &&
        (rc = gram(m->V, m->n_items, k, dt, nt_g, YtY)) != CLEARN_OK)
      goto cleanup;
    rc = half_step(&c, nt_u, nu, sh->u_ptr, sh->u_idx, sh->u_val, m->V, m->ib,
                   row_ptr(m->U, u0, k, m->es), m->ub ? m->ub + u0 : NULL, cap,
                   &bad);
    if (rc != CLEARN_OK)
      rc = fail_row(rc, "user", bad >= 0 ? m->user_ids[u0 + bad] : -1, p->reg);
    rc = ex_gather(ex, m->U, (size_t)k * m->es, sh->user_off, rc);
    if (rc == CLEARN_OK && m->biased)
      rc = ex_gather(ex, m->ub, sizeof(double), sh->user_off, rc);
    if (rc != CLEARN_OK) goto cleanup;
    if (p->implicit &&
        (rc = gram(m->U, m->n_users, k, dt, nt_g, YtY)) != CLEARN_OK)
      goto cleanup;
    rc = half_step(&c, nt_i, ni, sh->i_ptr, sh->i_idx, sh->i_val, m->U, m->ub,
                   row_ptr(m->V, i0, k, m->es), m->ib ? m->ib + i0 : NULL, cap,
                   &bad);
    if (rc != CLEARN_OK)
      rc = fail_row(rc, "item", bad >= 0 ? m->item_ids[i0 + bad] : -1, p->reg);
    rc = ex_gather(ex, m->V, (size_t)k * m->es, sh->item_off, rc);
    if (rc == CLEARN_OK && m->biased)
      rc = ex_gather(ex, m->ib, sizeof(double), sh->item_off, rc);
    if (rc != CLEARN_OK) goto cleanup;
    if (p->implicit &&
        (rc = gram(m->V, m->n_items, k, dt, nt_g, YtY)) != CLEARN_OK)
      goto cleanup;
    if (p->train_metrics) {
      train_terms(m, sh, YtY, dots_ok(dt), nt_e, lu, li);
      rc = ex_gather(ex, lu, 2 * sizeof(double), sh->user_off, CLEARN_OK);
      if (rc == CLEARN_OK)
        rc = ex_gather(ex, li, sizeof(double), sh->item_off, CLEARN_OK);
    }
    if (rc == CLEARN_OK && sh->has_valid) {
      valid_terms(m, sh, p->cold_start, nt_e, lv);
      rc = ex_gather(ex, lv, 2 * sizeof(double), sh->va_off, CLEARN_OK);
    }
    if (rc != CLEARN_OK) goto cleanup;
    if (p->train_metrics) {
      for (r = 0; r < sh->n_users; r++) {
        loss += lu[2 * r];
        sse += lu[2 * r + 1];
      }
      for (r = 0; r < sh->n_items; r++) loss += li[r];
      loss /= (double)sh->nnz;
    } else {
      loss = sse = NAN; /* not computed (train_metrics = false) */
    }
    h = m->history + it * HIST_COLS;
    h[0] = loss;
    h[1] = sqrt(sse / (double)sh->nnz);
    h[2] = NAN;
    if (sh->has_valid) {
      double vse = 0, used = 0;
      int any_nan = 0;
      for (r = 0; r < nv; r++) {
        vse += lv[2 * r];
        used += lv[2 * r + 1];
        any_nan |= isnan(lv[2 * r]);
      }
      if (!any_nan && used > 0) h[2] = sqrt(vse / used);
    }
    h[3] = omp_get_wtime() - t0;
    h[4] = ex_seconds(ex) - c0;
    m->n_iter = it + 1;
    if (p->train_metrics && !isfinite(loss)) {
      rc = clearn__err(CLEARN_ENUMERIC,
                       "als: the training loss is not finite after "
                       "iteration %lld; increase reg",
                       (long long)(it + 1));
      goto cleanup;
    }
    if (p->tol > 0 && it > 0 &&
        fabs(prev_loss - loss) <= p->tol * fabs(prev_loss)) {
      converged = 1;
      stop = 1;
    }
    prev_loss = loss;
    if (ckpt && ckpt->every > 0 && (it + 1) % ckpt->every == 0) {
      rc = ex_agree(ex, ckpt->write(ckpt->ctx, m, it + 1));
      if (rc != CLEARN_OK) goto cleanup;
    }
    if (progress && progress->fn &&
        progress->fn(progress->user_data, (int)(it + 1), hist_names, h,
                     HIST_COLS) != 0)
      stop = 1;
    /* Everyone stops if anyone's callback asked to. */
    if (ex) stop = ex->any(ex->ctx, stop);
  }
  if (p->tol > 0 && !converged && !stop)
    rc = clearn__err(CLEARN_ENOTCONVERGED,
                     "als: the train loss still changed by more than tol = "
                     "%g (relative) after max_iter = %lld iterations",
                     p->tol, (long long)p->max_iter);
  else
    rc = CLEARN_OK;

cleanup:
  if (blas_prev >= 0) clearn__blas_serial_end(blas_prev);
  free(YtY);
  free(lu);
  free(li);
  free(lv);
  free(rs);
  free(cnt);
  if (rc != CLEARN_OK && rc != CLEARN_ENOTCONVERGED) {
    als_model_free(m);
    m = NULL;
  }
  *out = m;
  return rc;
}

/* ---- prediction and recommendation --------------------------------------- */

static int als_predict_pairs(const void *params, const void *model,
                             const int64_t *users, const int64_t *items,
                             int64_t n, double *out) {
  const als_params *p = params;
  const als_model *m = model;
  int64_t q;
  int nt = als_team(p, (double)n * (2.0 * (double)m->k + 64));
#pragma omp parallel for num_threads(nt) schedule(static)
  for (q = 0; q < n; q++)
    out[q] = predict_rows(m, user_row(m, users[q]), item_row(m, items[q]),
                          p->cold_start);
  return CLEARN_OK;
}

static int als_drops_cold(const void *params) {
  return ((const als_params *)params)->cold_start == COLD_DROP;
}

typedef struct {
  double s;
  int64_t i;
} scored;

/* a ranks below b: lower score, or equal score and larger index. */
static int worse(const scored *a, const scored *b) {
  return a->s < b->s || (a->s == b->s && a->i > b->i);
}

static void sift_down(scored *h, int64_t n, int64_t at) {
  for (;;) {
    int64_t l = 2 * at + 1, r = l + 1, w = at;
    scored t;
    if (l < n && worse(&h[l], &h[w])) w = l;
    if (r < n && worse(&h[r], &h[w])) w = r;
    if (w == at) return;
    t = h[at];
    h[at] = h[w];
    h[w] = t;
    at = w;
  }
}

/* Push candidate (v, j) into the k-heap of the best (h entries so far,
 * room for kk): while it is not full every candidate goes in, then only
 * one better than its worst (ties: the smaller index is better). */
static void heap_offer(scored *heap, int64_t *h, int64_t kk, double v,
                       int64_t j) {
  scored e;
  e.s = v;
  e.i = j;
  if (*h < kk) {
    int64_t at = (*h)++;
    heap[at] = e;
    while (at > 0 && worse(&heap[at], &heap[(at - 1) / 2])) {
      scored t = heap[at];
      heap[at] = heap[(at - 1) / 2];
      heap[(at - 1) / 2] = t;
      at = (at - 1) / 2;
    }
  } else if (worse(&heap[0], &e)) {
    heap[0] = e;
    sift_down(heap, *h, 0);
  }
}

/* Offer items j0 .. j0 + n - 1, scores d[0 .. n), skipping NaN. */
static void scan_f64(const double *d, int64_t j0, int64_t n, scored *heap,
                     int64_t *h, int64_t kk) {
  int64_t j;
  for (j = 0; j < n && kk > 0; j++)
    if (!isnan(d[j])) heap_offer(heap, h, kk, d[j], j0 + j);
}

/* The heap's h entries best first into ids (mapped through id_of) and
 * sc (may be NULL), k slots, unused ones -1 / NaN.  Empties the heap. */
static void heap_emit(scored *heap, int64_t h, int64_t k, const int64_t *id_of,
                      int64_t *ids, double *sc) {
  int64_t j;
  for (j = h; j < k; j++) {
    ids[j] = -1;
    if (sc) sc[j] = NAN;
  }
  /* Pop the worst to the back: the array ends up best first. */
  while (h > 0) {
    scored t = heap[0];
    heap[0] = heap[--h];
    sift_down(heap, h, 0);
    ids[h] = id_of[t.i];
    if (sc) sc[h] = t.s;
  }
}

/* Top-k of s[0..n) skipping NaN, best first (ties: smaller index first)
 * into ids (mapped through id_of) and sc; unused slots -1 / NaN.  heap has
 * room for k entries. */
static void top_k(const double *s, int64_t n, int64_t k, const int64_t *id_of,
                  scored *heap, int64_t *ids, double *sc) {
  int64_t h = 0;
  scan_f64(s, 0, n, heap, &h, k < n ? k : n);
  heap_emit(heap, h, k, id_of, ids, sc);
}

#if ALS_AVX512
/* scan_f64 for float32 scores s[0 .. n) of items j0 .. j0 + n - 1, the
 * score of item j being s + (base + ib[j]) (ib NULL: s alone), items with
 * skip[j] != 0 left out: the heap gets the same candidates in the same
 * order as scan_f64 on the float64 scores with NaN at the skipped items.
 * Once the heap is full, 8 scores at a time are compared with its worst;
 * only those above it (rare after the first few hundred items) go on. */
AVX512_FN static void scan_f32(const float *s, int64_t j0, int64_t n,
                               double base, const double *ib,
                               const unsigned char *skip, scored *heap,
                               int64_t *h, int64_t kk) {
  int64_t j = 0;
  __m512d vb = _mm512_set1_pd(base);
#define SCORE(t) (ib ? (double)s[t] + (base + ib[j0 + (t)]) : (double)s[t])
  for (; j < n && *h < kk; j++) {
    double v = SCORE(j);
    if (!skip[j0 + j] && !isnan(v)) heap_offer(heap, h, kk, v, j0 + j);
  }
  for (; kk > 0 && j + 8 <= n; j += 8) {
    __m512d v = _mm512_cvtps_pd(_mm256_loadu_ps(s + j));
    __mmask8 above;
    if (ib)
      v = _mm512_add_pd(v, _mm512_add_pd(vb, _mm512_loadu_pd(ib + j0 + j)));
    above = _mm512_cmp_pd_mask(v, _mm512_set1_pd(heap[0].s), _CMP_GT_OQ);
    while (above) {
      int b = __builtin_ctz(above);
      above &= (__mmask8)(above - 1);
      if (!skip[j0 + j + b]) heap_offer(heap, h, kk, SCORE(j + b), j0 + j + b);
    }
  }
  for (; kk > 0 && j < n; j++) {
    double v = SCORE(j);
    if (!skip[j0 + j] && !isnan(v)) heap_offer(heap, h, kk, v, j0 + j);
  }
#undef SCORE
}
#endif

#define REC_BLOCK 256  /* users per task */
#define REC_ITEMS 4096 /* items per GEMM: the packed item block stays in L2 */

/* Mark (on = 1) or unmark the items user j leaves out (the model's
 * training items of row r, or exclude's items of that user id) in skip,
 * or write NaN there into the float64 scores d of items [i0, i0 + n). */
static void rec_exclude(const als_model *m, int64_t r, int64_t user_id,
                        const clearn_ratings *exclude, unsigned char *skip,
                        int on, double *d, int64_t i0, int64_t n) {
  int64_t q, q0 = 0, q1 = 0, eu;
  if (exclude == NULL) {
    const int32_t *seen = m->seen + m->seen_start[r];
    for (q = 0; q < m->seen_len[r]; q++) {
      if (skip) skip[seen[q]] = (unsigned char)on;
      if (d && seen[q] >= i0 && seen[q] < i0 + n) d[seen[q] - i0] = NAN;
    }
    return;
  }
  eu = clearn__id_lookup(exclude->user_ids, exclude->n_users, user_id);
  if (eu >= 0) q0 = exclude->u_ptr[eu], q1 = exclude->u_ptr[eu + 1];
  for (q = q0; q < q1; q++) {
    int64_t mi = item_row(m, exclude->item_ids[exclude->u_idx[q]]);
    if (mi < 0) continue;
    if (skip) skip[mi] = (unsigned char)on;
    if (d && mi >= i0 && mi < i0 + n) d[mi - i0] = NAN;
  }
}

/* One task of als_recommend: users[0 .. nb) (original ids) into
 * items/scores (rows of k), with this thread's buffers: per block of
 * REC_ITEMS items one GEMM of the task's users against it, then every
 * user's heap (heaps: nb x kh, counts hn) takes that block's scores. */
static int recommend_block(const als_model *m, const int64_t *users,
                           int64_t nb, int64_t k, const clearn_ratings *exclude,
                           int64_t *items, double *scores, void *Ub, void *S,
                           double *d, unsigned char *skip, scored *heaps,
                           int64_t *hn) {
  int64_t ni = m->n_items, rows[REC_BLOCK], pos[REC_BLOCK], j, i0, nk = 0;
  int64_t kk = k < ni ? k : ni, kh = kk > 0 ? kk : 1;
  for (j = 0; j < nb; j++) {
    rows[j] = user_row(m, users[j]);
    pos[j] = rows[j] >= 0 ? nk++ : -1;
    hn[j] = 0;
    if (rows[j] >= 0)
      memcpy(row_ptr(Ub, pos[j], m->k, m->es),
             row_ptr(m->U, rows[j], m->k, m->es), (size_t)m->k * m->es);
  }
  for (i0 = 0; i0 < ni && nk > 0; i0 += REC_ITEMS) {
    int64_t n = ni - i0 < REC_ITEMS ? ni - i0 : REC_ITEMS;
    int rc = m->dt == CLEARN_FLOAT32
                 ? clearn__sgemm_nt(nk, n, m->k, 1.0f, Ub, m->k,
                                    row_ptr(m->V, i0, m->k, m->es), m->k, 0.0f,
                                    S)
                 : clearn__dgemm_nt(nk, n, m->k, 1.0, Ub, m->k,
                                    row_ptr(m->V, i0, m->k, m->es), m->k, 0.0,
                                    S);
    if (rc != CLEARN_OK) return rc;
    for (j = 0; j < nb; j++) {
      int64_t r = rows[j], q;
      scored *heap = heaps + j * kh;
      if (r < 0) continue;
#if ALS_AVX512
      if (skip != NULL) { /* float32 scores, filtered against the heap */
        rec_exclude(m, r, users[j], exclude, skip, 1, NULL, 0, 0);
        scan_f32((const float *)row_ptr(S, pos[j], n, m->es), i0, n,
                 m->biased ? m->mu + m->ub[r] : 0, m->biased ? m->ib : NULL,
                 skip, heap, &hn[j], kk);
        rec_exclude(m, r, users[j], exclude, skip, 0, NULL, 0, 0);
        continue;
      }
#endif
      to_f64(row_ptr(S, pos[j], n, m->es), m->dt, n, d);
      if (m->biased)
        for (q = 0; q < n; q++) d[q] += m->mu + m->ub[r] + m->ib[i0 + q];
      rec_exclude(m, r, users[j], exclude, NULL, 0, d, i0, n);
      scan_f64(d, i0, n, heap, &hn[j], kk);
    }
  }
  for (j = 0; j < nb; j++)
    heap_emit(heaps + j * kh, rows[j] >= 0 ? hn[j] : 0, k, m->item_ids,
              items + j * k, scores ? scores + j * k : NULL);
  return CLEARN_OK;
}

/* Blocks of REC_BLOCK users go to the threads; each thread scores its
 * block against blocks of REC_ITEMS items with its own single-threaded
 * GEMMs (BLAS at one thread for the call: no BLAS threads competing with
 * the OpenMP team, and each block's scores independent of the thread
 * count), each user's top k kept in a heap across the item blocks. */
static int als_recommend(const void *params, const void *model,
                         const int64_t *users, int64_t n_users, int64_t k,
                         const clearn_ratings *exclude, int64_t *items,
                         double *scores) {
  const als_params *p = params;
  const als_model *m = model;
  int64_t ni = m->n_items > 0 ? m->n_items : 1, kh = k < ni ? k : ni;
  int64_t nblk = (n_users + REC_BLOCK - 1) / REC_BLOCK, bk;
  int wide = wide_ok(m->dt), rc = CLEARN_OK, nomem = 0, blas_prev;
  int team = als_team(p, (double)n_users * (double)ni * (double)m->k * 2);
  if (team > nblk) team = nblk > 0 ? (int)nblk : 1;
  blas_prev = clearn__blas_serial_begin();
#pragma omp parallel num_threads(team)
  {
    int64_t nI = ni < REC_ITEMS ? ni : REC_ITEMS;
    void *Ub = clearn__malloc((size_t)(REC_BLOCK * m->k), m->es);
    void *S = clearn__malloc((size_t)REC_BLOCK * (size_t)nI, m->es);
    double *d = wide ? NULL : clearn__malloc((size_t)nI, sizeof(double));
    unsigned char *skip = wide ? clearn__malloc((size_t)ni, 1) : NULL;
    scored *heaps = clearn__malloc((size_t)REC_BLOCK * (size_t)(kh > 0 ? kh : 1),
                                   sizeof(scored));
    int64_t *hn = clearn__malloc(REC_BLOCK, sizeof(int64_t));
    int ok = Ub && S && heaps && hn && (wide ? skip != NULL : d != NULL);
    if (!ok) {
#pragma omp atomic write
      nomem = 1;
    }
    if (skip) memset(skip, 0, (size_t)ni);
#pragma omp for schedule(dynamic, 1)
    for (bk = 0; bk < nblk; bk++) {
      int64_t b0 = bk * REC_BLOCK;
      int64_t nb = n_users - b0 < REC_BLOCK ? n_users - b0 : REC_BLOCK;
      int e;
      if (!ok) continue;
      e = recommend_block(m, users + b0, nb, k, exclude, items + b0 * k,
                          scores ? scores + b0 * k : NULL, Ub, S, d, skip,
                          heaps, hn);
      if (e != CLEARN_OK) {
#pragma omp critical
        rc = e;
      }
    }
    free(Ub);
    free(S);
    free(d);
    free(skip);
    free(heaps);
    free(hn);
  }
  clearn__blas_serial_end(blas_prev);
  if (nomem)
    return clearn__err(CLEARN_ENOMEM,
                       "als: recommend: out of memory for %lld items",
                       (long long)m->n_items);
  /* (a worker's message stays in its thread: say it here) */
  if (rc != CLEARN_OK)
    return clearn__err(rc, "als: recommend: scoring %lld items at rank %lld "
                           "failed",
                       (long long)m->n_items, (long long)m->k);
  return rc;
}

static int als_similar_items(const void *params, const void *model,
                             int64_t item, int64_t k, int64_t *items,
                             double *scores) {
  const als_model *m = model;
  int64_t ni = m->n_items, q, j, src = item_row(m, item);
  int64_t kh = k < ni ? k : ni;
  void *dots = clearn__malloc((size_t)(ni > 0 ? ni : 1), m->es);
  double *d = clearn__malloc((size_t)(ni > 0 ? ni : 1), sizeof(double));
  scored *heap = clearn__malloc((size_t)(kh > 0 ? kh : 1), sizeof(scored));
  double nq;
  int rc = CLEARN_OK;
  (void)params;
  if (!dots || !d || !heap) {
    rc = clearn__err(CLEARN_ENOMEM, "als: similar_items: out of memory");
    goto cleanup;
  }
  if (src < 0) {
    for (q = 0; q < k; q++) {
      items[q] = -1;
      if (scores) scores[q] = NAN;
    }
    goto cleanup;
  }
  rc = gemv_n_dt(m->dt, ni, m->k, m->V, m->k, row_ptr(m->V, src, m->k, m->es),
                 dots);
  if (rc != CLEARN_OK) goto cleanup;
  to_f64(dots, m->dt, ni, d);
  nq = sqrt(dot_dt(row_ptr(m->V, src, m->k, m->es),
                   row_ptr(m->V, src, m->k, m->es), m->k, m->dt));
  for (j = 0; j < ni; j++) {
    const void *y = row_ptr(m->V, j, m->k, m->es);
    double nj = sqrt(dot_dt(y, y, m->k, m->dt));
    d[j] = nj > 0 && nq > 0 ? d[j] / (nj * nq) : 0.0;
  }
  d[src] = NAN;
  top_k(d, ni, k, m->item_ids, heap, items, scores);
cleanup:
  free(dots);
  free(d);
  free(heap);
  return rc;
}

static int cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

/* Room for one more user row (amortized doubling). */
static int grow_users(als_model *m) {
  int64_t cap = m->cap_users * 2;
  int64_t *ids, *srt, *st, *ln;
  void *U;
  double *ub = NULL;
  if (m->n_users < m->cap_users) return CLEARN_OK;
  ids = realloc(m->user_ids, (size_t)cap * sizeof(int64_t));
  if (ids) m->user_ids = ids;
  srt = realloc(m->user_sorted, (size_t)cap * sizeof(int64_t));
  if (srt) m->user_sorted = srt;
  st = realloc(m->seen_start, (size_t)cap * sizeof(int64_t));
  if (st) m->seen_start = st;
  ln = realloc(m->seen_len, (size_t)cap * sizeof(int64_t));
  if (ln) m->seen_len = ln;
  U = realloc(m->U, (size_t)cap * (size_t)m->k * m->es);
  if (U) m->U = U;
  if (m->biased) {
    ub = realloc(m->ub, (size_t)cap * sizeof(double));
    if (ub) m->ub = ub;
  }
  if (!ids || !srt || !st || !ln || !U || (m->biased && !ub))
    return clearn__err(CLEARN_ENOMEM, "als: fold_in: out of memory");
  m->cap_users = cap;
  return CLEARN_OK;
}

static int als_fold_in(const void *params, void *model, int64_t user_id,
                       const int64_t *items, const float *values, int64_t n,
                       int64_t *n_ignored) {
  als_model *m = model;
  als_cfg c;
  als_ws w;
  int32_t *idx = NULL;
  float *val = NULL;
  double *YtY = NULL, bias = 0;
  void *x = NULL;
  int64_t q, nk = 0, row, need;
  int rc = CLEARN_OK, have_ws = 0;
  (void)params;
  memset(&w, 0, sizeof w);
  idx = clearn__malloc((size_t)(n > 0 ? n : 1), sizeof(int32_t));
  val = clearn__malloc((size_t)(n > 0 ? n : 1), sizeof(float));
  x = clearn__calloc((size_t)m->k, m->es);
  if (!idx || !val || !x) {
    rc = clearn__err(CLEARN_ENOMEM, "als: fold_in: out of memory");
    goto cleanup;
  }
  for (q = 0; q < n; q++) {
    int64_t i = item_row(m, items[q]);
    if (!isfinite(values[q])) {
      rc = clearn__err(CLEARN_ENUMERIC,
                       "als: fold_in: value %lld (item %lld) is not finite",
                       (long long)q, (long long)items[q]);
      goto cleanup;
    }
    if (i < 0) continue;
    idx[nk] = (int32_t)i;
    val[nk++] = values[q];
  }
  if (n_ignored) *n_ignored = n - nk;
  c.k = m->k;
  c.kp = m->k + (m->biased ? 1 : 0);
  c.dt = m->dt;
  c.es = m->es;
  c.implicit = m->implicit;
  c.weighted = m->weighted;
  c.cg = 0; /* exact solve: fold_in has no previous value to warm-start */
  c.nonneg = m->nonneg;
  c.cg_steps = 0;
  c.reg = m->reg;
  c.rexp = m->rexp;
  c.alpha = m->alpha;
  c.mu = m->mu;
  c.YtY = NULL;
  c.YtYf = NULL;
  c.fast = fast_path_ok(&c);
  c.g8 = g8_ok(&c);
  if (nk > 0) {
    if (m->implicit) {
      YtY = clearn__malloc((size_t)(m->k * m->k), sizeof(double));
      if (YtY == NULL) {
        rc = clearn__err(CLEARN_ENOMEM, "als: fold_in: out of memory");
        goto cleanup;
      }
      if ((rc = gram(m->V, m->n_items, m->k, m->dt, 1, YtY)) != CLEARN_OK)
        goto cleanup;
      c.YtY = YtY;
    }
    if (ws_alloc(&w, &c, nk) != CLEARN_OK) {
      rc = clearn__err(CLEARN_ENOMEM, "als: fold_in: out of memory");
      goto cleanup;
    }
    have_ws = 1;
    rc = solve_row(&c, &w, idx, val, nk, m->V, m->ib, x, &bias, NULL, 0);
    if (rc != CLEARN_OK) {
      rc = fail_row(rc, "user", user_id, m->reg);
      goto cleanup;
    }
  }
  /* The user's items, sorted, go to the end of the pool. */
  qsort(idx, (size_t)nk, sizeof(int32_t), cmp_i32);
  need = m->seen_n + nk;
  if (need > m->seen_cap) {
    int64_t cap = m->seen_cap * 2 > need ? m->seen_cap * 2 : need;
    int32_t *s = realloc(m->seen, (size_t)cap * sizeof(int32_t));
    if (s == NULL) {
      rc = clearn__err(CLEARN_ENOMEM, "als: fold_in: out of memory");
      goto cleanup;
    }
    m->seen = s;
    m->seen_cap = cap;
  }
  row = user_row(m, user_id);
  if (row < 0) {
    int64_t lo = 0, hi = m->n_users;
    if ((rc = grow_users(m)) != CLEARN_OK) goto cleanup;
    while (lo < hi) { /* insertion point in the sorted index */
      int64_t mid = lo + (hi - lo) / 2;
      if (m->user_ids[m->user_sorted[mid]] < user_id)
        lo = mid + 1;
      else
        hi = mid;
    }
    row = m->n_users++;
    memmove(m->user_sorted + lo + 1, m->user_sorted + lo,
            (size_t)(row - lo) * sizeof(int64_t));
    m->user_sorted[lo] = row;
    m->user_ids[row] = user_id;
  }
  memcpy(row_ptr(m->U, row, m->k, m->es), x, (size_t)m->k * m->es);
  if (m->biased) m->ub[row] = bias;
  if (nk > 0) memcpy(m->seen + m->seen_n, idx, (size_t)nk * sizeof(int32_t));
  m->seen_start[row] = m->seen_n;
  m->seen_len[row] = nk;
  m->seen_n += nk;
cleanup:
  if (have_ws) ws_free(&w);
  free(idx);
  free(val);
  free(x);
  free(YtY);
  return rc;
}

/* ---- attributes and persistence ------------------------------------------ */

static int copy_out(const void *src, int64_t rows, int64_t cols,
                    clearn_dtype dt, clearn_matrix **out) {
  int rc = clearn_matrix_create(rows, cols, dt, out);
  if (rc == CLEARN_OK && rows * cols > 0)
    memcpy((*out)->data, src, (size_t)(rows * cols) * clearn_dtype_size(dt));
  return rc;
}

static int als_get_attr(const void *model, const char *name,
                        clearn_matrix **out) {
  const als_model *m = model;
  if (strcmp(name, "user_factors") == 0)
    return copy_out(m->U, m->n_users, m->k, m->dt, out);
  if (strcmp(name, "item_factors") == 0)
    return copy_out(m->V, m->n_items, m->k, m->dt, out);
  if (strcmp(name, "user_ids") == 0)
    return copy_out(m->user_ids, 1, m->n_users, CLEARN_INT64, out);
  if (strcmp(name, "item_ids") == 0)
    return copy_out(m->item_ids, 1, m->n_items, CLEARN_INT64, out);
  if (strcmp(name, "global_mean") == 0)
    return copy_out(&m->mu, 1, 1, CLEARN_FLOAT64, out);
  if (strcmp(name, "history") == 0)
    return copy_out(m->history, m->n_iter, HIST_COLS, CLEARN_FLOAT64, out);
  if (strcmp(name, "n_iter") == 0)
    return copy_out(&m->n_iter, 1, 1, CLEARN_INT64, out);
  if (strcmp(name, "user_bias") == 0 || strcmp(name, "item_bias") == 0) {
    if (!m->biased)
      return clearn__err(CLEARN_EINVAL,
                         "als: attribute '%s' exists only for a model fitted "
                         "with biases = true",
                         name);
    return name[0] == 'u' ? copy_out(m->ub, 1, m->n_users, CLEARN_FLOAT64, out)
                          : copy_out(m->ib, 1, m->n_items, CLEARN_FLOAT64, out);
  }
  return clearn__err(CLEARN_EINVAL, "als: unknown attribute '%s'", name);
}

/* /model layout (all 2-D datasets):
 *   user_ids int64 1 x U, item_ids int64 1 x I (ascending),
 *   user_factors, item_factors  U x k, I x k in the factor dtype,
 *   user_bias, item_bias float64 1 x U, 1 x I (only with biases),
 *   seen_ptr int64 1 x (U+1), seen_items int32 1 x nnz: each user's
 *     training items as rows of item_ids (for recommend's exclusion),
 *   history float64 n_iter x 5 (4 in files before 0.2: no comm_seconds),
 *   attributes: rank, dtype ("float32"|"float64"), biases, implicit,
 *     weighted_reg, nonnegative, reg, reg_exponent (absent in files before
 *     it existed: 1), alpha, global_mean, n_iter. */
static int als_save(const void *model, hid_t g) {
  const als_model *m = model;
  int64_t *ptr = NULL, u;
  int32_t *items = NULL;
  int rc;
  ptr = clearn__malloc((size_t)m->n_users + 1, sizeof(int64_t));
  items =
      clearn__malloc((size_t)(m->seen_n > 0 ? m->seen_n : 1), sizeof(int32_t));
  if (!ptr || !items) {
    rc = clearn__err(CLEARN_ENOMEM, "als: save: out of memory");
    goto cleanup;
  }
  ptr[0] = 0;
  for (u = 0; u < m->n_users; u++) {
    memcpy(items + ptr[u], m->seen + m->seen_start[u],
           (size_t)m->seen_len[u] * sizeof(int32_t));
    ptr[u + 1] = ptr[u] + m->seen_len[u];
  }
  rc =
      clearn__h5_write(g, "user_ids", m->user_ids, 1, m->n_users, CLEARN_INT64);
  if (rc == CLEARN_OK)
    rc = clearn__h5_write(g, "item_ids", m->item_ids, 1, m->n_items,
                          CLEARN_INT64);
  if (rc == CLEARN_OK)
    rc = clearn__h5_write(g, "user_factors", m->U, m->n_users, m->k, m->dt);
  if (rc == CLEARN_OK)
    rc = clearn__h5_write(g, "item_factors", m->V, m->n_items, m->k, m->dt);
  if (rc == CLEARN_OK && m->biased)
    rc = clearn__h5_write(g, "user_bias", m->ub, 1, m->n_users, CLEARN_FLOAT64);
  if (rc == CLEARN_OK && m->biased)
    rc = clearn__h5_write(g, "item_bias", m->ib, 1, m->n_items, CLEARN_FLOAT64);
  if (rc == CLEARN_OK)
    rc = clearn__h5_write(g, "seen_ptr", ptr, 1, m->n_users + 1, CLEARN_INT64);
  if (rc == CLEARN_OK)
    rc = clearn__h5_write(g, "seen_items", items, 1, ptr[m->n_users],
                          CLEARN_INT32);
  if (rc == CLEARN_OK)
    rc = clearn__h5_write(g, "history", m->history, m->n_iter, HIST_COLS,
                          CLEARN_FLOAT64);
  if (rc == CLEARN_OK) rc = clearn__h5_attr_write_i64(g, "rank", m->k);
  if (rc == CLEARN_OK)
    rc = clearn__h5_attr_write_str(
        g, "dtype", m->dt == CLEARN_FLOAT32 ? "float32" : "float64");
  if (rc == CLEARN_OK) rc = clearn__h5_attr_write_i64(g, "biases", m->biased);
  if (rc == CLEARN_OK)
    rc = clearn__h5_attr_write_i64(g, "implicit", m->implicit);
  if (rc == CLEARN_OK)
    rc = clearn__h5_attr_write_i64(g, "weighted_reg", m->weighted);
  if (rc == CLEARN_OK)
    rc = clearn__h5_attr_write_i64(g, "nonnegative", m->nonneg);
  if (rc == CLEARN_OK) rc = clearn__h5_attr_write_f64(g, "reg", m->reg);
  if (rc == CLEARN_OK)
    rc = clearn__h5_attr_write_f64(g, "reg_exponent", m->rexp);
  if (rc == CLEARN_OK) rc = clearn__h5_attr_write_f64(g, "alpha", m->alpha);
  if (rc == CLEARN_OK) rc = clearn__h5_attr_write_f64(g, "global_mean", m->mu);
  if (rc == CLEARN_OK) rc = clearn__h5_attr_write_i64(g, "n_iter", m->n_iter);
cleanup:
  free(ptr);
  free(items);
  return rc;
}

static int cmp_by_id(const void *a, const void *b, const int64_t *ids) {
  int64_t x = ids[*(const int64_t *)a], y = ids[*(const int64_t *)b];
  return (x > y) - (x < y);
}

/* qsort has no context argument: a small merge sort of row numbers by id. */
static void sort_rows(int64_t *r, int64_t *tmp, int64_t n, const int64_t *ids) {
  int64_t h = n / 2, i = 0, j = h, o = 0;
  if (n < 2) return;
  sort_rows(r, tmp, h, ids);
  sort_rows(r + h, tmp, n - h, ids);
  while (i < h && j < n)
    tmp[o++] = cmp_by_id(&r[j], &r[i], ids) < 0 ? r[j++] : r[i++];
  while (i < h) tmp[o++] = r[i++];
  while (j < n) tmp[o++] = r[j++];
  memcpy(r, tmp, (size_t)n * sizeof(int64_t));
}

static int read_flag(hid_t g, const char *name, int *out) {
  int64_t v;
  int rc = clearn__h5_attr_read_i64(g, name, &v);
  if (rc == CLEARN_OK && v != 0 && v != 1)
    rc = clearn__err(CLEARN_EFORMAT, "attribute '%s' = %lld, must be 0 or 1",
                     name, (long long)v);
  if (rc == CLEARN_OK) *out = (int)v;
  return rc;
}

static int all_finite(const clearn_matrix *a, const char *name) {
  int64_t j, n = a->rows * a->cols;
  for (j = 0; j < n; j++) {
    double v = a->dtype == CLEARN_FLOAT32 ? ((const float *)a->data)[j]
                                          : ((const double *)a->data)[j];
    if (!isfinite(v))
      return clearn__err(CLEARN_EFORMAT,
                         "dataset '%s' holds a non-finite "
                         "value at %lld",
                         name, (long long)j);
  }
  return CLEARN_OK;
}

static int als_load(hid_t g, void **out) {
  clearn_matrix *uid = NULL, *iid = NULL, *U = NULL, *V = NULL, *ub = NULL,
                *ib = NULL, *sp = NULL, *si = NULL, *hist = NULL;
  als_model *m = NULL;
  int64_t k = 0, n_iter = 0, nu, ni, j, *tmp = NULL;
  int biased = 0, implicit = 0, weighted = 0, nonneg = 0, rc;
  double reg = 0, rexp = 1, alpha = 0, mu = 0;
  char dts[16];
  clearn_dtype dt = CLEARN_FLOAT32;
  *out = NULL;
  rc = clearn__h5_attr_read_i64(g, "rank", &k);
  if (rc == CLEARN_OK && k < 1)
    rc = clearn__err(CLEARN_EFORMAT, "attribute 'rank' = %lld, must be >= 1",
                     (long long)k);
  if (rc == CLEARN_OK)
    rc = clearn__h5_attr_read_str(g, "dtype", dts, sizeof dts);
  if (rc == CLEARN_OK) {
    if (strcmp(dts, "float32") == 0)
      dt = CLEARN_FLOAT32;
    else if (strcmp(dts, "float64") == 0)
      dt = CLEARN_FLOAT64;
    else
      rc = clearn__err(CLEARN_EFORMAT,
                       "attribute 'dtype' = '%s', must be "
                       "float32 or float64",
                       dts);
  }
  if (rc == CLEARN_OK) rc = read_flag(g, "biases", &biased);
  if (rc == CLEARN_OK) rc = read_flag(g, "implicit", &implicit);
  if (rc == CLEARN_OK) rc = read_flag(g, "weighted_reg", &weighted);
  if (rc == CLEARN_OK) rc = read_flag(g, "nonnegative", &nonneg);
  if (rc == CLEARN_OK) rc = clearn__h5_attr_read_f64(g, "reg", &reg);
  if (rc == CLEARN_OK && clearn__h5_attr_exists(g, "reg_exponent"))
    rc = clearn__h5_attr_read_f64(g, "reg_exponent", &rexp);
  if (rc == CLEARN_OK) rc = clearn__h5_attr_read_f64(g, "alpha", &alpha);
  if (rc == CLEARN_OK) rc = clearn__h5_attr_read_f64(g, "global_mean", &mu);
  if (rc == CLEARN_OK) rc = clearn__h5_attr_read_i64(g, "n_iter", &n_iter);
  if (rc == CLEARN_OK && (!isfinite(reg) || reg < 0 || !(rexp >= 0) ||
                          !(rexp <= 1) || !isfinite(alpha) || alpha < 0 ||
                          !isfinite(mu) || n_iter < 0))
    rc = clearn__err(CLEARN_EFORMAT, "attributes reg, reg_exponent, alpha, "
                                     "global_mean or n_iter out of range");
  if (rc == CLEARN_OK && biased && implicit)
    rc = clearn__err(CLEARN_EFORMAT, "attributes biases and implicit are "
                                     "both 1, which no fit produces");
  if (rc == CLEARN_OK)
    rc = clearn__h5_read(g, "user_ids", CLEARN_INT64, 1, -1, &uid);
  if (rc == CLEARN_OK)
    rc = clearn__h5_read(g, "item_ids", CLEARN_INT64, 1, -1, &iid);
  if (rc != CLEARN_OK) goto cleanup;
  nu = uid->cols;
  ni = iid->cols;
  rc = clearn__h5_read(g, "user_factors", dt, nu, k, &U);
  if (rc == CLEARN_OK) rc = clearn__h5_read(g, "item_factors", dt, ni, k, &V);
  if (rc == CLEARN_OK && biased)
    rc = clearn__h5_read(g, "user_bias", CLEARN_FLOAT64, 1, nu, &ub);
  if (rc == CLEARN_OK && biased)
    rc = clearn__h5_read(g, "item_bias", CLEARN_FLOAT64, 1, ni, &ib);
  if (rc == CLEARN_OK)
    rc = clearn__h5_read(g, "seen_ptr", CLEARN_INT64, 1, nu + 1, &sp);
  if (rc == CLEARN_OK)
    rc = clearn__h5_read(g, "seen_items", CLEARN_INT32, 1, -1, &si);
  if (rc == CLEARN_OK)
    rc =
        clearn__h5_read(g, "history", CLEARN_FLOAT64, n_iter, -1, &hist);
  if (rc == CLEARN_OK && hist->cols != HIST_COLS && hist->cols != HIST_COLS_V1)
    rc = clearn__err(CLEARN_EFORMAT,
                     "dataset 'history' has %lld columns, expected %d (or %d "
                     "in older files)",
                     (long long)hist->cols, HIST_COLS, HIST_COLS_V1);
  /* Every fitted iteration has a finite time and a finite loss and RMSE,
   * or NaN for both (train_metrics = false): a damaged chunk index makes
   * HDF5 return the fill value (NaN) in every column instead of the data,
   * which this catches. */
  for (j = 0; rc == CLEARN_OK && j < n_iter; j++) {
    const double *hr = (const double *)hist->data + j * hist->cols;
    int skipped = isnan(hr[0]) && isnan(hr[1]);
    if ((!skipped && (!isfinite(hr[0]) || !isfinite(hr[1]))) || !(hr[3] >= 0) ||
        !isfinite(hr[3]))
      rc = clearn__err(CLEARN_EFORMAT,
                       "dataset 'history' row %lld holds a non-finite loss, "
                       "RMSE or time (damaged file)",
                       (long long)j);
  }
  if (rc == CLEARN_OK) rc = all_finite(U, "user_factors");
  if (rc == CLEARN_OK) rc = all_finite(V, "item_factors");
  if (rc == CLEARN_OK && biased) rc = all_finite(ub, "user_bias");
  if (rc == CLEARN_OK && biased) rc = all_finite(ib, "item_bias");
  if (rc != CLEARN_OK) goto cleanup;
  {
    const int64_t *ids = iid->data, *ptr = sp->data;
    const int32_t *it = si->data;
    for (j = 1; j < ni; j++)
      if (ids[j] <= ids[j - 1]) {
        rc = clearn__err(CLEARN_EFORMAT,
                         "dataset 'item_ids' is not strictly "
                         "ascending at %lld",
                         (long long)j);
        goto cleanup;
      }
    if (ptr[0] != 0 || ptr[nu] != si->cols) {
      rc = clearn__err(CLEARN_EFORMAT, "dataset 'seen_ptr' does not match "
                                       "'seen_items'");
      goto cleanup;
    }
    for (j = 0; j < nu; j++)
      if (ptr[j + 1] < ptr[j]) {
        rc = clearn__err(CLEARN_EFORMAT,
                         "dataset 'seen_ptr' decreases at "
                         "%lld",
                         (long long)j);
        goto cleanup;
      }
    for (j = 0; j < si->cols; j++)
      if (it[j] < 0 || it[j] >= ni) {
        rc = clearn__err(CLEARN_EFORMAT,
                         "dataset 'seen_items' holds item row "
                         "%d outside [0, %lld)",
                         (int)it[j], (long long)ni);
        goto cleanup;
      }
  }
  if ((rc = model_alloc(k, dt, biased, nu, ni, si->cols, &m)) != CLEARN_OK)
    goto cleanup;
  m->implicit = implicit;
  m->weighted = weighted;
  m->nonneg = nonneg;
  m->reg = reg;
  m->rexp = rexp;
  m->alpha = alpha;
  m->mu = mu;
  memcpy(m->user_ids, uid->data, (size_t)nu * sizeof(int64_t));
  memcpy(m->item_ids, iid->data, (size_t)ni * sizeof(int64_t));
  if (nu * k > 0) memcpy(m->U, U->data, (size_t)(nu * k) * m->es);
  if (ni * k > 0) memcpy(m->V, V->data, (size_t)(ni * k) * m->es);
  if (biased) {
    if (nu > 0) memcpy(m->ub, ub->data, (size_t)nu * sizeof(double));
    if (ni > 0) memcpy(m->ib, ib->data, (size_t)ni * sizeof(double));
  }
  if (si->cols > 0)
    memcpy(m->seen, si->data, (size_t)si->cols * sizeof(int32_t));
  m->seen_n = si->cols;
  for (j = 0; j < nu; j++) {
    m->seen_start[j] = ((const int64_t *)sp->data)[j];
    m->seen_len[j] = ((const int64_t *)sp->data)[j + 1] - m->seen_start[j];
    m->user_sorted[j] = j;
  }
  m->n_iter = n_iter;
  m->history = clearn__malloc((size_t)(n_iter > 0 ? n_iter : 1) * HIST_COLS,
                              sizeof(double));
  tmp = clearn__malloc((size_t)(nu > 0 ? nu : 1), sizeof(int64_t));
  if (!m->history || !tmp) {
    rc = clearn__err(CLEARN_ENOMEM, "als: load: out of memory");
    goto cleanup;
  }
  for (j = 0; j < n_iter; j++) {
    const double *hr = (const double *)hist->data + j * hist->cols;
    memcpy(m->history + j * HIST_COLS, hr,
           (size_t)hist->cols * sizeof(double));
    if (hist->cols < HIST_COLS) m->history[j * HIST_COLS + 4] = 0.0;
  }
  sort_rows(m->user_sorted, tmp, nu, m->user_ids);
  for (j = 1; j < nu; j++)
    if (m->user_ids[m->user_sorted[j]] == m->user_ids[m->user_sorted[j - 1]]) {
      rc = clearn__err(CLEARN_EFORMAT, "dataset 'user_ids' repeats id %lld",
                       (long long)m->user_ids[m->user_sorted[j]]);
      goto cleanup;
    }
  *out = m;
  m = NULL;
cleanup:
  clearn_matrix_free(uid);
  clearn_matrix_free(iid);
  clearn_matrix_free(U);
  clearn_matrix_free(V);
  clearn_matrix_free(ub);
  clearn_matrix_free(ib);
  clearn_matrix_free(sp);
  clearn_matrix_free(si);
  clearn_matrix_free(hist);
  free(tmp);
  als_model_free(m);
  return rc;
}

static const clearn__recommender_ops als_rec_ops = {
    als_fit,           als_predict_pairs, als_recommend,
    als_similar_items, als_fold_in,       als_drops_cold,
};

const clearn__estimator_type clearn__als_type = {
    "als",
    "matrix factorization by alternating least squares (explicit ALS-WR or "
    "implicit feedback)",
    als_param_specs,
    (int)(sizeof als_param_specs / sizeof als_param_specs[0]),
    sizeof(als_params),
    als_attrs,
    (int)(sizeof als_attrs / sizeof als_attrs[0]),
    als_check,
    NULL, /* supervised fit: not offered */
    NULL,
    NULL,
    als_get_attr,
    als_save,
    als_load,
    als_model_free,
    &als_rec_ops,
};
