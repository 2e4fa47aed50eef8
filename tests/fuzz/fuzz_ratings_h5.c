/*
 * fuzz_ratings_h5.c -- libFuzzer target for HDF5 ratings files
 * (clearn_ratings_load and clearn_ratings_load_part): damaged files must
 * fail with a status and a message, never crash, hang or load something
 * inconsistent.  Seeds: small valid files written by tools/fuzz.sh.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file("rh5", data, size);
  clearn_ratings *r = NULL, *p = NULL;
  int64_t parts = 3, total = 0, k;
  int rc = clearn_ratings_load(path, &r);
  fuzz_check_status(rc);
  for (k = 0; k < parts; k++) {
    int rp = clearn_ratings_load_part(path, k, parts, &p);
    fuzz_check_status(rp);
    /* a file that loads whole loads in parts, and the parts add up (a
     * part may load from a file that fails whole: it reads only its own
     * slice of the per-rating arrays) */
    if (rc == CLEARN_OK && rp != CLEARN_OK) abort();
    if (rp == CLEARN_OK) total += clearn_ratings_nnz(p);
    clearn_ratings_free(p);
    p = NULL;
  }
  if (rc == CLEARN_OK && total != clearn_ratings_nnz(r)) abort();
  clearn_ratings_free(r);
  return 0;
}
