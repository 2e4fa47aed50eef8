/*
 * optimize.c -- L-BFGS and trust-region Newton over clearn__objective.
 *
 * L-BFGS: the two-loop recursion with the last `memory` pairs (s, y), the
 * initial Hessian scaled by s'y / y'y, and a line search for the strong
 * Wolfe conditions (c1 = 1e-4, c2 = 0.9; bracketing then zoom by safeguarded
 * cubic interpolation, Nocedal and Wright, algorithms 3.5 and 3.6).  The
 * stopping rules are scipy's L-BFGS-B ones, which scikit-learn's
 * LogisticRegression(solver="lbfgs") inherits: max |g| <= gtol, or a
 * relative decrease of f below ftol.  The first step has length 1 / ||g||,
 * as in L-BFGS-B.  A pair with s'y <= eps ||y||^2 is skipped, which keeps
 * the implicit Hessian positive definite.
 *
 * TRON: LIBLINEAR's trust-region Newton method (tron.cpp): the Newton system
 * is solved inexactly by conjugate gradients truncated at the trust-region
 * boundary (Steihaug), relative residual 0.1; the radius is updated from
 * the ratio of actual to predicted reduction with LIBLINEAR's constants.  A
 * rejected step re-evaluates f at the current point, so hessvec always
 * refers to it.  Each CG step costs one Hessian-vector product, which for
 * a linear model is one fused pass over X.
 *
 * Everything that decides a branch is computed from values returned by the
 * objective, so participants of a distributed fit follow the same path.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "optimize.h"

static double dot(int64_t n, const double *a, const double *b) {
  double s = 0;
  int64_t i;
  for (i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

static double amax(int64_t n, const double *a) {
  double m = 0;
  int64_t i;
  for (i = 0; i < n; i++)
    if (fabs(a[i]) > m || a[i] != a[i])
      m = fabs(a[i]);
  return m;
}

/* f and g at x = w + a d. */
static int eval_at(const clearn__objective *obj, const double *w,
                   const double *d, double a, double *x, double *f, double *g,
                   int64_t *n_evals) {
  int64_t i;
  int rc;
  for (i = 0; i < obj->n; i++)
    x[i] = w[i] + a * d[i];
  (*n_evals)++;
  if ((rc = obj->value(obj->ctx, x, f)) != CLEARN_OK)
    return rc;
  return obj->gradient(obj->ctx, x, g);
}

/* Minimizer of the cubic through (a, fa, da) and (b, fb, db), kept inside
 * the safeguarded part of the interval; bisection if the cubic has none. */
static double cubic_step(double a, double fa, double da, double b, double fb,
                         double db) {
  double lo = a < b ? a : b, hi = a < b ? b : a, w = hi - lo;
  double d1 = da + db - 3.0 * (fa - fb) / (a - b), r = d1 * d1 - da * db, t;
  if (r >= 0 && a != b) {
    double d2 = (b > a ? 1.0 : -1.0) * sqrt(r);
    t = b - (b - a) * (db + d2 - d1) / (db - da + 2.0 * d2);
    if (t == t && t >= lo + 0.1 * w && t <= hi - 0.1 * w)
      return t;
  }
  return 0.5 * (a + b);
}

/* Near the optimum the decrease of f falls below its rounding while the
 * gradient still carries information: accept a step that leaves f unchanged
 * to rounding and meets the curvature condition (Hager and Zhang's
 * approximate Wolfe conditions, with their eps = 1e-12 |f|). */
static int flat_ok(double f, double f0, double da, double dphi0, double c2) {
  return f <= f0 + 1e-12 * fabs(f0) && f >= f0 - 1e-12 * fabs(f0) &&
         da >= c2 * dphi0 && da <= -0.8 * dphi0;
}

/* Strong Wolfe line search along d from (w, f0, g0).  On success x, *f, g
 * hold the accepted point (the latest value call) and *step its step.
 * *found = 0 if no acceptable step was found within the budget (the best
 * point with sufficient decrease, if any, is then in x). */
static int line_search(const clearn__objective *obj, const double *w, double f0,
                       const double *g0, const double *d, double a1, double *x,
                       double *f, double *g, double *step, int *found,
                       int64_t *n_evals) {
  const double c1 = 1e-4, c2 = 0.9;
  double dphi0 = dot(obj->n, g0, d), a_prev = 0, f_prev = f0, d_prev = dphi0,
         a = a1, lo, hi, flo, fhi, dlo, dhi;
  int i, rc;
  (void)g0;
  *found = 0;
  for (i = 0; i < 20; i++) {
    double da;
    if ((rc = eval_at(obj, w, d, a, x, f, g, n_evals)) != CLEARN_OK)
      return rc;
    da = dot(obj->n, g, d);
    if (flat_ok(*f, f0, da, dphi0, c2)) {
      *step = a, *found = 1;
      return CLEARN_OK;
    }
    if (*f > f0 + c1 * a * dphi0 || (i > 0 && *f >= f_prev) || *f != *f) {
      lo = a_prev, flo = f_prev, dlo = d_prev;
      hi = a, fhi = *f, dhi = da;
      goto zoom;
    }
    if (fabs(da) <= -c2 * dphi0) {
      *step = a, *found = 1;
      return CLEARN_OK;
    }
    if (da >= 0) {
      lo = a, flo = *f, dlo = da;
      hi = a_prev, fhi = f_prev, dhi = d_prev;
      goto zoom;
    }
    a_prev = a, f_prev = *f, d_prev = da;
    a *= 2.0;
  }
  *step = a_prev;
  return CLEARN_OK;
zoom:
  for (i = 0; i < 30; i++) {
    double da;
    if (fhi != fhi || !isfinite(fhi))
      a = 0.5 * (lo + hi); /* an overflow: no interpolation */
    else
      a = cubic_step(lo, flo, dlo, hi, fhi, dhi);
    if ((rc = eval_at(obj, w, d, a, x, f, g, n_evals)) != CLEARN_OK)
      return rc;
    da = dot(obj->n, g, d);
    if (flat_ok(*f, f0, da, dphi0, c2)) {
      *step = a, *found = 1;
      return CLEARN_OK;
    }
    if (*f > f0 + c1 * a * dphi0 || *f >= flo || *f != *f) {
      hi = a, fhi = *f, dhi = da;
    } else {
      if (fabs(da) <= -c2 * dphi0) {
        *step = a, *found = 1;
        return CLEARN_OK;
      }
      if (da * (hi - lo) >= 0)
        hi = lo, fhi = flo, dhi = dlo;
      lo = a, flo = *f, dlo = da;
    }
    if (fabs(hi - lo) <= 1e-16 * fabs(lo))
      break;
  }
  /* Settle for the best point with sufficient decrease, if any. */
  if (lo > 0) {
    if ((rc = eval_at(obj, w, d, lo, x, f, g, n_evals)) != CLEARN_OK)
      return rc;
    *step = lo, *found = 1;
  }
  return CLEARN_OK;
}

int clearn__lbfgs(const clearn__objective *obj, double *w,
                  const clearn__optim_opts *opts, clearn__optim_result *res) {
  int64_t n = obj->n, k, i;
  int m = opts->memory > 0 ? opts->memory : 10, used = 0, head = 0, rc, j;
  double *buf =
      clearn__malloc((size_t)(n * (2 * m + 4) + 2 * m), sizeof(double));
  double *S, *Y, *g, *d, *x, *gx, *rho, *alpha, f, fx;
  memset(res, 0, sizeof *res);
  if (buf == NULL)
    return clearn__err(CLEARN_ENOMEM, "lbfgs: out of memory");
  S = buf;
  Y = S + n * m;
  g = Y + n * m;
  d = g + n;
  x = d + n;
  gx = x + n;
  rho = gx + n;
  alpha = rho + m;
  res->n_evals = 1;
  if ((rc = obj->value(obj->ctx, w, &f)) != CLEARN_OK ||
      (rc = obj->gradient(obj->ctx, w, g)) != CLEARN_OK)
    goto cleanup;
  res->f = f;
  res->gmax = amax(n, g);
  if (res->gmax <= opts->gtol) {
    res->converged = 1;
    goto cleanup;
  }
  for (k = 0; k < opts->max_iter; k++) {
    double step, a1, fold = f, sy, yy;
    int found;
    /* d = -H g by the two-loop recursion over the stored pairs. */
    for (i = 0; i < n; i++)
      d[i] = -g[i];
    for (j = 0; j < used; j++) {
      int c = (head - 1 - j + m) % m;
      alpha[c] = rho[c] * dot(n, S + c * n, d);
      for (i = 0; i < n; i++)
        d[i] -= alpha[c] * Y[c * n + i];
    }
    if (used > 0) {
      int c = (head - 1 + m) % m;
      double gamma =
          dot(n, S + c * n, Y + c * n) / dot(n, Y + c * n, Y + c * n);
      for (i = 0; i < n; i++)
        d[i] *= gamma;
    }
    for (j = used - 1; j >= 0; j--) {
      int c = (head - 1 - j + m) % m;
      double beta = rho[c] * dot(n, Y + c * n, d);
      for (i = 0; i < n; i++)
        d[i] += (alpha[c] - beta) * S[c * n + i];
    }
    if (dot(n, d, g) >= 0) { /* not a descent direction: restart */
      used = 0;
      for (i = 0; i < n; i++)
        d[i] = -g[i];
    }
    a1 = used == 0 ? 1.0 / sqrt(dot(n, d, d)) : 1.0;
    if (a1 > 1.0 && used > 0)
      a1 = 1.0;
    rc = line_search(obj, w, f, g, d, a1, x, &fx, gx, &step, &found,
                     &res->n_evals);
    if (rc != CLEARN_OK)
      goto cleanup;
    if (!found) {
      /* No progress possible along d: the objective is flat to rounding
       * here; restore the state at w for the caller and stop. */
      res->n_evals++;
      if ((rc = obj->value(obj->ctx, w, &f)) != CLEARN_OK ||
          (rc = obj->gradient(obj->ctx, w, g)) != CLEARN_OK)
        goto cleanup;
      if (used == 0) {
        res->stalled = 1;
        break;
      }
      used = 0; /* try once more from steepest descent */
      continue;
    }
    /* New pair s = x - w, y = gx - g. */
    {
      double *s = S + head * n, *y = Y + head * n;
      for (i = 0; i < n; i++) {
        s[i] = x[i] - w[i];
        y[i] = gx[i] - g[i];
      }
      sy = dot(n, s, y);
      yy = dot(n, y, y);
      if (sy > 2.220446049250313e-16 * yy) {
        rho[head] = 1.0 / sy;
        head = (head + 1) % m;
        if (used < m)
          used++;
      }
    }
    memcpy(w, x, (size_t)n * sizeof(double));
    memcpy(g, gx, (size_t)n * sizeof(double));
    f = fx;
    res->n_iter = k + 1;
    res->f = f;
    res->gmax = amax(n, g);
    if (res->gmax <= opts->gtol) {
      res->converged = 1;
      break;
    }
    {
      double scale = fabs(fold) > fabs(f) ? fabs(fold) : fabs(f);
      if (scale < 1)
        scale = 1;
      /* A step that lowered f by nothing (accepted on curvature) is not
       * a sign of convergence. */
      if (fold > f && (fold - f) / scale <= opts->ftol) {
        res->converged = 1;
        break;
      }
    }
  }
cleanup:
  free(buf);
  return rc;
}

/* ---- TRON ---------------------------------------------------------------- */

/* Steihaug CG on H s = -g inside ||s|| <= delta.  On return r = -g - H s. */
static int trcg(const clearn__objective *obj, double delta, const double *g,
                double *s, double *r, double *d, double *Hd, int64_t *cg_iter) {
  int64_t n = obj->n, i, it;
  double rTr, cgtol, alpha, beta;
  int rc;
  for (i = 0; i < n; i++) {
    s[i] = 0;
    r[i] = -g[i];
    d[i] = r[i];
  }
  rTr = dot(n, r, r);
  cgtol = 0.1 * sqrt(rTr);
  for (it = 0; it < n + 10; it++) {
    double dHd, rnew;
    if (sqrt(rTr) <= cgtol)
      break;
    if ((rc = obj->hessvec(obj->ctx, d, Hd)) != CLEARN_OK)
      return rc;
    (*cg_iter)++;
    dHd = dot(n, d, Hd);
    if (!(dHd > 0))
      dHd = 1e-300; /* flat direction: go to the boundary */
    alpha = rTr / dHd;
    for (i = 0; i < n; i++)
      s[i] += alpha * d[i];
    if (sqrt(dot(n, s, s)) > delta) {
      double std, sts, dtd, dsq = delta * delta, rad;
      for (i = 0; i < n; i++)
        s[i] -= alpha * d[i];
      std = dot(n, s, d);
      sts = dot(n, s, s);
      dtd = dot(n, d, d);
      rad = sqrt(std * std + dtd * (dsq - sts));
      alpha = std >= 0 ? (dsq - sts) / (std + rad) : (rad - std) / dtd;
      for (i = 0; i < n; i++) {
        s[i] += alpha * d[i];
        r[i] -= alpha * Hd[i];
      }
      break;
    }
    for (i = 0; i < n; i++)
      r[i] -= alpha * Hd[i];
    rnew = dot(n, r, r);
    beta = rnew / rTr;
    for (i = 0; i < n; i++)
      d[i] = r[i] + beta * d[i];
    rTr = rnew;
  }
  return CLEARN_OK;
}

int clearn__tron(const clearn__objective *obj, double *w,
                 const clearn__optim_opts *opts, clearn__optim_result *res) {
  const double eta0 = 1e-4, eta1 = 0.25, eta2 = 0.75;
  const double sigma1 = 0.25, sigma2 = 0.5, sigma3 = 4.0;
  int64_t n = obj->n, i, cg_iter = 0, k = 0;
  double *buf = clearn__malloc((size_t)(7 * n), sizeof(double));
  double *g, *s, *r, *d, *Hd, *wn, *gn, f, fnew, delta;
  int rc;
  memset(res, 0, sizeof *res);
  if (buf == NULL)
    return clearn__err(CLEARN_ENOMEM, "tron: out of memory");
  g = buf, s = g + n, r = s + n, d = r + n, Hd = d + n, wn = Hd + n,
  gn = wn + n;
  res->n_evals = 1;
  if ((rc = obj->value(obj->ctx, w, &f)) != CLEARN_OK ||
      (rc = obj->gradient(obj->ctx, w, g)) != CLEARN_OK)
    goto cleanup;
  delta = sqrt(dot(n, g, g));
  res->f = f;
  res->gmax = amax(n, g);
  if (res->gmax <= opts->gtol) {
    res->converged = 1;
    goto cleanup;
  }
  while (k < opts->max_iter) {
    double gs, prered, actred, snorm, alpha, scale;
    int flat;
    if ((rc = trcg(obj, delta, g, s, r, d, Hd, &cg_iter)) != CLEARN_OK)
      goto cleanup;
    for (i = 0; i < n; i++)
      wn[i] = w[i] + s[i];
    gs = dot(n, g, s);
    prered = -0.5 * (gs - dot(n, s, r));
    res->n_evals++;
    if ((rc = obj->value(obj->ctx, wn, &fnew)) != CLEARN_OK)
      goto cleanup;
    actred = f - fnew;
    snorm = sqrt(dot(n, s, s));
    if (k == 0 && snorm < delta)
      delta = snorm;
    scale = fmax(fmax(fabs(f), fabs(fnew)), 1.0);
    /* Near the optimum actred drowns in the rounding of f: then judge the
     * step by the gradient, which still carries information, and keep the
     * radius. */
    flat = 0;
    if (!(actred > eta0 * prered) && fabs(actred) <= 1e-12 * scale) {
      if ((rc = obj->gradient(obj->ctx, wn, gn)) != CLEARN_OK)
        goto cleanup;
      flat = amax(n, gn) < res->gmax;
    }
    if (fnew - f - gs <= 0)
      alpha = sigma3;
    else
      alpha = fmax(sigma1, -0.5 * (gs / (fnew - f - gs)));
    if (flat)
      delta = fmax(delta, snorm);
    else if (!(actred >= eta0 * prered)) /* also for fnew = nan */
      delta = fmin(fmax(alpha, sigma1) * snorm, sigma2 * delta);
    else if (actred < eta1 * prered)
      delta = fmax(sigma1 * delta, fmin(alpha * snorm, sigma2 * delta));
    else if (actred < eta2 * prered)
      delta = fmax(sigma1 * delta, fmin(alpha * snorm, sigma3 * delta));
    else
      delta = fmax(delta, fmin(alpha * snorm, sigma3 * delta));
    if (actred > eta0 * prered || flat) {
      double fold = f;
      k++;
      memcpy(w, wn, (size_t)n * sizeof(double));
      f = fnew;
      if ((rc = obj->gradient(obj->ctx, w, g)) != CLEARN_OK)
        goto cleanup;
      res->n_iter = k;
      res->f = f;
      res->gmax = amax(n, g);
      if (res->gmax <= opts->gtol ||
          (!flat && fold > f && (fold - f) / scale <= opts->ftol)) {
        res->converged = 1;
        break;
      }
    } else {
      /* Back to w so that hessvec refers to it again. */
      res->n_evals++;
      if ((rc = obj->value(obj->ctx, w, &f)) != CLEARN_OK)
        goto cleanup;
      /* Predicted and actual reductions at rounding level: nothing left
       * to gain (LIBLINEAR's "actred and prered too small"). */
      if ((fabs(actred) <= 1e-12 * scale && fabs(prered) <= 1e-12 * scale) ||
          delta <= 1e-300) {
        res->stalled = 1;
        break;
      }
    }
  }
cleanup:
  free(buf);
  return rc;
}
