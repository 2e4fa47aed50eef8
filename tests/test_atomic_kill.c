/*
 * test_atomic_kill.c -- saves are atomic under SIGKILL.  A child process
 * saves two different ALS models (one fitted for 2 iterations, one for 3)
 * to the same path, alternately, as fast as it can; the parent kills it
 * with SIGKILL after a varying delay, 40 times, and after every kill loads
 * the path: it must be a complete model, either of the two (compared by
 * their factors), never a torn or truncated file.  Also the ratings file
 * format (clearn_ratings_save) the same way.
 *
 * A kill leaves the temporary file of the interrupted save behind (named
 * <path>.tmp-<pid>-...; nothing can remove it after SIGKILL): it is never
 * read, and the test counts them.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <clearn/clearn.h>

#include "testutil.h"

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

static clearn_estimator *fit(const clearn_ratings *r, int iters) {
  clearn_estimator *est = NULL;
  clearn_estimator_create("als", &est);
  clearn_estimator_set_param_int(est, "rank", 16);
  clearn_estimator_set_param_int(est, "max_iter", iters);
  if (clearn_estimator_fit_ratings(est, r, NULL) != CLEARN_OK) {
    fprintf(stderr, "fit: %s\n", clearn_last_error());
    exit(2);
  }
  return est;
}

/* 2 or 3: which model the file holds (by its factors), 0 if neither. */
static int which(const char *path, const clearn_estimator *a,
                 const clearn_estimator *b) {
  clearn_estimator *got = NULL;
  clearn_matrix *f = NULL, *fa = NULL, *fb = NULL;
  int res = 0;
  size_t n;
  if (clearn_estimator_load(path, "als", &got) != CLEARN_OK) return -1;
  clearn_estimator_get_attr(got, "item_factors", &f);
  clearn_estimator_get_attr(a, "item_factors", &fa);
  clearn_estimator_get_attr(b, "item_factors", &fb);
  n = (size_t)(clearn_matrix_rows(f) * clearn_matrix_cols(f)) * sizeof(float);
  if (clearn_matrix_rows(f) == clearn_matrix_rows(fa) &&
      memcmp(clearn_matrix_data(f), clearn_matrix_data(fa), n) == 0)
    res = 2;
  else if (clearn_matrix_rows(f) == clearn_matrix_rows(fb) &&
           memcmp(clearn_matrix_data(f), clearn_matrix_data(fb), n) == 0)
    res = 3;
  clearn_matrix_free(f);
  clearn_matrix_free(fa);
  clearn_matrix_free(fb);
  clearn_estimator_free(got);
  return res;
}

static int count_tmp(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  while (d && (e = readdir(d)) != NULL) n += strstr(e->d_name, ".tmp-") != NULL;
  if (d) closedir(d);
  return n;
}

int main(void) {
  char dir[] = "/tmp/clearn_kill_XXXXXX", path[128], rpath[128], cmd[160];
  clearn_ratings *r = NULL, *r2 = NULL;
  clearn_estimator *a, *b;
  int round, seen[4] = {0, 0, 0, 0}, rseen[3] = {0, 0, 0};
  long cycle_us = 0;
  if (mkdtemp(dir) == NULL) return 2;
  snprintf(path, sizeof path, "%s/model.h5", dir);
  snprintf(rpath, sizeof rpath, "%s/ratings.h5", dir);
  if (clearn_ratings_generate(20000, 4000, 400000, 5, 8, 0.5, 1, 9, &r) ||
      clearn_ratings_generate(15000, 3000, 300000, 5, 8, 0.5, 1, 10, &r2)) {
    fprintf(stderr, "generate: %s\n", clearn_last_error());
    return 2;
  }
  a = fit(r, 2);
  b = fit(r, 3);
  /* One save cycle of the child, timed here, sets the kill delays: from
   * early in the first cycle to late in the third (sanitizer builds are
   * several times slower than release builds). */
  {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_OK(clearn_ratings_save(r2, rpath));
    CHECK_OK(clearn_estimator_save(b, path));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cycle_us = (long)((t1.tv_sec - t0.tv_sec) * 1000000L +
                      (t1.tv_nsec - t0.tv_nsec) / 1000);
  }
  CHECK_OK(clearn_estimator_save(a, path));
  CHECK_OK(clearn_ratings_save(r, rpath));
  for (round = 0; round < 40; round++) {
    pid_t pid = fork();
    int st, w;
    if (pid == 0) {
      for (int k = 0;; k++) {
        clearn_ratings_save(k % 2 ? r : r2, rpath);
        clearn_estimator_save(k % 2 ? a : b, path);
      }
    }
    sleep_us(1000 + (long)((double)cycle_us * 3.0 * ((round * 7919) % 40) /
                           40.0));
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    w = which(path, a, b);
    CHECK(w == 2 || w == 3, "round %d: the model file is %s", round,
          w < 0 ? "unreadable" : "neither model");
    if (w >= 0) seen[w]++;
    {
      clearn_ratings *got = NULL;
      int rc = clearn_ratings_load(rpath, &got);
      int64_t n = rc == CLEARN_OK ? clearn_ratings_nnz(got) : -1;
      CHECK(rc == CLEARN_OK && (n == clearn_ratings_nnz(r) ||
                                n == clearn_ratings_nnz(r2)),
            "round %d: the ratings file: %s (nnz %lld)", round,
            rc ? clearn_last_error() : "wrong contents", (long long)n);
      rseen[rc == CLEARN_OK ? (n == clearn_ratings_nnz(r) ? 1 : 2) : 0]++;
      clearn_ratings_free(got);
    }
  }
  printf("save cycle %.1f ms; 40 kills: model file held the 2-iteration model %d times, the "
         "3-iteration one %d times; ratings file old/new %d/%d; %d temporary "
         "files left by killed saves\n",
         cycle_us / 1000.0, seen[2], seen[3], rseen[1], rseen[2],
         count_tmp(dir));
  /* both outcomes must have happened, or the kills missed the saves */
  CHECK(seen[2] > 0 && seen[3] > 0, "outcomes %d / %d", seen[2], seen[3]);
  CHECK(rseen[1] > 0 && rseen[2] > 0, "ratings outcomes %d / %d", rseen[1],
        rseen[2]);
  clearn_estimator_free(a);
  clearn_estimator_free(b);
  clearn_ratings_free(r);
  clearn_ratings_free(r2);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "note: could not remove %s\n", dir);
  return TEST_SUMMARY();
}
