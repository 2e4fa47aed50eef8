/*
 * rec.c -- the recommender side of the command line: train on ratings
 * (serially, or distributed when started by mpirun), recommend, convert,
 * predict for (user, item) pairs.
 *
 * MPI.  When the tool is built with the MPI layer and started by mpirun
 * (Open MPI's OMPI_COMM_WORLD_SIZE, or PMIx/PMI variables, in the
 * environment), it initializes MPI and `train` for recommenders runs
 * distributed over MPI_COMM_WORLD: each rank reads its share of the data
 * (HDF5 ratings by parts, text parsed by rank 0 and scattered, generated
 * data made on rank 0 and scattered), the fit is clearn_mpi_fit_ratings,
 * only rank 0 prints and writes files.  Started without mpirun it runs the
 * serial calls and never touches MPI.  Both give bitwise the same model.
 * The holdout split is clearn_ratings_split_hash, which does not depend on
 * how the data is shared out.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#ifdef CLEARN_CLI_MPI
#include <clearn/clearn_mpi.h>
#include <mpi.h>
#endif

static int mpi_on; /* MPI initialized by cli_mpi_start */

void cli_mpi_start(int *argc, char ***argv) {
#ifdef CLEARN_CLI_MPI
  if (getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") ||
      getenv("PMI_RANK") || getenv("PMI_SIZE")) {
    if (MPI_Init(argc, argv) == MPI_SUCCESS) {
      mpi_on = 1;
      MPI_Comm_rank(MPI_COMM_WORLD, &cli_rank);
      MPI_Comm_size(MPI_COMM_WORLD, &cli_size);
    }
  }
#else
  (void)argc;
  (void)argv;
#endif
}

int cli_mpi_finish(int code) {
#ifdef CLEARN_CLI_MPI
  if (mpi_on) MPI_Finalize();
#endif
  return code;
}

/* The same value on every rank: rank 0's (a no-op without MPI). */
static int bcast_int(int v) {
#ifdef CLEARN_CLI_MPI
  if (mpi_on) MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD);
#endif
  return v;
}

/* Sum doubles over the ranks in place (a no-op without MPI). */
static void sum_all(double *v, int n) {
#ifdef CLEARN_CLI_MPI
  if (mpi_on) MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM,
                            MPI_COMM_WORLD);
#else
  (void)v;
  (void)n;
#endif
}

static int is_hdf5(const char *path) {
  static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a,
                                       '\n'};
  unsigned char buf[8];
  FILE *f = fopen(path, "rb");
  size_t n;
  if (f == NULL) return 0;
  n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  return n == sizeof buf && memcmp(buf, sig, sizeof sig) == 0;
}

/* This process's ratings: all of them, or under mpirun its share.  data
 * NULL: the embedded default (generated, ml-1m-shaped). */
static int load_ratings(const char *data, const char *format,
                        unsigned long long seed, clearn_ratings **out) {
  int rc;
  *out = NULL;
  if (data == NULL) {
    clearn_ratings *all = NULL;
    rc = CLEARN_OK;
    if (cli_rank == 0)
      rc = clearn_ratings_generate(6040, 3706, 1000209, 20, 10, 0.8, 1, seed,
                                   &all);
#ifdef CLEARN_CLI_MPI
    if (mpi_on) {
      rc = bcast_int(rc);
      if (rc == CLEARN_OK)
        rc = clearn_mpi_ratings_scatter(all, 0, MPI_COMM_WORLD, out);
      clearn_ratings_free(all);
      return rc;
    }
#endif
    *out = all;
    return rc;
  }
#ifdef CLEARN_CLI_MPI
  if (mpi_on) return clearn_mpi_ratings_load(data, format, MPI_COMM_WORLD, out);
#endif
  if ((format == NULL || !strcmp(format, "auto") || !strcmp(format, "hdf5")) &&
      is_hdf5(data))
    return clearn_ratings_load(data, out);
  return clearn_ratings_load_text(data, format, 0, NULL, out);
}

/* ---- train ------------------------------------------------------------------ */

typedef struct {
  int quiet, json;
  double comm_total;
} view;

static int on_progress(void *user, int iteration, const char *const *names,
                       const double *values, int n) {
  view *v = user;
  double tr = NAN, te = NAN, loss = NAN, secs = NAN, comm = 0;
  for (int i = 0; i < n; i++) {
    if (!strcmp(names[i], "train_rmse")) tr = values[i];
    else if (!strcmp(names[i], "valid_rmse")) te = values[i];
    else if (!strcmp(names[i], "train_loss")) loss = values[i];
    else if (!strcmp(names[i], "seconds")) secs = values[i];
    else if (!strcmp(names[i], "comm_seconds")) comm = values[i];
  }
  v->comm_total += comm;
  if (cli_rank != 0) return 0;
  if (v->json)
    printf("{\"iteration\": %d, \"train_loss\": %.10g, \"train_rmse\": %.6f, "
           "\"test_rmse\": %.6f, \"seconds\": %.4f, \"comm_seconds\": %.4f}\n",
           iteration, loss, tr, te, secs, comm);
  else if (!v->quiet)
    printf("%5d %12.6f %12.6f %10.3f %10.3f\n", iteration, tr, te, secs, comm);
  fflush(stdout);
  return 0;
}

/* Test RMSE and MAE over every rank's test share (cold pairs as the
 * cold_start parameter says). */
static int evaluate(const clearn_estimator *est, const clearn_ratings *test,
                    double *rmse, double *mae, double *used) {
  int64_t n = test ? clearn_ratings_nnz(test) : 0, q;
  int64_t *u = malloc((size_t)(n + 1) * sizeof *u);
  int64_t *i = malloc((size_t)(n + 1) * sizeof *i);
  float *v = malloc((size_t)(n + 1) * sizeof *v);
  double *p = malloc((size_t)(n + 1) * sizeof *p), s[3] = {0, 0, 0};
  int rc = !u || !i || !v || !p ? CLEARN_ENOMEM : CLEARN_OK;
  if (rc == CLEARN_OK && n > 0) {
    clearn_ratings_triples(test, u, i, v);
    rc = clearn_estimator_predict_pairs(est, u, i, n, p);
  }
  for (q = 0; rc == CLEARN_OK && q < n; q++) {
    double d = p[q] - (double)v[q];
    if (isnan(p[q])) {
      /* cold_start "nan": the metric is NaN; "drop": left out */
      char buf[16];
      clearn_estimator_get_param_string(est, "cold_start", buf, sizeof buf,
                                        NULL);
      if (!strcmp(buf, "drop")) continue;
    }
    s[0] += d * d;
    s[1] += fabs(d);
    s[2] += 1;
  }
  free(u);
  free(i);
  free(v);
  free(p);
  rc = bcast_int(rc) != CLEARN_OK ? CLEARN_ENOMEM : rc;
  sum_all(s, 3);
  *rmse = s[2] > 0 ? sqrt(s[0] / s[2]) : NAN;
  *mae = s[2] > 0 ? s[1] / s[2] : NAN;
  *used = s[2];
  return rc;
}

/* Parameter options given on the command line, applied to a fresh or a
 * resumed estimator alike. */
static int apply_params(clearn_estimator *est, int argc, char **argv) {
  for (int i = 3; i + 1 < argc; i++) {
    const char *opt = argv[i], *val = argv[i + 1];
    static const char *const own[] = {
        "--data",  "--format", "--model",      "--seed",
        "--test-fraction", "--checkpoint", "--checkpoint-every", "--target"};
    int mine = 0;
    if (!strcmp(opt, "--quiet") || !strcmp(opt, "--json") ||
        !strcmp(opt, "--resume"))
      continue;
    for (size_t k = 0; k < sizeof own / sizeof own[0]; k++)
      mine |= !strcmp(opt, own[k]);
    i++;
    if (mine) continue;
    if (!strcmp(opt, "--iters")) opt = "--max_iter";
    int rc = clearn_estimator_set_param_string(est, opt + 2, val);
    if (rc != CLEARN_OK) return rc;
  }
  return CLEARN_OK;
}

int cli_train_ratings(clearn_estimator *est, int argc, char **argv) {
  const char *data = NULL, *format = "auto", *model = "model.h5",
             *ckdir = NULL;
  double tf = 0.1, t0, t_fit, rmse, mae, used;
  unsigned long long seed = 42;
  long long every = 1;
  int quiet = 0, json = 0, resume = 0, rc, ret = 0;
  clearn_ratings *mine = NULL, *train = NULL, *test = NULL;
  char ckpath[4096];
  view v = {0, 0, 0};

  for (int i = 3; i < argc; i++) {
    const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    char *end = NULL;
    if (!strcmp(opt, "--quiet") || !strcmp(opt, "--json") ||
        !strcmp(opt, "--resume")) {
      *(opt[2] == 'q' ? &quiet : opt[2] == 'j' ? &json : &resume) = 1;
      continue;
    }
    if (strncmp(opt, "--", 2) != 0 || val == NULL)
      return cli_usage(val ? "train: options look like --name VALUE"
                           : "train: option without a value");
    i++;
    if (!strcmp(opt, "--data")) data = val;
    else if (!strcmp(opt, "--format")) format = val;
    else if (!strcmp(opt, "--model")) model = val;
    else if (!strcmp(opt, "--checkpoint")) ckdir = val;
    else if (!strcmp(opt, "--seed")) seed = strtoull(val, NULL, 10);
    else if (!strcmp(opt, "--checkpoint-every")) {
      every = strtoll(val, &end, 10);
      if (*end || every < 1) {
        if (cli_rank == 0)
          fprintf(stderr, "clearn: train: --checkpoint-every %s: must be an "
                          "integer >= 1\n", val);
        return EXIT_USAGE;
      }
    } else if (!strcmp(opt, "--test-fraction")) {
      tf = strtod(val, &end);
      if (*end || !(tf >= 0 && tf < 1)) {
        if (cli_rank == 0)
          fprintf(stderr, "clearn: train: --test-fraction %s: must be in "
                          "[0, 1)\n", val);
        return EXIT_USAGE;
      }
    }
  }
  if (resume && ckdir == NULL)
    return cli_usage("train: --resume needs --checkpoint DIR");
  /* Held-out ratings of users or items the training part lacks are left
   * out of the test metrics unless --cold_start says otherwise (Spark users
   * set coldStartStrategy="drop" for evaluation alike). */
  clearn_estimator_set_param_string(est, "cold_start", "drop");
  if ((rc = apply_params(est, argc, argv)) != CLEARN_OK)
    return cli_fail(rc, "train");
  if (ckdir) {
    snprintf(ckpath, sizeof ckpath, "%s/checkpoint.h5", ckdir);
    if (resume) {
      clearn_estimator *back = NULL;
      rc = clearn_estimator_load(ckpath, clearn_estimator_kind(est), &back);
      if (rc != CLEARN_OK) return cli_fail(rc, "train: --resume");
      /* the checkpoint's parameters, then the command line's on top */
      if ((rc = apply_params(back, argc, argv)) != CLEARN_OK) {
        clearn_estimator_free(back);
        return cli_fail(rc, "train: --resume");
      }
      /* the caller frees est; swap contents by cloning into it is not
       * offered, so the resumed handle is used from here on */
      est = back;
    } else {
      int mk = 0;
      if (cli_rank == 0 && mkdir(ckdir, 0777) != 0 && errno != EEXIST)
        mk = errno;
      if ((mk = bcast_int(mk)) != 0) {
        if (cli_rank == 0)
          fprintf(stderr, "clearn: train: cannot create checkpoint "
                          "directory '%s': %s\n", ckdir, strerror(mk));
        return EXIT_RUNTIME;
      }
    }
    if ((rc = clearn_estimator_set_checkpoint(est, ckpath, every)) !=
        CLEARN_OK) {
      ret = cli_fail(rc, "train");
      goto cleanup;
    }
  }

  if ((rc = load_ratings(data, format, seed, &mine)) != CLEARN_OK) {
    ret = cli_fail(rc, "train");
    goto cleanup;
  }
  {
    double c[3] = {(double)clearn_ratings_nnz(mine), 0, 0};
    sum_all(c, 1);
    if (cli_rank == 0 && !quiet && !json) {
      if (data)
        printf("%s: %.0f ratings", data, c[0]);
      else
        printf("embedded default: generated ml-1m-shaped ratings, %.0f "
               "ratings, seed %llu", c[0], seed);
      if (cli_size > 1) printf(", on %d MPI ranks", cli_size);
      printf("\n");
    }
  }
  if (tf > 0) {
    rc = clearn_ratings_split_hash(mine, tf, seed, &train, &test);
    rc = bcast_int(rc) != CLEARN_OK ? rc ? rc : CLEARN_ENOMEM : rc;
    if (rc != CLEARN_OK) {
      ret = cli_fail(rc, "train");
      goto cleanup;
    }
  } else {
    train = mine;
    mine = NULL;
  }
  v.quiet = quiet;
  v.json = json;
  clearn_estimator_set_progress(est, on_progress, &v);
  if (cli_rank == 0 && resume && !quiet && !json) {
    clearn_matrix *h = NULL;
    if (clearn_estimator_get_attr(est, "n_iter", &h) == CLEARN_OK)
      printf("resuming from %s after iteration %lld\n", ckpath,
             (long long)*(const int64_t *)clearn_matrix_data(h));
    clearn_matrix_free(h);
  }
  if (cli_rank == 0 && !quiet && !json)
    printf("%5s %12s %12s %10s %10s\n", "iter", "train_rmse", "test_rmse",
           "seconds", "comm_sec");
  t0 = cli_now();
#ifdef CLEARN_CLI_MPI
  if (mpi_on)
    rc = resume ? clearn_mpi_resume_ratings(est, MPI_COMM_WORLD, train, test)
                : clearn_mpi_fit_ratings(est, MPI_COMM_WORLD, train, test);
  else
#endif
    rc = resume ? clearn_estimator_resume_ratings(est, train, test)
                : clearn_estimator_fit_ratings(est, train, test);
  if (rc != CLEARN_OK && rc != CLEARN_ENOTCONVERGED) {
    ret = cli_fail(rc, "train");
    goto cleanup;
  }
  if (rc == CLEARN_ENOTCONVERGED && cli_rank == 0)
    fprintf(stderr, "clearn: warning: %s\n", clearn_last_error());
  t_fit = cli_now() - t0;
  if ((rc = evaluate(est, test, &rmse, &mae, &used)) != CLEARN_OK) {
    ret = cli_fail(rc, "train: evaluate");
    goto cleanup;
  }
  rc = cli_rank == 0 ? clearn_estimator_save(est, model) : CLEARN_OK;
  if (bcast_int(rc) != CLEARN_OK) {
    ret = cli_rank == 0 ? cli_fail(rc, "train") : cli_exit_for(bcast_int(rc));
    goto cleanup;
  }
  if (cli_rank != 0) goto cleanup;
  if (json) {
    printf("{\"kind\": \"%s\", \"ranks\": %d, \"fit_seconds\": %.4f, "
           "\"comm_seconds\": %.4f, \"test_rmse\": %.6f, \"test_mae\": %.6f, "
           "\"test_ratings\": %.0f, \"model\": \"%s\"}\n",
           clearn_estimator_kind(est), cli_size, t_fit, v.comm_total, rmse,
           mae, used, model);
  } else if (!quiet) {
    clearn_matrix *ids = NULL;
    int64_t top[10];
    printf("%s: fit in %.3f s (%.3f s communicating) on %d rank%s; test "
           "RMSE %.4f, MAE %.4f on %.0f ratings\n",
           clearn_estimator_kind(est), t_fit, v.comm_total, cli_size,
           cli_size > 1 ? "s" : "", rmse, mae, used);
    printf("  model written to %s\n", model);
    if (clearn_estimator_get_attr(est, "user_ids", &ids) == CLEARN_OK &&
        clearn_matrix_cols(ids) > 0) {
      const int64_t *u = clearn_matrix_data(ids);
      if (clearn_estimator_recommend(est, u, 1, 10, NULL, top, NULL) ==
          CLEARN_OK) {
        printf("  top 10 for user %lld:", (long long)u[0]);
        for (int j = 0; j < 10; j++) printf(" %lld", (long long)top[j]);
        printf("\n");
      }
    }
    clearn_matrix_free(ids);
  }
cleanup:
  if (resume && ckdir && est) clearn_estimator_free(est);
  clearn_ratings_free(mine);
  clearn_ratings_free(train);
  clearn_ratings_free(test);
  return ret;
}

/* ---- recommend -------------------------------------------------------------- */

int cli_recommend(int argc, char **argv) {
  const char *model = NULL;
  long long n = 10;
  int64_t users[256];
  int n_users = 0, json = 0, rc, ret = 0, all = 0;
  clearn_estimator *est = NULL;
  int64_t *items = NULL;
  double *scores = NULL;
  for (int i = 2; i < argc; i++) {
    const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    char *end = NULL;
    if (!strcmp(opt, "--json")) {
      json = 1;
      continue;
    }
    if (!strcmp(opt, "--include-seen")) {
      all = 1;
      continue;
    }
    if (val == NULL) return cli_usage("recommend: option without a value");
    i++;
    if (!strcmp(opt, "--model")) model = val;
    else if (!strcmp(opt, "--user")) {
      long long u = strtoll(val, &end, 10);
      if (*end || n_users == 256)
        return cli_usage("recommend: --user takes an integer id (at most 256 "
                         "users)");
      users[n_users++] = u;
    } else if (!strcmp(opt, "-n") || !strcmp(opt, "--n")) {
      n = strtoll(val, &end, 10);
      if (*end || n < 1) return cli_usage("recommend: -n must be >= 1");
    } else
      return cli_usage("recommend: unknown option");
  }
  if (!model || n_users == 0)
    return cli_usage("recommend: --model and --user are required");
  if ((rc = clearn_estimator_load(model, NULL, &est)) != CLEARN_OK)
    return cli_fail(rc, "recommend");
  if (!clearn_estimator_is_recommender(est)) {
    fprintf(stderr, "clearn: recommend: %s holds a %s model, not a "
                    "recommender\n", model, clearn_estimator_kind(est));
    clearn_estimator_free(est);
    return EXIT_DATA;
  }
  items = malloc((size_t)(n * n_users) * sizeof *items);
  scores = malloc((size_t)(n * n_users) * sizeof *scores);
  if (!items || !scores) {
    ret = cli_fail(CLEARN_ENOMEM, "recommend");
    goto cleanup;
  }
  if (all) {
    /* exclude nothing: an empty ratings object */
    clearn_ratings *none = NULL;
    rc = clearn_ratings_from_triples(NULL, NULL, NULL, 0, &none);
    if (rc == CLEARN_OK)
      rc = clearn_estimator_recommend(est, users, n_users, n, none, items,
                                      scores);
    clearn_ratings_free(none);
  } else {
    rc = clearn_estimator_recommend(est, users, n_users, n, NULL, items,
                                    scores);
  }
  if (rc != CLEARN_OK) {
    ret = cli_fail(rc, "recommend");
    goto cleanup;
  }
  for (int u = 0; u < n_users; u++) {
    if (items[u * n] < 0 && isnan(scores[u * n])) {
      fprintf(stderr, "clearn: recommend: user %lld is not in %s\n",
              (long long)users[u], model);
      ret = EXIT_DATA;
      continue;
    }
    if (json) {
      printf("{\"user\": %lld, \"items\": [", (long long)users[u]);
      for (long long j = 0; j < n && items[u * n + j] >= 0; j++)
        printf("%s%lld", j ? ", " : "", (long long)items[u * n + j]);
      printf("], \"scores\": [");
      for (long long j = 0; j < n && items[u * n + j] >= 0; j++)
        printf("%s%.6f", j ? ", " : "", scores[u * n + j]);
      printf("]}\n");
    } else {
      printf("user %lld:\n", (long long)users[u]);
      for (long long j = 0; j < n && items[u * n + j] >= 0; j++)
        printf("  %2lld. item %lld  score %.4f\n", j + 1,
               (long long)items[u * n + j], scores[u * n + j]);
    }
  }
cleanup:
  free(items);
  free(scores);
  clearn_estimator_free(est);
  return ret;
}

/* ---- convert ---------------------------------------------------------------- */

int cli_convert(int argc, char **argv) {
  const char *data = NULL, *format = "auto", *out = NULL;
  clearn_ratings *r = NULL;
  int64_t skipped = 0;
  int skip = 0, rc;
  double t0;
  for (int i = 2; i < argc; i++) {
    const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(opt, "--skip-bad")) {
      skip = 1;
      continue;
    }
    if (val == NULL) return cli_usage("convert: option without a value");
    i++;
    if (!strcmp(opt, "--data")) data = val;
    else if (!strcmp(opt, "--format")) format = val;
    else if (!strcmp(opt, "--out")) out = val;
    else return cli_usage("convert: unknown option");
  }
  if (!data || !out) return cli_usage("convert: --data and --out are required");
  t0 = cli_now();
  rc = clearn_ratings_load_text(data, format, skip ? CLEARN_RATINGS_SKIP_BAD : 0,
                                &skipped, &r);
  if (rc != CLEARN_OK) return cli_fail(rc, "convert");
  rc = clearn_ratings_save(r, out);
  if (rc != CLEARN_OK) {
    clearn_ratings_free(r);
    return cli_fail(rc, "convert");
  }
  printf("%s -> %s: %lld ratings, %lld users, %lld items", data, out,
         (long long)clearn_ratings_nnz(r), (long long)clearn_ratings_n_users(r),
         (long long)clearn_ratings_n_items(r));
  if (skip) printf(", %lld bad lines skipped", (long long)skipped);
  printf(" (%.2f s)\n", cli_now() - t0);
  clearn_ratings_free(r);
  return 0;
}

/* ---- predict for pairs ------------------------------------------------------ */

int cli_predict_pairs(clearn_estimator *est, const double *v, long rows,
                      long cols, const char *data, FILE *out) {
  int64_t *u, *i;
  double *p;
  int rc;
  if (cols != 2) {
    fprintf(stderr, "clearn: %s: a recommender predicts rows of \"user,item\"; "
                    "this file has %ld columns\n", data, cols);
    return EXIT_DATA;
  }
  u = calloc((size_t)rows + 1, sizeof *u);
  i = calloc((size_t)rows + 1, sizeof *i);
  p = malloc((size_t)rows * sizeof *p);
  if (!u || !i || !p) {
    free(u);
    free(i);
    free(p);
    return cli_fail(CLEARN_ENOMEM, "predict");
  }
  for (long r = 0; r < rows; r++) {
    u[r] = (int64_t)v[2 * r];
    i[r] = (int64_t)v[2 * r + 1];
  }
  rc = clearn_estimator_predict_pairs(est, u, i, rows, p);
  if (rc == CLEARN_OK)
    for (long r = 0; r < rows; r++)
      fprintf(out, "%lld,%lld,%.9g\n", (long long)u[r], (long long)i[r], p[r]);
  free(u);
  free(i);
  free(p);
  return rc == CLEARN_OK ? 0 : cli_fail(rc, "predict");
}
