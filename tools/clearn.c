/*
 * clearn.c -- the clearn command line.
 *
 *   clearn train <kind> [--data FILE] [--target COL] [--test-fraction F]
 *                [--seed S] [--model OUT.h5] [--<param> VALUE ...]
 *   clearn predict --model M.h5 --data FILE [--out FILE]
 *   clearn info M.h5
 *   clearn params <kind>
 *
 * Estimator options are not hard-coded: `--<name> VALUE` is passed to
 * clearn_estimator_set_param_string(), and `clearn params <kind>` prints the
 * estimator's own parameter listing, so every parameter is reachable and
 * validated exactly as through the C API.
 *
 * Without --data, `train` fits on an embedded default: a generated
 * regression problem (fixed seed), so the tool runs on a bare machine.
 *
 * Exit codes: 0 success, 2 usage error, 3 bad input data or model file,
 * 4 runtime failure.  Messages go to stderr, once.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <clearn/clearn.h>

enum { EXIT_USAGE = 2, EXIT_DATA = 3, EXIT_RUNTIME = 4 };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int exit_for(int status) {
  switch (status) {
  case CLEARN_EPARAM: return EXIT_USAGE;
  case CLEARN_EIO:
  case CLEARN_EFORMAT:
  case CLEARN_EKIND:
  case CLEARN_EVERSION:
  case CLEARN_ESHAPE:
  case CLEARN_ENUMERIC: return EXIT_DATA;
  default: return EXIT_RUNTIME;
  }
}

static int fail(int status, const char *what) {
  fprintf(stderr, "clearn: %s: %s\n", what, clearn_last_error()[0]
                                                 ? clearn_last_error()
                                                 : clearn_status_str(status));
  return exit_for(status);
}

static int usage(const char *msg) {
  if (msg) fprintf(stderr, "clearn: %s\n", msg);
  fprintf(stderr,
          "usage: clearn train <kind> [--data FILE] [--format F] [--target COL] "
          "[--test-fraction F] [--seed S] [--model OUT.h5] [--quiet] [--json] "
          "[--<param> VALUE ...]\n"
          "       clearn predict --model M.h5 --data FILE [--out FILE]\n"
          "       clearn info M.h5\n"
          "       clearn params <kind>\n"
          "kinds:");
  for (int i = 0; i < clearn_kind_count(); i++)
    fprintf(stderr, " %s", clearn_kind_name(i));
  fprintf(stderr, "\nWithout --data, train uses generated data: ml-1m-shaped "
                  "ratings for recommenders (als), a 100000 x 50 regression "
                  "problem otherwise.\n");
  return EXIT_USAGE;
}

/* ---- numeric CSV ---------------------------------------------------------- *
 * Comma, tab or semicolon separated numbers, optional header line (a first
 * line whose first field is not a number).  Every row must have the same
 * number of fields; errors name file, line and field. */
typedef struct {
  double *v;
  long rows, cols;
} table;

static int read_table(const char *path, table *t) {
  FILE *f = fopen(path, "r");
  char *line = NULL;
  size_t cap = 0, n = 0, alloc = 0;
  long lineno = 0;
  ssize_t len;
  memset(t, 0, sizeof *t);
  if (f == NULL) {
    fprintf(stderr, "clearn: cannot open '%s': %s\n", path, strerror(errno));
    return EXIT_DATA;
  }
  while ((len = getline(&line, &cap, f)) >= 0) {
    char *p = line, *end;
    long col = 0;
    lineno++;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      line[--len] = '\0';
    if (len == 0) continue;
    if (t->rows == 0 && t->cols == 0 && lineno == 1) {
      strtod(p, &end);
      if (end == p) continue; /* header */
    }
    for (;;) {
      double x = strtod(p, &end);
      if (end == p || !isfinite(x) ||
          (*end && *end != ',' && *end != '\t' && *end != ';' && *end != ' ')) {
        fprintf(stderr, "clearn: %s:%ld: field %ld: not a finite number\n",
                path, lineno, col + 1);
        goto bad;
      }
      if (n == alloc) {
        alloc = alloc ? 2 * alloc : 4096;
        double *nv = realloc(t->v, alloc * sizeof(double));
        if (nv == NULL) {
          fprintf(stderr, "clearn: %s: out of memory\n", path);
          goto bad;
        }
        t->v = nv;
      }
      t->v[n++] = x;
      col++;
      p = end;
      if (*p == '\0') break;
      p++;
    }
    if (t->rows == 0)
      t->cols = col;
    else if (col != t->cols) {
      fprintf(stderr, "clearn: %s:%ld: expected %ld fields, got %ld\n", path,
              lineno, t->cols, col);
      goto bad;
    }
    t->rows++;
  }
  free(line);
  fclose(f);
  if (t->rows == 0) {
    fprintf(stderr, "clearn: %s: no data rows\n", path);
    return EXIT_DATA;
  }
  return 0;
bad:
  free(line);
  fclose(f);
  free(t->v);
  t->v = NULL;
  return EXIT_DATA;
}

/* ---- embedded default: generated regression ------------------------------ */
static unsigned long long rng_state;
static double rnd_normal(void) {
  double u, v;
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  u = ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  v = ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static void generate(table *t, long n, long p, unsigned long long seed) {
  double *beta = malloc((size_t)p * sizeof(double));
  rng_state = seed;
  t->rows = n;
  t->cols = p + 1;
  t->v = malloc((size_t)n * (size_t)(p + 1) * sizeof(double));
  for (long j = 0; j < p; j++) beta[j] = (j % 5 == 0) ? 0.0 : rnd_normal();
  for (long i = 0; i < n; i++) {
    double *row = t->v + i * (p + 1), y = 2.5;
    for (long j = 0; j < p; j++) {
      row[j] = 3.0 + rnd_normal();
      y += beta[j] * row[j];
    }
    row[p] = y + 0.5 * rnd_normal();
  }
  free(beta);
}

/* Split columns into X (all but target) and y (target). */
static void split_xy(const table *t, long target, long r0, long r1, double *X,
                     double *y) {
  long p = t->cols - 1;
  for (long i = r0; i < r1; i++) {
    const double *row = t->v + i * t->cols;
    double *xr = X + (i - r0) * p;
    for (long j = 0, k = 0; j < t->cols; j++) {
      if (j == target)
        y[i - r0] = row[j];
      else
        xr[k++] = row[j];
    }
  }
}

/* ---- recommenders: train on ratings -------------------------------------- */

typedef struct {
  int quiet, json;
  double t0;
} train_view;

static int on_progress(void *user, int iteration, const char *const *names,
                       const double *values, int n) {
  train_view *v = user;
  double train_rmse = NAN, valid_rmse = NAN, loss = NAN, secs = NAN;
  for (int i = 0; i < n; i++) {
    if (!strcmp(names[i], "train_rmse")) train_rmse = values[i];
    else if (!strcmp(names[i], "valid_rmse")) valid_rmse = values[i];
    else if (!strcmp(names[i], "train_loss")) loss = values[i];
    else if (!strcmp(names[i], "seconds")) secs = values[i];
  }
  if (v->json)
    printf("{\"iteration\": %d, \"train_loss\": %.10g, \"train_rmse\": %.6f, "
           "\"test_rmse\": %.6f, \"seconds\": %.4f}\n",
           iteration, loss, train_rmse, valid_rmse, secs);
  else if (!v->quiet)
    printf("%5d %12.6f %12.6f %10.3f\n", iteration, train_rmse, valid_rmse, secs);
  fflush(stdout);
  return 0;
}

static int train_ratings(clearn_estimator *est, const char *data,
                         const char *format, double test_fraction,
                         unsigned long long seed, const char *model, int quiet,
                         int json) {
  clearn_ratings *all = NULL, *train = NULL, *test = NULL;
  train_view view = {quiet, json, 0};
  double rmse = NAN, mae = NAN, t0, t_fit;
  int64_t n_skipped = 0, n_used = 0, top[10];
  int rc, ret = 0;
  if (data) {
    rc = clearn_ratings_load_text(data, format, 0, &n_skipped, &all);
    if (rc != CLEARN_OK) return fail(rc, "train");
    if (!quiet && !json)
      printf("%s: %lld ratings, %lld users, %lld items\n", data,
             (long long)clearn_ratings_nnz(all),
             (long long)clearn_ratings_n_users(all),
             (long long)clearn_ratings_n_items(all));
  } else {
    /* Embedded default: MovieLens-1M-shaped generated ratings. */
    rc = clearn_ratings_generate(6040, 3706, 1000209, 20, 10, 0.8, 1, seed, &all);
    if (rc != CLEARN_OK) return fail(rc, "train");
    if (!quiet && !json)
      printf("embedded default: generated ml-1m-shaped ratings, %lld ratings, "
             "%lld users, %lld items, seed %llu\n",
             (long long)clearn_ratings_nnz(all),
             (long long)clearn_ratings_n_users(all),
             (long long)clearn_ratings_n_items(all), seed);
  }
  if (test_fraction > 0) {
    rc = clearn_ratings_split_random(all, test_fraction, seed, &train, &test);
    if (rc != CLEARN_OK) {
      ret = fail(rc, "train");
      goto cleanup;
    }
  } else {
    train = all;
    all = NULL;
  }
  clearn_estimator_set_progress(est, on_progress, &view);
  if (!quiet && !json)
    printf("%5s %12s %12s %10s\n", "iter", "train_rmse", "test_rmse", "seconds");
  t0 = now();
  if ((rc = clearn_estimator_fit_ratings(est, train, test)) != CLEARN_OK) {
    ret = fail(rc, "train");
    goto cleanup;
  }
  t_fit = now() - t0;
  if (test) {
    clearn_estimator_score_ratings(est, test, "rmse", &rmse, &n_used);
    clearn_estimator_score_ratings(est, test, "mae", &mae, NULL);
  }
  if ((rc = clearn_estimator_save(est, model)) != CLEARN_OK) {
    ret = fail(rc, "train");
    goto cleanup;
  }
  if (json) {
    printf("{\"kind\": \"%s\", \"fit_seconds\": %.4f, \"test_rmse\": %.6f, "
           "\"test_mae\": %.6f, \"test_ratings\": %lld, \"model\": \"%s\"}\n",
           clearn_estimator_kind(est), t_fit, rmse, mae, (long long)n_used, model);
  } else if (!quiet) {
    printf("%s: fit in %.3f s; test RMSE %.4f, MAE %.4f on %lld ratings\n",
           clearn_estimator_kind(est), t_fit, rmse, mae, (long long)n_used);
    printf("  model written to %s\n", model);
    {
      const int64_t *uids = clearn_ratings_user_ids(train);
      if (clearn_estimator_recommend(est, uids, 1, 10, NULL, top, NULL) ==
          CLEARN_OK) {
        printf("  top 10 for user %lld:", (long long)uids[0]);
        for (int j = 0; j < 10; j++) printf(" %lld", (long long)top[j]);
        printf("\n");
      }
    }
  }
cleanup:
  clearn_ratings_free(all);
  clearn_ratings_free(train);
  clearn_ratings_free(test);
  return ret;
}

static int cmd_params(const char *kind) {
  clearn_estimator *est;
  int rc = clearn_estimator_create(kind, &est);
  if (rc) {
    fail(rc, "params");
    return EXIT_USAGE;
  }
  printf("%s parameters (set with --<name> VALUE):\n", kind);
  for (int i = 0; i < clearn_estimator_param_count(est); i++) {
    const char *name, *def, *range, *help;
    clearn_estimator_param_info(est, i, &name, NULL, &def, &range, &help);
    printf("  --%-18s %-10s range %-14s %s\n", name, def, range, help);
  }
  clearn_estimator_free(est);
  return 0;
}

static int cmd_train(int argc, char **argv) {
  const char *kind, *data = NULL, *model = "model.h5", *format = "auto";
  long target = -1, n_test, n_train;
  int quiet = 0, json = 0, tf_given = 0;
  double test_fraction = 0.2, t0, t_fit, r2_train = 0, r2_test = NAN;
  unsigned long long seed = 42;
  clearn_estimator *est = NULL;
  clearn_matrix *Xtr = NULL, *ytr = NULL, *Xte = NULL, *yte = NULL;
  double *Xbuf = NULL, *ybuf = NULL;
  table t = {0};
  int rc, ret = 0, i;
  if (argc < 3) return usage("train: missing estimator kind");
  kind = argv[2];
  if ((rc = clearn_estimator_create(kind, &est)) != CLEARN_OK) {
    fail(rc, "train");
    return EXIT_USAGE; /* an unknown kind is a usage error */
  }
  for (i = 3; i < argc; i++) {
    const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(opt, "--quiet") || !strcmp(opt, "--json")) {
      *(opt[2] == 'q' ? &quiet : &json) = 1;
      continue;
    }
    if (strncmp(opt, "--", 2) != 0 || val == NULL) {
      clearn_estimator_free(est);
      return usage(val ? "train: options look like --name VALUE"
                       : "train: option without a value");
    }
    i++;
    if (!strcmp(opt, "--data")) data = val;
    else if (!strcmp(opt, "--format")) format = val;
    else if (!strcmp(opt, "--model")) model = val;
    else if (!strcmp(opt, "--target")) target = strtol(val, NULL, 10);
    else if (!strcmp(opt, "--seed")) seed = strtoull(val, NULL, 10);
    else if (!strcmp(opt, "--test-fraction")) {
      char *end;
      test_fraction = strtod(val, &end);
      tf_given = 1;
      if (*end || !(test_fraction >= 0 && test_fraction < 1)) {
        clearn_estimator_free(est);
        fprintf(stderr, "clearn: train: --test-fraction %s: must be in [0, 1)\n", val);
        return EXIT_USAGE;
      }
    } else if ((rc = clearn_estimator_set_param_string(est, opt + 2, val)) !=
               CLEARN_OK) {
      clearn_estimator_free(est);
      return fail(rc, "train");
    }
  }
  if (clearn_estimator_is_recommender(est)) {
    ret = train_ratings(est, data, format, tf_given ? test_fraction : 0.1, seed,
                        model, quiet, json);
    clearn_estimator_free(est);
    return ret;
  }
  if (data) {
    if ((ret = read_table(data, &t)) != 0) goto cleanup;
    if (t.cols < 2) {
      fprintf(stderr, "clearn: %s: need at least 2 columns (features and a target)\n", data);
      ret = EXIT_DATA;
      goto cleanup;
    }
  } else {
    generate(&t, 100000, 50, seed);
    printf("embedded default: generated regression, %ld samples x %ld "
           "features, seed %llu\n", t.rows, t.cols - 1, seed);
  }
  if (target < 0) target += t.cols;
  if (target < 0 || target >= t.cols) {
    fprintf(stderr, "clearn: train: --target %ld outside the %ld columns\n",
            target, t.cols);
    ret = EXIT_USAGE;
    goto cleanup;
  }
  /* Holdout: the last test_fraction of the rows (shuffled data assumed;
   * the generated default is i.i.d.). */
  n_test = (long)(test_fraction * (double)t.rows);
  n_train = t.rows - n_test;
  Xbuf = malloc((size_t)t.rows * (size_t)(t.cols - 1) * sizeof(double));
  ybuf = malloc((size_t)t.rows * sizeof(double));
  if (!Xbuf || !ybuf) {
    fprintf(stderr, "clearn: out of memory\n");
    ret = EXIT_RUNTIME;
    goto cleanup;
  }
  split_xy(&t, target, 0, t.rows, Xbuf, ybuf);
  clearn_matrix_wrap(Xbuf, n_train, t.cols - 1, CLEARN_FLOAT64, &Xtr);
  clearn_matrix_wrap(ybuf, n_train, 1, CLEARN_FLOAT64, &ytr);
  t0 = now();
  if ((rc = clearn_estimator_fit(est, Xtr, ytr, NULL)) != CLEARN_OK) {
    ret = fail(rc, "train");
    goto cleanup;
  }
  t_fit = now() - t0;
  clearn_estimator_score(est, Xtr, ytr, NULL, &r2_train);
  if (n_test > 0) {
    clearn_matrix_wrap(Xbuf + n_train * (t.cols - 1), n_test, t.cols - 1,
                       CLEARN_FLOAT64, &Xte);
    clearn_matrix_wrap(ybuf + n_train, n_test, 1, CLEARN_FLOAT64, &yte);
    clearn_estimator_score(est, Xte, yte, NULL, &r2_test);
  }
  printf("%s: fit %ld samples x %ld features in %.3f s\n", kind, n_train,
         t.cols - 1, t_fit);
  printf("  train R^2 %.6f", r2_train);
  if (n_test > 0) printf("   test R^2 %.6f (%ld held-out samples)", r2_test, n_test);
  printf("\n");
  if ((rc = clearn_estimator_save(est, model)) != CLEARN_OK) {
    ret = fail(rc, "train");
    goto cleanup;
  }
  printf("  model written to %s\n", model);
cleanup:
  clearn_matrix_free(Xtr);
  clearn_matrix_free(ytr);
  clearn_matrix_free(Xte);
  clearn_matrix_free(yte);
  free(Xbuf);
  free(ybuf);
  free(t.v);
  clearn_estimator_free(est);
  return ret;
}

static int cmd_predict(int argc, char **argv) {
  const char *model = NULL, *data = NULL, *outp = NULL;
  clearn_estimator *est = NULL;
  clearn_matrix *X = NULL, *pred = NULL;
  FILE *out = stdout;
  table t = {0};
  int rc, ret = 0;
  for (int i = 2; i < argc; i += 2) {
    if (i + 1 >= argc) return usage("predict: option without a value");
    if (!strcmp(argv[i], "--model")) model = argv[i + 1];
    else if (!strcmp(argv[i], "--data")) data = argv[i + 1];
    else if (!strcmp(argv[i], "--out")) outp = argv[i + 1];
    else return usage("predict: unknown option");
  }
  if (!model || !data) return usage("predict: --model and --data are required");
  if ((rc = clearn_estimator_load(model, NULL, &est)) != CLEARN_OK)
    return fail(rc, "predict");
  if ((ret = read_table(data, &t)) != 0) goto cleanup;
  clearn_matrix_wrap(t.v, t.rows, t.cols, CLEARN_FLOAT64, &X);
  if ((rc = clearn_estimator_predict(est, X, &pred)) != CLEARN_OK) {
    ret = fail(rc, data);
    goto cleanup;
  }
  if (outp && (out = fopen(outp, "w")) == NULL) {
    fprintf(stderr, "clearn: cannot write '%s': %s\n", outp, strerror(errno));
    ret = EXIT_RUNTIME;
    goto cleanup;
  }
  for (long i = 0; i < clearn_matrix_rows(pred); i++) {
    for (long j = 0; j < clearn_matrix_cols(pred); j++)
      fprintf(out, "%s%.17g", j ? "," : "", clearn_matrix_get(pred, i, j));
    fputc('\n', out);
  }
  if (out != stdout && fclose(out) != 0) {
    fprintf(stderr, "clearn: cannot write '%s'\n", outp);
    ret = EXIT_RUNTIME;
  }
cleanup:
  clearn_matrix_free(X);
  clearn_matrix_free(pred);
  free(t.v);
  clearn_estimator_free(est);
  return ret;
}

static int cmd_info(const char *path) {
  clearn_estimator *est;
  char buf[128];
  int rc = clearn_estimator_load(path, NULL, &est);
  if (rc) return fail(rc, "info");
  printf("%s: %s model (%s)\n", path, clearn_estimator_kind(est),
         clearn_estimator_is_fitted(est) ? "fitted" : "not fitted");
  printf("parameters:\n");
  for (int i = 0; i < clearn_estimator_param_count(est); i++) {
    const char *name;
    clearn_estimator_param_info(est, i, &name, NULL, NULL, NULL, NULL);
    clearn_estimator_get_param_string(est, name, buf, sizeof buf, NULL);
    printf("  %s = %s\n", name, buf);
  }
  if (!clearn_estimator_is_fitted(est)) {
    printf("not fitted\n");
  } else {
    printf("fitted attributes:\n");
    for (int i = 0; i < clearn_estimator_attr_count(est); i++) {
      clearn_matrix *m;
      const char *name = clearn_estimator_attr_name(est, i);
      if (clearn_estimator_get_attr(est, name, &m) != CLEARN_OK) continue;
      printf("  %-14s %lld x %lld", name, (long long)clearn_matrix_rows(m),
             (long long)clearn_matrix_cols(m));
      if (clearn_matrix_rows(m) * clearn_matrix_cols(m) == 1)
        printf("  = %.10g", clearn_matrix_dtype(m) == CLEARN_INT64
                                ? (double)*(const int64_t *)clearn_matrix_data(m)
                                : clearn_matrix_get(m, 0, 0));
      printf("\n");
      clearn_matrix_free(m);
    }
  }
  clearn_estimator_free(est);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
    return usage(argc < 2 ? "missing command" : NULL) * (argc < 2);
  if (!strcmp(argv[1], "--version")) {
    printf("clearn %s\n", clearn_version_string());
    return 0;
  }
  if (!strcmp(argv[1], "train")) return cmd_train(argc, argv);
  if (!strcmp(argv[1], "predict")) return cmd_predict(argc, argv);
  if (!strcmp(argv[1], "info"))
    return argc == 3 ? cmd_info(argv[2]) : usage("info: expected one model file");
  if (!strcmp(argv[1], "params"))
    return argc == 3 ? cmd_params(argv[2]) : usage("params: expected a kind");
  fprintf(stderr, "clearn: unknown command '%s'\n", argv[1]);
  return usage(NULL);
}
