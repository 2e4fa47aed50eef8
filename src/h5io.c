/*
 * h5io.c -- the HDF5 helpers behind every clearn file.
 *
 * Choices, and why:
 *   - Files are created with the 1.8+ object format (library bounds V18 ..
 *     LATEST): object headers carry checksums, so a damaged header is
 *     detected on open instead of being read as garbage.  h5py reads them.
 *   - Datasets are chunked with the Fletcher-32 filter, so corrupted array
 *     bytes fail the read with an error instead of yielding wrong numbers;
 *     the reader also checks that the (unchecksummed, 1.8-format) chunk
 *     index covers the whole array with the filter applied.
 *   - Strings are fixed-length, kept in the checksummed object headers:
 *     nothing goes to the global heap, which has no checksum and on which
 *     HDF5 1.10 can hang or crash when it is damaged.
 *   - Writes go to a temporary file beside the target, which is flushed,
 *     fsync'ed and rename()d over the target: a crash or a full disk never
 *     replaces a good file with a half-written one.  The temporary name
 *     carries its writer, so a later save removes those of killed writers
 *     (tmpname.c).
 *   - HDF5's automatic error printing is switched off around every call
 *     (H5E_BEGIN_TRY), because the library must never print.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
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
      /* No checksum, no dataset: corruption must never go unnoticed.  A
       * NaN fill value makes a chunk that HDF5 cannot find (damaged chunk
       * index) read as NaN, which the model loaders refuse, not as 0. */
      const double dnan = NAN;
      const float fnan = NAN;
      const void *fill = dtype == CLEARN_FLOAT64   ? (const void *)&dnan
                         : dtype == CLEARN_FLOAT32 ? (const void *)&fnan
                                                   : NULL;
      if (H5Pset_chunk(dcpl, 2, chunk) < 0 || H5Pset_fletcher32(dcpl) < 0 ||
          (fill && H5Pset_fill_value(dcpl, h5_type(dtype), fill) < 0)) {
        H5Pclose(dcpl);
        dcpl = H5I_INVALID_HID;
      }
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

unsigned clearn__h5_chunk_sizes(hid_t dset, hid_t dcpl, hsize_t *exact,
                                hsize_t *least) {
  hsize_t chunk[H5S_MAX_RANK], elems = 1;
  int nf, rank, i;
  unsigned fletcher = 0;
  hid_t t;
  size_t es = 0;
  *exact = 0;
  *least = 1;
  H5E_BEGIN_TRY {
    nf = H5Pget_nfilters(dcpl);
    for (i = 0; i < nf && i < 32; i++) {
      unsigned flags = 0;
      size_t nelmts = 0;
      if (H5Pget_filter2(dcpl, (unsigned)i, &flags, &nelmts, NULL, 0, NULL,
                         NULL) == H5Z_FILTER_FLETCHER32)
        fletcher = 1u << i;
    }
    rank = H5Pget_chunk(dcpl, H5S_MAX_RANK, chunk);
    if ((t = H5Dget_type(dset)) >= 0) {
      es = H5Tget_size(t);
      H5Tclose(t);
    }
  }
  H5E_END_TRY;
  if (!fletcher) return 0;
  *least = 5; /* the checksum and at least a byte of data */
  if (nf != 1 || rank < 1 || es == 0) return fletcher;
  for (i = 0; i < rank; i++) elems *= chunk[i];
  *exact = elems * es + 4;
  return fletcher;
}

/* Does the chunk index of a chunked 2-D dataset cover the grid exactly --
 * as many chunks as the grid has cells, each cell found by coordinates,
 * none with its checksum filter marked as skipped?  The 1.8-format chunk
 * index (a v1 B-tree) carries no checksum of its own: a damaged key makes
 * HDF5 return the fill value for a chunk it no longer finds, and a damaged
 * filter mask makes it skip the Fletcher-32 check, both silently, and a
 * damaged size makes HDF5's Fletcher-32 filter read out of bounds
 * (clearn__h5_chunk_sizes).  (Some damaged keys still pass this lookup but
 * not H5Dread's; clearn's NaN fill value covers those.) */
static int chunks_complete(hid_t dset, hid_t dcpl, hid_t space,
                           const hsize_t dims[2]) {
  hsize_t chunk[2] = {0, 0}, n = 0, grid[2], r, c, exact, least;
  unsigned fletcher_bit;
  int ok = 1;
  if (H5Pget_chunk(dcpl, 2, chunk) != 2 || chunk[0] == 0 || chunk[1] == 0)
    return 0;
  fletcher_bit = clearn__h5_chunk_sizes(dset, dcpl, &exact, &least);
  grid[0] = (dims[0] + chunk[0] - 1) / chunk[0];
  grid[1] = (dims[1] + chunk[1] - 1) / chunk[1];
  /* HDF5 1.10.8 refuses H5S_ALL here: pass the file space. */
  if (H5Dget_num_chunks(dset, space, &n) < 0 || n != grid[0] * grid[1])
    return 0;
  for (r = 0; r < grid[0] && ok; r++)
    for (c = 0; c < grid[1] && ok; c++) {
      hsize_t off[2] = {r * chunk[0], c * chunk[1]}, size = 0;
      haddr_t addr = HADDR_UNDEF;
      unsigned mask = 0;
      ok = H5Dget_chunk_info_by_coord(dset, off, &mask, &addr, &size) >= 0 &&
           addr != HADDR_UNDEF && size >= least &&
           (exact == 0 || size == exact) && (mask & fletcher_bit) == 0;
    }
  return ok;
}

/* Is every element of the 2-D dataset backed by stored data?  Chunked: see
 * chunks_complete (compressed chunks may be small, so they are counted,
 * not measured); contiguous: enough bytes allocated.  Compact data lives
 * in the (checksummed) object header. */
static int storage_complete(hid_t dset, hid_t space, const hsize_t dims[2],
                            size_t fsize) {
  hid_t dcpl = H5I_INVALID_HID;
  H5D_layout_t layout = H5D_LAYOUT_ERROR;
  int ok = 0;
  if (dims[0] == 0 || dims[1] == 0) return 1;
  H5E_BEGIN_TRY {
    dcpl = H5Dget_create_plist(dset);
    if (dcpl >= 0) layout = H5Pget_layout(dcpl);
    if (layout == H5D_CHUNKED)
      ok = chunks_complete(dset, dcpl, space, dims);
    else if (layout == H5D_CONTIGUOUS)
      ok = H5Dget_storage_size(dset) >= dims[0] * dims[1] * fsize;
    else if (layout == H5D_COMPACT)
      ok = 1;
    if (dcpl >= 0) H5Pclose(dcpl);
  }
  H5E_END_TRY;
  return ok;
}

int clearn__h5_read(hid_t loc, const char *name, clearn_dtype dtype,
                    int64_t rows, int64_t cols, clearn_matrix **out) {
  hid_t dset = H5I_INVALID_HID, space = H5I_INVALID_HID,
        ftype = H5I_INVALID_HID;
  hsize_t dims[2] = {0, 0};
  H5T_class_t cls = H5T_NO_CLASS;
  size_t fsize = 0;
  int ndims = -1, rc = CLEARN_OK;
  int want_float = dtype == CLEARN_FLOAT64 || dtype == CLEARN_FLOAT32;
  herr_t st = 0;
  clearn_matrix *m = NULL;
  *out = NULL;
  H5E_BEGIN_TRY {
    dset = H5Dopen2(loc, name, H5P_DEFAULT);
    if (dset >= 0) space = H5Dget_space(dset);
    if (dset >= 0) ftype = H5Dget_type(dset);
    if (ftype >= 0) cls = H5Tget_class(ftype);
    if (ftype >= 0) fsize = H5Tget_size(ftype);
    if (space >= 0) ndims = H5Sget_simple_extent_ndims(space);
    if (ndims == 2) H5Sget_simple_extent_dims(space, dims, NULL);
    if (ftype >= 0) H5Tclose(ftype);
  }
  H5E_END_TRY;
  if (dset < 0) {
    rc = clearn__err(CLEARN_EFORMAT, "dataset '%s' is missing or unreadable",
                     name);
    goto cleanup;
  }
  if (cls != (want_float ? H5T_FLOAT : H5T_INTEGER)) {
    rc = clearn__err(CLEARN_EFORMAT, "dataset '%s' does not hold %s", name,
                     want_float ? "floating-point numbers" : "integers");
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
  /* A damaged header can claim any shape, and chunks that were never
   * written read back as fill values without any error: check that the
   * stored data covers the shape before allocating for it. */
  if (dims[0] > (hsize_t)INT64_MAX / 16 || dims[1] > (hsize_t)INT64_MAX / 16 ||
      (dims[1] > 0 && dims[0] > (hsize_t)(INT64_MAX / 16) / dims[1]) ||
      !storage_complete(dset, space, dims, fsize)) {
    rc = clearn__err(CLEARN_EFORMAT,
                     "dataset '%s' (%llu x %llu) is incomplete: part of its "
                     "data is not stored (truncated or corrupt)",
                     name, (unsigned long long)dims[0],
                     (unsigned long long)dims[1]);
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
  /* Fixed-length UTF-8, stored inside the checksummed object header.
   * Variable-length strings would live in the global heap, which has no
   * checksum, and HDF5 1.10 loops forever or crashes on some damaged
   * global heaps.  (h5py returns these as bytes: .decode() them.) */
  hid_t type = H5I_INVALID_HID;
  int rc;
  H5E_BEGIN_TRY {
    type = H5Tcopy(H5T_C_S1);
    if (type >= 0 && (H5Tset_size(type, strlen(v) + 1) < 0 ||
                      H5Tset_strpad(type, H5T_STR_NULLTERM) < 0 ||
                      H5Tset_cset(type, H5T_CSET_UTF8) < 0)) {
      H5Tclose(type);
      type = H5I_INVALID_HID;
    }
  }
  H5E_END_TRY;
  if (type < 0)
    return clearn__err(CLEARN_EIO, "cannot write attribute '%s'", name);
  rc = attr_write(loc, name, type, v);
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

/* Open attribute `name` and check that it holds exactly one value of the
 * wanted class (reading an array attribute into one scalar would overrun
 * the caller's buffer); -1 with the error set. */
static hid_t attr_open(hid_t loc, const char *name, H5T_class_t want,
                       const char *what) {
  hid_t attr = H5I_INVALID_HID, type = H5I_INVALID_HID,
        space = H5I_INVALID_HID;
  H5T_class_t cls = H5T_NO_CLASS;
  hssize_t npoints = -1;
  H5E_BEGIN_TRY {
    attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (attr >= 0) type = H5Aget_type(attr);
    if (type >= 0) cls = H5Tget_class(type);
    if (type >= 0) H5Tclose(type);
    if (attr >= 0) space = H5Aget_space(attr);
    if (space >= 0) npoints = H5Sget_simple_extent_npoints(space);
    if (space >= 0) H5Sclose(space);
  }
  H5E_END_TRY;
  if (attr < 0) {
    clearn__err(CLEARN_EFORMAT, "attribute '%s' is missing or unreadable",
                name);
    return H5I_INVALID_HID;
  }
  /* Integers convert to doubles; integer-based enums (h5py's bool) read
   * as their numeric value. */
  if (cls != want && !(want == H5T_FLOAT && cls == H5T_INTEGER) &&
      !(want == H5T_INTEGER && cls == H5T_ENUM)) {
    H5E_BEGIN_TRY { H5Aclose(attr); }
    H5E_END_TRY;
    clearn__err(CLEARN_EFORMAT, "attribute '%s' is not %s", name, what);
    return H5I_INVALID_HID;
  }
  if (npoints != 1) {
    H5E_BEGIN_TRY { H5Aclose(attr); }
    H5E_END_TRY;
    clearn__err(CLEARN_EFORMAT,
                "attribute '%s' holds %lld values, expected exactly 1", name,
                (long long)npoints);
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
  hid_t type = H5I_INVALID_HID, mem = H5I_INVALID_HID, base = H5I_INVALID_HID;
  herr_t st = -1;
  if (attr < 0) return CLEARN_EFORMAT;
  H5E_BEGIN_TRY {
    type = H5Aget_type(attr);
    if (H5Tget_class(type) != H5T_ENUM) {
      st = H5Aread(attr, H5T_NATIVE_INT64, v);
    } else {
      /* HDF5 has no enum -> integer conversion: read the enum in its
       * native form, then convert its integer base type. */
      int64_t raw = 0; /* room for any integer base type */
      mem = H5Tget_native_type(type, H5T_DIR_DEFAULT);
      if (mem >= 0 && H5Tget_size(mem) <= sizeof raw)
        base = H5Tget_super(mem);
      if (base >= 0 && H5Aread(attr, mem, &raw) >= 0 &&
          H5Tconvert(base, H5T_NATIVE_INT64, 1, &raw, NULL, H5P_DEFAULT) >= 0) {
        *v = raw;
        st = 0;
      }
    }
    if (base >= 0) H5Tclose(base);
    if (mem >= 0) H5Tclose(mem);
    if (type >= 0) H5Tclose(type);
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

/* File-access properties shared by reads and writes: every object closed
 * with the file (a failed load leaks nothing), and HDF5's file locks used
 * where the file system offers them but not required (NFS, some
 * containers refuse flock, which would otherwise fail every open). */
static hid_t file_access(void) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0) return fapl;
  H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
#if H5_VERSION_GE(1, 10, 7)
  H5Pset_file_locking(fapl, 1, 1);
#endif
  return fapl;
}

int clearn__h5_open_read(const char *path, hid_t *file) {
  hid_t fapl, f = H5I_INVALID_HID;
  htri_t is_h5 = -1;
  struct stat st;
  int fd;
  *file = H5I_INVALID_HID;
  /* Tell "cannot read it" (EIO) apart from "not a clearn file" (EFORMAT)
   * before HDF5, which reports both the same way. */
  if ((fd = open(path, O_RDONLY)) < 0)
    return clearn__err(CLEARN_EIO, "cannot open '%s': %s", path,
                       strerror(errno));
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return clearn__err(CLEARN_EIO, "cannot open '%s': not a regular file",
                       path);
  }
  close(fd);
  if (st.st_size == 0)
    return clearn__err(CLEARN_EFORMAT, "'%s' is empty, not an HDF5 file",
                       path);
  H5E_BEGIN_TRY { is_h5 = H5Fis_hdf5(path); }
  H5E_END_TRY;
  if (is_h5 <= 0)
    return clearn__err(CLEARN_EFORMAT,
                       "'%s' is not an HDF5 file (or its header is corrupt)",
                       path);
  if ((fapl = file_access()) < 0)
    return clearn__err(CLEARN_ENOMEM, "out of memory");
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

/* Atomic writes.  The file is built in memory (HDF5's core driver, no
 * backing store) and written out by clearn in one pass at commit: the temp
 * file beside the target, fsync, rename over the target, fsync of the
 * directory.  HDF5 itself never writes to disk, so a failing disk (full,
 * over quota, a file size limit) is an error of clearn's own write() with
 * errno's reason, and never leaves HDF5 holding a half-flushed file (with
 * HDF5 1.10, a file whose flush failed at close stays open inside the
 * library and crashes it at exit).  Cost: the image is held in memory
 * once more while it is written.
 *
 * The file keeps the 1.8 format bounds (version 2 superblock and object
 * headers with checksums, which is how damaged metadata is detected on
 * load).  HDF5 1.10's H5Fget_file_image clears the superblock's status
 * flags in the image without recomputing the superblock's checksum, so
 * superblock_fix() recomputes it: Jenkins' lookup3 hash, as HDF5's
 * H5_checksum_metadata, over the superblock's 12 + 4 * (size of offsets)
 * bytes before it (HDF5 file format specification, superblock versions 2
 * and 3). */
static uint32_t rot32(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static uint32_t lookup3(const uint8_t *k, size_t len, uint32_t init) {
  uint32_t a, b, c;
  a = b = c = 0xdeadbeef + (uint32_t)len + init;
  while (len > 12) {
    a += k[0] | (uint32_t)k[1] << 8 | (uint32_t)k[2] << 16 | (uint32_t)k[3] << 24;
    b += k[4] | (uint32_t)k[5] << 8 | (uint32_t)k[6] << 16 | (uint32_t)k[7] << 24;
    c += k[8] | (uint32_t)k[9] << 8 | (uint32_t)k[10] << 16 |
         (uint32_t)k[11] << 24;
    a -= c; a ^= rot32(c, 4);  c += b;
    b -= a; b ^= rot32(a, 6);  a += c;
    c -= b; c ^= rot32(b, 8);  b += a;
    a -= c; a ^= rot32(c, 16); c += b;
    b -= a; b ^= rot32(a, 19); a += c;
    c -= b; c ^= rot32(b, 4);  b += a;
    len -= 12;
    k += 12;
  }
  if (len == 0) return c;
  /* the last 1..12 bytes, little-endian into a, b, c */
  if (len >= 12) c += (uint32_t)k[11] << 24;
  if (len >= 11) c += (uint32_t)k[10] << 16;
  if (len >= 10) c += (uint32_t)k[9] << 8;
  if (len >= 9) c += k[8];
  if (len >= 8) b += (uint32_t)k[7] << 24;
  if (len >= 7) b += (uint32_t)k[6] << 16;
  if (len >= 6) b += (uint32_t)k[5] << 8;
  if (len >= 5) b += k[4];
  if (len >= 4) a += (uint32_t)k[3] << 24;
  if (len >= 3) a += (uint32_t)k[2] << 16;
  if (len >= 2) a += (uint32_t)k[1] << 8;
  a += k[0];
  c ^= b; c -= rot32(b, 14);
  a ^= c; a -= rot32(c, 11);
  b ^= a; b -= rot32(a, 25);
  c ^= b; c -= rot32(b, 16);
  a ^= c; a -= rot32(c, 4);
  b ^= a; b -= rot32(a, 14);
  c ^= b; c -= rot32(b, 24);
  return c;
}

/* Recompute the checksum of a version 2 or 3 superblock at the start of
 * an image; 0 if there is none to fix or it was fixed, -1 if malformed. */
int clearn__h5_superblock_fix(unsigned char *img, size_t n) {
  static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a,
                                       '\n'};
  size_t len;
  uint32_t h;
  if (n < 12 || memcmp(img, sig, 8) != 0) return -1;
  if (img[8] < 2) return 0;
  len = 12 + 4 * (size_t)img[9];
  if (img[9] < 2 || img[9] > 8 || n < len + 4) return -1;
  h = lookup3(img, len, 0);
  img[len] = (unsigned char)h;
  img[len + 1] = (unsigned char)(h >> 8);
  img[len + 2] = (unsigned char)(h >> 16);
  img[len + 3] = (unsigned char)(h >> 24);
  return 0;
}

#define IMAGE_INCREMENT ((size_t)1 << 20)

int clearn__h5_atomic_begin(clearn__h5_atomic *a, const char *path) {
  static _Thread_local unsigned counter;
  size_t n = strlen(path) + 128;
  hid_t fapl = H5I_INVALID_HID;
  int fd = -1, tries, owned;
  char owner[96];
  memset(a, 0, sizeof *a);
  a->file = H5I_INVALID_HID;
  a->fd = -1;
  a->path = malloc(strlen(path) + 1);
  a->tmp_path = malloc(n);
  if (a->path == NULL || a->tmp_path == NULL) {
    free(a->path);
    free(a->tmp_path);
    a->path = a->tmp_path = NULL;
    return clearn__err(CLEARN_ENOMEM, "out of memory");
  }
  strcpy(a->path, path);
  /* Temporary files of earlier saves of this path whose writer was killed
   * (tmpname.c). */
  clearn__tmp_sweep(path);
  /* Temporary name "<path>.tmp-<owner>-<n>" (tmpname.c), or without /proc
   * or if that name is too long "<path>.tmp-<pid>-<n>-<time>": beside the
   * target, so rename() stays within one file system and is atomic;
   * O_EXCL on a fresh name never clobbers another writer's temp file. */
  owned = clearn__tmp_owner((long)getpid(), owner, sizeof owner) == 0;
  for (tries = 0; tries < 100 && fd < 0; tries++) {
    if (owned)
      snprintf(a->tmp_path, n, "%s.tmp-%s-%u", path, owner, counter++);
    else
      snprintf(a->tmp_path, n, "%s.tmp-%ld-%u-%ld", path, (long)getpid(),
               counter++, (long)time(NULL));
    fd = open(a->tmp_path, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0 && errno == ENAMETOOLONG && owned) {
      owned = 0;
      continue;
    }
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
  /* Replacing a file keeps its permission bits (a private model stays
   * private); a new file gets 0666 less the umask, as fopen would. */
  {
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
      (void)fchmod(fd, st.st_mode & 07777);
  }
  a->fd = fd;
  H5E_BEGIN_TRY {
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && H5Pset_fapl_core(fapl, IMAGE_INCREMENT, 0) >= 0 &&
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0 &&
        H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) >= 0)
      a->file = H5Fcreate(a->tmp_path, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
    if (fapl >= 0) H5Pclose(fapl);
  }
  H5E_END_TRY;
  if (a->file < 0) {
    clearn__h5_atomic_abort(a);
    return clearn__err(CLEARN_ENOMEM, "cannot create an HDF5 file in memory "
                                      "for '%s'", path);
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

/* write() all n bytes, or -1 with errno. */
static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (w == 0) errno = ENOSPC;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int clearn__h5_atomic_commit(clearn__h5_atomic *a) {
  ssize_t n = -1;
  char *img = NULL;
  int rc = CLEARN_OK;
  H5E_BEGIN_TRY {
    if (H5Fflush(a->file, H5F_SCOPE_GLOBAL) >= 0)
      n = H5Fget_file_image(a->file, NULL, 0);
    if (n > 0 && (img = malloc((size_t)n)) != NULL)
      n = H5Fget_file_image(a->file, img, (size_t)n);
    H5Fclose(a->file);
  }
  H5E_END_TRY;
  a->file = H5I_INVALID_HID;
  if (n > 0 && img != NULL &&
      clearn__h5_superblock_fix((unsigned char *)img, (size_t)n) != 0)
    n = -1;
  if (n <= 0 || img == NULL) {
    rc = img == NULL && n > 0
             ? clearn__err(CLEARN_ENOMEM, "out of memory for the %lld bytes "
                           "of '%s'", (long long)n, a->path)
             : clearn__err(CLEARN_EIO, "cannot finish the HDF5 image of '%s'",
                           a->path);
  } else if (write_all(a->fd, img, (size_t)n) != 0 || fsync(a->fd) != 0) {
    rc = clearn__err(CLEARN_EIO, "cannot write '%s': %s", a->tmp_path,
                     strerror(errno));
  }
  free(img);
  if (close(a->fd) != 0 && rc == CLEARN_OK)
    rc = clearn__err(CLEARN_EIO, "cannot write '%s': %s", a->tmp_path,
                     strerror(errno));
  a->fd = -1;
  if (rc == CLEARN_OK && rename(a->tmp_path, a->path) != 0) {
    rc = clearn__err(CLEARN_EIO, "cannot rename '%s' to '%s': %s", a->tmp_path,
                     a->path, strerror(errno));
  } else if (rc == CLEARN_OK) {
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
  if (a->fd >= 0) close(a->fd);
  a->fd = -1;
  if (a->tmp_path) unlink(a->tmp_path);
  free(a->path);
  free(a->tmp_path);
  a->path = a->tmp_path = NULL;
}
