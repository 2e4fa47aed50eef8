/*
 * clearn.c -- the clearn command line.
 *
 *   clearn train <kind> [--data FILE] [--target COL] [--test-fraction F]
 *                [--seed S] [--model OUT.h5] [--<param> VALUE ...]
 *                recommenders also: [--format F] [--checkpoint DIR
 *                [--checkpoint-every K] [--resume]] [--quiet] [--json]
 *   clearn predict --model M.h5 --data FILE [--out FILE]
 *   clearn recommend --model M.h5 --user ID [--user ID ...] [-n N]
 *   clearn convert --data RATINGS.txt [--format F] --out RATINGS.h5
 *   clearn info M.h5
 *   clearn params <kind>
 *
 * Estimator options are not hard-coded: `--<name> VALUE` is passed to
 * clearn_estimator_set_param_string(), and `clearn params <kind>` prints the
 * estimator's own parameter listing, so every parameter is reachable and
 * validated exactly as through the C API.
 *
 * Without --data, `train` fits on an embedded default: generated
 * ml-1m-shaped ratings for recommenders, a generated regression problem
 * otherwise (fixed seed), so the tool runs on a bare machine.  Under
 * mpirun, `train` for recommenders runs distributed (rec.c).
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

#include "cli.h"

int cli_rank = 0, cli_size = 1;

double cli_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cli_exit_for(int status) {
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

int cli_fail(int status, const char *what) {
  if (cli_rank == 0)
    fprintf(stderr, "clearn: %s: %s\n", what,
            clearn_last_error()[0] ? clearn_last_error()
                                   : clearn_status_str(status));
  return cli_exit_for(status);
}

int cli_usage(const char *msg) {
  if (cli_rank != 0) return EXIT_USAGE;
  if (msg) fprintf(stderr, "clearn: %s\n", msg);
  fprintf(stderr,
          "usage: clearn train <kind> [--data FILE] [--format F] [--target COL] "
          "[--test-fraction F] [--seed S] [--model OUT.h5] [--quiet] [--json] "
          "[--<param> VALUE ...]\n"
          "         recommenders: [--checkpoint DIR [--checkpoint-every K] "
          "[--resume]] [--iters N]; under mpirun the fit is distributed\n"
          "       clearn predict --model M.h5 --data FILE [--out FILE]\n"
          "       clearn recommend --model M.h5 --user ID [--user ID ...] "
          "[-n N] [--include-seen] [--json]\n"
          "       clearn convert --data RATINGS [--format F] [--skip-bad] "
          "--out RATINGS.h5\n"
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

static int cmd_params(const char *kind) {
  clearn_estimator *est;
  int rc = clearn_estimator_create(kind, &est);
  if (rc) {
    cli_fail(rc, "params");
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
  const char *kind, *data = NULL, *model = "model.h5";
  long target = -1, n_test, n_train;
  int quiet = 0, json = 0;
  double test_fraction = 0.2, t0, t_fit, r2_train = NAN, r2_test = NAN;
  int has_score;
  unsigned long long seed = 42;
  clearn_estimator *est = NULL;
  clearn_matrix *Xtr = NULL, *ytr = NULL, *Xte = NULL, *yte = NULL;
  double *Xbuf = NULL, *ybuf = NULL;
  table t = {0};
  int rc, ret = 0, i;
  if (argc < 3) return cli_usage("train: missing estimator kind");
  kind = argv[2];
  if ((rc = clearn_estimator_create(kind, &est)) != CLEARN_OK) {
    cli_fail(rc, "train");
    return EXIT_USAGE; /* an unknown kind is a usage error */
  }
  if (clearn_estimator_is_recommender(est)) {
    ret = cli_train_ratings(est, argc, argv);
    clearn_estimator_free(est);
    return ret;
  }
  for (i = 3; i < argc; i++) {
    const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(opt, "--quiet") || !strcmp(opt, "--json")) {
      *(opt[2] == 'q' ? &quiet : &json) = 1;
      continue;
    }
    if (strncmp(opt, "--", 2) != 0 || val == NULL) {
      clearn_estimator_free(est);
      return cli_usage(val ? "train: options look like --name VALUE"
                       : "train: option without a value");
    }
    i++;
    if (!strcmp(opt, "--data")) data = val;
    else if (!strcmp(opt, "--model")) model = val;
    else if (!strcmp(opt, "--target")) target = strtol(val, NULL, 10);
    else if (!strcmp(opt, "--seed")) seed = strtoull(val, NULL, 10);
    else if (!strcmp(opt, "--test-fraction")) {
      char *end;
      test_fraction = strtod(val, &end);
      if (*end || !(test_fraction >= 0 && test_fraction < 1)) {
        clearn_estimator_free(est);
        fprintf(stderr, "clearn: train: --test-fraction %s: must be in [0, 1)\n", val);
        return EXIT_USAGE;
      }
    } else if ((rc = clearn_estimator_set_param_string(est, opt + 2, val)) !=
               CLEARN_OK) {
      clearn_estimator_free(est);
      return cli_fail(rc, "train");
    }
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
    if (clearn_estimator_is_classifier(est)) {
      /* a classification problem: the target thresholded at 15 (about
       * its middle), labels 0 and 1 */
      for (long r = 0; r < t.rows; r++)
        t.v[r * t.cols + t.cols - 1] = t.v[r * t.cols + t.cols - 1] > 15.0;
    }
    if (!quiet && !json)
      printf("embedded default: generated %s, %ld samples x %ld "
             "features, seed %llu\n",
             clearn_estimator_is_classifier(est) ? "classification"
                                                 : "regression",
             t.rows, t.cols - 1, seed);
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
  t0 = cli_now();
  if ((rc = clearn_estimator_fit(est, Xtr, ytr, NULL)) != CLEARN_OK) {
    ret = cli_fail(rc, "train");
    goto cleanup;
  }
  t_fit = cli_now() - t0;
  /* R^2 for regressors, accuracy for classifiers; none for transformers
   * (standard_scaler), whose score call fails */
  has_score = clearn_estimator_score(est, Xtr, ytr, NULL, &r2_train) ==
              CLEARN_OK;
  if (has_score && n_test > 0) {
    clearn_matrix_wrap(Xbuf + n_train * (t.cols - 1), n_test, t.cols - 1,
                       CLEARN_FLOAT64, &Xte);
    clearn_matrix_wrap(ybuf + n_train, n_test, 1, CLEARN_FLOAT64, &yte);
    clearn_estimator_score(est, Xte, yte, NULL, &r2_test);
  }
  if ((rc = clearn_estimator_save(est, model)) != CLEARN_OK) {
    ret = cli_fail(rc, "train");
    goto cleanup;
  }
  if (json) {
    printf("{\"kind\": \"%s\", \"samples\": %ld, \"features\": %ld, "
           "\"fit_seconds\": %.4f, \"train_r2\": %.8f, \"test_r2\": %.8f, "
           "\"model\": \"%s\"}\n",
           kind, n_train, t.cols - 1, t_fit, r2_train, r2_test, model);
  } else if (!quiet) {
    printf("%s: fit %ld samples x %ld features in %.3f s\n", kind, n_train,
           t.cols - 1, t_fit);
    const char *what = clearn_estimator_is_classifier(est) ? "accuracy"
                                                            : "R^2";
    if (has_score) {
      printf("  train %s %.6f", what, r2_train);
      if (n_test > 0)
        printf("   test %s %.6f (%ld held-out samples)", what, r2_test,
               n_test);
      printf("\n");
    }
    printf("  model written to %s\n", model);
  }
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
    if (i + 1 >= argc) return cli_usage("predict: option without a value");
    if (!strcmp(argv[i], "--model")) model = argv[i + 1];
    else if (!strcmp(argv[i], "--data")) data = argv[i + 1];
    else if (!strcmp(argv[i], "--out")) outp = argv[i + 1];
    else return cli_usage("predict: unknown option");
  }
  if (!model || !data) return cli_usage("predict: --model and --data are required");
  if ((rc = clearn_estimator_load(model, NULL, &est)) != CLEARN_OK)
    return cli_fail(rc, "predict");
  if ((ret = read_table(data, &t)) != 0) goto cleanup;
  if (clearn_estimator_is_recommender(est)) {
    if (outp && (out = fopen(outp, "w")) == NULL) {
      fprintf(stderr, "clearn: cannot write '%s': %s\n", outp,
              strerror(errno));
      ret = EXIT_RUNTIME;
      goto cleanup;
    }
    ret = cli_predict_pairs(est, t.v, t.rows, t.cols, data, out);
    if (out != stdout && fclose(out) != 0 && ret == 0) {
      fprintf(stderr, "clearn: cannot write '%s'\n", outp);
      ret = EXIT_RUNTIME;
    }
    goto cleanup;
  }
  clearn_matrix_wrap(t.v, t.rows, t.cols, CLEARN_FLOAT64, &X);
  if ((rc = clearn_estimator_predict(est, X, &pred)) != CLEARN_OK) {
    ret = cli_fail(rc, data);
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

/* The training history of an iterative model, a line per iteration. */
static void print_history(const clearn_estimator *est) {
  clearn_matrix *h = NULL;
  int64_t r;
  if (clearn_estimator_get_attr(est, "history", &h) != CLEARN_OK) return;
  if (clearn_matrix_rows(h) > 0 && clearn_matrix_cols(h) >= 4) {
    printf("training history:\n  %5s %14s %12s %12s %10s %10s\n", "iter",
           "train_loss", "train_rmse", "valid_rmse", "seconds", "comm_sec");
    for (r = 0; r < clearn_matrix_rows(h); r++)
      printf("  %5lld %14.6f %12.6f %12.6f %10.3f %10.3f\n", (long long)r + 1,
             clearn_matrix_get(h, r, 0), clearn_matrix_get(h, r, 1),
             clearn_matrix_get(h, r, 2), clearn_matrix_get(h, r, 3),
             clearn_matrix_cols(h) > 4 ? clearn_matrix_get(h, r, 4) : 0.0);
  }
  clearn_matrix_free(h);
}

static int cmd_info(const char *path) {
  clearn_estimator *est;
  char buf[128];
  int rc = clearn_estimator_load(path, NULL, &est);
  if (rc) return cli_fail(rc, "info");
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
    print_history(est);
  }
  clearn_estimator_free(est);
  return 0;
}

static int run(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
    return cli_usage(argc < 2 ? "missing command" : NULL) * (argc < 2);
  if (!strcmp(argv[1], "--version")) {
    if (cli_rank == 0) printf("clearn %s\n", clearn_version_string());
    return 0;
  }
  if (!strcmp(argv[1], "train")) return cmd_train(argc, argv);
  /* the other commands are not distributed: rank 0 runs them */
  if (cli_rank != 0) return 0;
  if (!strcmp(argv[1], "predict")) return cmd_predict(argc, argv);
  if (!strcmp(argv[1], "recommend")) return cli_recommend(argc, argv);
  if (!strcmp(argv[1], "convert")) return cli_convert(argc, argv);
  if (!strcmp(argv[1], "info"))
    return argc == 3 ? cmd_info(argv[2]) : cli_usage("info: expected one model file");
  if (!strcmp(argv[1], "params"))
    return argc == 3 ? cmd_params(argv[2]) : cli_usage("params: expected a kind");
  fprintf(stderr, "clearn: unknown command '%s'\n", argv[1]);
  return cli_usage(NULL);
}

int main(int argc, char **argv) {
  cli_mpi_start(&argc, &argv);
  return cli_mpi_finish(run(argc, argv));
}
