/*
 * linalg.c -- the one thin layer over BLAS (OpenBLAS) and LAPACKE.
 *
 * No other file includes cblas.h or lapacke.h: the backend is chosen at
 * link time and its threading is controlled here.  The wrappers take int64
 * sizes (clearn's index type) and refuse what does not fit the backend's
 * 32-bit integers instead of silently truncating.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>
#include <lapacke.h>

#include "internal.h"

static int fits(int64_t v) { return v >= 0 && v <= INT_MAX; }

#define CHECK_DIMS(who, a, b, c)                                               \
  do {                                                                         \
    if (!fits(a) || !fits(b) || !fits(c))                                      \
      return clearn__err(CLEARN_EINVAL,                                        \
                         "%s: dimension exceeds the BLAS int range", who);     \
  } while (0)

int clearn__dsyrk_tn(int64_t n, int64_t p, double alpha, const double *A,
                     int64_t lda, double beta, double *C) {
  CHECK_DIMS("dsyrk", n, p, lda);
  if (p == 0) return CLEARN_OK;
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)p, (int)n, alpha, A,
              (int)lda, beta, C, (int)p);
  return CLEARN_OK;
}

int clearn__dgemm_tn(int64_t n, int64_t m, int64_t k, double alpha,
                     const double *A, int64_t lda, const double *B,
                     int64_t ldb, double beta, double *C) {
  CHECK_DIMS("dgemm", n, m, k);
  CHECK_DIMS("dgemm", lda, ldb, 0);
  if (m == 0 || k == 0) return CLEARN_OK;
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)k, (int)n,
              alpha, A, (int)lda, B, (int)ldb, beta, C, (int)k);
  return CLEARN_OK;
}

int clearn__dgemm_nt(int64_t m, int64_t k, int64_t p, double alpha,
                     const double *A, int64_t lda, const double *B,
                     int64_t ldb, double beta, double *C) {
  CHECK_DIMS("dgemm", m, k, p);
  CHECK_DIMS("dgemm", lda, ldb, 0);
  if (m == 0 || k == 0) return CLEARN_OK;
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)k, (int)p,
              alpha, A, (int)lda, B, (int)ldb, beta, C, (int)k);
  return CLEARN_OK;
}

int clearn__dgemv_t(int64_t n, int64_t m, double alpha, const double *A,
                    int64_t lda, const double *x, double beta, double *y) {
  CHECK_DIMS("dgemv", n, m, lda);
  if (m == 0) return CLEARN_OK;
  cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)m, alpha, A, (int)lda, x,
              1, beta, y, 1);
  return CLEARN_OK;
}

int clearn__ssyrk_tn(int64_t n, int64_t p, float alpha, const float *A,
                     int64_t lda, float beta, float *C) {
  CHECK_DIMS("ssyrk", n, p, lda);
  if (p == 0) return CLEARN_OK;
  cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)p, (int)n, alpha, A,
              (int)lda, beta, C, (int)p);
  return CLEARN_OK;
}

int clearn__sgemm_nt(int64_t m, int64_t k, int64_t p, float alpha,
                     const float *A, int64_t lda, const float *B, int64_t ldb,
                     float beta, float *C) {
  CHECK_DIMS("sgemm", m, k, p);
  CHECK_DIMS("sgemm", lda, ldb, 0);
  if (m == 0 || k == 0) return CLEARN_OK;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)k, (int)p,
              alpha, A, (int)lda, B, (int)ldb, beta, C, (int)k);
  return CLEARN_OK;
}

int clearn__sgemv_t(int64_t n, int64_t m, float alpha, const float *A,
                    int64_t lda, const float *x, float beta, float *y) {
  CHECK_DIMS("sgemv", n, m, lda);
  if (m == 0) return CLEARN_OK;
  cblas_sgemv(CblasRowMajor, CblasTrans, (int)n, (int)m, alpha, A, (int)lda, x,
              1, beta, y, 1);
  return CLEARN_OK;
}

int clearn__sgemv_n(int64_t n, int64_t m, float alpha, const float *A,
                    int64_t lda, const float *x, float beta, float *y) {
  CHECK_DIMS("sgemv", n, m, lda);
  if (n == 0) return CLEARN_OK;
  cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)m, alpha, A, (int)lda,
              x, 1, beta, y, 1);
  return CLEARN_OK;
}

int clearn__dgemv_n(int64_t n, int64_t m, double alpha, const double *A,
                    int64_t lda, const double *x, double beta, double *y) {
  CHECK_DIMS("dgemv", n, m, lda);
  if (n == 0) return CLEARN_OK;
  cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)m, alpha, A, (int)lda,
              x, 1, beta, y, 1);
  return CLEARN_OK;
}

int clearn__dposv(int64_t p, int64_t k, double *S, double *B) {
  lapack_int info;
  CHECK_DIMS("dposv", p, k, 0);
  if (p == 0) return CLEARN_OK;
  info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (lapack_int)p, (lapack_int)k, S,
                       (lapack_int)p, B, (lapack_int)k);
  if (info > 0)
    return clearn__err(CLEARN_ENUMERIC,
                       "cholesky: matrix is not positive definite (leading "
                       "minor %d)",
                       (int)info);
  if (info < 0)
    return clearn__err(CLEARN_EINVAL, "cholesky: LAPACK argument %d invalid",
                       (int)-info);
  return CLEARN_OK;
}

int clearn__dposv1(int64_t p, double *S, double *b) {
  lapack_int info;
  CHECK_DIMS("dposv1", p, 0, 0);
  if (p == 0) return CLEARN_OK;
  /* The row-major upper triangle is the column-major lower one: LAPACK
   * works on it in place (LAPACKE's row-major path would transpose into
   * a fresh allocation), and one right-hand side goes through two level-2
   * triangular solves rather than dpotrs's level-3 dtrsm. */
  info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', (lapack_int)p, S,
                             (lapack_int)p);
  if (info > 0)
    return clearn__err(CLEARN_ENUMERIC,
                       "cholesky: matrix is not positive definite (leading "
                       "minor %d)",
                       (int)info);
  if (info < 0)
    return clearn__err(CLEARN_EINVAL, "cholesky: LAPACK argument %d invalid",
                       (int)-info);
  cblas_dtrsv(CblasColMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)p,
              S, (int)p, b, 1);
  cblas_dtrsv(CblasColMajor, CblasLower, CblasTrans, CblasNonUnit, (int)p, S,
              (int)p, b, 1);
  return CLEARN_OK;
}

int clearn__dgelsd(int64_t n, int64_t p, int64_t k, double *A, double *B,
                   double rcond, double *s, int64_t *rank) {
  lapack_int info, r = 0;
  int64_t ldb = n > p ? n : p;
  CHECK_DIMS("dgelsd", n, p, k);
  if (!fits(ldb) || (n > 0 && (uint64_t)n * (uint64_t)p > (uint64_t)INT_MAX * 8))
    return clearn__err(CLEARN_EINVAL, "dgelsd: problem too large");
  if (n == 0 || p == 0) {
    *rank = 0;
    return CLEARN_OK;
  }
  info = LAPACKE_dgelsd(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)p,
                        (lapack_int)k, A, (lapack_int)n, B, (lapack_int)ldb, s,
                        rcond, &r);
  if (info > 0)
    return clearn__err(CLEARN_ENUMERIC,
                       "lstsq: SVD did not converge (%d off-diagonal "
                       "elements)",
                       (int)info);
  if (info < 0)
    return info == LAPACK_WORK_MEMORY_ERROR
               ? clearn__err(CLEARN_ENOMEM, "lstsq: out of memory")
               : clearn__err(CLEARN_EINVAL, "lstsq: LAPACK argument %d invalid",
                             (int)-info);
  *rank = r;
  return CLEARN_OK;
}

/* Threads: 0 = not set by the caller, use what OpenBLAS chose (all cores
 * unless OPENBLAS_NUM_THREADS says otherwise). */
static int n_threads_set;

int clearn_set_num_threads(int n) {
  if (n <= 0) {
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    n = c > 0 ? (int)c : 1;
  }
  n_threads_set = n;
  openblas_set_num_threads(n);
  return CLEARN_OK;
}

int clearn_get_num_threads(void) {
  return n_threads_set > 0 ? n_threads_set : openblas_get_num_threads();
}

int clearn__threads(void) { return clearn_get_num_threads(); }

#if defined(__GNUC__) && defined(__x86_64__)
/* has (the CPU's feature), unless the environment variable `off` is set to
 * something other than "" or "0". */
static int cpu_feature_on(int has, const char *off) {
  const char *e = getenv(off);
  return has && !(e && *e && strcmp(e, "0") != 0);
}
#endif

int clearn__avx512_ok(void) {
  static int known = -1; /* every thread that races here stores one value */
  int v = __atomic_load_n(&known, __ATOMIC_RELAXED);
  if (v < 0) {
#if defined(__GNUC__) && defined(__x86_64__)
    v = cpu_feature_on(__builtin_cpu_supports("avx512f"), "CLEARN_NO_AVX512");
#else
    v = 0;
#endif
    __atomic_store_n(&known, v, __ATOMIC_RELAXED);
  }
  return v;
}

int clearn__avx2_ok(void) {
  static int known = -1;
  int v = __atomic_load_n(&known, __ATOMIC_RELAXED);
  if (v < 0) {
#if defined(__GNUC__) && defined(__x86_64__)
    v = cpu_feature_on(__builtin_cpu_supports("avx2") &&
                           __builtin_cpu_supports("fma"),
                       "CLEARN_NO_AVX2");
#else
    v = 0;
#endif
    __atomic_store_n(&known, v, __ATOMIC_RELAXED);
  }
  return v;
}

/* OpenBLAS's thread count is process-wide; a fit that runs its own
 * parallel loop (OpenMP over ALS rows) calls BLAS from every worker and
 * wants each call to stay on its calling thread.  Single-threaded calls
 * also make every result independent of how many threads the backend
 * would have used.  clearn_get_num_threads() is unaffected. */
int clearn__blas_serial_begin(void) {
  int prev = openblas_get_num_threads();
  if (prev != 1) openblas_set_num_threads(1);
  return prev;
}

void clearn__blas_serial_end(int prev) {
  if (prev > 1) openblas_set_num_threads(prev);
}
