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
 * <path>.tmp-<owner>-<n>; nothing in the killed process can remove it): it
 * is never read, and the next save of the same path removes it -- after
 * the kills, one more save of each path must leave no temporary file.
 * stale_temps() checks that removal one case at a time: planted temporary
 * files of a dead writer and of a reused pid go, those of a live writer,
 * of this process, of another boot or pid namespace, of another target and
 * in another naming stay.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <clearn/clearn.h>

#include "internal.h"
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

static void plant(const char *path) {
  FILE *f = fopen(path, "w");
  CHECK(f != NULL, "cannot plant %s", path);
  if (f) {
    fputs("partial", f);
    fclose(f);
  }
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

/* Owner strings of a process that has exited (a zombie until reaped, so
 * its /proc entry is still there) and of one that keeps running. */
static void stale_temps(const char *dir, const clearn_estimator *est) {
  char target[160], other[160], dead[96], live[96], self[96], bad[96];
  char p_dead[320], p_live[320], p_self[320], p_reused[320], p_boot[320],
      p_ns[320], p_legacy[320], p_other[320];
  long pid;
  long long start;
  char boot[17];
  unsigned long long ns;
  siginfo_t si;
  pid_t gone = fork(), alive;
  if (gone == 0) _exit(0);
  /* wait for the exit without reaping: the zombie keeps its start time */
  while (waitid(P_PID, (id_t)gone, &si, WEXITED | WNOWAIT) != 0 &&
         errno == EINTR) {
  }
  if (clearn__tmp_owner((long)gone, dead, sizeof dead) != 0) {
    waitpid(gone, NULL, 0);
    fprintf(stderr, "SKIPPED stale temporary files: no /proc here\n");
    return;
  }
  waitpid(gone, NULL, 0);
  alive = fork();
  if (alive == 0) {
    pause();
    _exit(0);
  }
  CHECK(clearn__tmp_owner((long)alive, live, sizeof live) == 0, "owner of %ld",
        (long)alive);
  CHECK(clearn__tmp_owner((long)getpid(), self, sizeof self) == 0, "own owner");
  CHECK(sscanf(live, "%ld-%lld-%16[0-9a-f]-%llu", &pid, &start, boot, &ns) ==
            4,
        "owner '%s'", live);
  snprintf(target, sizeof target, "%s/sweep.h5", dir);
  snprintf(other, sizeof other, "%s/other.h5", dir);
  snprintf(p_dead, sizeof p_dead, "%s.tmp-%s-0", target, dead);
  snprintf(p_live, sizeof p_live, "%s.tmp-%s-0", target, live);
  snprintf(p_self, sizeof p_self, "%s.tmp-%s-9", target, self);
  /* the live pid with another start time: a dead writer whose pid a later
   * process reuses */
  snprintf(bad, sizeof bad, "%ld-%lld-%s-%llu", pid, start + 1, boot, ns);
  snprintf(p_reused, sizeof p_reused, "%s.tmp-%s-0", target, bad);
  /* the dead writer's pid on another machine (or boot), in another pid
   * namespace (a container) */
  sscanf(dead, "%ld-%lld-%16[0-9a-f]-%llu", &pid, &start, boot, &ns);
  boot[0] = boot[0] == '0' ? '1' : '0';
  snprintf(bad, sizeof bad, "%ld-%lld-%s-%llu", pid, start, boot, ns);
  snprintf(p_boot, sizeof p_boot, "%s.tmp-%s-0", target, bad);
  boot[0] = boot[0] == '0' ? '1' : '0';
  snprintf(bad, sizeof bad, "%ld-%lld-%s-%llu", pid, start, boot, ns + 1);
  snprintf(p_ns, sizeof p_ns, "%s.tmp-%s-0", target, bad);
  snprintf(p_legacy, sizeof p_legacy, "%s.tmp-%ld-0-%ld", target, pid,
           (long)time(NULL));
  snprintf(p_other, sizeof p_other, "%s.tmp-%s-0", other, dead);
  plant(p_dead);
  plant(p_live);
  plant(p_self);
  plant(p_reused);
  plant(p_boot);
  plant(p_ns);
  plant(p_legacy);
  plant(p_other);
  CHECK_OK(clearn_estimator_save(est, target));
  CHECK(!exists(p_dead), "a dead writer's temporary file is left: %s", p_dead);
  CHECK(!exists(p_reused), "a temporary file of a reused pid is left: %s",
        p_reused);
  CHECK(exists(p_live), "a live writer's temporary file was removed: %s",
        p_live);
  CHECK(exists(p_self), "this process's temporary file was removed: %s",
        p_self);
  CHECK(exists(p_boot), "another boot's temporary file was removed: %s",
        p_boot);
  CHECK(exists(p_ns), "another pid namespace's temporary file was removed: %s",
        p_ns);
  CHECK(exists(p_legacy), "an old-style temporary file was removed: %s",
        p_legacy);
  CHECK(exists(p_other), "another target's temporary file was removed: %s",
        p_other);
  /* the save itself left only its target */
  CHECK(count_tmp(dir) == 6, "%d temporary files, want the 6 planted ones kept",
        count_tmp(dir));
  kill(alive, SIGKILL);
  waitpid(alive, NULL, 0);
  /* now that writer is dead too */
  CHECK_OK(clearn_estimator_save(est, target));
  CHECK(!exists(p_live), "a killed writer's temporary file is left: %s",
        p_live);
  CHECK(exists(p_self), "this process's temporary file was removed: %s",
        p_self);
  unlink(p_self);
  unlink(p_boot);
  unlink(p_ns);
  unlink(p_legacy);
  unlink(p_other);
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
  /* the next save of each path removes what the killed saves left */
  CHECK_OK(clearn_estimator_save(a, path));
  CHECK_OK(clearn_ratings_save(r, rpath));
  CHECK(count_tmp(dir) == 0,
        "%d temporary files left after a save that follows the kills",
        count_tmp(dir));
  stale_temps(dir, a);
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
