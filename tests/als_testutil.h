/*
 * als_testutil.h -- helpers shared by the ALS tests (test_als.c,
 * test_als_gibbs.c): rating triples, ALS estimators from "name=value ..."
 * settings, attributes as matrices and their elements.
 */
#ifndef CLEARN_ALS_TESTUTIL_H
#define CLEARN_ALS_TESTUTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <clearn/clearn.h>

#include "testutil.h"

typedef struct {
  int64_t n;
  int64_t *u, *i;
  float *v;
} triples;

static inline void triples_free(triples *t) {
  free(t->u);
  free(t->i);
  free(t->v);
  memset(t, 0, sizeof *t);
}

static inline void triples_push(triples *t, int64_t cap, int64_t u, int64_t i,
                                float v) {
  if (t->u == NULL) {
    t->u = malloc((size_t)cap * sizeof(int64_t));
    t->i = malloc((size_t)cap * sizeof(int64_t));
    t->v = malloc((size_t)cap * sizeof(float));
    if (!t->u || !t->i || !t->v) {
      fprintf(stderr, "out of memory\n");
      exit(2);
    }
  }
  t->u[t->n] = u;
  t->i[t->n] = i;
  t->v[t->n] = v;
  t->n++;
}

static inline clearn_ratings *make_ratings(const triples *t) {
  clearn_ratings *r = NULL;
  int rc = clearn_ratings_from_triples(t->u, t->i, t->v, t->n, &r);
  if (rc != CLEARN_OK) {
    fprintf(stderr, "ratings: %s\n", clearn_last_error());
    exit(2);
  }
  return r;
}

/* An ALS estimator with settings "name=value name=value ...", or NULL
 * when a setting is refused (the message in clearn_last_error()). */
static inline clearn_estimator *make_als(const char *settings) {
  clearn_estimator *est = NULL;
  char buf[512], *tok, *save = NULL;
  if (clearn_estimator_create("als", &est) != CLEARN_OK) {
    fprintf(stderr, "create: %s\n", clearn_last_error());
    exit(2);
  }
  snprintf(buf, sizeof buf, "%s", settings);
  for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    char *eq = strchr(tok, '=');
    if (eq == NULL) exit(2);
    *eq = '\0';
    if (clearn_estimator_set_param_string(est, tok, eq + 1) != CLEARN_OK) {
      clearn_estimator_free(est);
      return NULL;
    }
  }
  return est;
}

/* make_als(settings) fitted on tr (validation va, may be NULL); a refused
 * setting ends the test program. */
static inline clearn_estimator *fit_als(const char *settings,
                                        const clearn_ratings *tr,
                                        const clearn_ratings *va) {
  clearn_estimator *est = make_als(settings);
  int rc;
  if (est == NULL) {
    fprintf(stderr, "settings '%s': %s\n", settings, clearn_last_error());
    exit(2);
  }
  rc = clearn_estimator_fit_ratings(est, tr, va);
  CHECK(rc == CLEARN_OK, "fit '%s': %s", settings, clearn_last_error());
  return est;
}

static inline clearn_matrix *attr(const clearn_estimator *est,
                                  const char *name) {
  clearn_matrix *m = NULL;
  int rc = clearn_estimator_get_attr(est, name, &m);
  if (rc != CLEARN_OK) {
    fprintf(stderr, "get_attr %s: %s\n", name, clearn_last_error());
    exit(2);
  }
  return m;
}

/* Element (i, j) of a matrix of any dtype, as a double (the public
 * clearn_matrix_get reads float64 only). */
static inline double mget(const clearn_matrix *m, int64_t i, int64_t j) {
  const void *d = clearn_matrix_data(m);
  int64_t at = i * clearn_matrix_cols(m) + j;
  switch (clearn_matrix_dtype(m)) {
  case CLEARN_FLOAT64:
    return ((const double *)d)[at];
  case CLEARN_FLOAT32:
    return ((const float *)d)[at];
  case CLEARN_INT64:
    return (double)((const int64_t *)d)[at];
  case CLEARN_INT32:
    return ((const int32_t *)d)[at];
  }
  return NAN;
}

static inline int same_bytes(const clearn_matrix *a, const clearn_matrix *b) {
  size_t n = (size_t)(clearn_matrix_rows(a) * clearn_matrix_cols(a)) *
             clearn_dtype_size(clearn_matrix_dtype(a));
  return clearn_matrix_rows(a) == clearn_matrix_rows(b) &&
         clearn_matrix_cols(a) == clearn_matrix_cols(b) &&
         clearn_matrix_dtype(a) == clearn_matrix_dtype(b) &&
         memcmp(clearn_matrix_data(a), clearn_matrix_data(b), n) == 0;
}

static inline double rmse_of(const clearn_estimator *est,
                             const clearn_ratings *r) {
  double v = NAN;
  CHECK_OK(clearn_estimator_score_ratings(est, r, "rmse", &v, NULL));
  return v;
}

/* Runs `python script dir`, the NumPy reference of a test.  Returns 1 when
 * it succeeded; 0 when it exited 77 (NumPy missing: *skipped = 1, said on
 * stderr) or failed (a CHECK failure). */
static inline int run_reference(const char *python, const char *script,
                                const char *dir, int *skipped) {
  char cmd[2048];
  int status;
  snprintf(cmd, sizeof cmd, "'%s' '%s' '%s'", python, script, dir);
  fflush(stdout);
  status = system(cmd);
  if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 77) {
    fprintf(stderr, "SKIPPED (numpy comparison): %s cannot import numpy\n",
            python);
    *skipped = 1;
    return 0;
  }
  CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
        "%s failed (status %d)", cmd, status);
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

#endif
