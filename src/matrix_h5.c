/*
 * matrix_h5.c -- a dense matrix as a 2-D HDF5 dataset, and row ranges of
 * one read back, so each MPI rank loads only its own rows of a shared file
 * (HDF5 hyperslab reads: the rest of the file is never read).
 *
 * Writing goes through the atomic save of h5io.c (temporary file, fsync,
 * rename) with the same chunked, Fletcher-32 checksummed layout as model
 * files.  Reading converts any floating-point dataset to float64.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

int clearn_matrix_save_h5(const clearn_matrix *m, const char *path,
                          const char *name) {
  clearn__h5_atomic a;
  int rc;
  if (m == NULL || path == NULL || name == NULL)
    return clearn__err(CLEARN_EINVAL, "matrix save: %s is NULL",
                       m == NULL      ? "matrix"
                       : path == NULL ? "path"
                                      : "name");
  if ((rc = clearn__h5_atomic_begin(&a, path)) != CLEARN_OK)
    return rc;
  rc = clearn__h5_write(a.file, name, m->data, m->rows, m->cols, m->dtype);
  if (rc == CLEARN_OK)
    rc = clearn__h5_atomic_commit(&a);
  else
    clearn__h5_atomic_abort(&a);
  return rc == CLEARN_OK ? rc : clearn__err_prefix(rc, "save '%s'", path);
}

/* Open path/name and read its 2-D shape. */
static int open_2d(const char *path, const char *name, hid_t *file, hid_t *dset,
                   hsize_t dims[2]) {
  hid_t space = H5I_INVALID_HID, type = H5I_INVALID_HID;
  H5T_class_t cls = H5T_NO_CLASS;
  int nd = -1, rc;
  *dset = H5I_INVALID_HID;
  if ((rc = clearn__h5_open_read(path, file)) != CLEARN_OK)
    return rc;
  H5E_BEGIN_TRY {
    *dset = H5Dopen2(*file, name, H5P_DEFAULT);
    if (*dset >= 0)
      space = H5Dget_space(*dset);
    if (*dset >= 0)
      type = H5Dget_type(*dset);
    if (type >= 0)
      cls = H5Tget_class(type);
    if (space >= 0)
      nd = H5Sget_simple_extent_ndims(space);
    if (nd == 2)
      H5Sget_simple_extent_dims(space, dims, NULL);
    if (type >= 0)
      H5Tclose(type);
    if (space >= 0)
      H5Sclose(space);
  }
  H5E_END_TRY;
  if (*dset < 0)
    return clearn__err(CLEARN_EFORMAT, "'%s': dataset '%s' is missing", path,
                       name);
  if (cls != H5T_FLOAT || nd != 2)
    return clearn__err(CLEARN_EFORMAT,
                       "'%s': dataset '%s' is not a 2-D array of "
                       "floating-point numbers",
                       path, name);
  return CLEARN_OK;
}

int clearn_matrix_h5_shape(const char *path, const char *name, int64_t *rows,
                           int64_t *cols) {
  hid_t file = H5I_INVALID_HID, dset = H5I_INVALID_HID;
  hsize_t dims[2] = {0, 0};
  int rc;
  if (path == NULL || name == NULL || rows == NULL || cols == NULL)
    return clearn__err(CLEARN_EINVAL, "matrix shape: NULL argument");
  rc = open_2d(path, name, &file, &dset, dims);
  if (rc == CLEARN_OK) {
    *rows = (int64_t)dims[0];
    *cols = (int64_t)dims[1];
  }
  if (dset >= 0)
    H5Dclose(dset);
  if (file >= 0)
    H5Fclose(file);
  return rc;
}

int clearn_matrix_load_h5_rows(const char *path, const char *name,
                               int64_t row_begin, int64_t n_rows,
                               clearn_matrix **out) {
  hid_t file = H5I_INVALID_HID, dset = H5I_INVALID_HID,
        fspace = H5I_INVALID_HID, mspace = H5I_INVALID_HID;
  hsize_t dims[2] = {0, 0}, start[2], count[2];
  clearn_matrix *m = NULL;
  herr_t st = 0;
  int rc;
  if (out == NULL)
    return clearn__err(CLEARN_EINVAL, "out is NULL");
  *out = NULL;
  if (path == NULL || name == NULL)
    return clearn__err(CLEARN_EINVAL, "matrix load: %s is NULL",
                       path == NULL ? "path" : "name");
  if ((rc = open_2d(path, name, &file, &dset, dims)) != CLEARN_OK)
    goto done;
  if (n_rows < 0)
    n_rows = row_begin >= 0 ? (int64_t)dims[0] - row_begin : 0;
  if (row_begin < 0 || n_rows < 0 || row_begin > (int64_t)dims[0] ||
      n_rows > (int64_t)dims[0] - row_begin) {
    rc =
        clearn__err(CLEARN_EINVAL,
                    "'%s': rows [%lld, %lld) are outside dataset '%s' of "
                    "%llu rows",
                    path, (long long)row_begin, (long long)(row_begin + n_rows),
                    name, (unsigned long long)dims[0]);
    goto done;
  }
  if ((rc = clearn_matrix_create(n_rows, (int64_t)dims[1], CLEARN_FLOAT64,
                                 &m)) != CLEARN_OK)
    goto done;
  if (n_rows > 0 && dims[1] > 0) {
    start[0] = (hsize_t)row_begin, start[1] = 0;
    count[0] = (hsize_t)n_rows, count[1] = dims[1];
    H5E_BEGIN_TRY {
      fspace = H5Dget_space(dset);
      mspace = H5Screate_simple(2, count, NULL);
      st = fspace < 0 || mspace < 0
               ? -1
               : H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count,
                                     NULL);
      if (st >= 0)
        st = H5Dread(dset, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT,
                     m->data);
      if (mspace >= 0)
        H5Sclose(mspace);
      if (fspace >= 0)
        H5Sclose(fspace);
    }
    H5E_END_TRY;
    if (st < 0)
      rc = clearn__err(CLEARN_EFORMAT,
                       "'%s': rows [%lld, %lld) of dataset '%s' cannot be "
                       "read (corrupt or truncated)",
                       path, (long long)row_begin,
                       (long long)(row_begin + n_rows), name);
  }
done:
  if (dset >= 0)
    H5Dclose(dset);
  if (file >= 0)
    H5Fclose(file);
  if (rc == CLEARN_OK)
    *out = m;
  else
    clearn_matrix_free(m);
  return rc;
}
