/*
 * bench_ridge.c -- Ridge fit on a large dense X: clearn against the DSYRK it
 * cannot avoid, on the same data file that bench/ridge_sklearn.py reads.
 *
 * Every mode runs in its own process, so the peak RSS a mode reports
 * (getrusage ru_maxrss) belongs to that measurement alone:
 *
 *   gen   FILE  write X (n x p, mean + std * N(0,1)) and y = 2 + X w + noise
 *               to FILE, unless FILE already holds exactly that data
 *   syrk  FILE  bare cblas_dsyrk of X^T X, best of --reps: the floor
 *   fit   FILE  clearn ridge fit (alpha, fit_intercept = true) through the
 *               public API on borrowed views of X and y, best of --reps;
 *               --coef OUT writes coef (p values) then intercept as float64
 *   parts FILE  the fit's phases redone with the same BLAS calls as
 *               src/linmodel.c, then measured alternatives (block sizes,
 *               fused calls, row-split threads, a one-pass shifted Gram)
 *
 * File layout, native (little-endian) byte order: 8 int64 header words
 * {magic, version, n, p, seed, bits of mean, bits of std, 0}, then X
 * row-major (n * p float64), then y (n float64).  Generation is
 * deterministic for a given (n, p, mean, std, seed).
 *
 * Lines starting with "RESULT " carry key=value pairs for run_ridge.sh.
 * A benchmark prints figures; it never fails on a time.
 */
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>
#include <lapacke.h>

#include "clearn/clearn.h"

#define MAGIC INT64_C(0x48434e424e524c43) /* "CLRNBNCH" */
#define FORMAT_VERSION 1
#define HEADER_WORDS 8
#define MAX_THREADS 16
#define NCHUNKS 32 /* row pieces of the chunked variants */

typedef struct {
  const char *mode, *file, *coef_path;
  int64_t n, p;
  double mean, std, alpha;
  uint64_t seed;
  int reps, threads, thp;
} options;

typedef struct {
  int64_t n, p;
  double mean, std;
  uint64_t seed;
  double *X, *y;
  size_t x_bytes;
} dataset;

/* ---- small utilities ---------------------------------------------------- */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double peak_rss_bytes(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss * 1024.0; /* Linux: KiB */
}

static void die(const char *fmt, const char *a) {
  fprintf(stderr, "bench_ridge: ");
  fprintf(stderr, fmt, a);
  fprintf(stderr, "\n");
  exit(2);
}

static uint64_t dbits(double v) {
  uint64_t u;
  memcpy(&u, &v, 8);
  return u;
}

static double bitsd(uint64_t u) {
  double v;
  memcpy(&v, &u, 8);
  return v;
}

/* xoshiro256** seeded through splitmix64. */
typedef struct {
  uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed) {
  int i;
  for (i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r) {
  uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return res;
}

/* Two independent N(0,1) draws (Box-Muller on a uniform in (0, 1)). */
static void rng_normal2(rng *r, double *a, double *b) {
  double u1 = ((double)(rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
  double u2 = ((double)(rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
  double rad = sqrt(-2.0 * log(u1)), th = 6.283185307179586 * u2;
  *a = rad * cos(th);
  *b = rad * sin(th);
}

/* Large buffers: plain malloc (what a C caller has), or 2 MiB aligned and
 * madvise(MADV_HUGEPAGE) with --thp (what numpy does for big arrays). */
static void *big_alloc(size_t bytes, int thp) {
  void *p = NULL;
  if (!thp) return malloc(bytes);
  if (posix_memalign(&p, (size_t)1 << 21, bytes) != 0) return NULL;
  madvise(p, bytes, MADV_HUGEPAGE);
  return p;
}

static int read_all(int fd, void *buf, size_t bytes) {
  char *c = buf;
  while (bytes > 0) {
    ssize_t k = read(fd, c, bytes > (1u << 30) ? (1u << 30) : bytes);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    c += k;
    bytes -= (size_t)k;
  }
  return 0;
}

/* ---- data file ---------------------------------------------------------- */

static int header_matches(const char *path, const options *o) {
  int64_t h[HEADER_WORDS];
  struct stat st;
  int fd = open(path, O_RDONLY), ok = 0;
  if (fd < 0) return 0;
  if (read_all(fd, h, sizeof h) == 0 && fstat(fd, &st) == 0)
    ok = h[0] == MAGIC && h[1] == FORMAT_VERSION && h[2] == o->n &&
         h[3] == o->p && (uint64_t)h[4] == o->seed &&
         (uint64_t)h[5] == dbits(o->mean) && (uint64_t)h[6] == dbits(o->std) &&
         (uint64_t)st.st_size ==
             sizeof h + 8 * (uint64_t)(o->n * o->p + o->n);
  close(fd);
  return ok;
}

static int mode_gen(const options *o) {
  int64_t n = o->n, p = o->p, i, j;
  int64_t h[HEADER_WORDS] = {MAGIC, FORMAT_VERSION, n, p, (int64_t)o->seed,
                             (int64_t)dbits(o->mean), (int64_t)dbits(o->std),
                             0};
  double *row = malloc((size_t)(p + 1) * sizeof(double));
  double *w = malloc((size_t)(p + 1) * sizeof(double));
  double *y = malloc((size_t)n * sizeof(double));
  char tmp[4096];
  FILE *f;
  rng r, rw;
  double t0 = now_s();
  if (header_matches(o->file, o)) {
    printf("gen: %s already holds n=%lld p=%lld mean=%g std=%g seed=%llu\n",
           o->file, (long long)n, (long long)p, o->mean, o->std,
           (unsigned long long)o->seed);
    free(row);
    free(w);
    free(y);
    return 0;
  }
  if (!row || !w || !y) die("%s", "out of memory");
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", o->file, (long)getpid());
  if ((f = fopen(tmp, "wb")) == NULL) die("cannot create %s", tmp);
  rng_seed(&r, o->seed);
  rng_seed(&rw, o->seed ^ UINT64_C(0x5eed5eed5eed5eed));
  for (j = 0; j < p; j += 2) rng_normal2(&rw, &w[j], &w[j + 1]);
  if (fwrite(h, sizeof h, 1, f) != 1) die("cannot write %s", tmp);
  for (i = 0; i < n; i++) {
    double a, b, acc = 2.0;
    for (j = 0; j < p; j += 2) rng_normal2(&r, &row[j], &row[j + 1]);
    for (j = 0; j < p; j++) {
      row[j] = o->mean + o->std * row[j];
      acc += row[j] * w[j];
    }
    rng_normal2(&r, &a, &b);
    y[i] = acc + 0.5 * a;
    if (fwrite(row, sizeof(double), (size_t)p, f) != (size_t)p)
      die("cannot write %s", tmp);
  }
  if (fwrite(y, sizeof(double), (size_t)n, f) != (size_t)n ||
      fclose(f) != 0)
    die("cannot write %s", tmp);
  if (rename(tmp, o->file) != 0) die("cannot rename to %s", o->file);
  printf("gen: wrote %s (%.2f GB) in %.1f s\n", o->file,
         (double)(sizeof h + 8 * (size_t)(n * p + n)) / 1e9, now_s() - t0);
  free(row);
  free(w);
  free(y);
  return 0;
}

static void load(const char *path, int thp, dataset *d) {
  int64_t h[HEADER_WORDS];
  struct stat st;
  int fd = open(path, O_RDONLY);
  if (fd < 0) die("cannot open %s (run `bench_ridge gen` first)", path);
  if (read_all(fd, h, sizeof h) != 0 || h[0] != MAGIC ||
      h[1] != FORMAT_VERSION || fstat(fd, &st) != 0)
    die("%s is not a bench_ridge data file", path);
  d->n = h[2];
  d->p = h[3];
  d->seed = (uint64_t)h[4];
  d->mean = bitsd((uint64_t)h[5]);
  d->std = bitsd((uint64_t)h[6]);
  if (d->n <= 0 || d->p <= 0 || d->n > INT_MAX || d->p > 4096 ||
      (uint64_t)st.st_size != sizeof h + 8 * (uint64_t)(d->n * d->p + d->n))
    die("%s: bad size or shape", path);
  d->x_bytes = (size_t)(d->n * d->p) * sizeof(double);
  d->X = big_alloc(d->x_bytes, thp);
  d->y = malloc((size_t)d->n * sizeof(double));
  if (!d->X || !d->y) die("%s", "out of memory for X");
  if (read_all(fd, d->X, d->x_bytes) != 0 ||
      read_all(fd, d->y, (size_t)d->n * sizeof(double)) != 0)
    die("cannot read %s", path);
  close(fd);
}

static void print_machine(void) {
  printf("openblas: %s | core %s | threads %d\n", openblas_get_config(),
         openblas_get_corename(), openblas_get_num_threads());
}

/* ---- syrk: the floor ---------------------------------------------------- */

static int mode_syrk(const options *o) {
  dataset d;
  double rss0 = peak_rss_bytes(), best = 1e30, *C;
  int r;
  load(o->file, o->thp, &d);
  C = calloc((size_t)(d.p * d.p), sizeof(double));
  if (o->threads > 0) openblas_set_num_threads(o->threads);
  print_machine();
  for (r = 0; r < o->reps; r++) {
    double t0 = now_s(), t;
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d.p, (int)d.n, 1.0,
                d.X, (int)d.p, 0.0, C, (int)d.p);
    t = now_s() - t0;
    printf("syrk rep %d: %.4f s\n", r + 1, t);
    if (t < best) best = t;
  }
  printf("RESULT mode=syrk n=%lld p=%lld mean=%g best_s=%.4f gflops=%.1f "
         "peak_rss_bytes=%.0f rss_before_load_bytes=%.0f x_bytes=%zu "
         "threads=%d core=%s\n",
         (long long)d.n, (long long)d.p, d.mean, best,
         (double)d.n * (double)d.p * (double)(d.p + 1) / best / 1e9,
         peak_rss_bytes(), rss0, d.x_bytes, openblas_get_num_threads(),
         openblas_get_corename());
  free(C);
  free(d.X);
  free(d.y);
  return 0;
}

/* ---- fit: clearn through the public API --------------------------------- */

static void check(int rc, const char *what) {
  if (rc != CLEARN_OK) {
    fprintf(stderr, "bench_ridge: %s: %s (%s)\n", what, clearn_status_str(rc),
            clearn_last_error());
    exit(2);
  }
}

static int mode_fit(const options *o) {
  dataset d;
  clearn_matrix *Xm = NULL, *ym = NULL, *coef = NULL, *icpt = NULL;
  clearn_estimator *est = NULL;
  double rss0 = peak_rss_bytes(), best = 1e30;
  int r;
  load(o->file, o->thp, &d);
  if (o->threads > 0) clearn_set_num_threads(o->threads);
  print_machine();
  check(clearn_matrix_wrap(d.X, d.n, d.p, CLEARN_FLOAT64, &Xm), "wrap X");
  check(clearn_matrix_wrap(d.y, d.n, 1, CLEARN_FLOAT64, &ym), "wrap y");
  check(clearn_estimator_create("ridge", &est), "create");
  check(clearn_estimator_set_param_double(est, "alpha", o->alpha), "alpha");
  check(clearn_estimator_set_param_int(est, "fit_intercept", 1),
        "fit_intercept");
  for (r = 0; r < o->reps; r++) {
    double t0 = now_s(), t;
    check(clearn_estimator_fit(est, Xm, ym, NULL), "fit");
    t = now_s() - t0;
    printf("fit rep %d: %.4f s\n", r + 1, t);
    if (t < best) best = t;
  }
  check(clearn_estimator_get_attr(est, "coef", &coef), "coef");
  check(clearn_estimator_get_attr(est, "intercept", &icpt), "intercept");
  if (o->coef_path) {
    FILE *f = fopen(o->coef_path, "wb");
    if (f == NULL ||
        fwrite(clearn_matrix_data(coef), sizeof(double), (size_t)d.p, f) !=
            (size_t)d.p ||
        fwrite(clearn_matrix_data(icpt), sizeof(double), 1, f) != 1 ||
        fclose(f) != 0)
      die("cannot write %s", o->coef_path);
  }
  printf("coef[0..2] = %.12g %.12g %.12g, intercept = %.12g\n",
         clearn_matrix_get(coef, 0, 0), clearn_matrix_get(coef, 0, 1),
         clearn_matrix_get(coef, 0, 2), clearn_matrix_get(icpt, 0, 0));
  printf("RESULT mode=fit n=%lld p=%lld mean=%g best_s=%.4f "
         "peak_rss_bytes=%.0f rss_before_load_bytes=%.0f x_bytes=%zu "
         "threads=%d\n",
         (long long)d.n, (long long)d.p, d.mean, best, peak_rss_bytes(), rss0,
         d.x_bytes, clearn_get_num_threads());
  clearn_matrix_free(coef);
  clearn_matrix_free(icpt);
  clearn_estimator_free(est);
  clearn_matrix_free(Xm);
  clearn_matrix_free(ym);
  free(d.X);
  free(d.y);
  return 0;
}

/* ---- parts: phases of the fit and measured alternatives ----------------- */

typedef struct {
  const dataset *d;
  double *ones, *B2, *sums, *G, *b, *xmean;
  double ymean;
  double alpha, *coef; /* coef: p values then the intercept */
  int64_t block;
  int aug, nthreads, chunks, onepass_finite, onepass_fallback;
  double sink;
} parts_ctx;

static double best_of(int reps, void (*fn)(parts_ctx *), parts_ctx *c,
                      const char *name) {
  double best = 1e30;
  int r;
  for (r = 0; r < reps; r++) {
    double t0 = now_s(), t;
    fn(c);
    t = now_s() - t0;
    if (t < best) best = t;
  }
  printf("  %-58s %8.4f s\n", name, best);
  printf("RESULT mode=part name=%s best_s=%.4f\n", name, best);
  fflush(stdout);
  return best;
}

/* clearn__check_finite's loop (src/matrix.c): one dependent add chain. */
static void ph_finite_1acc(parts_ctx *c) {
  const double *a = c->d->X;
  size_t n = c->d->x_bytes / 8, i;
  double s = 0.0;
  for (i = 0; i < n; i++) s += a[i] * 0.0;
  c->sink += s;
}

/* The same test with 8 independent accumulators (the compiler may use
 * vectors; the verdict is identical: any NaN/Inf makes the sum NaN). */
static void ph_finite_8acc(parts_ctx *c) {
  const double *a = c->d->X;
  size_t n = c->d->x_bytes / 8, i, k;
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (i = 0; i + 8 <= n; i += 8)
    for (k = 0; k < 8; k++) s[k] += a[i + k] * 0.0;
  for (; i < n; i++) s[0] += a[i] * 0.0;
  c->sink += s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}

static void ph_finite_y(parts_ctx *c) {
  const double *a = c->d->y;
  int64_t i;
  double s = 0.0;
  for (i = 0; i < c->d->n; i++) s += a[i] * 0.0;
  c->sink += s;
}

static void ph_colsum_gemv(parts_ctx *c) {
  cblas_dgemv(CblasRowMajor, CblasTrans, (int)c->d->n, (int)c->d->p, 1.0,
              c->d->X, (int)c->d->p, c->ones, 1, 0.0, c->sums, 1);
}

static void ph_ysum_gemv(parts_ctx *c) {
  cblas_dgemv(CblasRowMajor, CblasTrans, (int)c->d->n, 1, 1.0, c->d->y, 1,
              c->ones, 1, 0.0, c->sums + c->d->p, 1);
}

static void ph_syrk(parts_ctx *c) {
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)c->d->p,
              (int)c->d->n, 1.0, c->d->X, (int)c->d->p, 0.0, c->G,
              (int)c->d->p);
}

/* X^T y as clearn__dgemm_tn does it: a GEMM with N = 1. */
static void ph_xty_gemm(parts_ctx *c) {
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)c->d->p, 1,
              (int)c->d->n, 1.0, c->d->X, (int)c->d->p, c->d->y, 1, 0.0, c->b,
              1);
}

static void ph_xty_gemv(parts_ctx *c) {
  cblas_dgemv(CblasRowMajor, CblasTrans, (int)c->d->n, (int)c->d->p, 1.0,
              c->d->X, (int)c->d->p, c->d->y, 1, 0.0, c->b, 1);
}

/* X^T [1 y] in one pass: column sums and X^T y together (GEMM, N = 2). */
static void ph_x1y_gemm(parts_ctx *c) {
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)c->d->p, 2,
              (int)c->d->n, 1.0, c->d->X, (int)c->d->p, c->B2, 2, 0.0, c->b,
              2);
}

/* Centered Gram over rows [r0, r1) in blocks of B rows, accumulating into
 * G (q x q, q = p + aug) and, for aug = 0, b (p):
 *   aug 0  clearn's centered_pass: DSYRK of Xc, GEMM (N = 1) for Xc^T yc;
 *   aug 1  one DSYRK of [Xc | yc]: b is G's last column;
 *   aug 2  one DSYRK of [X - s | 1 | y - sy] with s a shift, not the mean:
 *          shifted Gram, shifted column sums and n in the same pass. */
typedef struct {
  const double *X, *y, *shift;
  double yshift;
  int64_t p, r0, r1, B;
  int aug;
  double *G, *b;
} pass_job;

static void *pass_run(void *arg) {
  pass_job *j = arg;
  int64_t p = j->p, q = p + j->aug, B = j->B, i0, i, k;
  double *Z = malloc((size_t)(B * q) * sizeof(double));
  double *Zy = malloc((size_t)B * sizeof(double));
  for (i0 = j->r0; i0 < j->r1; i0 += B) {
    int64_t nb = j->r1 - i0 < B ? j->r1 - i0 : B;
    for (i = 0; i < nb; i++) {
      const double *xr = j->X + (i0 + i) * p;
      double *zr = Z + i * q, yc = j->y[i0 + i] - j->yshift;
      for (k = 0; k < p; k++) zr[k] = xr[k] - j->shift[k];
      if (j->aug == 0) Zy[i] = yc;
      if (j->aug == 1) zr[p] = yc;
      if (j->aug == 2) {
        zr[p] = 1.0;
        zr[p + 1] = yc;
      }
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)q, (int)nb, 1.0, Z,
                (int)q, 1.0, j->G, (int)q);
    if (j->aug == 0)
      cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)p, 1, (int)nb,
                  1.0, Z, (int)p, Zy, 1, 1.0, j->b, 1);
  }
  free(Z);
  free(Zy);
  return NULL;
}

/* Work queue: T threads (the caller and T - 1 pthreads) take jobs 0..K-1
 * in turn from an atomic counter.  With T > 1 each job calls
 * single-threaded BLAS; OpenBLAS's thread count is process-wide, so it is
 * set to 1 for the duration and restored. */
typedef struct {
  void *(*fn)(void *);
  char *jobs;
  size_t job_size;
  int K;
  atomic_int next;
} work_queue;

static void *queue_worker(void *arg) {
  work_queue *wq = arg;
  int k;
  while ((k = atomic_fetch_add(&wq->next, 1)) < wq->K)
    wq->fn(wq->jobs + (size_t)k * wq->job_size);
  return NULL;
}

static void run_queue(work_queue *wq, int T) {
  pthread_t th[MAX_THREADS];
  int t, saved = openblas_get_num_threads();
  atomic_init(&wq->next, 0);
  if (T <= 1) {
    queue_worker(wq);
    return;
  }
  openblas_set_num_threads(1);
  for (t = 1; t < T; t++) pthread_create(&th[t], NULL, queue_worker, wq);
  queue_worker(wq);
  for (t = 1; t < T; t++) pthread_join(th[t], NULL);
  openblas_set_num_threads(saved);
}

/* Rows [0, n) cut into K contiguous pieces: piece k is [lo, hi). */
static void piece(int64_t n, int K, int k, int64_t *lo, int64_t *hi) {
  *lo = n * k / K;
  *hi = n * (k + 1) / K;
}

/* The blocked pass over all rows.  c->chunks pieces, each accumulated into
 * its own G and b and summed in piece order, so the result does not depend
 * on which thread ran which piece: chunks = threads is a static split,
 * chunks = 32 lets a thread that was slowed down (shared cores) take fewer
 * pieces.  With c->nthreads = 1 the pieces run in turn on threaded BLAS. */
static void blocked_pass(parts_ctx *c, const double *shift, double yshift) {
  int64_t p = c->d->p, n = c->d->n, q = p + c->aug, k, e;
  int K = c->chunks > 0 ? c->chunks : 1;
  pass_job *jobs = malloc((size_t)K * sizeof *jobs);
  double *Gs = calloc((size_t)(K * q * q), sizeof(double));
  double *bs = calloc((size_t)(K * p), sizeof(double));
  work_queue wq;
  for (k = 0; k < K; k++) {
    int64_t lo, hi;
    piece(n, K, (int)k, &lo, &hi);
    jobs[k] = (pass_job){c->d->X, c->d->y, shift, yshift, p, lo, hi,
                         c->block, c->aug, Gs + k * q * q, bs + k * p};
  }
  wq.fn = pass_run;
  wq.jobs = (char *)jobs;
  wq.job_size = sizeof *jobs;
  wq.K = K;
  run_queue(&wq, c->nthreads);
  memset(c->G, 0, (size_t)(q * q) * sizeof(double));
  memset(c->b, 0, (size_t)p * sizeof(double));
  for (k = 0; k < K; k++) {
    for (e = 0; e < q * q; e++) c->G[e] += Gs[k * q * q + e];
    for (e = 0; e < p; e++) c->b[e] += bs[k * p + e];
  }
  free(jobs);
  free(Gs);
  free(bs);
}

static void ph_centered(parts_ctx *c) { blocked_pass(c, c->xmean, c->ymean); }

/* The DSYRK floor with the rows split into pieces over pthreads, each a
 * single-threaded DSYRK of its rows as given (no copy). */
typedef struct {
  const double *X;
  int64_t p, nb;
  double *G;
} syrk_job;

static void *syrk_run(void *arg) {
  syrk_job *j = arg;
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)j->p, (int)j->nb,
              1.0, j->X, (int)j->p, 0.0, j->G, (int)j->p);
  return NULL;
}

static void ph_syrk_split(parts_ctx *c) {
  int64_t p = c->d->p, n = c->d->n, k, e;
  int K = c->chunks > 0 ? c->chunks : 1;
  double *Gs = calloc((size_t)(K * p * p), sizeof(double));
  syrk_job *jobs = malloc((size_t)K * sizeof *jobs);
  work_queue wq;
  for (k = 0; k < K; k++) {
    int64_t lo, hi;
    piece(n, K, (int)k, &lo, &hi);
    jobs[k] = (syrk_job){c->d->X + lo * p, p, hi - lo, Gs + k * p * p};
  }
  wq.fn = syrk_run;
  wq.jobs = (char *)jobs;
  wq.job_size = sizeof *jobs;
  wq.K = K;
  run_queue(&wq, c->nthreads);
  for (e = 0; e < p * p; e++) {
    double s = 0;
    for (k = 0; k < K; k++) s += Gs[k * p * p + e];
    c->G[e] = s;
  }
  free(jobs);
  free(Gs);
}

static void ph_syrk_1thread(parts_ctx *c) {
  int saved = openblas_get_num_threads();
  openblas_set_num_threads(1);
  ph_syrk(c);
  openblas_set_num_threads(saved);
}

/* One pass over X for everything: shift s = mean of the first rows (any
 * value near the mean will do), Gram of [X - s | 1 | y - sy] by blocks,
 * then exact centering in the small matrix: with d = mean(X - s),
 *   Xc^T Xc = (X-s)^T (X-s) - n d d^T,
 * which cancels little because d is small against the spread.  The
 * diagonal doubles as the finite check (NaN/Inf anywhere in a column makes
 * its sum of squares non-finite).  Ends with the Cholesky solve. */
static void ph_onepass(parts_ctx *c) {
  int64_t n = c->d->n, p = c->d->p, q = p + 2, m = n < 1024 ? n : 1024, i, j;
  const double *X = c->d->X, *y = c->d->y;
  double *shift = calloc((size_t)p, sizeof(double)), yshift = 0, nn, dy;
  double *A = malloc((size_t)(p * p) * sizeof(double));
  double *d = malloc((size_t)p * sizeof(double));
  double *rhs = malloc((size_t)p * sizeof(double));
  int finite = 1, fallback = 0;
  for (i = 0; i < m; i++) {
    for (j = 0; j < p; j++) shift[j] += X[i * p + j];
    yshift += y[i];
  }
  for (j = 0; j < p; j++) shift[j] /= (double)m;
  yshift /= (double)m;
  c->aug = 2;
  blocked_pass(c, shift, yshift);
  nn = c->G[p * q + p];
  dy = c->G[p * q + p + 1] / nn;
  for (j = 0; j < p; j++) {
    d[j] = c->G[j * q + p] / nn;
    if (!isfinite(c->G[j * q + j]) || !isfinite(d[j])) finite = 0;
    if (nn * d[j] * d[j] > 0.75 * c->G[j * q + j]) fallback = 1;
  }
  for (i = 0; i < p; i++) {
    for (j = i; j < p; j++)
      A[i * p + j] = c->G[i * q + j] - nn * d[i] * d[j];
    A[i * p + i] += c->alpha;
    rhs[i] = c->G[i * q + p + 1] - nn * d[i] * dy;
  }
  if (finite && LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (lapack_int)p, 1, A,
                              (lapack_int)p, rhs, 1) == 0) {
    double icpt = yshift + dy;
    for (j = 0; j < p; j++) {
      c->coef[j] = rhs[j];
      icpt -= (shift[j] + d[j]) * rhs[j];
    }
    c->coef[p] = icpt;
  }
  c->onepass_finite = finite;
  c->onepass_fallback = fallback;
  free(shift);
  free(A);
  free(d);
  free(rhs);
}

static double max_rel_diff(const double *a, const double *b, int64_t k) {
  double m = 0;
  int64_t i;
  for (i = 0; i < k; i++) {
    double r = fabs(a[i] - b[i]) / (fabs(b[i]) > 1e-300 ? fabs(b[i]) : 1e-300);
    if (r > m) m = r;
  }
  return m;
}

static int mode_parts(const options *o) {
  dataset d;
  parts_ctx c;
  int64_t n, p, i, j;
  int R = o->reps, T;
  double fast = 0, t, onepass_best = 1e30;
  char name[128];
  load(o->file, o->thp, &d);
  if (o->threads > 0) openblas_set_num_threads(o->threads);
  T = openblas_get_num_threads();
  print_machine();
  n = d.n;
  p = d.p;
  memset(&c, 0, sizeof c);
  c.d = &d;
  c.alpha = o->alpha;
  c.ones = malloc((size_t)n * sizeof(double));
  c.B2 = malloc((size_t)(2 * n) * sizeof(double));
  c.sums = calloc((size_t)(p + 1), sizeof(double));
  c.G = calloc((size_t)((p + 2) * (p + 2)), sizeof(double));
  c.b = calloc((size_t)(2 * p), sizeof(double));
  c.xmean = calloc((size_t)p, sizeof(double));
  c.coef = calloc((size_t)(p + 1), sizeof(double));
  if (!c.ones || !c.B2 || !c.sums || !c.G || !c.b || !c.xmean || !c.coef)
    die("%s", "out of memory");
  for (i = 0; i < n; i++) {
    c.ones[i] = 1.0;
    c.B2[2 * i] = 1.0;
    c.B2[2 * i + 1] = d.y[i];
  }
  ph_colsum_gemv(&c);
  ph_ysum_gemv(&c);
  for (j = 0; j < p; j++) c.xmean[j] = c.sums[j] / (double)n;
  c.ymean = c.sums[p] / (double)n;
  c.block = 655; /* block_rows(200) in src/linmodel.c */
  c.nthreads = 1;
  c.chunks = 1;

  printf("clearn fit phases, in the order src/linmodel.c runs them "
         "(best of %d, BLAS threads %d):\n", R, T);
  fast += best_of(R, ph_finite_1acc, &c, "finite_check_X_1acc");
  fast += best_of(R, ph_finite_y, &c, "finite_check_y");
  fast += best_of(R, ph_colsum_gemv, &c, "colsum_X_dgemv");
  fast += best_of(R, ph_ysum_gemv, &c, "colsum_y_dgemv");
  fast += best_of(R, ph_syrk, &c, "dsyrk_XtX");
  fast += best_of(R, ph_xty_gemm, &c, "Xty_dgemm_N1");
  printf("  %-58s %8.4f s\n", "= predicted fast path (zero-mean data)", fast);
  printf("RESULT mode=part name=sum_fast_path best_s=%.4f\n", fast);
  c.aug = 0;
  t = best_of(R, ph_centered, &c, "centered_B655_dsyrk+dgemmN1");
  printf("  %-58s %8.4f s\n",
         "= predicted exact path (fast pass, then centered pass)", fast + t);
  printf("RESULT mode=part name=sum_exact_path best_s=%.4f\n", fast + t);

  printf("alternatives (blasthreads: OpenBLAS threads each call; static: "
         "%d row pieces, one per pthread; chunked: %d pieces taken from a "
         "queue by %d pthreads; both with single-threaded BLAS):\n",
         T, NCHUNKS, T);
  best_of(R, ph_finite_8acc, &c, "finite_check_X_8acc");
  best_of(R, ph_xty_gemv, &c, "Xty_dgemv");
  best_of(R, ph_x1y_gemm, &c, "Xt[1,y]_dgemm_N2");
  best_of(R, ph_syrk_1thread, &c, "dsyrk_XtX_1thread");
  c.nthreads = T;
  c.chunks = T;
  best_of(R, ph_syrk_split, &c, "dsyrk_XtX_static");
  c.chunks = NCHUNKS;
  best_of(R, ph_syrk_split, &c, "dsyrk_XtX_chunked");
  c.nthreads = 1;
  c.chunks = 1;
  c.aug = 0;
  c.block = 4096;
  best_of(R, ph_centered, &c, "centered_B4096_dsyrk+dgemmN1_blasthreads");
  c.block = 16384;
  best_of(R, ph_centered, &c, "centered_B16384_dsyrk+dgemmN1_blasthreads");
  c.aug = 1;
  c.block = 655;
  best_of(R, ph_centered, &c, "centered_B655_dsyrk[Xc,yc]_blasthreads");
  c.nthreads = T;
  c.chunks = T;
  best_of(R, ph_centered, &c, "centered_B655_dsyrk[Xc,yc]_static");
  c.chunks = NCHUNKS;
  best_of(R, ph_centered, &c, "centered_B655_dsyrk[Xc,yc]_chunked");
  printf("one pass (shift, Gram of [X-s,1,y-sy], center in p x p, solve):\n");
  for (j = 0; j < 8; j++) {
    static const int64_t blk[8] = {256, 655, 2048, 256, 655, 2048, 655, 4096};
    static const char *const how[3] = {"static", "chunked", "blasthreads"};
    int h = j < 3 ? 0 : j < 6 ? 1 : 2;
    c.block = blk[j];
    c.nthreads = h == 2 ? 1 : T;
    c.chunks = h == 0 ? T : h == 1 ? NCHUNKS : 1;
    snprintf(name, sizeof name, "onepass_B%lld_%s", (long long)c.block,
             how[h]);
    t = best_of(R, ph_onepass, &c, name);
    if (t < onepass_best) onepass_best = t;
  }
  printf("  onepass: finite=%d exact-fallback-needed=%d coef[0]=%.12g "
         "intercept=%.12g\n",
         c.onepass_finite, c.onepass_fallback, c.coef[0], c.coef[p]);
  if (o->coef_path) {
    double *ref = malloc((size_t)(p + 1) * sizeof(double));
    int fd = open(o->coef_path, O_RDONLY);
    if (fd >= 0 && read_all(fd, ref, (size_t)(p + 1) * sizeof(double)) == 0)
      printf("RESULT mode=onepass_vs_clearn coef_max_rel_diff=%.3g "
             "intercept_rel_diff=%.3g\n",
             max_rel_diff(c.coef, ref, p),
             max_rel_diff(c.coef + p, ref + p, 1));
    if (fd >= 0) close(fd);
    free(ref);
  }
  printf("RESULT mode=parts onepass_best_s=%.4f sink=%g\n", onepass_best,
         c.sink);
  free(c.ones);
  free(c.B2);
  free(c.sums);
  free(c.G);
  free(c.b);
  free(c.xmean);
  free(c.coef);
  free(d.X);
  free(d.y);
  return 0;
}

/* ---- command line ------------------------------------------------------- */

static void usage(void) {
  fprintf(stderr,
          "usage: bench_ridge gen|syrk|fit|parts FILE [options]\n"
          "  --n N         rows (gen; default 1000000)\n"
          "  --p P         features (gen; default 200)\n"
          "  --mean M      feature mean (gen; default 0; 3 takes clearn's\n"
          "                exact centered path)\n"
          "  --std S       feature standard deviation (gen; default 1)\n"
          "  --seed S      generator seed (gen; default 20261121)\n"
          "  --reps R      timed repetitions, best reported (default 3)\n"
          "  --alpha A     ridge alpha (default 1)\n"
          "  --threads T   BLAS threads (default: OpenBLAS's choice)\n"
          "  --coef OUT    fit: write coef then intercept (raw float64);\n"
          "                parts: compare the one-pass variant with it\n"
          "  --thp         allocate X 2 MiB aligned with MADV_HUGEPAGE\n");
  exit(2);
}

int main(int argc, char **argv) {
  options o = {NULL, NULL, NULL, 1000000, 200, 0.0, 1.0, 1.0,
               UINT64_C(20261121), 3, 0, 0};
  int i;
  if (argc < 3) usage();
  o.mode = argv[1];
  o.file = argv[2];
  for (i = 3; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--thp") == 0) {
      o.thp = 1;
      continue;
    }
    if (v == NULL) usage();
    i++;
    if (strcmp(a, "--n") == 0) o.n = strtoll(v, NULL, 10);
    else if (strcmp(a, "--p") == 0) o.p = strtoll(v, NULL, 10);
    else if (strcmp(a, "--mean") == 0) o.mean = strtod(v, NULL);
    else if (strcmp(a, "--std") == 0) o.std = strtod(v, NULL);
    else if (strcmp(a, "--seed") == 0) o.seed = strtoull(v, NULL, 10);
    else if (strcmp(a, "--reps") == 0) o.reps = atoi(v);
    else if (strcmp(a, "--alpha") == 0) o.alpha = strtod(v, NULL);
    else if (strcmp(a, "--threads") == 0) o.threads = atoi(v);
    else if (strcmp(a, "--coef") == 0) o.coef_path = v;
    else usage();
  }
  if (o.n <= 0 || o.n > INT_MAX || o.p <= 0 || o.p > 4096 || o.p % 2 ||
      o.reps < 1 || o.threads > MAX_THREADS)
    die("%s", "need 0 < n <= INT_MAX, even 0 < p <= 4096, reps >= 1, "
              "threads <= 16");
  if (strcmp(o.mode, "gen") == 0) return mode_gen(&o);
  if (strcmp(o.mode, "syrk") == 0) return mode_syrk(&o);
  if (strcmp(o.mode, "fit") == 0) return mode_fit(&o);
  if (strcmp(o.mode, "parts") == 0) return mode_parts(&o);
  usage();
  return 2;
}
