/*
 * fuzz_ratings_text.c -- libFuzzer target for the text ratings loaders
 * (clearn_ratings_load_text, every format, strict and skip-bad).
 *
 * The first input byte picks the format and the flags; the rest is the
 * file.  A load that succeeds must give a consistent object: triples that
 * rebuild into the same counts, ids that map back to their indices.
 */
#include "fuzz_common.h"

static const char *const formats[] = {
    "auto", "ml-100k", "ml-1m", "ml-latest", "csv:0,1,2", "tsv:1,0,2:header",
    "csv:0,1,-", "csv:2,0,1:header"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *fmt, *path;
  clearn_ratings *r = NULL, *back = NULL;
  int64_t skipped = -1, n, k;
  int flags, rc;
  if (size < 1) return 0;
  fmt = formats[data[0] % (sizeof formats / sizeof formats[0])];
  flags = (data[0] & 0x80) ? CLEARN_RATINGS_SKIP_BAD : 0;
  path = fuzz_file("text", data + 1, size - 1);
  rc = clearn_ratings_load_text(path, fmt, flags, &skipped, &r);
  fuzz_check_status(rc);
  if (rc != CLEARN_OK) {
    if (r != NULL) abort(); /* nothing handed out on failure */
    return 0;
  }
  n = clearn_ratings_nnz(r);
  if (n < 0 || skipped < 0) abort();
  {
    int64_t *u = malloc((size_t)(n + 1) * sizeof *u);
    int64_t *i = malloc((size_t)(n + 1) * sizeof *i);
    float *v = malloc((size_t)(n + 1) * sizeof *v);
    if (!u || !i || !v) abort();
    if (clearn_ratings_triples(r, u, i, v) != CLEARN_OK) abort();
    for (k = 0; k < n; k++)
      if (clearn_ratings_user_index(r, u[k]) < 0 ||
          clearn_ratings_item_index(r, i[k]) < 0 || v[k] != v[k])
        abort();
    if (clearn_ratings_from_triples(u, i, v, n, &back) != CLEARN_OK) abort();
    if (clearn_ratings_nnz(back) != n ||
        clearn_ratings_n_users(back) != clearn_ratings_n_users(r) ||
        clearn_ratings_n_items(back) != clearn_ratings_n_items(r))
      abort();
    free(u);
    free(i);
    free(v);
  }
  clearn_ratings_free(back);
  clearn_ratings_free(r);
  return 0;
}
