/*
 * linmodel.h -- shared pieces of the linear regressors (internal).
 */
#ifndef CLEARN_LINMODEL_H
#define CLEARN_LINMODEL_H

#include "internal.h"

/* Fitted linear model: y = X coef^T + intercept. */
typedef struct clearn__linmodel {
  int64_t n_features; /* p */
  int64_t n_targets;  /* t */
  double *coef;       /* t x p, row-major */
  double *intercept;  /* t (zeros without fit_intercept) */
  int64_t rank;       /* effective rank of X (lstsq), -1 if not computed */
  double *singular;   /* singular values of the centered X, or NULL */
  int64_t n_singular;
} clearn__linmodel;

int clearn__linmodel_alloc(int64_t p, int64_t t, clearn__linmodel **out);
void clearn__linmodel_free(void *model);
/* Type-table slots shared by every linear regressor. */
int clearn__linmodel_predict(const void *params, const void *model,
                             const clearn_matrix *X, clearn_matrix **out);
int64_t clearn__linmodel_n_features(const void *model);
int clearn__linmodel_get_attr(const void *model, const char *name,
                              clearn_matrix **out);
int clearn__linmodel_save(const void *model, hid_t group);
int clearn__linmodel_load(hid_t group, void **model);

/* Centered, weighted normal-equation statistics:
 *   sw = sum w;  xmean, ymean = weighted means (0 without intercept);
 *   G  = Xc^T W Xc  (p x p, upper triangle valid);
 *   b  = Xc^T W yc  (p x t);
 *   yy = yc^T W yc  (t, per target). */
typedef struct clearn__linstats {
  int64_t p, t;
  double sw;
  double *xmean, *ymean, *G, *b, *yy;
  int used_blocked; /* 1 if the second pass (shift = exact mean) ran */
} clearn__linstats;

/* Compute the statistics over this participant's rows and sum them over
 * red (NULL = serial).  Never copies X. */
int clearn__linstats_compute(const clearn_matrix *X, const clearn_matrix *y,
                             const clearn_matrix *w, int fit_intercept,
                             const clearn__reducer *red, clearn__linstats *s);
void clearn__linstats_free(clearn__linstats *s);

#endif /* CLEARN_LINMODEL_H */
