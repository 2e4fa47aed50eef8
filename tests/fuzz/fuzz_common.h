/*
 * fuzz_common.h -- what the libFuzzer targets share: the loaders take
 * paths, so each input is written to a per-process file in /dev/shm (or
 * $TMPDIR) first.
 */
#ifndef CLEARN_FUZZ_COMMON_H
#define CLEARN_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <clearn/clearn.h>

/* Write data to this process's scratch file; returns its path. */
static const char *fuzz_file(const char *tag, const uint8_t *data,
                             size_t size) {
  static char path[256];
  FILE *f;
  snprintf(path, sizeof path, "%s/clearn-fuzz-%s-%ld.bin",
           access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", tag,
           (long)getpid());
  f = fopen(path, "wb");
  if (f == NULL) abort();
  if (size && fwrite(data, 1, size, f) != size) abort();
  if (fclose(f) != 0) abort();
  return path;
}

/* A failed call must leave a message and a known status. */
static void fuzz_check_status(int rc) {
  if (rc < 0 || rc > CLEARN_ENOTCONVERGED) abort();
  if (rc != CLEARN_OK && clearn_last_error()[0] == '\0') abort();
}

#endif
