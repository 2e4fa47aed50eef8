/*
 * optimize.h -- smooth unconstrained minimization behind one objective
 * interface (internal), in the manner of LIBLINEAR's newton.h: a model
 * supplies {value, gradient, Hessian-vector product} and any solver here
 * minimizes it.  Solvers only see these three calls, so an objective whose
 * sums run over rows spread across MPI ranks (through clearn__reducer)
 * needs nothing from the solver: every participant computes bitwise the
 * same values and therefore takes the same steps.
 */
#ifndef CLEARN_OPTIMIZE_H
#define CLEARN_OPTIMIZE_H

#include "internal.h"

typedef struct clearn__objective {
  int64_t n; /* number of variables */
  void *ctx;
  /* f(w).  May prepare (and cache) what gradient and hessvec need at w. */
  int (*value)(void *ctx, const double *w, double *f);
  /* Gradient at the w of the latest value call. */
  int (*gradient)(void *ctx, const double *w, double *g);
  /* Hessian at the w of the latest value call, times s; may be NULL for
   * solvers that do not need it (L-BFGS). */
  int (*hessvec)(void *ctx, const double *s, double *Hs);
} clearn__objective;

typedef struct clearn__optim_opts {
  double gtol;      /* converged when max_i |g_i| <= gtol */
  double ftol;      /* ... or (f_old - f) / max(|f_old|, |f|, 1) <= ftol */
  int64_t max_iter; /* iterations (accepted steps) */
  int memory;       /* L-BFGS: pairs kept (10 as scipy's L-BFGS-B) */
} clearn__optim_opts;

typedef struct clearn__optim_result {
  int64_t n_iter;  /* accepted steps */
  int64_t n_evals; /* value calls */
  double f;        /* final value */
  double gmax;     /* final max |g_i| */
  int converged;   /* 1 if the gtol or ftol rule held */
  int stalled;     /* 1 if the solver stopped because no step lowered f
                      (rounding floor reached before gtol) */
} clearn__optim_result;

/* Minimize from w (updated in place).  A failing objective call stops the
 * solver with its status.  Reaching max_iter is not an error here: the
 * caller reads res->converged. */
int clearn__lbfgs(const clearn__objective *obj, double *w,
                  const clearn__optim_opts *opts, clearn__optim_result *res);
/* Trust-region Newton with conjugate-gradient inner solves (Lin, Weng and
 * Keerthi 2008, LIBLINEAR's TRON); needs hessvec. */
int clearn__tron(const clearn__objective *obj, double *w,
                 const clearn__optim_opts *opts, clearn__optim_result *res);

#endif /* CLEARN_OPTIMIZE_H */
