/*
 * registry.c -- the table of estimator kinds.
 *
 * Adding an estimator: write algorithms/<name>.c exporting one
 * clearn__estimator_type, then add one extern line and one table entry
 * here.  The table is static and read-only, so lookups are thread-safe.
 */
#include <string.h>

#include "internal.h"

extern const clearn__estimator_type clearn__als_type;
extern const clearn__estimator_type clearn__linear_regression_type;
extern const clearn__estimator_type clearn__ridge_type;

static const clearn__estimator_type *const kinds[] = {
    &clearn__als_type,
    &clearn__linear_regression_type,
    &clearn__ridge_type,
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
