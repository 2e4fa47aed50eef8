/*
 * tmpname.c -- names of the temporary files of atomic saves, and the
 * removal of those whose writer was killed.
 *
 * An atomic save (h5io.c) writes "<path>.tmp-<owner>-<n>" and renames it
 * over path.  A writer killed by SIGKILL (or the OOM killer) between the
 * two leaves its temporary file behind, and nothing in that process can
 * remove it.  So the owner is written into the name, and every later save
 * of the same path removes the temporary files whose owner is provably
 * dead.  The owner is
 *
 *     <pid>-<start>-<boot>-<pidns>
 *
 *   pid    the writer's process id;
 *   start  its start time (clock ticks since boot, /proc/<pid>/stat field
 *          22): a pid reused by a later process has another start time;
 *   boot   the first 16 hex digits of the kernel's boot id
 *          (/proc/sys/kernel/random/boot_id, 128 random bits drawn at every
 *          boot): equal only on the same machine in the same boot, so a
 *          temporary file of another host sharing the directory (NFS) or of
 *          a previous boot never matches;
 *   pidns  the inode of the writer's pid namespace (/proc/self/ns/pid):
 *          containers share the kernel, hence the boot id, but not the pid
 *          numbers.
 *
 * A temporary file is removed only if boot and pidns equal the remover's
 * and the process pid does not exist (kill(pid, 0) fails with ESRCH) or
 * exists with another start time.  Everything else -- a live writer
 * (including this process's other threads), another host or container, a
 * previous boot, a name in any other form (older clearn versions) -- is
 * left alone: deleting a live writer's file would make its save fail, so
 * doubt always keeps the file.  Why not an age limit: a slow save of a
 * large model on a loaded machine can be any age.
 *
 * Without /proc (not Linux) there is no owner: names fall back to
 * "<path>.tmp-<pid>-<n>-<time>" and are never removed.  Removal is best
 * effort and never fails a save.  No allocation here: the names live on
 * the stack (the allocation-failure sweep of test_oom stays unchanged).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* Read a small file into buf (NUL-terminated); -1 if unreadable. */
static int read_small(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n;
  if (fd < 0) return -1;
  do {
    n = read(fd, buf, cap - 1);
  } while (n < 0 && errno == EINTR);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  return 0;
}

/* Field 22 (starttime) of /proc/<pid>/stat; -1 if unknown. */
static long long start_time(long pid) {
  char p[64], buf[1024], *s;
  int field;
  snprintf(p, sizeof p, "/proc/%ld/stat", pid);
  if (read_small(p, buf, sizeof buf) != 0) return -1;
  /* field 2 is "(comm)" and comm may hold spaces and parentheses */
  if ((s = strrchr(buf, ')')) == NULL) return -1;
  for (field = 2; field < 22 && *s; s++)
    if (*s == ' ') field++;
  if (field != 22 || !isdigit((unsigned char)*s)) return -1;
  return strtoll(s, NULL, 10);
}

/* This machine's boot (16 hex digits) and this process's pid namespace. */
static int machine_id(char boot[17], unsigned long long *pidns) {
  char buf[128];
  const char *s;
  int k = 0;
  ssize_t n;
  if (read_small("/proc/sys/kernel/random/boot_id", buf, sizeof buf) != 0)
    return -1;
  for (s = buf; *s && k < 16; s++)
    if (isxdigit((unsigned char)*s)) boot[k++] = (char)tolower(*s);
  boot[k] = '\0';
  if (k != 16) return -1;
  n = readlink("/proc/self/ns/pid", buf, sizeof buf - 1);
  if (n <= 0) return -1;
  buf[n] = '\0';
  if (strncmp(buf, "pid:[", 5) != 0 || !isdigit((unsigned char)buf[5]))
    return -1;
  *pidns = strtoull(buf + 5, NULL, 10);
  return 0;
}

int clearn__tmp_owner(long pid, char *buf, size_t cap) {
  char boot[17];
  unsigned long long ns;
  long long st = start_time(pid);
  int n;
  if (st < 0 || machine_id(boot, &ns) != 0) return -1;
  n = snprintf(buf, cap, "%ld-%lld-%s-%llu", pid, st, boot, ns);
  return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* A decimal number of at most 19 digits at *s, then `end`; advances *s. */
static int number(const char **s, char end, unsigned long long *v) {
  const char *p = *s;
  int k = 0;
  *v = 0;
  for (; isdigit((unsigned char)*p) && k < 19; p++, k++)
    *v = *v * 10 + (unsigned)(*p - '0');
  if (k == 0 || *p != end) return -1;
  *s = end ? p + 1 : p;
  return 0;
}

/* 1 if `suffix` (what follows "<base>.tmp-") names an owner that is
 * provably dead on this machine, in this boot and pid namespace. */
static int owner_dead(const char *suffix, const char *boot,
                      unsigned long long pidns) {
  unsigned long long pid, start, ns, n;
  const char *s = suffix;
  long long now;
  if (number(&s, '-', &pid) || number(&s, '-', &start)) return 0;
  if (strncmp(s, boot, 16) != 0 || s[16] != '-') return 0;
  s += 17;
  if (number(&s, '-', &ns) || number(&s, '\0', &n)) return 0;
  if (ns != pidns || pid < 1 || pid > 0x7fffffff) return 0;
  if (kill((pid_t)pid, 0) != 0) return errno == ESRCH;
  /* the pid is in use: by the writer, or by a later process */
  now = start_time((long)pid);
  return now >= 0 && (unsigned long long)now != start;
}

void clearn__tmp_sweep(const char *path) {
  char dir[4096], prefix[512], boot[17], full[4096 + 512];
  const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
  unsigned long long ns;
  size_t plen;
  DIR *d;
  struct dirent *e;
  if (machine_id(boot, &ns) != 0) return;
  if (slash == NULL)
    strcpy(dir, ".");
  else if (slash == path)
    strcpy(dir, "/");
  else if ((size_t)(slash - path) < sizeof dir)
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  else
    return;
  if ((size_t)snprintf(prefix, sizeof prefix, "%s.tmp-", base) >= sizeof prefix)
    return;
  plen = strlen(prefix);
  if ((d = opendir(dir)) == NULL) return;
  while ((e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, prefix, plen) != 0 ||
        !owner_dead(e->d_name + plen, boot, ns))
      continue;
    if ((size_t)snprintf(full, sizeof full, "%s/%s", dir, e->d_name) <
        sizeof full)
      (void)unlink(full); /* ENOENT: another save removed it first */
  }
  closedir(d);
}
