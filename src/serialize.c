/*
 * serialize.c -- estimators to and from bytes (for pickling in bindings).
 *
 * The bytes are an HDF5 model file image: the same layout and schema
 * version as clearn_estimator_save() writes (estimator.c writes both), built
 * in memory by HDF5's core driver without a backing file and taken out with
 * H5Fget_file_image; loading opens the bytes as a file image
 * (H5Pset_file_image on a core-driver access list).  Reusing the file
 * format rather than inventing a second encoding means one schema to
 * version, and the bytes written to disk are a model file that `clearn
 * info`, h5py and clearn_estimator_load() read.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Growth step of the in-memory file.  Models are mostly a few KB (linear)
 * to a few hundred MB (ALS factors); HDF5 grows the image by this much. */
#define IMAGE_INCREMENT ((size_t)1 << 16)

/* Open files are identified by name inside HDF5, even in memory: every
 * image gets a name of its own so concurrent calls never collide. */
static void image_name(char *buf, size_t cap) {
  static atomic_ulong counter;
  snprintf(buf, cap, "clearn-image-%lu",
           (unsigned long)atomic_fetch_add(&counter, 1));
}

static hid_t core_access(void) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0) return fapl;
  if (H5Pset_fapl_core(fapl, IMAGE_INCREMENT, 0) < 0 ||
      H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
    H5Pclose(fapl);
    return H5I_INVALID_HID;
  }
  return fapl;
}

void clearn_free(void *p) { free(p); }

int clearn_estimator_save_bytes(const clearn_estimator *est, void **buf,
                                size_t *len) {
  hid_t fapl = H5I_INVALID_HID, file = H5I_INVALID_HID;
  char name[64];
  ssize_t n = -1;
  void *out = NULL;
  int rc = CLEARN_OK;
  if (buf) *buf = NULL;
  if (len) *len = 0;
  if (est == NULL) return clearn__err(CLEARN_EINVAL, "estimator is NULL");
  if (buf == NULL || len == NULL)
    return clearn__est_fail(
        est, clearn__err(CLEARN_EINVAL, "save_bytes: buf or len is NULL"));
  image_name(name, sizeof name);
  H5E_BEGIN_TRY {
    /* HDF5's default (earliest) format bounds, not the 1.8 bounds of a
     * file on disk: with a version 2 superblock, HDF5 1.10's
     * H5Fget_file_image clears the superblock's status flags in the image
     * without recomputing its checksum, and the image would not open.  A
     * version 0 superblock has neither; the model layout is the same. */
    if ((fapl = core_access()) >= 0)
      file = H5Fcreate(name, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
  }
  H5E_END_TRY;
  if (file < 0) {
    rc = clearn__err(CLEARN_ENOMEM, "save_bytes: cannot create an HDF5 "
                                    "image in memory");
    goto cleanup;
  }
  if ((rc = clearn__est_write(est, file)) != CLEARN_OK) goto cleanup;
  H5E_BEGIN_TRY {
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0)
      n = H5Fget_file_image(file, NULL, 0);
  }
  H5E_END_TRY;
  if (n <= 0) {
    rc = clearn__err(CLEARN_EIO, "save_bytes: cannot take the HDF5 image");
    goto cleanup;
  }
  if ((out = malloc((size_t)n)) == NULL) {
    rc = clearn__err(CLEARN_ENOMEM, "save_bytes: out of memory (%lld bytes)",
                     (long long)n);
    goto cleanup;
  }
  H5E_BEGIN_TRY { n = H5Fget_file_image(file, out, (size_t)n); }
  H5E_END_TRY;
  if (n <= 0) {
    rc = clearn__err(CLEARN_EIO, "save_bytes: cannot take the HDF5 image");
    goto cleanup;
  }
  *buf = out;
  *len = (size_t)n;
  out = NULL;
cleanup:
  free(out);
  if (file >= 0) {
    H5E_BEGIN_TRY { H5Fclose(file); }
    H5E_END_TRY;
  }
  if (fapl >= 0) H5Pclose(fapl);
  return clearn__est_fail(est, rc);
}

int clearn_estimator_load_bytes(const void *buf, size_t len,
                                const char *expect_kind,
                                clearn_estimator **out) {
  /* HDF5's format signature: the image must start with it (a file may put
   * a user block first, but clearn never writes one). */
  static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n',
                                       0x1a, '\n'};
  hid_t fapl = H5I_INVALID_HID, file = H5I_INVALID_HID;
  char name[64];
  int rc;
  if (out == NULL) return clearn__err(CLEARN_EINVAL, "out is NULL");
  *out = NULL;
  if (buf == NULL && len > 0)
    return clearn__err(CLEARN_EINVAL, "load_bytes: buf is NULL");
  if (len < sizeof sig || memcmp(buf, sig, sizeof sig) != 0)
    return clearn__err(CLEARN_EFORMAT,
                       "load_bytes: %zu bytes that are not an HDF5 model "
                       "image (no HDF5 signature)",
                       len);
  image_name(name, sizeof name);
  H5E_BEGIN_TRY {
    if ((fapl = core_access()) >= 0 &&
        H5Pset_file_image(fapl, (void *)(uintptr_t)buf, len) >= 0)
      file = H5Fopen(name, H5F_ACC_RDONLY, fapl);
  }
  H5E_END_TRY;
  if (fapl >= 0) H5Pclose(fapl);
  if (file < 0)
    return clearn__err(CLEARN_EFORMAT,
                       "load_bytes: %zu bytes cannot be opened as an HDF5 "
                       "image (truncated or corrupt)",
                       len);
  rc = clearn__est_read(file, expect_kind, out);
  H5E_BEGIN_TRY { H5Fclose(file); }
  H5E_END_TRY;
  if (rc != CLEARN_OK) rc = clearn__err_prefix(rc, "load_bytes");
  return rc;
}
