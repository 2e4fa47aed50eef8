/*
 * memory.c -- checked allocation and the huge-page advice for big arrays.
 */
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "internal.h"

void *clearn__malloc(size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size) return NULL;
  return malloc(n * size != 0 ? n * size : 1);
}

void *clearn__calloc(size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size) return NULL;
  return calloc(n ? n : 1, size ? size : 1);
}

/* Where the kernel offers transparent huge pages on request (Linux's
 * "madvise" setting, Debian's default), ask for them on the whole 2 MiB
 * pages inside p .. p + bytes, for arrays of 8 MiB or more; before the
 * first touch, the faults then map 2 MiB at a time.  Elsewhere, or when
 * the kernel declines, nothing changes. */
void clearn__advise_huge(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
  size_t huge = (size_t)2 << 20;
  if (p != NULL && bytes >= 4 * huge) {
    uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1);
    uintptr_t hi = ((uintptr_t)p + bytes) & ~(uintptr_t)(huge - 1);
    if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
  }
#else
  (void)p;
  (void)bytes;
#endif
}
