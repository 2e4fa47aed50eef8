/*
 * bench_als.c -- ALS (kind "als") on MovieLens-1M and on generated data of
 * MovieLens-20M's shape, against the SGEMM rate that bounds it; the same
 * splits are exported for bench/als_numpy.py, a NumPy ALS-WR of the same
 * update, so both sides fit identical data.
 *
 *   bench_als sgemm             cblas_sgemm of two N x N float32 matrices
 *                               on all cores, best of --reps: the rate the
 *                               flop floor is divided by
 *   bench_als ml1m FILE [P..]   FILE in ml-1m format, 90/10 random split
 *                               (clearn_ratings_split_random, seed 42); fit
 *                               on the 90 % (best of --reps), test RMSE on
 *                               the 10 % once; with --curve, one more fit
 *                               with the TEST set as validation data, used
 *                               only for the time-to-target curve
 *   bench_als tune FILE [P..]   hyper-parameter grid scored on a validation
 *                               split carved from the training part (the
 *                               90 % split again 90/10 with --vseed, 7); the
 *                               test part is never scored
 *   bench_als gen [P..]         generated data of ml-20m's shape (138493
 *                               users, 26744 items, 20000263 ratings,
 *                               >= 20 per user), all of it fitted (or a
 *                               --holdout split): seconds per iteration,
 *                               peak RSS against the data + factor bytes,
 *                               the flop floor 2 nnz k (k+1) + (users +
 *                               items) k^3 / 3 (over --gflops if given)
 *   bench_als recommend         the same data: top --k (10) items for every
 *                               user against the GEMM alone
 *   bench_als rows              the same data: one pass of random factor-row
 *                               reads over each CSR (the memory floor of a
 *                               pass), 1 .. --threads (2) threads
 *
 * P: ALS parameters as name=value (rank=64 solver=cg cg_steps=3 ...),
 * passed to clearn_estimator_set_param_string.  Bench defaults differ from
 * the library's only in rank=32 (ml1m, tune) / 64 (gen) and
 * cold_start=drop (ml-1m's random split leaves a few test users and
 * movies out of training).
 *
 * Options: --reps N (fits or SGEMM calls, best taken; 1), --n N (SGEMM
 * size, 4096), --export DIR (write the fitted split for als_numpy.py),
 * --subsample F (gen: export only a random fraction F of the ratings,
 * for when NumPy cannot fit the whole set), --curve, --target T[,T..]
 * (0.845,0.840),
 * --gflops R, --sgemm (gen: also time SGEMM, --n, best of 3, in the same
 * process just before and just after the fit, and hold the iteration
 * against both: the host's rate moves by a third within minutes; the RSS
 * figures then include OpenBLAS's buffers, about 8 MB),
 * --holdout F (gen: fit a 1-F random part, validate on the rest), --users/--items/--nnz/--gseed (gen shape), grid lists for tune:
 * --ranks 32,64 --regs 0.05,0.07 --biases 0,1 --solvers cholesky,cg3,gibbs
 * (gibbs: the settings on the command line give max_iter and burn_in).
 *
 * Memory: every mode runs in its own process.  "peak RSS" is the
 * process's high-water mark (getrusage), which includes loading or
 * generating the data; "fit peak" is the high-water mark from just before
 * the fit (the kernel's counter reset through /proc/self/clear_refs), the
 * figure to hold against the bytes the fit cannot avoid.
 *
 * Export layout (raw little-endian, DIR/): train.{u_ptr,i_ptr,user_ids,
 * item_ids} int64, train.{u_idx,i_idx} int32, train.{u_val,i_val} float32
 * (the two CSR copies exactly as clearn holds them), test.{users,items}
 * int64 and test.values float32 (original ids; empty for gen without a
 * holdout), meta.txt "n_users n_items nnz n_test".
 *
 * Lines starting with "RESULT " carry key=value pairs for run_als.sh.  A
 * benchmark prints figures; it never fails on a time.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>
#include <immintrin.h>

#include "clearn/clearn.h"

#define MAX_PARAMS 32
#define MAX_ITERS 512
#define MAX_GRID 16

typedef struct {
  const char *mode, *file, *export_dir;
  const char *pname[MAX_PARAMS], *pval[MAX_PARAMS];
  int np;
  int reps, curve, n, n_targets, threads, topk, sgemm_inline;
  double targets[8], gflops, holdout, subsample;
  int64_t users, items, nnz;
  uint64_t gseed, vseed;
  const char *ranks, *regs, *biases, *solvers;
} options;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double peak_rss_mb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

/* A line "Key:   N kB" of /proc/self/status, in MB; -1 if absent. */
static double status_mb(const char *key) {
  char line[256];
  size_t kl = strlen(key);
  double v = -1;
  FILE *f = fopen("/proc/self/status", "r");
  if (f == NULL) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
      v = atof(line + kl + 1) / 1024.0;
      break;
    }
  fclose(f);
  return v;
}

/* Reset the kernel's peak-RSS counter (VmHWM) to the current RSS; 1 on
 * success (Linux >= 4.0). */
static int reset_peak(void) {
  FILE *f = fopen("/proc/self/clear_refs", "w");
  int ok;
  if (f == NULL) return 0;
  ok = fputs("5", f) >= 0;
  return fclose(f) == 0 && ok;
}

/* Seconds of CPU time the hypervisor gave to others since boot (the
 * steal column of /proc/stat, all CPUs); -1 if unknown.  A fit's share
 * of it says how much a shared host slowed that fit. */
static double steal_s(void) {
  unsigned long long v[8] = {0};
  int n;
  FILE *f = fopen("/proc/stat", "r");
  if (f == NULL) return -1;
  n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
             &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
  fclose(f);
  return n == 8 ? (double)v[7] / (double)sysconf(_SC_CLK_TCK) : -1;
}

/* CPU seconds (user + system, all threads) this process has used: on a
 * shared host, a fit's CPU time moves less with the others' load than
 * its wall time does. */
static double cpu_s(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return NAN;
  return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
         (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

static int fail(const char *what) {
  fprintf(stderr, "bench_als: %s: %s\n", what, clearn_last_error());
  return 1;
}

/* ---- data -----------------------------------------------------------------
 */

/* Bytes of the two CSR copies (indptr, indices, values of each) and of the
 * id maps. */
static double csr_bytes(const clearn_ratings *r) {
  double nnz = (double)clearn_ratings_nnz(r);
  double nu = (double)clearn_ratings_n_users(r);
  double ni = (double)clearn_ratings_n_items(r);
  return 2 * nnz * (4 + 4) + (nu + 1 + ni + 1) * 8;
}

static double ids_bytes(const clearn_ratings *r) {
  return 8.0 * (double)(clearn_ratings_n_users(r) + clearn_ratings_n_items(r));
}

static int write_raw(const char *dir, const char *name, const void *p,
                     size_t bytes) {
  char path[1024];
  FILE *f;
  size_t ok;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if ((f = fopen(path, "wb")) == NULL) {
    fprintf(stderr, "bench_als: cannot write %s: %s\n", path, strerror(errno));
    return 1;
  }
  ok = bytes == 0 || fwrite(p, 1, bytes, f) == bytes;
  if (fclose(f) != 0 || !ok) {
    fprintf(stderr, "bench_als: write %s failed\n", path);
    return 1;
  }
  return 0;
}

/* Train CSRs as clearn holds them, test as triples of original ids. */
static int export_split(const char *dir, const clearn_ratings *tr,
                        const clearn_ratings *te) {
  const clearn_csr *bu = clearn_ratings_by_user(tr);
  const clearn_csr *bi = clearn_ratings_by_item(tr);
  int64_t nu = clearn_ratings_n_users(tr), ni = clearn_ratings_n_items(tr);
  int64_t nnz = clearn_ratings_nnz(tr), nt = te ? clearn_ratings_nnz(te) : 0;
  int64_t *tu = malloc((size_t)(nt > 0 ? nt : 1) * sizeof(int64_t));
  int64_t *ti = malloc((size_t)(nt > 0 ? nt : 1) * sizeof(int64_t));
  float *tv = malloc((size_t)(nt > 0 ? nt : 1) * sizeof(float));
  char meta[256];
  int bad = 0;
  mkdir(dir, 0755);
  if (!tu || !ti || !tv) return fprintf(stderr, "bench_als: no memory\n"), 1;
  if (te && clearn_ratings_triples(te, tu, ti, tv) != CLEARN_OK)
    return fail("triples");
  bad |= write_raw(dir, "train.u_ptr", clearn_csr_indptr(bu),
                   (size_t)(nu + 1) * 8);
  bad |= write_raw(dir, "train.u_idx", clearn_csr_indices(bu), (size_t)nnz * 4);
  bad |= write_raw(dir, "train.u_val", clearn_csr_values(bu), (size_t)nnz * 4);
  bad |= write_raw(dir, "train.i_ptr", clearn_csr_indptr(bi),
                   (size_t)(ni + 1) * 8);
  bad |= write_raw(dir, "train.i_idx", clearn_csr_indices(bi), (size_t)nnz * 4);
  bad |= write_raw(dir, "train.i_val", clearn_csr_values(bi), (size_t)nnz * 4);
  bad |= write_raw(dir, "train.user_ids", clearn_ratings_user_ids(tr),
                   (size_t)nu * 8);
  bad |= write_raw(dir, "train.item_ids", clearn_ratings_item_ids(tr),
                   (size_t)ni * 8);
  bad |= write_raw(dir, "test.users", tu, (size_t)nt * 8);
  bad |= write_raw(dir, "test.items", ti, (size_t)nt * 8);
  bad |= write_raw(dir, "test.values", tv, (size_t)nt * 4);
  snprintf(meta, sizeof meta, "%lld %lld %lld %lld\n", (long long)nu,
           (long long)ni, (long long)nnz, (long long)nt);
  bad |= write_raw(dir, "meta.txt", meta, strlen(meta));
  free(tu);
  free(ti);
  free(tv);
  if (!bad) printf("exported the split to %s\n", dir);
  return bad;
}

/* ---- fitting --------------------------------------------------------------
 */

typedef struct {
  double t0;
  int n;
  double wall[MAX_ITERS], train_rmse[MAX_ITERS], valid[MAX_ITERS];
  double secs[MAX_ITERS], loss[MAX_ITERS];
} trace;

static int on_iter(void *user_data, int iteration, const char *const *names,
                   const double *values, int n) {
  trace *t = user_data;
  int i, at = iteration - 1;
  if (at >= MAX_ITERS) return 1;
  t->wall[at] = now() - t->t0;
  for (i = 0; i < n; i++) {
    if (strcmp(names[i], "valid_rmse") == 0) t->valid[at] = values[i];
    if (strcmp(names[i], "train_rmse") == 0) t->train_rmse[at] = values[i];
    if (strcmp(names[i], "train_loss") == 0) t->loss[at] = values[i];
    if (strcmp(names[i], "seconds") == 0) t->secs[at] = values[i];
  }
  t->n = iteration;
  return 0;
}

static int make_als(const options *o, const char *const *extra_n,
                    const char *const *extra_v, int n_extra,
                    clearn_estimator **out) {
  clearn_estimator *est = NULL;
  int i;
  if (clearn_estimator_create("als", &est) != CLEARN_OK) return fail("create");
  for (i = 0; i < o->np + n_extra; i++) {
    const char *k = i < o->np ? o->pname[i] : extra_n[i - o->np];
    const char *v = i < o->np ? o->pval[i] : extra_v[i - o->np];
    if (clearn_estimator_set_param_string(est, k, v) != CLEARN_OK) {
      fprintf(stderr, "bench_als: %s=%s: %s\n", k, v, clearn_last_error());
      clearn_estimator_free(est);
      return 1;
    }
  }
  *out = est;
  return 0;
}

/* One fit with the trace recorded; *secs is its wall time. */
static int fit_traced(clearn_estimator *est, const clearn_ratings *tr,
                      const clearn_ratings *va, trace *t, double *secs) {
  int rc;
  memset(t, 0, sizeof *t);
  clearn_estimator_set_progress(est, on_iter, t);
  t->t0 = now();
  rc = clearn_estimator_fit_ratings(est, tr, va);
  *secs = now() - t->t0;
  clearn_estimator_set_progress(est, NULL, NULL);
  return rc == CLEARN_OK || rc == CLEARN_ENOTCONVERGED ? 0 : fail("fit");
}

static void settings_text(const clearn_estimator *est, char *buf, size_t cap) {
  static const char *const keys[] = {
      "rank",     "reg",          "reg_exponent", "max_iter",
      "biases",   "solver",       "cg_steps",     "burn_in",
      "weighted_reg", "dtype",    "num_threads"};
  size_t used = 0;
  unsigned i;
  buf[0] = '\0';
  for (i = 0; i < sizeof keys / sizeof keys[0] && used < cap; i++) {
    char v[64];
    clearn_estimator_get_param_string(est, keys[i], v, sizeof v, NULL);
    used += (size_t)snprintf(buf + used, cap - used, "%s%s=%s", i ? " " : "",
                             keys[i], v);
  }
}

static int last_of(const trace *t) { return t->n > 0 ? t->n - 1 : 0; }

static double mean_of(const double *a, int n) {
  double s = 0;
  int i;
  for (i = 0; i < n; i++) s += a[i];
  return n > 0 ? s / n : NAN;
}

/* ---- modes ----------------------------------------------------------------
 */

/* The best of reps calls of cblas_sgemm on two n x n float32 matrices, all
 * BLAS threads, in GFLOP/s (after one untimed call: thread start-up and
 * page faults); -1 without memory.  *c0 (if given): c[0], printed so the
 * product is not optimized away. */
static double sgemm_rate(int n, int reps, double *c0) {
  size_t nn = (size_t)n * (size_t)n, q;
  float *a = malloc(nn * sizeof(float)), *b = malloc(nn * sizeof(float)),
        *c = malloc(nn * sizeof(float));
  double best = 1e300, flops = 2.0 * (double)n * (double)n * (double)n;
  int r;
  if (!a || !b || !c) {
    free(a);
    free(b);
    free(c);
    return -1;
  }
  for (q = 0; q < nn; q++) {
    a[q] = (float)((q * 2654435761u) % 1000) * 1e-3f;
    b[q] = (float)((q * 40503u) % 1000) * 1e-3f;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b,
              n, 0.0f, c, n);
  for (r = 0; r < reps; r++) {
    double t = now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n,
                b, n, 0.0f, c, n);
    t = now() - t;
    if (t < best) best = t;
  }
  if (c0) *c0 = (double)c[0];
  free(a);
  free(b);
  free(c);
  return flops / best / 1e9;
}

static int mode_sgemm(const options *o) {
  double c0 = 0, gf = sgemm_rate(o->n, o->reps > 1 ? o->reps : 5, &c0);
  double flops = 2.0 * (double)o->n * (double)o->n * (double)o->n;
  if (gf < 0) return fprintf(stderr, "bench_als: no memory\n"), 1;
  printf("sgemm %d x %d x %d, %d BLAS threads: best %.4f s, %.1f GFLOP/s "
         "(c[0] %g)\n",
         o->n, o->n, o->n, openblas_get_num_threads(), flops / gf / 1e9, gf,
         c0);
  printf("RESULT mode=sgemm n=%d threads=%d best_s=%.5f gflops=%.2f\n", o->n,
         openblas_get_num_threads(), flops / gf / 1e9, gf);
  return 0;
}

static int load_split(const options *o, clearn_ratings **tr,
                      clearn_ratings **te) {
  clearn_ratings *all = NULL;
  double t = now();
  if (o->file == NULL) return fprintf(stderr, "bench_als: no FILE\n"), 2;
  if (access(o->file, R_OK) != 0) {
    fprintf(stderr, "bench_als: %s is absent: skipped\n", o->file);
    return 77;
  }
  if (clearn_ratings_load_text(o->file, "ml-1m", 0, NULL, &all) != CLEARN_OK)
    return fail(o->file);
  if (clearn_ratings_split_random(all, 0.1, 42, tr, te) != CLEARN_OK)
    return fail("split");
  printf("%s: %lld ratings, %lld users, %lld items (load %.2f s); split "
         "90/10 seed 42: train %lld, test %lld\n",
         o->file, (long long)clearn_ratings_nnz(all),
         (long long)clearn_ratings_n_users(all),
         (long long)clearn_ratings_n_items(all), now() - t,
         (long long)clearn_ratings_nnz(*tr),
         (long long)clearn_ratings_nnz(*te));
  clearn_ratings_free(all);
  return 0;
}

static const char *const ML_N[] = {"rank", "cold_start"};
static const char *const ML_V[] = {"32", "drop"};

static int mode_ml1m(const options *o) {
  clearn_ratings *tr = NULL, *te = NULL;
  clearn_estimator *est = NULL;
  trace *t = calloc(1, sizeof *t);
  double best = 1e300, best_iter = 0, secs, rmse = NAN, mae = NAN, fit_peak;
  double rss_before, st0;
  int rc, r, have_reset, i, hit = -1;
  int64_t used = 0, k = 0;
  char set[512];
  if (t == NULL) return 1;
  if ((rc = load_split(o, &tr, &te)) != 0) return rc;
  if (o->export_dir && export_split(o->export_dir, tr, te)) return 1;
  /* Bench defaults first, the command line's settings override them. */
  {
    options o2 = *o;
    const char *nn[MAX_PARAMS + 2], *vv[MAX_PARAMS + 2];
    for (i = 0; i < 2; i++) nn[i] = ML_N[i], vv[i] = ML_V[i];
    for (i = 0; i < o->np; i++) nn[2 + i] = o->pname[i], vv[2 + i] = o->pval[i];
    o2.np = 0;
    if (make_als(&o2, nn, vv, 2 + o->np, &est)) return 1;
  }
  settings_text(est, set, sizeof set);
  clearn_estimator_get_param_int(est, "rank", &k);
  rss_before = status_mb("VmRSS");
  have_reset = reset_peak();
  st0 = steal_s();
  for (r = 0; r < (o->reps > 0 ? o->reps : 1); r++) {
    if (fit_traced(est, tr, NULL, t, &secs)) return 1;
    printf("  fit %d: %.3f s, %d iterations, %.4f s/iteration (history)\n",
           r + 1, secs, t->n, mean_of(t->secs, t->n));
    if (secs < best) best = secs, best_iter = mean_of(t->secs, t->n);
  }
  fit_peak = have_reset ? status_mb("VmHWM") : NAN;
  st0 = steal_s() - st0;
  if (clearn_estimator_score_ratings(est, te, "rmse", &rmse, &used) !=
          CLEARN_OK ||
      clearn_estimator_score_ratings(est, te, "mae", &mae, NULL) != CLEARN_OK)
    return fail("score");
  printf("ml-1m ALS %s\n", set);
  printf("  test RMSE %.4f  MAE %.4f  (%lld of %lld test ratings; cold "
         "pairs dropped)\n",
         rmse, mae, (long long)used, (long long)clearn_ratings_nnz(te));
  printf("  fit %.3f s (best of %d), %.4f s/iteration, train RMSE %.4f "
         "(host steal during the fits: %.2f CPU-s)\n",
         best, o->reps > 0 ? o->reps : 1, best_iter, t->train_rmse[last_of(t)],
         st0);
  printf("  RSS before fit %.0f MB, fit peak %.0f MB, process peak %.0f MB; "
         "ratings %.1f MB + factors %.1f MB\n",
         rss_before, fit_peak, peak_rss_mb(),
         (csr_bytes(tr) + csr_bytes(te)) / 1e6,
         (double)(clearn_ratings_n_users(tr) + clearn_ratings_n_items(tr)) *
             (double)k * 4 / 1e6);
  printf("RESULT mode=ml1m rank=%lld test_rmse=%.5f test_mae=%.5f "
         "fit_s=%.4f s_per_iter=%.5f iters=%d train_rmse=%.5f "
         "fit_peak_mb=%.1f peak_rss_mb=%.1f steal_s=%.2f settings=\"%s\"\n",
         (long long)k, rmse, mae, best, best_iter, t->n,
         t->train_rmse[last_of(t)], fit_peak, peak_rss_mb(), st0, set);

  if (o->curve) {
    int q;
    double best_v = INFINITY;
    /* The test set as validation data: for the curve only, never for a
     * choice of setting. */
    if (fit_traced(est, tr, te, t, &secs)) return 1;
    printf("  curve (validation = TEST set, for time-to-target only):\n");
    printf("    iter  wall_s   test_rmse  train_rmse\n");
    for (i = 0; i < t->n; i++) {
      printf("    %4d  %6.3f   %.4f     %.4f\n", i + 1, t->wall[i], t->valid[i],
             t->train_rmse[i]);
      if (t->valid[i] < best_v) best_v = t->valid[i];
    }
    for (q = 0; q < o->n_targets; q++) {
      hit = -1;
      for (i = 0; i < t->n && hit < 0; i++)
        if (t->valid[i] <= o->targets[q]) hit = i;
      if (hit >= 0)
        printf("  test RMSE %.3f reached after %d iterations, %.3f s (wall "
               "time from fit start, incl. per-iteration scoring)\n",
               o->targets[q], hit + 1, t->wall[hit]);
      else
        printf("  test RMSE %.3f not reached in %d iterations (best %.4f)\n",
               o->targets[q], t->n, best_v);
      printf("RESULT mode=curve rank=%lld target=%.4f reached=%d "
             "iters_to_target=%d s_to_target=%.4f best_test_rmse=%.5f "
             "fit_s=%.4f\n",
             (long long)k, o->targets[q], hit >= 0, hit >= 0 ? hit + 1 : -1,
             hit >= 0 ? t->wall[hit] : NAN, best_v, secs);
    }
  }
  clearn_estimator_free(est);
  clearn_ratings_free(tr);
  clearn_ratings_free(te);
  free(t);
  return 0;
}

/* Comma-separated list into at most MAX_GRID strings (in buf). */
static int split_list(const char *s, char *buf, size_t cap, char **out) {
  int n = 0;
  char *p, *save = NULL;
  snprintf(buf, cap, "%s", s);
  for (p = strtok_r(buf, ",", &save); p && n < MAX_GRID;
       p = strtok_r(NULL, ",", &save))
    out[n++] = p;
  return n;
}

static int mode_tune(const options *o) {
  clearn_ratings *tr = NULL, *te = NULL, *sub = NULL, *va = NULL;
  char b1[256], b2[256], b3[256], b4[256], *ranks[MAX_GRID], *regs[MAX_GRID],
      *bias[MAX_GRID], *solv[MAX_GRID];
  int nr, ng, nb, ns, a, b, c, d, rc;
  trace *t = calloc(1, sizeof *t);
  if (t == NULL) return 1;
  if ((rc = load_split(o, &tr, &te)) != 0) return rc;
  clearn_ratings_free(te); /* never scored here */
  if (clearn_ratings_split_random(tr, 0.1, o->vseed, &sub, &va) != CLEARN_OK)
    return fail("validation split");
  printf("validation split of the training part (90/10, seed %llu): fit "
         "%lld, validate %lld\n",
         (unsigned long long)o->vseed, (long long)clearn_ratings_nnz(sub),
         (long long)clearn_ratings_nnz(va));
  nr = split_list(o->ranks, b1, sizeof b1, ranks);
  ng = split_list(o->regs, b2, sizeof b2, regs);
  nb = split_list(o->biases, b3, sizeof b3, bias);
  ns = split_list(o->solvers, b4, sizeof b4, solv);
  printf("  rank  reg     biases solver      best_it  valid_rmse  "
         "it(+0.001)  rmse@5  rmse@10  rmse@last  s/iter\n");
  for (a = 0; a < nr; a++)
    for (b = 0; b < ng; b++)
      for (c = 0; c < nb; c++)
        for (d = 0; d < ns; d++) {
          const char *nn[8], *vv[8];
          char steps[16] = "3", biasv[8];
          int m = 0, i, bi = 0, near = 0;
          clearn_estimator *est = NULL;
          double secs;
          nn[m] = "rank", vv[m++] = ranks[a];
          nn[m] = "reg", vv[m++] = regs[b];
          snprintf(biasv, sizeof biasv, "%s", atoi(bias[c]) ? "true" : "false");
          nn[m] = "biases", vv[m++] = biasv;
          nn[m] = "cold_start", vv[m++] = "drop";
          if (strncmp(solv[d], "cg", 2) == 0) {
            snprintf(steps, sizeof steps, "%s", solv[d][2] ? solv[d] + 2 : "3");
            nn[m] = "solver", vv[m++] = "cg";
            nn[m] = "cg_steps", vv[m++] = steps;
          } else if (strcmp(solv[d], "gibbs") == 0) {
            /* sampled: valid_rmse is that of the running average */
            nn[m] = "solver", vv[m++] = "gibbs";
          } else {
            nn[m] = "solver", vv[m++] = "cholesky";
          }
          if (make_als(o, nn, vv, m, &est)) return 1;
          if (fit_traced(est, sub, va, t, &secs)) return 1;
          for (i = 1; i < t->n; i++)
            if (t->valid[i] < t->valid[bi]) bi = i;
          for (i = 0; i < t->n; i++)
            if (t->valid[i] <= t->valid[bi] + 0.001) {
              near = i;
              break;
            }
          printf("  %4s  %-6s  %-6s %-10s  %5d    %.4f      %5d      "
                 "%.4f  %.4f   %.4f     %.4f\n",
                 ranks[a], regs[b], biasv, solv[d], bi + 1, t->valid[bi],
                 near + 1, t->n >= 5 ? t->valid[4] : NAN,
                 t->n >= 10 ? t->valid[9] : NAN, t->valid[last_of(t)],
                 mean_of(t->secs, t->n));
          printf("RESULT mode=tune rank=%s reg=%s biases=%s solver=%s "
                 "best_iter=%d valid_rmse=%.5f near_iter=%d s_per_iter=%.5f\n",
                 ranks[a], regs[b], biasv, solv[d], bi + 1, t->valid[bi],
                 near + 1, mean_of(t->secs, t->n));
          fflush(stdout);
          clearn_estimator_free(est);
        }
  clearn_ratings_free(tr);
  clearn_ratings_free(sub);
  clearn_ratings_free(va);
  free(t);
  return 0;
}

static int mode_gen(const options *o) {
  clearn_ratings *all = NULL, *tr = NULL, *te = NULL;
  clearn_estimator *est = NULL;
  trace *t = calloc(1, sizeof *t);
  const char *nn[MAX_PARAMS + 1], *vv[MAX_PARAMS + 1];
  double tg = now(), secs, rss_before, fit_peak, data_mb, fac_mb, budget;
  double floor_gf, nnz, nu, ni, kk, first, rest, valid, st0, cpu0;
  double sg_before = NAN, sg_after = NAN;
  int64_t k = 0;
  int i, have_reset;
  char set[512];
  if (t == NULL) return 1;
  if (clearn_ratings_generate(o->users, o->items, o->nnz, 20, 10, 0.5, 2,
                              o->gseed, &all) != CLEARN_OK)
    return fail("generate");
  tg = now() - tg;
  if (o->holdout > 0) {
    if (clearn_ratings_split_random(all, o->holdout, 42, &tr, &te) != CLEARN_OK)
      return fail("split");
    clearn_ratings_free(all);
  } else {
    tr = all;
  }
  printf("generated %lld ratings, %lld users, %lld items (rank 10, noise "
         "0.5, half stars, seed %llu) in %.2f s; fitting %lld%s\n",
         (long long)o->nnz, (long long)o->users, (long long)o->items,
         (unsigned long long)o->gseed, tg, (long long)clearn_ratings_nnz(tr),
         te ? " (the rest is the validation set)" : " (all)");
  if (o->export_dir) {
    clearn_ratings *sub = NULL, *rest_r = NULL;
    if (o->subsample > 0 && o->subsample < 1) {
      /* A random part of the training ratings, for a NumPy run that could
       * not hold or fit all of them; te is dropped with it. */
      if (clearn_ratings_split_random(tr, 1 - o->subsample, 4242, &sub,
                                      &rest_r) != CLEARN_OK)
        return fail("subsample");
      clearn_ratings_free(rest_r);
      printf("exporting a %.0f %% subsample: %lld ratings, %lld users, %lld "
             "items\n",
             100 * o->subsample, (long long)clearn_ratings_nnz(sub),
             (long long)clearn_ratings_n_users(sub),
             (long long)clearn_ratings_n_items(sub));
      if (export_split(o->export_dir, sub, NULL)) return 1;
      clearn_ratings_free(sub);
    } else if (export_split(o->export_dir, tr, te)) {
      return 1;
    }
  }
  nn[0] = "rank", vv[0] = "64";
  for (i = 0; i < o->np; i++) nn[1 + i] = o->pname[i], vv[1 + i] = o->pval[i];
  {
    options o2 = *o;
    o2.np = 0;
    if (make_als(&o2, nn, vv, 1 + o->np, &est)) return 1;
  }
  if (te) clearn_estimator_set_param_string(est, "cold_start", "drop");
  settings_text(est, set, sizeof set);
  clearn_estimator_get_param_int(est, "rank", &k);
  if (o->sgemm_inline) sg_before = sgemm_rate(o->n, 3, NULL);
  rss_before = status_mb("VmRSS");
  have_reset = reset_peak();
  st0 = steal_s();
  cpu0 = cpu_s();
  if (fit_traced(est, tr, te, t, &secs)) return 1;
  cpu0 = cpu_s() - cpu0;
  fit_peak = have_reset ? status_mb("VmHWM") : NAN;
  st0 = steal_s() - st0;
  if (o->sgemm_inline) sg_after = sgemm_rate(o->n, 3, NULL);

  nnz = (double)clearn_ratings_nnz(tr);
  nu = (double)clearn_ratings_n_users(tr);
  ni = (double)clearn_ratings_n_items(tr);
  kk = (double)k;
  floor_gf = (2 * nnz * kk * (kk + 1) + (nu + ni) * kk * kk * kk / 3) / 1e9;
  data_mb = csr_bytes(tr) / 1e6;
  fac_mb = (nu + ni) * kk * 4 / 1e6;
  budget = 1.5 * (data_mb + fac_mb);
  first = t->secs[0];
  rest = t->n > 1 ? mean_of(t->secs + 1, t->n - 1) : first;
  valid = t->valid[last_of(t)];

  printf("ALS %s\n", set);
  printf("    iter  seconds  train_loss  train_rmse  valid_rmse\n");
  for (i = 0; i < t->n; i++)
    printf("    %4d  %7.3f  %.6f    %.5f     %.5f\n", i + 1, t->secs[i],
           t->loss[i], t->train_rmse[i], t->valid[i]);
  printf("  fit %.2f s for %d iterations: %.3f s/iteration (first %.3f, "
         "later mean %.3f; each includes the train/valid metrics); host "
         "steal during the fit %.2f CPU-s; CPU time of the fit %.2f s "
         "(%.3f CPU-s/iteration)\n",
         secs, t->n, secs / t->n, first, rest, st0, cpu0, cpu0 / t->n);
  printf("  flop floor %.1f GFLOP/iteration (2 nnz k (k+1) = %.1f, "
         "(users+items) k^3/3 = %.1f)",
         floor_gf, 2 * nnz * kk * (kk + 1) / 1e9,
         (nu + ni) * kk * kk * kk / 3 / 1e9);
  if (o->gflops > 0)
    printf(" = %.3f s at %.1f GFLOP/s: iteration / floor = %.2f\n",
           floor_gf / o->gflops, o->gflops, rest / (floor_gf / o->gflops));
  else
    printf("\n");
  if (o->sgemm_inline)
    printf("  SGEMM (%d^3, best of 3) just before the fit %.1f GFLOP/s, just "
           "after %.1f: floor %.3f to %.3f s, iteration / floor %.2f to "
           "%.2f\n",
           o->n, sg_before, sg_after, floor_gf / fmax(sg_before, sg_after),
           floor_gf / fmin(sg_before, sg_after),
           rest / (floor_gf / fmin(sg_before, sg_after)),
           rest / (floor_gf / fmax(sg_before, sg_after)));
  printf("  memory: two CSR copies %.1f MB + id maps %.1f MB, factors %.1f "
         "MB; RSS before fit %.0f MB, fit peak %.0f MB (budget 1.5 x "
         "(CSR + factors) = %.0f MB), process peak %.0f MB\n",
         data_mb, ids_bytes(tr) / 1e6, fac_mb, rss_before, fit_peak, budget,
         peak_rss_mb());
  printf("RESULT mode=gen rank=%lld nnz=%.0f users=%.0f items=%.0f iters=%d "
         "fit_s=%.4f s_per_iter=%.5f first_iter_s=%.5f later_iter_s=%.5f "
         "floor_gflop=%.3f train_loss=%.6f train_rmse=%.5f valid_rmse=%.5f "
         "csr_mb=%.1f factors_mb=%.1f rss_before_mb=%.1f fit_peak_mb=%.1f "
         "peak_rss_mb=%.1f steal_s=%.2f cpu_s=%.3f sgemm_before=%.2f "
         "sgemm_after=%.2f settings=\"%s\"\n",
         (long long)k, nnz, nu, ni, t->n, secs, secs / t->n, first, rest,
         floor_gf, t->loss[last_of(t)], t->train_rmse[last_of(t)], valid,
         data_mb, fac_mb, rss_before, fit_peak, peak_rss_mb(), st0, cpu0,
         sg_before, sg_after, set);
  clearn_estimator_free(est);
  clearn_ratings_free(tr);
  clearn_ratings_free(te);
  free(t);
  return 0;
}

/* ---- rows: the memory floor of a pass over the ratings ---------------------
 * Every ALS pass over one side's rows reads, for each rating, the other
 * side's factor row at a random place: 20 million rows of 256 bytes at
 * ml-20m's shape and rank 64.  This mode times exactly that and nothing
 * else worth counting: per rating one float dot of the other side's row
 * with the row's own vector (16-float vectors; rows prefetched into L2
 * 8, 16, 32 or 64 ratings ahead, the best distance kept), over the by-user
 * CSR (reading item rows) and the by-item CSR (reading user rows), with
 * 1 .. --threads threads.  What it measures bounds any solver that touches
 * every rated row once per pass from memory. */
__attribute__((target("avx512f"))) static double
rows_pass(const int64_t *ptr, const int32_t *idx, int64_t n_rows,
          const float *own, const float *other, int64_t k, int nt,
          int64_t ahead) {
  double total = 0;
  int64_t r;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 64) \
    reduction(+ : total)
  for (r = 0; r < n_rows; r++) {
    const float *x = own + r * k;
    __m512 acc = _mm512_setzero_ps();
    int64_t q, e = ptr[r + 1], j;
    for (q = ptr[r]; q < e; q++) {
      const float *y = other + (size_t)idx[q] * (size_t)k;
      if (q + ahead < e) {
        const char *pf =
            (const char *)(other + (size_t)idx[q + ahead] * (size_t)k);
        for (j = 0; j < k * 4; j += 64) _mm_prefetch(pf + j, _MM_HINT_T1);
      }
      for (j = 0; j + 16 <= k; j += 16)
        acc = _mm512_fmadd_ps(_mm512_loadu_ps(y + j), _mm512_loadu_ps(x + j),
                              acc);
    }
    total += _mm512_reduce_add_ps(acc);
  }
  return total;
}

static int mode_rows(const options *o) {
  clearn_ratings *all = NULL;
  const clearn_csr *bu, *bi;
  int64_t k = 64, nu, ni, nnz, q;
  float *U, *V;
  int nt, rep, side;
  if (clearn_ratings_generate(o->users, o->items, o->nnz, 20, 10, 0.5, 2,
                              o->gseed, &all) != CLEARN_OK)
    return fail("generate");
  nu = clearn_ratings_n_users(all);
  ni = clearn_ratings_n_items(all);
  nnz = clearn_ratings_nnz(all);
  bu = clearn_ratings_by_user(all);
  bi = clearn_ratings_by_item(all);
  if (posix_memalign((void **)&U, 64, (size_t)(nu * k) * sizeof(float)) ||
      posix_memalign((void **)&V, 64, (size_t)(ni * k) * sizeof(float)))
    return fprintf(stderr, "bench_als: no memory\n"), 1;
  for (q = 0; q < nu * k; q++) U[q] = (float)(q % 7) * 0.01f;
  for (q = 0; q < ni * k; q++) V[q] = (float)(q % 5) * 0.01f;
  printf("rows: %lld ratings, %lld users, %lld items, rank %lld: user "
         "factors %.1f MB, item factors %.1f MB\n",
         (long long)nnz, (long long)nu, (long long)ni, (long long)k,
         (double)(nu * k * 4) / 1e6, (double)(ni * k * 4) / 1e6);
  for (side = 0; side < 2; side++)
    for (nt = 1; nt <= o->threads; nt++) {
      const clearn_csr *m = side == 0 ? bu : bi;
      double best = 1e300, chk = 0;
      int64_t ahead, best_ahead = 0;
      for (rep = 0; rep < (o->reps > 1 ? o->reps : 3); rep++)
        for (ahead = 8; ahead <= 64; ahead *= 2) {
          double t = now();
          chk += rows_pass(clearn_csr_indptr(m), clearn_csr_indices(m),
                           side == 0 ? nu : ni, side == 0 ? U : V,
                           side == 0 ? V : U, k, nt, ahead);
          t = now() - t;
          if (t < best) best = t, best_ahead = ahead;
        }
      printf("RESULT mode=rows side=%s reads=%s threads=%d best_s=%.4f "
             "ahead=%lld ns_per_rating=%.2f gbytes_per_s=%.2f (check %g)\n",
             side == 0 ? "users" : "items",
             side == 0 ? "item_rows" : "user_rows", nt, best,
             (long long)best_ahead,
             best / (double)nnz * 1e9,
             (double)nnz * (double)k * 4 / best / 1e9, chk);
    }
  free(U);
  free(V);
  clearn_ratings_free(all);
  return 0;
}

/* ---- recommend: top k for every user ---------------------------------------
 * The serving side at ml-20m's shape: a model fitted for one CG iteration
 * (the factors' values do not change the work), then
 * clearn_estimator_recommend for every user (k best items each, the
 * user's training items excluded), best of --reps.  Beside it, the GEMM
 * alone (all users against all items, blocks of 1024 users, all BLAS
 * threads): the floor of any exact top-k.  --export DIR writes the
 * factors, the training CSR and clearn's answer for bench/recommend_numpy.py
 * (the same top-k with NumPy, checked against clearn's). */
static int mode_recommend(const options *o) {
  clearn_ratings *all = NULL;
  clearn_estimator *est = NULL;
  clearn_matrix *U = NULL, *V = NULL;
  const char *nn[MAX_PARAMS + 3], *vv[MAX_PARAMS + 3];
  int64_t nu, ni, k = o->topk > 0 ? o->topk : 10, r, rank;
  int64_t *items;
  double *scores, best = 1e300, gemm = 1e300, cpu = 0;
  float *S;
  int i, rep;
  if (clearn_ratings_generate(o->users, o->items, o->nnz, 20, 10, 0.5, 2,
                              o->gseed, &all) != CLEARN_OK)
    return fail("generate");
  nn[0] = "rank", vv[0] = "64";
  nn[1] = "max_iter", vv[1] = "1";
  nn[2] = "solver", vv[2] = "cg";
  for (i = 0; i < o->np; i++) nn[3 + i] = o->pname[i], vv[3 + i] = o->pval[i];
  {
    options o2 = *o;
    o2.np = 0;
    if (make_als(&o2, nn, vv, 3 + o->np, &est)) return 1;
  }
  if (clearn_estimator_fit_ratings(est, all, NULL) != CLEARN_OK)
    return fail("fit");
  nu = clearn_ratings_n_users(all);
  ni = clearn_ratings_n_items(all);
  if (clearn_estimator_get_attr(est, "user_factors", &U) != CLEARN_OK ||
      clearn_estimator_get_attr(est, "item_factors", &V) != CLEARN_OK)
    return fail("factors");
  rank = clearn_matrix_cols(U);
  items = malloc((size_t)(nu * k) * sizeof(int64_t));
  scores = malloc((size_t)(nu * k) * sizeof(double));
  S = malloc((size_t)1024 * (size_t)ni * sizeof(float));
  if (!items || !scores || !S)
    return fprintf(stderr, "bench_als: no memory\n"), 1;
  for (rep = 0; rep < (o->reps > 1 ? o->reps : 3); rep++) {
    double t = now(), c0 = cpu_s();
    if (clearn_estimator_recommend(est, clearn_ratings_user_ids(all), nu, k,
                                   NULL, items, scores) != CLEARN_OK)
      return fail("recommend");
    t = now() - t;
    if (t < best) best = t, cpu = cpu_s() - c0;
  }
  for (rep = 0; rep < (o->reps > 1 ? o->reps : 3); rep++) {
    double t = now();
    for (r = 0; r < nu; r += 1024) {
      int64_t nb = nu - r < 1024 ? nu - r : 1024;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)ni,
                  (int)rank, 1.0f,
                  (const float *)clearn_matrix_data(U) + r * rank, (int)rank,
                  (const float *)clearn_matrix_data(V), (int)rank, 0.0f, S,
                  (int)ni);
    }
    t = now() - t;
    if (t < gemm) gemm = t;
  }
  printf("recommend: top %lld of %lld items for each of %lld users (rank "
         "%lld, training items excluded): best %.3f s (%.0f users/s, %.2f "
         "CPU-s); the GEMM alone (%.1f GFLOP): %.3f s, %.1f GFLOP/s, %.0f %% "
         "of the call\n",
         (long long)k, (long long)ni, (long long)nu, (long long)rank, best,
         (double)nu / best, cpu, 2.0 * (double)nu * (double)ni * (double)rank / 1e9,
         gemm, 2.0 * (double)nu * (double)ni * (double)rank / gemm / 1e9,
         100 * gemm / best);
  printf("RESULT mode=recommend users=%lld items=%lld k=%lld rank=%lld "
         "best_s=%.4f cpu_s=%.3f gemm_s=%.4f users_per_s=%.0f peak_rss_mb=%.1f\n",
         (long long)nu, (long long)ni, (long long)k, (long long)rank, best, cpu,
         gemm, (double)nu / best, peak_rss_mb());
  if (o->export_dir) {
    char meta[256];
    const clearn_csr *bu = clearn_ratings_by_user(all);
    int bad = 0;
    mkdir(o->export_dir, 0755);
    bad |= write_raw(o->export_dir, "U", clearn_matrix_data(U),
                     (size_t)(nu * rank) * 4);
    bad |= write_raw(o->export_dir, "V", clearn_matrix_data(V),
                     (size_t)(ni * rank) * 4);
    bad |= write_raw(o->export_dir, "u_ptr", clearn_csr_indptr(bu),
                     (size_t)(nu + 1) * 8);
    bad |= write_raw(o->export_dir, "u_idx", clearn_csr_indices(bu),
                     (size_t)clearn_ratings_nnz(all) * 4);
    bad |= write_raw(o->export_dir, "item_ids", clearn_ratings_item_ids(all),
                     (size_t)ni * 8);
    bad |= write_raw(o->export_dir, "top_items", items, (size_t)(nu * k) * 8);
    bad |= write_raw(o->export_dir, "top_scores", scores,
                     (size_t)(nu * k) * 8);
    snprintf(meta, sizeof meta, "%lld %lld %lld %lld\n", (long long)nu,
             (long long)ni, (long long)rank, (long long)k);
    bad |= write_raw(o->export_dir, "meta.txt", meta, strlen(meta));
    if (bad) return 1;
    printf("exported factors and answers to %s\n", o->export_dir);
  }
  free(items);
  free(scores);
  free(S);
  clearn_matrix_free(U);
  clearn_matrix_free(V);
  clearn_estimator_free(est);
  clearn_ratings_free(all);
  return 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: bench_als sgemm [--n N] [--reps R]\n"
          "       bench_als ml1m FILE [name=value ...] [--reps R] [--curve] "
          "[--target T] [--export DIR]\n"
          "       bench_als tune FILE [name=value ...] [--ranks L] [--regs L] "
          "[--biases L] [--solvers L] [--vseed S]\n"
          "       bench_als rows [--threads T] [--reps R]\n"
          "       bench_als recommend [name=value ...] [--k K] [--reps R] "
          "[--export DIR]\n"
          "       bench_als gen [name=value ...] [--holdout F] [--gflops R] "
          "[--sgemm] [--export DIR [--subsample F]] [--users N --items N "
          "--nnz N --gseed S]\n");
}

int main(int argc, char **argv) {
  options o;
  int a;
  memset(&o, 0, sizeof o);
  o.reps = 1;
  o.n = 4096;
  o.targets[0] = 0.845;
  o.targets[1] = 0.840;
  o.n_targets = 2;
  o.users = 138493;
  o.items = 26744;
  o.nnz = 20000263;
  o.gseed = 1;
  o.threads = 2;
  o.vseed = 7;
  o.ranks = "32";
  o.regs = "0.05";
  o.biases = "0";
  o.solvers = "cholesky";
  if (argc < 2) {
    usage();
    return 2;
  }
  o.mode = argv[1];
  for (a = 2; a < argc; a++) {
    const char *s = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL, *eq;
    if (strcmp(s, "--curve") == 0) {
      o.curve = 1;
    } else if (strcmp(s, "--sgemm") == 0) {
      o.sgemm_inline = 1;
    } else if (strncmp(s, "--", 2) == 0 && v == NULL) {
      usage();
      return 2;
    } else if (strcmp(s, "--reps") == 0) {
      o.reps = atoi(v), a++;
    } else if (strcmp(s, "--n") == 0) {
      o.n = atoi(v), a++;
    } else if (strcmp(s, "--target") == 0) {
      char buf[256], *t, *save = NULL;
      snprintf(buf, sizeof buf, "%s", v);
      o.n_targets = 0;
      for (t = strtok_r(buf, ",", &save); t && o.n_targets < 8;
           t = strtok_r(NULL, ",", &save))
        o.targets[o.n_targets++] = atof(t);
      a++;
    } else if (strcmp(s, "--gflops") == 0) {
      o.gflops = atof(v), a++;
    } else if (strcmp(s, "--holdout") == 0) {
      o.holdout = atof(v), a++;
    } else if (strcmp(s, "--subsample") == 0) {
      o.subsample = atof(v), a++;
    } else if (strcmp(s, "--export") == 0) {
      o.export_dir = v, a++;
    } else if (strcmp(s, "--users") == 0) {
      o.users = atoll(v), a++;
    } else if (strcmp(s, "--items") == 0) {
      o.items = atoll(v), a++;
    } else if (strcmp(s, "--nnz") == 0) {
      o.nnz = atoll(v), a++;
    } else if (strcmp(s, "--k") == 0) {
      o.topk = atoi(v), a++;
    } else if (strcmp(s, "--threads") == 0) {
      o.threads = atoi(v), a++;
    } else if (strcmp(s, "--gseed") == 0) {
      o.gseed = strtoull(v, NULL, 10), a++;
    } else if (strcmp(s, "--vseed") == 0) {
      o.vseed = strtoull(v, NULL, 10), a++;
    } else if (strcmp(s, "--ranks") == 0) {
      o.ranks = v, a++;
    } else if (strcmp(s, "--regs") == 0) {
      o.regs = v, a++;
    } else if (strcmp(s, "--biases") == 0) {
      o.biases = v, a++;
    } else if (strcmp(s, "--solvers") == 0) {
      o.solvers = v, a++;
    } else if (strncmp(s, "--", 2) == 0) {
      usage();
      return 2;
    } else if ((eq = strchr(s, '=')) != NULL && o.np < MAX_PARAMS) {
      o.pname[o.np] = strndup(s, (size_t)(eq - s));
      o.pval[o.np++] = eq + 1;
    } else if (o.file == NULL) {
      o.file = s;
    } else {
      usage();
      return 2;
    }
  }
  if (strcmp(o.mode, "sgemm") == 0) return mode_sgemm(&o);
  if (strcmp(o.mode, "ml1m") == 0) return mode_ml1m(&o);
  if (strcmp(o.mode, "tune") == 0) return mode_tune(&o);
  if (strcmp(o.mode, "gen") == 0) return mode_gen(&o);
  if (strcmp(o.mode, "rows") == 0) return mode_rows(&o);
  if (strcmp(o.mode, "recommend") == 0) return mode_recommend(&o);
  usage();
  return 2;
}
