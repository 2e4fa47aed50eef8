/*
 * als_gibbs.h -- Gibbs-sampled (Bayesian) ALS, solver="gibbs" of the "als"
 * estimator (internal to algorithms/; the public face is the als
 * parameter table).  algorithms/als_gibbs.c says what is sampled and why.
 */
#ifndef CLEARN_ALS_GIBBS_H
#define CLEARN_ALS_GIBBS_H

#include <stdint.h>

#include "internal.h"

/* What als_fit hands to the sampler. */
typedef struct clearn__gibbs_cfg {
  int64_t k;        /* rank of one draw */
  int64_t n_sweeps; /* max_iter: burn-in sweeps + sampled sweeps */
  int64_t burn_in;  /* first sweeps: exact ALS of the centered ratings */
  double reg, rexp; /* burn-in L2 weight: reg (* count^rexp if weighted) */
  int weighted;
  uint64_t seed;
  double mu;       /* global mean of the training ratings, subtracted */
  clearn_dtype dt; /* of the initial and of the output factors */
  int nt;          /* OpenMP threads */
  int cold;        /* validation cold start: 0 nan, 1 drop, 2 mean */
  const char *const *hist_names; /* n_hist column names for progress */
  int n_hist;
} clearn__gibbs_cfg;

/* Run the sweeps over shard sh (exchange ex, NULL when serial), starting
 * from the factors U0 (n_users x k) and V0 (n_items x k) in cfg->dt.  On
 * success *U and *V (allocated here with posix_memalign, freed with free)
 * are the n_users x (S k) and n_items x (S k) concatenations of the S
 * draws kept, each scaled by 1/sqrt(S), so that U V^T is the average of
 * the S draws' predictions less mu; *n_samples = S (at least 1), history
 * rows [0, *n_done) are filled (n_hist columns as als.c's history:
 * train_loss and train_rmse of the sweep's draw -- its mean squared
 * training error, whose sum gives alpha its conditional, and the root of
 * that -- then the averaged model's validation RMSE, seconds,
 * communication seconds).  Collective over
 * the participants of ex; every participant gets the same factors. */
int clearn__als_gibbs_run(const clearn__gibbs_cfg *cfg,
                          const clearn__rshard *sh, const clearn__exchange *ex,
                          const clearn__progress *progress, const void *U0,
                          const void *V0, double *history, int64_t *n_done,
                          void **U, void **V, int64_t *n_samples);

/* ---- pieces exposed for tests/test_als_gibbs.c -------------------------- */

/* The standard normal draw j of the row stream of (seed, sweep, side, id):
 * Box-Muller on two counter-based uniforms, so a row's draws depend on
 * nothing else (thread and rank counts cannot change them). */
double clearn__gibbs_normal(uint64_t seed, int64_t sweep, uint64_t side,
                            int64_t id, int64_t j);

/* One row's draw from its Gaussian conditional, given its n ratings
 * (other-side rows idx, values val) against the other side's factors O
 * (row-major, row stride ld >= k, columns past k ignored): with y_q =
 * O[idx[q]], t_q = val[q] - mu and
 *   P = Lam + alpha sum_q y_q y_q^T = R^T R  (Lam k x k, upper triangle
 *   read; R upper),
 *   x = P^-1 (alpha sum_q t_q y_q + lam_mu) + R^-1 z.
 * z NULL gives the conditional mean (an ALS row solve when Lam = lam I,
 * lam_mu = 0, alpha = 1).  ws: ld^2 + ld + k ld + 2 k doubles; the AVX-512
 * sums run when ld is a multiple of 8 and O, ws are 64-byte aligned (and
 * are then only equal to the portable ones up to rounding).  Returns
 * CLEARN_ENUMERIC if P is not positive definite. */
int clearn__gibbs_draw_row(int64_t k, int64_t ld, int64_t n, const int32_t *idx,
                           const float *val, const double *O, double mu,
                           double alpha, const double *Lam,
                           const double *lam_mu, const double *z, double *ws,
                           double *x);

/* The Normal-Wishart conditional of one side's (mu, Lambda) given its n
 * rows X (n x k, row stride ld; prior mu0 0, beta0 2, W0 I, nu0 k, as
 * BPMF): writes mean (k), the inverse scale Winv (k x k full) and returns
 * nu (-1: out of memory). */
double clearn__gibbs_nw_posterior(int64_t k, int64_t ld, int64_t n,
                                  const double *X, int nt, double *mean,
                                  double *Winv);

/* A Gamma(shape, 1) draw from the sequential stream seeded by key
 * (Marsaglia-Tsang), and a Wishart(Winv^-1, nu) draw into Lam (k x k) by
 * Bartlett's decomposition from the stream of key; ws: 3 k^2 doubles. */
double clearn__gibbs_gamma(uint64_t key, double shape);
int clearn__gibbs_wishart(uint64_t key, int64_t k, const double *Winv,
                          double nu, double *ws, double *Lam);

#endif /* CLEARN_ALS_GIBBS_H */
