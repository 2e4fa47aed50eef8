/*
 * h5io.c -- the HDF5 helpers behind every clearn file.
 *
 * Choices, and why:
 *   - Files are created with the 1.8+ object format (library bounds V18 ..
 *     LATEST): object headers carry checksums, so a damaged header is
 *     detected on open instead of being read as garbage.  h5py reads them.
 *   - Datasets are chunked with the Fletcher-32 filter, so corrupted array
 *     bytes fail the read with an error instead of yielding wrong numbers.
 *   - Writes go to a temporary file beside the target, which is flushed,
 *     fsync'ed and rename()d over the target: a crash or a full disk never
 *     replaces a good file with a half-written one.
 *   - HDF5's automatic error printing is switched off around every call
 *     (H5E_BEGIN_TRY), because the library must never print.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static hid_t h5_type(clearn_dtype d) {
  switch (d) {
  case CLEARN_FLOAT64: return H5T_NATIVE_DOUBLE;
  case CLEARN_FLOAT32: return H5T_NATIVE_FLOAT;
  case CLEARN_INT64: return H5T_NATIVE_INT64;
  case CLEARN_INT32: return H5T_NATIVE_INT32;
  }
  return H5I_INVALID_HID;
}

int clearn__h5_write(hid_t loc, const char *name, const void *data,
                     int64_t rows, int64_t cols, clearn_dtype dtype) {
  hsize_t dims[2] = {(hsize_t)rows, (hsize_t)cols}, chunk[2];
  hid_t space = H5I_INVALID_HID, dcpl = H5I_INVALID_HID,
        dset = H5I_INVALID_HID;
  herr_t st = -1;
  size_t es = clearn_dtype_size(dtype);
  int rc = CLEARN_OK;
  H5E_BEGIN_TRY {
    space = H5Screate_simple(2, dims, NULL);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (rows > 0 && cols > 0 && space >= 0 && dcpl >= 0) {
      /* Whole rows per chunk, about 1 MiB per chunk. */
      hsize_t per = (hsize_t)(1 << 20) / ((hsize_t)cols * es);
      chunk[1] = (hsize_t)cols;
      chunk[0] = per < 1 ? 1 : (per > (hsize_t)rows ? (hsize_t)rows : per);
      H5Pset_chunk(dcpl, 2, chunk);
      H5Pset_fletcher32(dcpl);
    }
    if (space >= 0 && dcpl >= 0)
      dset = H5Dcreate2(loc, name, h5_type(dtype), space, H5P_DEFAULT, dcpl,
                        H5P_DEFAULT);
    if (dset >= 0)
      st = rows * cols > 0 ? H5Dwrite(dset, h5_type(dtype), H5S_ALL, H5S_ALL,
                                      H5P_DEFAULT, data)
                           : 0;
    if (dset >= 0) H5Dclose(dset);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
  }
  H5E_END_TRY;
  if (dset < 0 || st < 0)
    rc = clearn__err(CLEARN_EIO, "cannot write dataset '%s' (%lld x %lld)",
                     name, (long long)rows, (long long)cols);
  return rc;
}

int clearn__h5_read(hid_t loc, const char *name, clearn_dtype dtype,
                    int64_t rows, int64_t cols, clearn_matrix **out) {
  hid_t dset = H5I_INVALID_HID, space = H5I_INVALID_HID;
  hsize_t dims[2] = {0, 0};
  int ndims = -1, rc = CLEARN_OK;
  herr_t st = 0;
  clearn_matrix *m = NULL;
  *out = NULL;
  H5E_BEGIN_TRY {
    dset = H5Dopen2(loc, name, H5P_DEFAULT);
    if (dset >= 0) space = H5Dget_space(dset);
    if (space >= 0) ndims = H5Sget_simple_extent_ndims(space);
    if (ndims == 2) H5Sget_simple_extent_dims(space, dims, NULL);
  }
  H5E_END_TRY;
  if (dset < 0) {
    rc = clearn__err(CLEARN_EFORMAT, "dataset '%s' is missing", name);
    goto cleanup;
  }
  if (ndims != 2) {
    rc = clearn__err(CLEARN_EFORMAT, "dataset '%s' has %d dimensions, expected 2",
                     name, ndims);
    goto cleanup;
  }
  if ((rows >= 0 && dims[0] != (hsize_t)rows) ||
      (cols >= 0 && dims[1] != (hsize_t)cols)) {
    rc = clearn__err(CLEARN_EFORMAT,
                     "dataset '%s' has shape %llu x %llu, expected %lld x %lld",
                     name, (unsigned long long)dims[0],
                     (unsigned long long)dims[1], (long long)rows,
                     (long long)cols);
    goto cleanup;
  }
  if ((rc = clearn_matrix_create((int64_t)dims[0], (int64_t)dims[1], dtype,
                                 &m)) != CLEARN_OK)
    goto cleanup;
  if (dims[0] * dims[1] > 0) {
    H5E_BEGIN_TRY {
      st = H5Dread(dset, h5_type(dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                   m->data);
    }
    H5E_END_TRY;
  }
  if (st < 0) {
    rc = clearn__err(CLEARN_EFORMAT,
                     "dataset '%s' cannot be read (corrupt or truncated: "
                     "checksum or I/O failure)",
                     name);
    goto cleanup;
  }
  *out = m;
  m = NULL;
cleanup:
  if (space >= 0) H5Sclose(space);
  if (dset >= 0) H5Dclose(dset);
  clearn_matrix_free(m);
  return rc;
}

static int attr_write(hid_t loc, const char *name, hid_t type,
                      const void *v) {
  hid_t space = H5I_INVALID_HID, attr = H5I_INVALID_HID;
  herr_t st = -1;
  H5E_BEGIN_TRY {
    space = H5Screate(H5S_SCALAR);
    if (space >= 0)
      attr = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr >= 0) st = H5Awrite(attr, type, v);
    if (attr >= 0) H5Aclose(attr);
    if (space >= 0) H5Sclose(space);
  }
  H5E_END_TRY;
  if (st < 0)
    return clearn__err(CLEARN_EIO, "cannot write attribute '%s'", name);
  return CLEARN_OK;
}

int clearn__h5_attr_write_str(hid_t loc, const char *name, const char *v) {
  /* Variable-length UTF-8 strings: h5py returns them as str. */
  hid_t type = H5Tcopy(H5T_C_S1);
  int rc;
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  rc = attr_write(loc, name, type, &v);
  H5Tclose(type);
  return rc;
}

int clearn__h5_attr_write_i64(hid_t loc, const char *name, int64_t v) {
  return attr_write(loc, name, H5T_NATIVE_INT64, &v);
}

int clearn__h5_attr_write_f64(hid_t loc, const char *name, double v) {
  return attr_write(loc, name, H5T_NATIVE_DOUBLE, &v);
}

int clearn__h5_attr_exists(hid_t loc, const char *name) {
  htri_t r = 0;
  H5E_BEGIN_TRY { r = H5Aexists(loc, name); }
  H5E_END_TRY;
  return r > 0;
}

/* Open attribute `name` and check its class; -1 with the error set. */
static hid_t attr_open(hid_t loc, const char *name, H5T_class_t want,
                       const char *what) {
  hid_t attr = H5I_INVALID_HID, type = H5I_INVALID_HID;
  H5T_class_t cls = H5T_NO_CLASS;
  H5E_BEGIN_TRY {
    attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (attr >= 0) type = H5Aget_type(attr);
    if (type >= 0) cls = H5Tget_class(type);
    if (type >= 0) H5Tclose(type);
  }
  H5E_END_TRY;
  if (attr < 0) {
    clearn__err(CLEARN_EFORMAT, "attribute '%s' is missing", name);
    return H5I_INVALID_HID;
  }
  if (cls != want && !(want == H5T_FLOAT && cls == H5T_INTEGER)) {
    H5Aclose(attr);
    clearn__err(CLEARN_EFORMAT, "attribute '%s' is not %s", name, what);
    return H5I_INVALID_HID;
  }
  return attr;
}

int clearn__h5_attr_read_str(hid_t loc, const char *name, char *buf,
                             size_t cap) {
  hid_t attr = attr_open(loc, name, H5T_STRING, "a string");
  hid_t type = H5I_INVALID_HID, mem = H5I_INVALID_HID;
  herr_t st = -1;
  if (attr < 0) return CLEARN_EFORMAT;
  H5E_BEGIN_TRY {
    type = H5Aget_type(attr);
    if (H5Tis_variable_str(type) > 0) {
      char *s = NULL;
      mem = H5Tcopy(H5T_C_S1);
      H5Tset_size(mem, H5T_VARIABLE);
      H5Tset_cset(mem, H5Tget_cset(type)); /* no cset conversion exists */
      st = H5Aread(attr, mem, &s);
      if (st >= 0 && s != NULL) {
        snprintf(buf, cap, "%s", s);
        H5free_memory(s);
      } else if (st >= 0) {
        buf[0] = '\0';
      }
    } else {
      size_t n = H5Tget_size(type);
      char *tmp = malloc(n + 1);
      mem = H5Tcopy(H5T_C_S1);
      H5Tset_size(mem, n + 1);
      H5Tset_cset(mem, H5Tget_cset(type));
      if (tmp) {
        st = H5Aread(attr, mem, tmp);
        tmp[n] = '\0';
        if (st >= 0) snprintf(buf, cap, "%s", tmp);
        free(tmp);
      }
    }
    if (mem >= 0) H5Tclose(mem);
    if (type >= 0) H5Tclose(type);
    H5Aclose(attr);
  }
  H5E_END_TRY;
  if (st < 0)
    return clearn__err(CLEARN_EFORMAT, "attribute '%s' cannot be read", name);
  return CLEARN_OK;
}

int clearn__h5_attr_read_i64(hid_t loc, const char *name, int64_t *v) {
  hid_t attr = attr_open(loc, name, H5T_INTEGER, "an integer");
  herr_t st = -1;
  if (attr < 0) return CLEARN_EFORMAT;
  H5E_BEGIN_TRY {
    st = H5Aread(attr, H5T_NATIVE_INT64, v);
    H5Aclose(attr);
  }
  H5E_END_TRY;
  if (st < 0)
    return clearn__err(CLEARN_EFORMAT, "attribute '%s' cannot be read", name);
  return CLEARN_OK;
}

int clearn__h5_attr_read_f64(hid_t loc, const char *name, double *v) {
  hid_t attr = attr_open(loc, name, H5T_FLOAT, "a number");
  herr_t st = -1;
  if (attr < 0) return CLEARN_EFORMAT;
  H5E_BEGIN_TRY {
    st = H5Aread(attr, H5T_NATIVE_DOUBLE, v);
    H5Aclose(attr);
  }
  H5E_END_TRY;
  if (st < 0)
    return clearn__err(CLEARN_EFORMAT, "attribute '%s' cannot be read", name);
  return CLEARN_OK;
}

/* ---- files ---------------------------------------------------------------- */

int clearn__h5_open_read(const char *path, hid_t *file) {
  hid_t fapl, f = H5I_INVALID_HID;
  htri_t is_h5 = -1;
  struct stat st;
  *file = H5I_INVALID_HID;
  if (stat(path, &st) != 0)
    return clearn__err(CLEARN_EIO, "cannot open '%s': %s", path,
                       strerror(errno));
  H5E_BEGIN_TRY { is_h5 = H5Fis_hdf5(path); }
  H5E_END_TRY;
  if (is_h5 <= 0)
    return clearn__err(CLEARN_EFORMAT,
                       "'%s' is not an HDF5 file (or its header is corrupt)",
                       path);
  fapl = H5Pcreate(H5P_FILE_ACCESS);
  /* Close every object with the file, so a failed load leaks nothing. */
  H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
  H5E_BEGIN_TRY { f = H5Fopen(path, H5F_ACC_RDONLY, fapl); }
  H5E_END_TRY;
  H5Pclose(fapl);
  if (f < 0)
    return clearn__err(CLEARN_EFORMAT,
                       "'%s' cannot be opened as HDF5 (truncated or corrupt)",
                       path);
  *file = f;
  return CLEARN_OK;
}

int clearn__h5_atomic_begin(clearn__h5_atomic *a, const char *path) {
  static _Thread_local unsigned counter;
  size_t n = strlen(path) + 64;
  hid_t fapl, fcpl;
  int fd = -1, tries;
  memset(a, 0, sizeof *a);
  a->file = H5I_INVALID_HID;
  a->path = malloc(strlen(path) + 1);
  a->tmp_path = malloc(n);
  if (a->path == NULL || a->tmp_path == NULL) {
    free(a->path);
    free(a->tmp_path);
    return clearn__err(CLEARN_ENOMEM, "out of memory");
  }
  strcpy(a->path, path);
  /* O_EXCL on a fresh name: never clobbers another writer's temp file. */
  for (tries = 0; tries < 100 && fd < 0; tries++) {
    snprintf(a->tmp_path, n, "%s.tmp-%ld-%u-%ld", path, (long)getpid(),
             counter++, (long)time(NULL));
    fd = open(a->tmp_path, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    int e = errno;
    free(a->path);
    free(a->tmp_path);
    a->path = a->tmp_path = NULL;
    return clearn__err(CLEARN_EIO, "cannot create a file beside '%s': %s",
                       path, strerror(e));
  }
  close(fd);
  fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
  H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
  fcpl = H5Pcreate(H5P_FILE_CREATE);
  H5E_BEGIN_TRY { a->file = H5Fcreate(a->tmp_path, H5F_ACC_TRUNC, fcpl, fapl); }
  H5E_END_TRY;
  H5Pclose(fcpl);
  H5Pclose(fapl);
  if (a->file < 0) {
    unlink(a->tmp_path);
    free(a->path);
    free(a->tmp_path);
    a->path = a->tmp_path = NULL;
    return clearn__err(CLEARN_EIO, "cannot create HDF5 file beside '%s'", path);
  }
  return CLEARN_OK;
}

static int fsync_path(const char *p, int dir) {
  int fd = open(p, dir ? O_RDONLY | O_DIRECTORY : O_RDONLY), rc;
  if (fd < 0) return -1;
  rc = fsync(fd);
  close(fd);
  return rc;
}

int clearn__h5_atomic_commit(clearn__h5_atomic *a) {
  herr_t st = -1;
  int rc = CLEARN_OK;
  H5E_BEGIN_TRY { st = H5Fclose(a->file); }
  H5E_END_TRY;
  a->file = H5I_INVALID_HID;
  if (st < 0) {
    rc = clearn__err(CLEARN_EIO, "cannot finish writing '%s' (disk full?)",
                     a->tmp_path);
  } else if (fsync_path(a->tmp_path, 0) != 0) {
    rc = clearn__err(CLEARN_EIO, "cannot flush '%s': %s", a->tmp_path,
                     strerror(errno));
  } else if (rename(a->tmp_path, a->path) != 0) {
    rc = clearn__err(CLEARN_EIO, "cannot rename '%s' to '%s': %s", a->tmp_path,
                     a->path, strerror(errno));
  } else {
    /* Make the rename itself durable. */
    char *dir = malloc(strlen(a->path) + 2), *slash;
    if (dir) {
      strcpy(dir, a->path);
      slash = strrchr(dir, '/');
      if (slash == NULL)
        strcpy(dir, ".");
      else if (slash == dir)
        dir[1] = '\0';
      else
        *slash = '\0';
      fsync_path(dir, 1);
      free(dir);
    }
  }
  if (rc != CLEARN_OK) unlink(a->tmp_path);
  free(a->path);
  free(a->tmp_path);
  a->path = a->tmp_path = NULL;
  return rc;
}

void clearn__h5_atomic_abort(clearn__h5_atomic *a) {
  if (a->file >= 0) {
    H5E_BEGIN_TRY { H5Fclose(a->file); }
    H5E_END_TRY;
  }
  a->file = H5I_INVALID_HID;
  if (a->tmp_path) unlink(a->tmp_path);
  free(a->path);
  free(a->tmp_path);
  a->path = a->tmp_path = NULL;
}
