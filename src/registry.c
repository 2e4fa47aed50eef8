/*
 * registry.c -- the table of estimator kinds.
 *
 * Adding an estimator: write algorithms/<name>.c exporting one
 * clearn__estimator_type, then add one extern line and one table entry
 * here; a classifier or transformer also exports a clearn__estimator_ext
 * and is listed in exts[].  The table is static and read-only, so lookups are thread-safe.
 */
#include <string.h>

#include "internal.h"

extern const clearn__estimator_type clearn__als_type;
extern const clearn__estimator_type clearn__elastic_net_type;
extern const clearn__estimator_type clearn__lasso_type;
extern const clearn__estimator_type clearn__linear_regression_type;
extern const clearn__estimator_type clearn__logistic_regression_type;
extern const clearn__estimator_type clearn__ridge_type;
extern const clearn__estimator_type clearn__standard_scaler_type;

static const clearn__estimator_type *const kinds[] = {
    &clearn__als_type,
    &clearn__elastic_net_type,
    &clearn__lasso_type,
    &clearn__linear_regression_type,
    &clearn__logistic_regression_type,
    &clearn__ridge_type,
    &clearn__standard_scaler_type,
};

/* Classifiers and transformers also have a table of optional slots. */
extern const clearn__estimator_ext clearn__elastic_net_ext;
extern const clearn__estimator_ext clearn__lasso_ext;
extern const clearn__estimator_ext clearn__logistic_regression_ext;
extern const clearn__estimator_ext clearn__standard_scaler_ext;

static const clearn__estimator_ext *const exts[] = {
    &clearn__elastic_net_ext,
    &clearn__lasso_ext,
    &clearn__logistic_regression_ext,
    &clearn__standard_scaler_ext,
};

#define N_KINDS ((int)(sizeof kinds / sizeof kinds[0]))

int clearn_kind_count(void) { return N_KINDS; }

const char *clearn_kind_name(int i) {
  return i >= 0 && i < N_KINDS ? kinds[i]->name : NULL;
}

const clearn__estimator_type *clearn__find_type(const char *kind) {
  int i;
  for (i = 0; i < N_KINDS; i++)
    if (strcmp(kinds[i]->name, kind) == 0) return kinds[i];
  return NULL;
}

const clearn__estimator_ext *clearn__find_ext(const clearn__estimator_type *t) {
  size_t i;
  for (i = 0; i < sizeof exts / sizeof exts[0]; i++)
    if (exts[i]->type == t) return exts[i];
  return NULL;
}
