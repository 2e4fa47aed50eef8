/*
 * test_fuzz_regress.c -- inputs the fuzz targets (tests/fuzz, tools/fuzz.sh)
 * found, each with the answer clearn must give now.
 *
 *   1. Text, format "auto" with CLEARN_RATINGS_SKIP_BAD: a first line in
 *      which no format can be detected was skipped as a bad line while
 *      detection was already switched off, leaving an all-zero format; the
 *      next line with "::" then looped forever (a zero-length delimiter
 *      never advanced).  Now: CLEARN_EFORMAT naming line 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <clearn/clearn.h>

#include "testutil.h"

static const unsigned char hang_input[] = {
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02, 0x31, 0x50, 0xa0,
    0x11, 0x00, 0x90, 0x62, 0x00, 0x00, 0x65, 0x39, 0x37, 0x30, 0x0a,
    0x31, 0x3a, 0x3a, 0x31, 0x31, 0x3a, 0x3a, 0x09, 0x91, 0x33};

int main(void) {
  char path[] = "/tmp/clearn_fuzz_regress_XXXXXX";
  int fd = mkstemp(path), rc;
  clearn_ratings *r = NULL;
  int64_t skipped = 0;
  if (fd < 0 || write(fd, hang_input, sizeof hang_input) !=
                    (ssize_t)sizeof hang_input) {
    fprintf(stderr, "cannot write %s\n", path);
    return 2;
  }
  close(fd);
  /* ctest's TIMEOUT catches a relapse into the loop */
  rc = clearn_ratings_load_text(path, "auto", CLEARN_RATINGS_SKIP_BAD,
                                &skipped, &r);
  CHECK_RC(rc, CLEARN_EFORMAT);
  CHECK(r == NULL, "%s", "no object on failure");
  CHECK(strstr(clearn_last_error(), ":1: cannot detect the format") != NULL,
        "message: %s", clearn_last_error());
  /* the same line without skip-bad: the same answer */
  rc = clearn_ratings_load_text(path, "auto", 0, NULL, &r);
  CHECK_RC(rc, CLEARN_EFORMAT);
  remove(path);
  return TEST_SUMMARY();
}
