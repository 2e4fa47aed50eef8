/*
 * test_mpi_als.c -- distributed ALS (clearn_mpi_fit_ratings and friends).
 * Run by ctest under mpiexec with 1, 2, 3 and 4 ranks (tests/mpi.cmake).
 *
 * Every rank generates the same ratings from a fixed seed, fits the serial
 * estimator on all of them, and takes a share for the distributed fit, so
 * it can compare bytes.  Checked:
 *   - explicit ALS-WR with biases and validation, CG, implicit feedback,
 *     float64 with non-negative factors: the distributed factors, biases
 *     and history (losses, RMSEs) are bitwise the serial ones, on every
 *     rank, for shares made by clearn_mpi_ratings_scatter and for arbitrary
 *     shares (ratings dealt out by item, so users span ranks; some ranks
 *     pass NULL);
 *   - comm_seconds is recorded (> 0 with 2+ ranks);
 *   - checkpoint + resume: a 3-iteration distributed fit with a checkpoint,
 *     loaded on every rank and resumed to 5 iterations, equals the serial
 *     5-iteration fit bitwise;
 *   - clearn_mpi_ratings_load: a text file parsed by rank 0 and scattered
 *     gives the same model; an HDF5 ratings file read in parts too; a
 *     malformed text file fails on every rank with rank 0's message naming
 *     file and line;
 *   - bad input on one rank (another parameter, a NULL estimator), empty
 *     data everywhere: the same status on every rank, the previous model
 *     kept, no hang (ctest's TIMEOUT would catch one).
 */
#include <mpi.h>
#include <stdint.h>
#include <unistd.h>

#include "clearn/clearn_mpi.h"
#include "testutil.h"

static int g_rank, g_size;

#define RCHECK(cond, fmt, ...)                                                 \
  CHECK(cond, "[rank %d/%d] " fmt, g_rank, g_size, __VA_ARGS__)

static clearn_estimator *make_als(const char *settings) {
  clearn_estimator *est = NULL;
  char buf[512], *tok, *save = NULL;
  if (clearn_estimator_create("als", &est) != CLEARN_OK) exit(2);
  snprintf(buf, sizeof buf, "%s", settings);
  for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    char *eq = strchr(tok, '=');
    if (eq == NULL) exit(2);
    *eq = '\0';
    if (clearn_estimator_set_param_string(est, tok, eq + 1) != CLEARN_OK) {
      fprintf(stderr, "set %s=%s: %s\n", tok, eq + 1, clearn_last_error());
      exit(2);
    }
  }
  return est;
}

static clearn_matrix *attr(const clearn_estimator *est, const char *name) {
  clearn_matrix *m = NULL;
  if (clearn_estimator_get_attr(est, name, &m) != CLEARN_OK) {
    fprintf(stderr, "get_attr %s: %s\n", name, clearn_last_error());
    exit(2);
  }
  return m;
}

static int same_attr(const clearn_estimator *a, const clearn_estimator *b,
                     const char *name) {
  clearn_matrix *x = attr(a, name), *y = attr(b, name);
  size_t n = (size_t)(clearn_matrix_rows(x) * clearn_matrix_cols(x)) *
             clearn_dtype_size(clearn_matrix_dtype(x));
  int same = clearn_matrix_rows(x) == clearn_matrix_rows(y) &&
             clearn_matrix_cols(x) == clearn_matrix_cols(y) &&
             memcmp(clearn_matrix_data(x), clearn_matrix_data(y), n) == 0;
  clearn_matrix_free(x);
  clearn_matrix_free(y);
  return same;
}

/* History without the timing columns (seconds, comm_seconds differ). */
static int same_history(const clearn_estimator *a, const clearn_estimator *b) {
  clearn_matrix *x = attr(a, "history"), *y = attr(b, "history");
  int64_t r, c;
  int same = clearn_matrix_rows(x) == clearn_matrix_rows(y) &&
             clearn_matrix_cols(x) == clearn_matrix_cols(y);
  for (r = 0; same && r < clearn_matrix_rows(x); r++)
    for (c = 0; c < 3; c++) {
      double p = clearn_matrix_get(x, r, c), q = clearn_matrix_get(y, r, c);
      if (memcmp(&p, &q, sizeof p) != 0) same = 0;
    }
  clearn_matrix_free(x);
  clearn_matrix_free(y);
  return same;
}

/* The ratings whose pick(user, item) is this rank's, as a new object, or
 * NULL when the rank gets none and null_if_empty is set. */
static clearn_ratings *share(const clearn_ratings *all, int by_item,
                             int null_if_empty) {
  int64_t n = clearn_ratings_nnz(all), q, m = 0;
  int64_t *u = malloc((size_t)n * sizeof *u), *i = malloc((size_t)n * sizeof *i);
  int64_t *su = malloc((size_t)n * sizeof *su), *si = malloc((size_t)n * sizeof *si);
  float *v = malloc((size_t)n * sizeof *v), *sv = malloc((size_t)n * sizeof *sv);
  clearn_ratings *out = NULL;
  clearn_ratings_triples(all, u, i, v);
  for (q = 0; q < n; q++) {
    int64_t key = by_item ? i[q] : u[q];
    /* with 3+ ranks, rank 1 gets nothing */
    int to = (int)((uint64_t)(key * 2654435761u) % (uint64_t)g_size);
    if (g_size >= 3 && to == 1) to = 0;
    if (to != g_rank) continue;
    su[m] = u[q];
    si[m] = i[q];
    sv[m] = v[q];
    m++;
  }
  if (!(m == 0 && null_if_empty) &&
      clearn_ratings_from_triples(su, si, sv, m, &out) != CLEARN_OK)
    exit(2);
  free(u);
  free(i);
  free(v);
  free(su);
  free(si);
  free(sv);
  return out;
}

static clearn_ratings *g_all, *g_train, *g_test;

static void setup_data(void) {
  if (clearn_ratings_generate(600, 250, 12000, 3, 4, 0.3, 1, 7, &g_all) !=
          CLEARN_OK ||
      clearn_ratings_split_hash(g_all, 0.1, 3, &g_train, &g_test) !=
          CLEARN_OK) {
    fprintf(stderr, "setup: %s\n", clearn_last_error());
    exit(2);
  }
}

static void test_bitwise(void) {
  const char *cfgs[] = {
      "rank=8 max_iter=4 biases=true reg=0.05",
      "rank=8 max_iter=4 solver=cg cg_steps=3",
      "rank=6 max_iter=3 implicit=true alpha=2 num_threads=2",
      "rank=6 max_iter=3 dtype=float64 nonnegative=true",
      /* sampled: hyper-parameters and alpha from whole-side sums */
      "rank=5 max_iter=4 burn_in=1 solver=gibbs reg=1 num_threads=2",
  };
  int q, how;
  for (q = 0; q < (int)(sizeof cfgs / sizeof cfgs[0]); q++) {
    clearn_estimator *ser = make_als(cfgs[q]);
    int rc = clearn_estimator_fit_ratings(ser, g_train, g_test);
    RCHECK(rc == CLEARN_OK, "serial '%s': %s", cfgs[q], clearn_last_error());
    for (how = 0; how < 2; how++) {
      clearn_estimator *dist = make_als(cfgs[q]);
      clearn_ratings *tr = NULL, *te = NULL;
      clearn_matrix *h;
      if (how == 0) {
        /* user blocks from rank 0 */
        CHECK_OK(clearn_mpi_ratings_scatter(g_rank == 0 ? g_train : NULL, 0,
                                            MPI_COMM_WORLD, &tr));
        CHECK_OK(clearn_mpi_ratings_scatter(g_rank == 0 ? g_test : NULL, 0,
                                            MPI_COMM_WORLD, &te));
      } else {
        /* dealt out by item: users span ranks; empty ranks pass NULL */
        tr = share(g_train, 1, 1);
        te = share(g_test, 0, 1);
      }
      rc = clearn_mpi_fit_ratings(dist, MPI_COMM_WORLD, tr, te);
      RCHECK(rc == CLEARN_OK, "distributed '%s' (%s shares): %s", cfgs[q],
             how ? "item" : "user-block", clearn_last_error());
      if (rc == CLEARN_OK) {
        RCHECK(same_attr(ser, dist, "user_factors") &&
                   same_attr(ser, dist, "item_factors"),
               "'%s' (%s shares): factors differ from the serial fit",
               cfgs[q], how ? "item" : "user-block");
        if (strstr(cfgs[q], "biases"))
          RCHECK(same_attr(ser, dist, "user_bias") &&
                     same_attr(ser, dist, "item_bias") &&
                     same_attr(ser, dist, "global_mean"),
                 "'%s': biases differ", cfgs[q]);
        RCHECK(same_history(ser, dist), "'%s': history differs", cfgs[q]);
        h = attr(dist, "history");
        RCHECK(clearn_matrix_cols(h) == 5 &&
                   (g_size == 1 ? clearn_matrix_get(h, 0, 4) >= 0
                                : clearn_matrix_get(h, 0, 4) > 0),
               "comm_seconds %g with %d ranks", clearn_matrix_get(h, 0, 4),
               g_size);
        clearn_matrix_free(h);
      }
      clearn_ratings_free(tr);
      clearn_ratings_free(te);
      clearn_estimator_free(dist);
    }
    clearn_estimator_free(ser);
  }
}

/* Shared temporary directory: rank 0 creates it, everyone learns its name. */
static char g_dir[256];

static void make_dir(void) {
  if (g_rank == 0) {
    snprintf(g_dir, sizeof g_dir, "/tmp/clearn_mpi_als_XXXXXX");
    if (mkdtemp(g_dir) == NULL) g_dir[0] = '\0';
  }
  MPI_Bcast(g_dir, sizeof g_dir, MPI_CHAR, 0, MPI_COMM_WORLD);
  if (g_dir[0] == '\0') {
    fprintf(stderr, "mkdtemp failed\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
}

static void test_resume(void) {
  const char *cfg = "rank=8 max_iter=5 solver=cg cg_steps=2 biases=true";
  clearn_estimator *ser = make_als(cfg), *part = make_als(cfg), *back = NULL;
  clearn_ratings *tr = NULL, *te = NULL;
  char path[400];
  int rc;
  snprintf(path, sizeof path, "%s/ckpt.h5", g_dir);
  CHECK_OK(clearn_estimator_fit_ratings(ser, g_train, g_test));
  CHECK_OK(clearn_mpi_ratings_scatter(g_rank == 0 ? g_train : NULL, 0,
                                      MPI_COMM_WORLD, &tr));
  CHECK_OK(clearn_mpi_ratings_scatter(g_rank == 0 ? g_test : NULL, 0,
                                      MPI_COMM_WORLD, &te));
  CHECK_OK(clearn_estimator_set_checkpoint(part, path, 3));
  CHECK_OK(clearn_estimator_set_param_int(part, "max_iter", 4));
  CHECK_OK(clearn_mpi_fit_ratings(part, MPI_COMM_WORLD, tr, te));
  MPI_Barrier(MPI_COMM_WORLD);
  /* the checkpoint (iteration 3) on every rank, resumed to 5 */
  rc = clearn_estimator_load(path, "als", &back);
  RCHECK(rc == CLEARN_OK, "load checkpoint: %s", clearn_last_error());
  if (back) {
    clearn_matrix *h = attr(back, "history");
    RCHECK(clearn_matrix_rows(h) == 3, "checkpoint has %lld iterations",
           (long long)clearn_matrix_rows(h));
    clearn_matrix_free(h);
    CHECK_OK(clearn_estimator_set_param_int(back, "max_iter", 5));
    rc = clearn_mpi_resume_ratings(back, MPI_COMM_WORLD, tr, te);
    RCHECK(rc == CLEARN_OK, "resume: %s", clearn_last_error());
    RCHECK(same_attr(ser, back, "user_factors") &&
               same_attr(ser, back, "item_factors") &&
               same_attr(ser, back, "user_bias") && same_history(ser, back),
           "%s", "resumed model differs from the uninterrupted serial fit");
  }
  /* resume without a model: the same error everywhere */
  {
    clearn_estimator *none = make_als(cfg);
    CHECK_RC(clearn_mpi_resume_ratings(none, MPI_COMM_WORLD, tr, te),
             CLEARN_ENOTFITTED);
    clearn_estimator_free(none);
  }
  clearn_ratings_free(tr);
  clearn_ratings_free(te);
  clearn_estimator_free(ser);
  clearn_estimator_free(part);
  clearn_estimator_free(back);
}

static void test_load(void) {
  const char *cfg = "rank=6 max_iter=3";
  char txt[400], bad[400], h5[400];
  clearn_estimator *ser = make_als(cfg);
  clearn_ratings *loc = NULL;
  int rc;
  snprintf(txt, sizeof txt, "%s/r.csv", g_dir);
  snprintf(bad, sizeof bad, "%s/bad.csv", g_dir);
  snprintf(h5, sizeof h5, "%s/r.h5", g_dir);
  if (g_rank == 0) {
    int64_t n = clearn_ratings_nnz(g_train), q;
    int64_t *u = malloc((size_t)n * sizeof *u), *i = malloc((size_t)n * sizeof *i);
    float *v = malloc((size_t)n * sizeof *v);
    FILE *f = fopen(txt, "w"), *g = fopen(bad, "w");
    clearn_ratings_triples(g_train, u, i, v);
    for (q = 0; f && q < n; q++)
      fprintf(f, "%lld,%lld,%.9g\n", (long long)u[q], (long long)i[q], v[q]);
    if (g) fprintf(g, "1,2,3.5\n4,5,x\n");
    if (f) fclose(f);
    if (g) fclose(g);
    free(u);
    free(i);
    free(v);
    CHECK_OK(clearn_ratings_save(g_train, h5));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  CHECK_OK(clearn_estimator_fit_ratings(ser, g_train, NULL));
  {
    const char *paths[2] = {txt, h5};
    int k;
    for (k = 0; k < 2; k++) {
      clearn_estimator *d = make_als(cfg);
      rc = clearn_mpi_ratings_load(paths[k], k == 0 ? "csv:0,1,2" : NULL,
                                   MPI_COMM_WORLD, &loc);
      RCHECK(rc == CLEARN_OK, "load %s: %s", paths[k], clearn_last_error());
      rc = clearn_mpi_fit_ratings(d, MPI_COMM_WORLD, loc, NULL);
      RCHECK(rc == CLEARN_OK && same_attr(ser, d, "user_factors") &&
                 same_attr(ser, d, "item_factors"),
             "fit on the shares of %s differs from the serial fit (%s)",
             paths[k], rc ? clearn_last_error() : "");
      clearn_ratings_free(loc);
      loc = NULL;
      clearn_estimator_free(d);
    }
  }
  rc = clearn_mpi_ratings_load(bad, "csv:0,1,2", MPI_COMM_WORLD, &loc);
  RCHECK(rc == CLEARN_EFORMAT && loc == NULL, "malformed file: rc %d", rc);
  RCHECK(strstr(clearn_last_error(), "bad.csv:2") != NULL &&
             (g_rank == 0 || strncmp(clearn_last_error(), "rank 0: ", 8) == 0),
         "message: %s", clearn_last_error());
  clearn_estimator_free(ser);
}

static void test_errors(void) {
  clearn_estimator *e = make_als("rank=4 max_iter=2"), *keep;
  clearn_ratings *tr = share(g_train, 0, 0);
  clearn_matrix *before, *after;
  int rc;
  CHECK_OK(clearn_mpi_fit_ratings(e, MPI_COMM_WORLD, tr, NULL));
  before = attr(e, "user_factors");
  keep = e;
  if (g_size > 1 && g_rank == g_size - 1)
    CHECK_OK(clearn_estimator_set_param_double(e, "reg", 0.5));
  rc = clearn_mpi_fit_ratings(g_size > 1 ? e : e, MPI_COMM_WORLD, tr, NULL);
  if (g_size > 1) {
    RCHECK(rc == CLEARN_EINVAL && strstr(clearn_last_error(), "'reg'"),
           "other reg on the last rank: rc %d, %s", rc, clearn_last_error());
    after = attr(keep, "user_factors");
    RCHECK(clearn_matrix_rows(after) == clearn_matrix_rows(before) &&
               memcmp(clearn_matrix_data(after), clearn_matrix_data(before),
                      (size_t)clearn_matrix_rows(before) * 4 * 4) == 0,
           "%s", "a failed fit changed the model");
    clearn_matrix_free(after);
  }
  clearn_matrix_free(before);
  /* NULL estimator on rank 0 only */
  if (g_size > 1) {
    rc = clearn_mpi_fit_ratings(g_rank == 0 ? NULL : keep, MPI_COMM_WORLD, tr,
                                NULL);
    RCHECK(rc == CLEARN_EINVAL, "NULL estimator on rank 0: rc %d", rc);
  }
  /* nothing anywhere */
  {
    clearn_estimator *f = make_als("rank=4");
    rc = clearn_mpi_fit_ratings(f, MPI_COMM_WORLD, NULL, NULL);
    RCHECK(rc == CLEARN_ESHAPE &&
               strstr(clearn_last_error(), "empty on every rank"),
           "no ratings: rc %d %s", rc, clearn_last_error());
    clearn_estimator_free(f);
  }
  /* a kind that is not a recommender */
  {
    clearn_estimator *r = NULL;
    clearn_estimator_create("ridge", &r);
    CHECK_RC(clearn_mpi_fit_ratings(r, MPI_COMM_WORLD, tr, NULL),
             CLEARN_EUNSUPPORTED);
    clearn_estimator_free(r);
  }
  clearn_ratings_free(tr);
  clearn_estimator_free(e);
}

int main(int argc, char **argv) {
  int total = 0, checks = 0;
  char cmd[400];
  (void)argc;
  (void)argv;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  setup_data();
  make_dir();
  test_bitwise();
  test_resume();
  test_load();
  test_errors();
  MPI_Barrier(MPI_COMM_WORLD);
  if (g_rank == 0) {
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
  }
  clearn_ratings_free(g_all);
  clearn_ratings_free(g_train);
  clearn_ratings_free(g_test);
  MPI_Allreduce(&tu_failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Allreduce(&tu_checks, &checks, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (g_rank == 0)
    printf("%s: %d ranks, %d checks, %d failures\n", __FILE__, g_size, checks,
           total);
  MPI_Finalize();
  return total ? 1 : 0;
}
