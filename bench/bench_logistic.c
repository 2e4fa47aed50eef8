/*
 * bench_logistic.c -- logistic regression on n x p dense generated data:
 * clearn (lbfgs, tron) against LIBLINEAR's train() on the same in-memory
 * data; scikit-learn runs on the same data from a file
 * (bench/logistic_sklearn.py, driven by bench/run_logistic.sh).
 *
 * usage:
 *   bench_logistic gen FILE [--n N] [--p P] [--seed S]
 *       write X (n x p float64) then y (n float64, labels 0/1) to FILE
 *   bench_logistic clearn FILE [--solver lbfgs|tron] [--tol T] [--C C]
 *       [--reps R] [--max_iter M]
 *   bench_logistic liblinear FILE [--eps E] [--C C]
 *   bench_logistic svm FILE OUT
 *       write the data as LIBSVM text (labels +1/-1) for liblinear-train
 *
 * Each mode runs in its own process, so its peak RSS (getrusage) is that
 * of one side alone; the data's own size is printed next to it.  The data:
 * x_ij = N(0, 1) * (1 + j mod 5) / 2, y from a planted w (N(0, 1) / sqrt p)
 * with logistic noise, so the classes overlap (no separable blow-up).
 * The objective reported by every side is scikit-learn's
 *   F(w, b) = sum_i log(1 + exp(-s_i (x_i w + b))) + ||w||^2 / (2 C)
 * evaluated here in one common routine, and its mean log loss.
 * Lines starting with "RESULT " carry key=value pairs for the run script.
 * Never fails on a time.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <clearn/clearn.h>
#ifdef CLEARN_BENCH_LIBLINEAR
#include <linear.h>
#endif

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double peak_rss_mb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss / 1024.0;
}

static uint64_t mix(uint64_t z) {
  z += UINT64_C(0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static double unif(uint64_t *s) {
  return ((double)(mix((*s)++) >> 11) + 0.5) / 9007199254740992.0;
}

static const char *opt(int argc, char **argv, const char *name,
                       const char *dflt) {
  int i;
  for (i = 0; i + 1 < argc; i++)
    if (strcmp(argv[i], name) == 0)
      return argv[i + 1];
  return dflt;
}

typedef struct {
  int64_t n, p;
  double *X, *y;
} data;

static int load(const char *path, int64_t p, data *d) {
  FILE *f = fopen(path, "rb");
  long long size;
  if (f == NULL) {
    perror(path);
    return 0;
  }
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  d->p = p;
  d->n = size / 8 / (p + 1);
  d->X = malloc((size_t)(d->n * p) * 8);
  d->y = malloc((size_t)d->n * 8);
  if (!d->X || !d->y ||
      fread(d->X, 8, (size_t)(d->n * p), f) != (size_t)(d->n * p) ||
      fread(d->y, 8, (size_t)d->n, f) != (size_t)d->n) {
    fprintf(stderr, "%s: cannot read %lld x %lld\n", path, (long long)d->n,
            (long long)p);
    fclose(f);
    return 0;
  }
  fclose(f);
  return 1;
}

/* scikit-learn's objective and the mean log loss at (w, b). */
static void objective(const data *d, const double *w, double b, double C,
                      double *F, double *logloss) {
  double s = 0, pen = 0;
  int64_t i, j;
  for (i = 0; i < d->n; i++) {
    double z = b, m;
    for (j = 0; j < d->p; j++)
      z += d->X[i * d->p + j] * w[j];
    m = d->y[i] > 0.5 ? z : -z;
    s += m > 0 ? log1p(exp(-m)) : -m + log1p(exp(m));
  }
  for (j = 0; j < d->p; j++)
    pen += w[j] * w[j];
  *F = s + 0.5 * pen / C;
  *logloss = s / (double)d->n;
}

static int gen(const char *path, int64_t n, int64_t p, uint64_t seed) {
  FILE *f = fopen(path, "wb");
  double *w = malloc((size_t)p * 8), *X = malloc((size_t)(n * p) * 8),
         *y = malloc((size_t)n * 8);
  uint64_t s = mix(seed);
  int64_t i, j;
  int ok;
  if (!f || !w || !X || !y)
    return 1;
  for (j = 0; j < p; j++) {
    double u = unif(&s), v = unif(&s);
    w[j] =
        2.0 * sqrt(-2 * log(u)) * cos(6.283185307179586 * v) / sqrt((double)p);
  }
  for (i = 0; i < n; i++) {
    double z = 0.3, *row = X + i * p;
    for (j = 0; j < p; j += 2) {
      double a = unif(&s), c = unif(&s), r = sqrt(-2 * log(a));
      row[j] = r * cos(6.283185307179586 * c) * (double)(1 + j % 5) * 0.5;
      if (j + 1 < p)
        row[j + 1] =
            r * sin(6.283185307179586 * c) * (double)(1 + (j + 1) % 5) * 0.5;
    }
    for (j = 0; j < p; j++)
      z += w[j] * row[j];
    y[i] = unif(&s) < 1.0 / (1.0 + exp(-z)) ? 1.0 : 0.0;
  }
  ok = fwrite(X, 8, (size_t)(n * p), f) == (size_t)(n * p) &&
       fwrite(y, 8, (size_t)n, f) == (size_t)n;
  ok = fclose(f) == 0 && ok;
  free(w), free(X), free(y);
  if (!ok) {
    perror(path);
    return 1;
  }
  printf("RESULT mode=gen n=%lld p=%lld file=%s\n", (long long)n, (long long)p,
         path);
  return 0;
}

static int run_clearn(const data *d, const char *solver, double tol, double C,
                      int reps, int64_t max_iter) {
  clearn_matrix *X, *y, *coef = NULL, *icpt = NULL, *it = NULL;
  clearn_estimator *e = NULL;
  double best = 1e30, F, ll;
  int r, rc = 0;
  clearn_matrix_wrap(d->X, d->n, d->p, CLEARN_FLOAT64, &X);
  clearn_matrix_wrap(d->y, d->n, 1, CLEARN_FLOAT64, &y);
  clearn_estimator_create("logistic_regression", &e);
  clearn_estimator_set_param_string(e, "solver", solver);
  clearn_estimator_set_param_double(e, "tol", tol);
  clearn_estimator_set_param_double(e, "C", C);
  clearn_estimator_set_param_int(e, "max_iter", max_iter);
  for (r = 0; r < reps; r++) {
    double t0 = now(), t;
    rc = clearn_estimator_fit(e, X, y, NULL);
    t = now() - t0;
    if (rc != CLEARN_OK && rc != CLEARN_ENOTCONVERGED) {
      fprintf(stderr, "fit: %s\n", clearn_last_error());
      return 1;
    }
    if (t < best)
      best = t;
    printf("clearn %s rep %d: %.3f s%s\n", solver, r, t,
           rc == CLEARN_ENOTCONVERGED ? " (not converged)" : "");
  }
  clearn_estimator_get_attr(e, "coef", &coef);
  clearn_estimator_get_attr(e, "intercept", &icpt);
  clearn_estimator_get_attr(e, "n_iter", &it);
  objective(d, clearn_matrix_data(coef),
            ((const double *)clearn_matrix_data(icpt))[0], C, &F, &ll);
  printf("RESULT mode=clearn solver=%s n=%lld p=%lld threads=%d best_s=%.4f "
         "iters=%lld objective=%.10g logloss=%.10g peak_rss_mb=%.0f "
         "x_mb=%.0f\n",
         solver, (long long)d->n, (long long)d->p, clearn_get_num_threads(),
         best, (long long)*(const int64_t *)clearn_matrix_data(it), F, ll,
         peak_rss_mb(), (double)(d->n * d->p) * 8 / 1048576.0);
  clearn_matrix_free(coef), clearn_matrix_free(icpt), clearn_matrix_free(it);
  clearn_matrix_free(X), clearn_matrix_free(y);
  clearn_estimator_free(e);
  return 0;
}

#ifdef CLEARN_BENCH_LIBLINEAR
static void quiet(const char *s) { (void)s; }

/* LIBLINEAR's sparse rows (feature_node, 1-based, bias as feature p+1,
 * -1 terminated) built from the same X; then train() with L2R_LR (its
 * trust-region Newton), bias 1 -- note LIBLINEAR penalizes the bias. */
static int run_liblinear(const data *d, double eps, double C) {
  int64_t n = d->n, p = d->p, i, j;
  struct feature_node *nodes = malloc((size_t)(n * (p + 2)) * sizeof *nodes);
  struct feature_node **rows = malloc((size_t)n * sizeof *rows);
  double *lab = malloc((size_t)n * 8), t0, tb, tt, F, ll, *w;
  struct problem prob;
  struct parameter par;
  struct model *m;
  const char *err;
  if (!nodes || !rows || !lab)
    return 1;
  t0 = now();
  for (i = 0; i < n; i++) {
    struct feature_node *r = nodes + i * (p + 2);
    for (j = 0; j < p; j++) {
      r[j].index = (int)(j + 1);
      r[j].value = d->X[i * p + j];
    }
    r[p].index = (int)(p + 1);
    r[p].value = 1.0;
    r[p + 1].index = -1;
    rows[i] = r;
    lab[i] = d->y[i] > 0.5 ? 1.0 : -1.0;
  }
  tb = now() - t0;
  memset(&prob, 0, sizeof prob);
  prob.l = (int)n;
  prob.n = (int)(p + 1);
  prob.y = lab;
  prob.x = rows;
  prob.bias = 1.0;
  memset(&par, 0, sizeof par);
  par.solver_type = L2R_LR;
  par.eps = eps;
  par.C = C;
  set_print_string_function(quiet);
  if ((err = check_parameter(&prob, &par)) != NULL) {
    fprintf(stderr, "liblinear: %s\n", err);
    return 1;
  }
  t0 = now();
  m = train(&prob, &par);
  tt = now() - t0;
  /* LIBLINEAR's w is for label order m->label; make it "class 1". */
  w = malloc((size_t)(p + 1) * 8);
  for (j = 0; j <= p; j++)
    w[j] = (m->label[0] == 1 ? 1.0 : -1.0) * m->w[j];
  objective(d, w, w[p], C, &F, &ll);
  printf("RESULT mode=liblinear n=%lld p=%lld eps=%g build_s=%.4f "
         "train_s=%.4f objective=%.10g logloss=%.10g peak_rss_mb=%.0f "
         "x_mb=%.0f\n",
         (long long)n, (long long)p, eps, tb, tt, F, ll, peak_rss_mb(),
         (double)(n * p) * 8 / 1048576.0);
  free_and_destroy_model(&m);
  free(w);
  free(nodes);
  free(rows);
  free(lab);
  return 0;
}
#endif

/* LIBSVM text for liblinear-train: "+1 1:v 2:v ..." with %.17g values,
 * so the tool reads the same numbers. */
static int write_svm(const data *d, const char *out) {
  FILE *f = fopen(out, "w");
  int64_t i, j;
  if (f == NULL) {
    perror(out);
    return 1;
  }
  for (i = 0; i < d->n; i++) {
    fputs(d->y[i] > 0.5 ? "+1" : "-1", f);
    for (j = 0; j < d->p; j++)
      fprintf(f, " %lld:%.17g", (long long)(j + 1), d->X[i * d->p + j]);
    fputc('\n', f);
  }
  if (fclose(f) != 0) {
    perror(out);
    return 1;
  }
  printf("RESULT mode=svm file=%s\n", out);
  return 0;
}

int main(int argc, char **argv) {
  data d;
  int64_t p;
  if (argc < 3) {
    fprintf(stderr, "usage: %s gen|clearn|liblinear FILE [options]\n", argv[0]);
    return 2;
  }
  p = atoll(opt(argc, argv, "--p", "100"));
  if (strcmp(argv[1], "gen") == 0)
    return gen(argv[2], atoll(opt(argc, argv, "--n", "1000000")), p,
               strtoull(opt(argc, argv, "--seed", "20261121"), NULL, 10));
  if (!load(argv[2], p, &d))
    return 1;
  if (strcmp(argv[1], "clearn") == 0)
    return run_clearn(&d, opt(argc, argv, "--solver", "lbfgs"),
                      atof(opt(argc, argv, "--tol", "1e-4")),
                      atof(opt(argc, argv, "--C", "1")),
                      atoi(opt(argc, argv, "--reps", "3")),
                      atoll(opt(argc, argv, "--max_iter", "100")));
#ifdef CLEARN_BENCH_LIBLINEAR
  if (strcmp(argv[1], "liblinear") == 0)
    return run_liblinear(&d, atof(opt(argc, argv, "--eps", "0.01")),
                         atof(opt(argc, argv, "--C", "1")));
#endif
  if (strcmp(argv[1], "svm") == 0 && argc > 3)
    return write_svm(&d, argv[3]);
  fprintf(stderr, "unknown mode %s\n", argv[1]);
  return 2;
}
