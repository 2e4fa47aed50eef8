/*
 * testutil.h -- tiny test harness shared by the C tests (GSL-style).
 *
 * CHECK(cond, fmt, ...) records a failure with file:line and continues;
 * CHECK_RC(call, code) checks a status; CHECK_CLOSE(a, b, rtol, atol)
 * compares with a relative/absolute tolerance; CHECK_STR(a, b) compares
 * strings.  TEST_SUMMARY() prints the count and returns the exit code
 * (0 pass, 1 fail).  TEST_SKIP(msg) exits with 77, which ctest reports as
 * skipped (SKIP_RETURN_CODE 77), after printing why on stderr.
 */
#ifndef CLEARN_TESTUTIL_H
#define CLEARN_TESTUTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tu_checks, tu_failures;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    tu_checks++;                                                               \
    if (!(cond)) {                                                             \
      tu_failures++;                                                           \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);          \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
    }                                                                          \
  } while (0)

#define CHECK_RC(call, want)                                                   \
  do {                                                                         \
    int tu_rc_ = (call);                                                       \
    CHECK(tu_rc_ == (want), "status %d (%s), expected %d; message: %s",       \
          tu_rc_, clearn_status_str(tu_rc_), (int)(want),                      \
          clearn_last_error());                                                \
  } while (0)

#define CHECK_OK(call) CHECK_RC(call, CLEARN_OK)

static inline int tu_close(double a, double b, double rtol, double atol) {
  if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
  return fabs(a - b) <= atol + rtol * fabs(b);
}

#define CHECK_CLOSE(a, b, rtol, atol)                                          \
  do {                                                                         \
    double tu_a_ = (a), tu_b_ = (b);                                           \
    CHECK(tu_close(tu_a_, tu_b_, rtol, atol), "%.17g vs %.17g (diff %.3g)",    \
          tu_a_, tu_b_, tu_a_ - tu_b_);                                        \
  } while (0)

#define CHECK_STR(a, b)                                                        \
  do {                                                                         \
    const char *tu_sa_ = (a), *tu_sb_ = (b);                                   \
    CHECK(tu_sa_ && tu_sb_ && strcmp(tu_sa_, tu_sb_) == 0,                     \
          "got \"%s\", expected \"%s\"", tu_sa_ ? tu_sa_ : "(null)",           \
          tu_sb_ ? tu_sb_ : "(null)");                                         \
  } while (0)

#define TEST_SKIP(...)                                                         \
  do {                                                                         \
    fprintf(stderr, "SKIPPED: ");                                              \
    fprintf(stderr, __VA_ARGS__);                                              \
    fprintf(stderr, "\n");                                                     \
    exit(77);                                                                  \
  } while (0)

#define TEST_SUMMARY()                                                         \
  (printf("%s: %d checks, %d failures\n", __FILE__, tu_checks, tu_failures),   \
   tu_failures ? 1 : 0)

/* Deterministic generator (PCG-style LCG + normal by Box-Muller). */
typedef struct {
  unsigned long long s;
} tu_rng;

static inline double tu_uniform(tu_rng *r) {
  r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
  return ((double)(r->s >> 11) + 0.5) / 9007199254740992.0;
}

static inline double tu_normal(tu_rng *r) {
  double u = tu_uniform(r), v = tu_uniform(r);
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

#endif /* CLEARN_TESTUTIL_H */
