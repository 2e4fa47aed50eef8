/*
 * bench_ratings_io.c -- getting MovieLens-20M-sized ratings into memory:
 * generation, text parsing and the compact HDF5 file.
 *
 *   bench_ratings_io [run] [options]   everything below, each step in its
 *                                      own process (fork), then a summary
 *   bench_ratings_io gen [options]     time clearn_ratings_generate
 *   bench_ratings_io write [options]   generate, write DIR/ratings.csv
 *                                      (ml-latest: header, userId,movieId,
 *                                      rating,timestamp) and DIR/ratings.h5
 *   bench_ratings_io text FILE [FMT]   time clearn_ratings_load_text (FMT
 *                                      default "auto"), best of --reps
 *   bench_ratings_io h5 FILE           time clearn_ratings_load, best of
 *                                      --reps
 *   bench_ratings_io part FILE N       time clearn_ratings_load_part of
 *                                      each of N parts, best of --reps
 *
 * Options: --users N --items N --nnz N --min N (ml-20m: 138493, 26744,
 * 20000263, 20), --rank R (10), --seed S (1), --reps K (3), --dir D (/tmp),
 * --keep (leave the files), --threads T (clearn_set_num_threads; default:
 * clearn's, all cores).  "run" loads the HDF5 file twice: on clearn's
 * threads and on one thread.  Each process reports its own peak RSS
 * (getrusage ru_maxrss), so a step's figure is that step's memory alone.
 * Text and HDF5 are timed from the page cache (the files were just
 * written): the figures are parsing and decoding, not disk speed.
 *
 * Lines starting with "RESULT " carry key=value pairs for scripts.  A
 * benchmark prints figures; it never fails on a time.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clearn/clearn.h"

typedef struct {
  int64_t users, items, nnz, min_per_user;
  int rank, reps, keep, threads;
  uint64_t seed;
  const char *dir;
} options;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* CPU seconds of this process: on a shared machine, wall time includes
 * waiting for a core; CPU time does not. */
static double cpu_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double peak_rss_mb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

static double file_mb(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (double)st.st_size / 1e6 : 0;
}

static int fail(const char *what) {
  fprintf(stderr, "bench_ratings_io: %s: %s\n", what, clearn_last_error());
  return 1;
}

static int generate(const options *o, clearn_ratings **r, double *secs,
                    double *cpu) {
  double t = now(), c = cpu_now();
  /* Half stars and noise 0.5, as ml-20m's ratings (0.5 .. 5). */
  int rc = clearn_ratings_generate(o->users, o->items, o->nnz, o->min_per_user,
                                   o->rank, 0.5, 2, o->seed, r);
  *secs = now() - t;
  *cpu = cpu_now() - c;
  return rc;
}

static int mode_gen(const options *o) {
  double best = 1e300, best_cpu = 0, s, c;
  for (int k = 0; k < o->reps; k++) {
    clearn_ratings *r = NULL;
    if (generate(o, &r, &s, &c) != CLEARN_OK) return fail("generate");
    if (s < best) best = s, best_cpu = c;
    clearn_ratings_free(r);
  }
  printf("generate  %lld ratings, %lld users, %lld items: %.3f s (best of "
         "%d; CPU %.3f s), %.1f M ratings/s, peak RSS %.0f MB\n",
         (long long)o->nnz, (long long)o->users, (long long)o->items, best,
         o->reps, best_cpu, (double)o->nnz / best / 1e6, peak_rss_mb());
  printf("RESULT mode=gen seconds=%.4f cpu_seconds=%.4f peak_rss_mb=%.0f\n",
         best, best_cpu, peak_rss_mb());
  return 0;
}

/* "123" without printf: 20 million lines are written in seconds. */
static char *put_i64(char *p, int64_t v) {
  char tmp[24];
  int n = 0;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  if (v < 0) *p++ = '-';
  do tmp[n++] = (char)('0' + u % 10), u /= 10;
  while (u);
  while (n) *p++ = tmp[--n];
  return p;
}

static int mode_write(const options *o) {
  clearn_ratings *r = NULL;
  char csv[1024], h5[1024];
  int64_t n, k, *u, *it;
  float *v;
  double s, c, t;
  FILE *f;
  char *buf, *p;
  if (generate(o, &r, &s, &c) != CLEARN_OK) return fail("generate");
  n = clearn_ratings_nnz(r);
  u = malloc((size_t)n * sizeof *u);
  it = malloc((size_t)n * sizeof *it);
  v = malloc((size_t)n * sizeof *v);
  buf = malloc(1 << 20);
  if (!u || !it || !v || !buf) return fail("out of memory");
  clearn_ratings_triples(r, u, it, v);
  snprintf(csv, sizeof csv, "%s/bench_ratings.csv", o->dir);
  snprintf(h5, sizeof h5, "%s/bench_ratings.h5", o->dir);
  t = now();
  if ((f = fopen(csv, "wb")) == NULL) {
    fprintf(stderr, "bench_ratings_io: cannot write %s: %s\n", csv,
            strerror(errno));
    return 1;
  }
  fputs("userId,movieId,rating,timestamp\n", f);
  p = buf;
  for (k = 0; k < n; k++) {
    int half = (int)(v[k] * 2 + 0.5f);
    p = put_i64(p, u[k]);
    *p++ = ',';
    p = put_i64(p, it[k]);
    *p++ = ',';
    if ((float)half / 2 == v[k]) { /* "4.0", "3.5" as MovieLens writes */
      p = put_i64(p, half / 2);
      *p++ = '.';
      *p++ = half % 2 ? '5' : '0';
    } else {
      p += sprintf(p, "%.9g", v[k]);
    }
    *p++ = ',';
    p = put_i64(p, 1100000000 + (k * 7919) % 400000000); /* timestamps */
    *p++ = '\n';
    if (p - buf > (1 << 20) - 128) {
      fwrite(buf, 1, (size_t)(p - buf), f);
      p = buf;
    }
  }
  fwrite(buf, 1, (size_t)(p - buf), f);
  if (fclose(f) != 0) return fail("write csv");
  printf("write     %s: %.1f MB in %.2f s\n", csv, file_mb(csv), now() - t);
  t = now();
  if (clearn_ratings_save(r, h5) != CLEARN_OK) return fail("save");
  printf("save      %s: %.1f MB in %.2f s\n", h5, file_mb(h5), now() - t);
  free(u);
  free(it);
  free(v);
  free(buf);
  clearn_ratings_free(r);
  return 0;
}

static int mode_load(const options *o, const char *path, const char *format) {
  double best = 1e300, best_cpu = 0, mb = file_mb(path);
  int64_t nnz = 0, users = 0, items = 0;
  for (int k = 0; k < o->reps; k++) {
    clearn_ratings *r = NULL;
    double t = now(), c = cpu_now();
    int rc = format ? clearn_ratings_load_text(path, format, 0, NULL, &r)
                    : clearn_ratings_load(path, &r);
    t = now() - t;
    c = cpu_now() - c;
    if (rc != CLEARN_OK) return fail(path);
    if (t < best) best = t, best_cpu = c;
    nnz = clearn_ratings_nnz(r);
    users = clearn_ratings_n_users(r);
    items = clearn_ratings_n_items(r);
    clearn_ratings_free(r);
  }
  printf("%-9s %s (%.1f MB, %lld ratings, %lld users, %lld items): %.3f s "
         "(best of %d; CPU %.3f s; %d threads), %.0f MB/s, %.1f M ratings/s, "
         "peak RSS %.0f MB\n",
         format ? "text" : "hdf5", path, mb, (long long)nnz, (long long)users,
         (long long)items, best, o->reps, best_cpu, clearn_get_num_threads(),
         mb / best, (double)nnz / best / 1e6, peak_rss_mb());
  printf("RESULT mode=%s seconds=%.4f cpu_seconds=%.4f threads=%d "
         "mb_per_s=%.1f peak_rss_mb=%.0f\n",
         format ? "text" : "hdf5", best, best_cpu, clearn_get_num_threads(),
         mb / best, peak_rss_mb());
  return 0;
}

/* Each part of n by clearn_ratings_load_part: its time (best of reps),
 * ratings and users, and the sum of the parts' times. */
static int mode_part(const options *o, const char *path, int64_t n) {
  double total = 0;
  int64_t nnz = 0;
  for (int64_t p = 0; p < n; p++) {
    double best = 1e300, best_cpu = 0;
    int64_t m = 0, users = 0, items = 0;
    for (int k = 0; k < o->reps; k++) {
      clearn_ratings *r = NULL;
      double t = now(), c = cpu_now();
      if (clearn_ratings_load_part(path, p, n, &r) != CLEARN_OK)
        return fail(path);
      t = now() - t;
      c = cpu_now() - c;
      if (t < best) best = t, best_cpu = c;
      m = clearn_ratings_nnz(r);
      users = clearn_ratings_n_users(r);
      items = clearn_ratings_n_items(r);
      clearn_ratings_free(r);
    }
    total += best;
    nnz += m;
    printf("part      %lld of %lld: %lld ratings, %lld users, %lld items: "
           "%.3f s (best of %d; CPU %.3f s)\n",
           (long long)p, (long long)n, (long long)m, (long long)users,
           (long long)items, best, o->reps, best_cpu);
  }
  printf("parts     %lld parts, %lld ratings in all: %.3f s summed, peak RSS "
         "%.0f MB\n",
         (long long)n, (long long)nnz, total, peak_rss_mb());
  printf("RESULT mode=part n_parts=%lld seconds=%.4f peak_rss_mb=%.0f\n",
         (long long)n, total, peak_rss_mb());
  return 0;
}

/* Run fn in a child process, so its peak RSS is its own; the child's
 * RESULT seconds line is read back through a pipe. */
static double in_child(const options *o, int which, const char *path,
                       const char *format) {
  int fd[2];
  pid_t pid;
  double secs = -1;
  fflush(NULL);
  if (pipe(fd) != 0) return -1;
  pid = fork();
  if (pid == 0) {
    int rc;
    if (o->threads > 0) clearn_set_num_threads(o->threads);
    close(fd[0]);
    dup2(fd[1], STDOUT_FILENO);
    rc = which == 0   ? mode_gen(o)
         : which == 1 ? mode_write(o)
                      : mode_load(o, path, format);
    fflush(NULL);
    _exit(rc);
  }
  close(fd[1]);
  {
    FILE *in = fdopen(fd[0], "r");
    char line[2048];
    while (in && fgets(line, sizeof line, in)) {
      char *s = strstr(line, "seconds=");
      fputs(line, stdout);
      if (strncmp(line, "RESULT ", 7) == 0 && s) secs = atof(s + 8);
    }
    if (in) fclose(in);
  }
  {
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return -1;
  }
  return which == 1 ? 0 : secs;
}

static int mode_run(const options *o) {
  char csv[1024], h5[1024];
  double tg, tt, th, th1;
  snprintf(csv, sizeof csv, "%s/bench_ratings.csv", o->dir);
  snprintf(h5, sizeof h5, "%s/bench_ratings.h5", o->dir);
  printf("clearn %s, MovieLens-20M shape: %lld users, %lld items, %lld "
         "ratings, min %lld per user, rank %d\n",
         clearn_version_string(), (long long)o->users, (long long)o->items,
         (long long)o->nnz, (long long)o->min_per_user, o->rank);
  if (in_child(o, 1, NULL, NULL) < 0) return 1;
  tg = in_child(o, 0, NULL, NULL);
  tt = in_child(o, 2, csv, "auto");
  th = in_child(o, 2, h5, NULL);
  {
    options one = *o;
    one.threads = 1;
    th1 = in_child(&one, 2, h5, NULL);
  }
  if (tg < 0 || tt < 0 || th < 0 || th1 < 0) return 1;
  printf("summary   generate %.2f s, text %.2f s (%.0f MB/s), HDF5 %.3f s "
         "(%d threads), %.3f s (1 thread): HDF5 loads %.1fx (%.1fx) faster "
         "than text\n",
         tg, tt, file_mb(csv) / tt, th, clearn_get_num_threads(), th1,
         tt / th, tt / th1);
  printf("RESULT mode=summary gen_s=%.4f text_s=%.4f hdf5_s=%.4f "
         "hdf5_1thread_s=%.4f hdf5_speedup=%.2f hdf5_1thread_speedup=%.2f\n",
         tg, tt, th, th1, tt / th, tt / th1);
  if (!o->keep) {
    unlink(csv);
    unlink(h5);
  }
  return 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: bench_ratings_io [run|gen|write] [options]\n"
          "       bench_ratings_io text FILE [FORMAT] [options]\n"
          "       bench_ratings_io h5 FILE [options]\n"
          "       bench_ratings_io part FILE N [options]\n"
          "options: --users N --items N --nnz N --min N --rank R --seed S\n"
          "         --reps K --dir DIR --keep --threads T\n");
}

int main(int argc, char **argv) {
  options o = {138493, 26744, 20000263, 20, 10, 3, 0, 0, 1, "/tmp"};
  const char *mode = "run", *pos[2] = {NULL, NULL};
  int npos = 0;
  for (int a = 1; a < argc; a++) {
    const char *s = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;
    if (strcmp(s, "--keep") == 0) {
      o.keep = 1;
    } else if (strncmp(s, "--", 2) == 0 && v == NULL) {
      usage();
      return 2;
    } else if (strcmp(s, "--users") == 0) {
      o.users = atoll(v), a++;
    } else if (strcmp(s, "--items") == 0) {
      o.items = atoll(v), a++;
    } else if (strcmp(s, "--nnz") == 0) {
      o.nnz = atoll(v), a++;
    } else if (strcmp(s, "--min") == 0) {
      o.min_per_user = atoll(v), a++;
    } else if (strcmp(s, "--rank") == 0) {
      o.rank = atoi(v), a++;
    } else if (strcmp(s, "--seed") == 0) {
      o.seed = strtoull(v, NULL, 10), a++;
    } else if (strcmp(s, "--threads") == 0) {
      o.threads = atoi(v), a++;
    } else if (strcmp(s, "--reps") == 0) {
      o.reps = atoi(v) > 0 ? atoi(v) : 1, a++;
    } else if (strcmp(s, "--dir") == 0) {
      o.dir = v, a++;
    } else if (strncmp(s, "--", 2) == 0) {
      usage();
      return 2;
    } else if (a == 1) {
      mode = s;
    } else if (npos < 2) {
      pos[npos++] = s;
    } else {
      usage();
      return 2;
    }
  }
  if (o.threads > 0) clearn_set_num_threads(o.threads);
  if (strcmp(mode, "run") == 0) return mode_run(&o);
  if (strcmp(mode, "gen") == 0) return mode_gen(&o);
  if (strcmp(mode, "write") == 0) return mode_write(&o);
  if (strcmp(mode, "text") == 0 && pos[0])
    return mode_load(&o, pos[0], pos[1] ? pos[1] : "auto");
  if (strcmp(mode, "h5") == 0 && pos[0]) return mode_load(&o, pos[0], NULL);
  if (strcmp(mode, "part") == 0 && pos[0] && pos[1] && atoll(pos[1]) > 0)
    return mode_part(&o, pos[0], atoll(pos[1]));
  usage();
  return 2;
}
