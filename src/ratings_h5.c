/*
 * ratings_h5.c -- the compact HDF5 ratings file: save, load, and the part
 * read that the MPI layer uses (docs/ratings-format.md).
 *
 * The file holds the by-user CSR and the two id maps exactly as the
 * container keeps them, so a whole load is a few large reads, a validation
 * pass and one counting sort for the by-item copy.
 *
 * A part read (clearn_ratings_load_part) takes a contiguous block of users
 * balanced by rating count: it reads the small arrays (ids, indptr) whole,
 * finds its block by bisection in indptr, and reads only its slice of the
 * two big arrays with an HDF5 hyperslab, so P processes together read the
 * file once.  The slice gets the same checks as a whole load, and the part
 * is renumbered (only the items its users rated) and transposed locally.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define RATINGS_FORMAT "clearn.ratings"
#define RATINGS_SCHEMA_VERSION 1

int clearn_ratings_save(const clearn_ratings *r, const char *path) {
  clearn__h5_atomic a;
  int rc;
  if (r == NULL || path == NULL)
    return clearn__err(CLEARN_EINVAL, "ratings save: %s is NULL",
                       r == NULL ? "ratings" : "path");
  if ((rc = clearn__h5_atomic_begin(&a, path)) != CLEARN_OK)
    return clearn__err_prefix(rc, "save '%s'", path);
  rc = clearn__h5_attr_write_str(a.file, "format", RATINGS_FORMAT);
  if (rc == CLEARN_OK)
    rc = clearn__h5_attr_write_i64(a.file, "schema_version",
                                   RATINGS_SCHEMA_VERSION);
  if (rc == CLEARN_OK)
    rc = clearn__h5_attr_write_str(a.file, "clearn_version",
                                   CLEARN_VERSION_STRING);
  if (rc == CLEARN_OK)
    rc = clearn__h5_attr_write_i64(a.file, "n_users", r->n_users);
  if (rc == CLEARN_OK)
    rc = clearn__h5_attr_write_i64(a.file, "n_items", r->n_items);
  if (rc == CLEARN_OK) rc = clearn__h5_attr_write_i64(a.file, "nnz", r->nnz);
  if (rc == CLEARN_OK)
    rc = clearn__h5_write(a.file, "user_ids", r->user_ids, r->n_users, 1,
                          CLEARN_INT64);
  if (rc == CLEARN_OK)
    rc = clearn__h5_write(a.file, "item_ids", r->item_ids, r->n_items, 1,
                          CLEARN_INT64);
  if (rc == CLEARN_OK)
    rc = clearn__h5_write(a.file, "indptr", r->u_ptr, r->n_users + 1, 1,
                          CLEARN_INT64);
  if (rc == CLEARN_OK)
    rc = clearn__h5_write(a.file, "item_index", r->u_idx, r->nnz, 1,
                          CLEARN_INT32);
  if (rc == CLEARN_OK)
    rc = clearn__h5_write(a.file, "rating", r->u_val, r->nnz, 1,
                          CLEARN_FLOAT32);
  if (rc == CLEARN_OK)
    rc = clearn__h5_atomic_commit(&a);
  else
    clearn__h5_atomic_abort(&a);
  if (rc != CLEARN_OK) rc = clearn__err_prefix(rc, "save '%s'", path);
  return rc;
}

/* ---- reading: header, whole arrays, slices ------------------------------ */

typedef struct header {
  int64_t version, n_users, n_items, nnz;
} header;

static int read_count(hid_t file, const char *name, int64_t max,
                      int64_t *v) {
  int rc = clearn__h5_attr_read_i64(file, name, v);
  if (rc != CLEARN_OK) return rc;
  if (*v < 0 || *v > max)
    return clearn__err(CLEARN_EFORMAT,
                       "attribute '%s' = %lld is out of range [0, %lld]", name,
                       (long long)*v, (long long)max);
  return CLEARN_OK;
}

/* The root attributes: format, schema version and the three counts. */
static int read_header(hid_t file, header *h) {
  char text[64];
  int rc;
  memset(h, 0, sizeof *h);
  if (!clearn__h5_attr_exists(file, "format") ||
      clearn__h5_attr_read_str(file, "format", text, sizeof text) !=
          CLEARN_OK ||
      strcmp(text, RATINGS_FORMAT) != 0)
    return clearn__err(CLEARN_EFORMAT,
                       "not a clearn ratings file (no format=\"%s\" attribute)",
                       RATINGS_FORMAT);
  if ((rc = clearn__h5_attr_read_i64(file, "schema_version", &h->version)) !=
      CLEARN_OK)
    return rc;
  if (h->version < 1)
    return clearn__err(CLEARN_EFORMAT,
                       "schema_version %lld is invalid (must be >= 1)",
                       (long long)h->version);
  if (h->version > RATINGS_SCHEMA_VERSION)
    return clearn__err(CLEARN_EVERSION,
                       "schema version %lld is not supported by clearn %s "
                       "(reads versions 1 to %d)",
                       (long long)h->version, CLEARN_VERSION_STRING,
                       RATINGS_SCHEMA_VERSION);
  if ((rc = read_count(file, "n_users", INT32_MAX, &h->n_users)) != CLEARN_OK ||
      (rc = read_count(file, "n_items", INT32_MAX, &h->n_items)) != CLEARN_OK ||
      (rc = read_count(file, "nnz", INT64_MAX / 16, &h->nnz)) != CLEARN_OK)
    return rc;
  return CLEARN_OK;
}

/* Read a dataset of exactly rows x 1 and take its storage. */
static int read_col(hid_t file, const char *name, clearn_dtype dtype,
                    int64_t rows, void **out) {
  clearn_matrix *m = NULL;
  int rc = clearn__h5_read(file, name, dtype, rows, 1, &m);
  *out = NULL;
  if (rc != CLEARN_OK) return rc;
  *out = m->data ? m->data : clearn__malloc(1, 1);
  m->data = NULL;
  clearn_matrix_free(m);
  return *out ? CLEARN_OK : clearn__err(CLEARN_ENOMEM, "out of memory");
}

/* Is rows [start, start + count) of a chunked rows x 1 dataset backed by
 * stored chunks with their checksum filter applied?  (The whole-array
 * reader checks the whole chunk index the same way, for the same reason:
 * the 1.8-format chunk index has no checksum, and a chunk HDF5 cannot find
 * reads as the fill value without an error.) */
static int chunks_cover(hid_t dset, hid_t dcpl, int64_t start,
                        int64_t count) {
  hsize_t chunk[2] = {0, 0}, c, c0, c1;
  unsigned fletcher_bit = 0, k;
  int nfilters;
  if (count == 0) return 1;
  if (H5Pget_chunk(dcpl, 2, chunk) != 2 || chunk[0] == 0 || chunk[1] != 1)
    return 0;
  nfilters = H5Pget_nfilters(dcpl);
  for (k = 0; nfilters > 0 && k < (unsigned)nfilters && k < 32; k++) {
    unsigned flags = 0;
    size_t nelmts = 0;
    if (H5Pget_filter2(dcpl, k, &flags, &nelmts, NULL, 0, NULL, NULL) ==
        H5Z_FILTER_FLETCHER32)
      fletcher_bit = 1u << k;
  }
  c0 = (hsize_t)start / chunk[0];
  c1 = ((hsize_t)(start + count) - 1) / chunk[0];
  for (c = c0; c <= c1; c++) {
    hsize_t off[2] = {c * chunk[0], 0}, size = 0;
    haddr_t addr = HADDR_UNDEF;
    unsigned mask = 0;
    if (H5Dget_chunk_info_by_coord(dset, off, &mask, &addr, &size) < 0 ||
        addr == HADDR_UNDEF || size == 0 || (mask & fletcher_bit) != 0)
      return 0;
  }
  return 1;
}

/* Read rows [start, start + count) of the rows x 1 dataset `name` into dst
 * (count elements of dtype) by a hyperslab selection: HDF5 reads only the
 * chunks (or the byte range, if contiguous) that the slice covers.  Same
 * checks and messages as clearn__h5_read. */
static int read_slice(hid_t file, const char *name, clearn_dtype dtype,
                      int64_t rows, int64_t start, int64_t count,
                      void *dst) {
  hid_t dset = H5I_INVALID_HID, space = H5I_INVALID_HID,
        ftype = H5I_INVALID_HID, dcpl = H5I_INVALID_HID,
        mspace = H5I_INVALID_HID, mtype;
  hsize_t dims[2] = {0, 0};
  H5T_class_t cls = H5T_NO_CLASS;
  H5D_layout_t layout = H5D_LAYOUT_ERROR;
  size_t fsize = 0;
  int ndims = -1, rc = CLEARN_OK, complete = 0;
  int want_float = dtype == CLEARN_FLOAT32 || dtype == CLEARN_FLOAT64;
  herr_t st = 0;
  mtype = dtype == CLEARN_FLOAT32   ? H5T_NATIVE_FLOAT
          : dtype == CLEARN_FLOAT64 ? H5T_NATIVE_DOUBLE
          : dtype == CLEARN_INT32   ? H5T_NATIVE_INT32
                                    : H5T_NATIVE_INT64;
  H5E_BEGIN_TRY {
    dset = H5Dopen2(file, name, H5P_DEFAULT);
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
    rc = clearn__err(CLEARN_EFORMAT,
                     "dataset '%s' has %d dimensions, expected 2", name, ndims);
    goto cleanup;
  }
  if (dims[0] != (hsize_t)rows || dims[1] != 1) {
    rc = clearn__err(CLEARN_EFORMAT,
                     "dataset '%s' has shape %llu x %llu, expected %lld x 1",
                     name, (unsigned long long)dims[0],
                     (unsigned long long)dims[1], (long long)rows);
    goto cleanup;
  }
  H5E_BEGIN_TRY {
    dcpl = H5Dget_create_plist(dset);
    if (dcpl >= 0) layout = H5Pget_layout(dcpl);
    if (count == 0 || layout == H5D_COMPACT)
      complete = 1;
    else if (layout == H5D_CHUNKED)
      complete = chunks_cover(dset, dcpl, start, count);
    else if (layout == H5D_CONTIGUOUS)
      complete = H5Dget_storage_size(dset) >= dims[0] * fsize;
    if (dcpl >= 0) H5Pclose(dcpl);
  }
  H5E_END_TRY;
  if (!complete) {
    rc = clearn__err(CLEARN_EFORMAT,
                     "dataset '%s' (%llu x 1) is incomplete: part of its "
                     "data is not stored (truncated or corrupt)",
                     name, (unsigned long long)dims[0]);
    goto cleanup;
  }
  if (count > 0) {
    hsize_t off[2] = {(hsize_t)start, 0}, cnt[2] = {(hsize_t)count, 1};
    H5E_BEGIN_TRY {
      mspace = H5Screate_simple(2, cnt, NULL);
      st = mspace < 0 || H5Sselect_hyperslab(space, H5S_SELECT_SET, off, NULL,
                                             cnt, NULL) < 0
               ? -1
               : H5Dread(dset, mtype, mspace, space, H5P_DEFAULT, dst);
    }
    H5E_END_TRY;
  }
  if (st < 0)
    rc = clearn__err(CLEARN_EFORMAT,
                     "dataset '%s' cannot be read (corrupt or truncated: "
                     "checksum or I/O failure)",
                     name);
cleanup:
  if (mspace >= 0) H5Sclose(mspace);
  if (space >= 0) H5Sclose(space);
  if (dset >= 0) H5Dclose(dset);
  return rc;
}

/* ---- checks ---------------------------------------------------------------- */

static int check_ids(const int64_t *ids, int64_t n, const char *name) {
  for (int64_t k = 1; k < n; k++)
    if (ids[k] <= ids[k - 1])
      return clearn__err(CLEARN_EFORMAT,
                         "dataset '%s': %s[%lld] = %lld follows %lld (ids "
                         "must be strictly ascending)",
                         name, name, (long long)k, (long long)ids[k],
                         (long long)ids[k - 1]);
  return CLEARN_OK;
}

/* indptr (n + 1 entries) of a CSR with nnz entries. */
static int check_indptr(const int64_t *ptr, int64_t n, int64_t nnz) {
  int64_t k;
  if (ptr[0] != 0)
    return clearn__err(CLEARN_EFORMAT,
                       "dataset 'indptr': indptr[0] = %lld, must be 0",
                       (long long)ptr[0]);
  for (k = 0; k < n; k++)
    if (ptr[k + 1] < ptr[k] || ptr[k + 1] > nnz)
      return clearn__err(CLEARN_EFORMAT,
                         "dataset 'indptr': indptr[%lld] = %lld after %lld "
                         "(must be non-decreasing and at most nnz = %lld)",
                         (long long)k + 1, (long long)ptr[k + 1],
                         (long long)ptr[k], (long long)nnz);
  if (ptr[n] != nnz)
    return clearn__err(CLEARN_EFORMAT,
                       "dataset 'indptr': last entry %lld != nnz = %lld",
                       (long long)ptr[n], (long long)nnz);
  return CLEARN_OK;
}

/* Item indices of rows [u0, u1) of the by-user CSR, whose entries idx[]
 * and val[] start at file position base: in [0, n_items), ascending within
 * each user, ratings finite.  Messages give file positions. */
static int check_entries(const int64_t *ptr, int64_t u0, int64_t u1,
                         int64_t base, const int32_t *idx, const float *val,
                         int64_t n_items) {
  int64_t us, k, n = ptr[u1] - ptr[u0];
  for (us = u0; us < u1; us++) {
    int32_t prev = 0;
    for (k = ptr[us] - base; k < ptr[us + 1] - base; k++) {
      int32_t it = idx[k];
      if ((uint32_t)it >= (uint32_t)n_items || it < prev) {
        if (it < 0 || it >= n_items)
          return clearn__err(CLEARN_EFORMAT,
                             "dataset 'item_index': item_index[%lld] = %d is "
                             "out of range [0, %lld)",
                             (long long)(k + base), it, (long long)n_items);
        return clearn__err(CLEARN_EFORMAT,
                           "dataset 'item_index': item_index[%lld] = %d < "
                           "%d within user %lld (must be ascending)",
                           (long long)(k + base), it, prev, (long long)us);
      }
      prev = it;
    }
  }
  for (k = 0; k < n; k++)
    if (!isfinite(val[k]))
      return clearn__err(CLEARN_EFORMAT,
                         "dataset 'rating': rating[%lld] = %g is not finite",
                         (long long)(k + base), (double)val[k]);
  return CLEARN_OK;
}

/* The by-item copy from the checked by-user CSR: a counting sort that
 * visits users in ascending order, so users come out ascending within each
 * item. */
static int build_by_item(clearn_ratings *r) {
  int64_t *fill, k;
  r->i_ptr = clearn__calloc((size_t)r->n_items + 1, sizeof(int64_t));
  r->i_idx = clearn__malloc((size_t)r->nnz, sizeof(int32_t));
  r->i_val = clearn__malloc((size_t)r->nnz, sizeof(float));
  fill = clearn__malloc((size_t)r->n_items + 1, sizeof(int64_t));
  if (!r->i_ptr || !r->i_idx || !r->i_val || !fill) {
    free(fill);
    return clearn__err(CLEARN_ENOMEM, "cannot allocate %lld ratings",
                       (long long)r->nnz);
  }
  for (k = 0; k < r->nnz; k++) r->i_ptr[r->u_idx[k] + 1]++;
  for (k = 0; k < r->n_items; k++) r->i_ptr[k + 1] += r->i_ptr[k];
  clearn__ratings_transpose(r->n_users, r->u_ptr, r->u_idx, r->u_val,
                            r->n_items, r->i_ptr, r->i_idx, r->i_val, fill);
  free(fill);
  return CLEARN_OK;
}

/* ---- whole load ------------------------------------------------------------ */

int clearn_ratings_load(const char *path, clearn_ratings **out) {
  hid_t file = H5I_INVALID_HID;
  clearn_ratings *r = NULL;
  header h;
  void *p;
  int rc;
  if (out == NULL)
    return clearn__err(CLEARN_EINVAL, "ratings load: out is NULL");
  *out = NULL;
  if (path == NULL)
    return clearn__err(CLEARN_EINVAL, "ratings load: path is NULL");
  if ((rc = clearn__h5_open_read(path, &file)) != CLEARN_OK)
    return clearn__err_prefix(rc, "load");
  if ((rc = read_header(file, &h)) != CLEARN_OK) goto cleanup;
  if ((r = calloc(1, sizeof *r)) == NULL) {
    rc = clearn__err(CLEARN_ENOMEM, "out of memory");
    goto cleanup;
  }
  r->n_users = h.n_users;
  r->n_items = h.n_items;
  r->nnz = h.nnz;
  if ((rc = read_col(file, "user_ids", CLEARN_INT64, r->n_users, &p)) !=
      CLEARN_OK)
    goto cleanup;
  r->user_ids = p;
  if ((rc = read_col(file, "item_ids", CLEARN_INT64, r->n_items, &p)) !=
      CLEARN_OK)
    goto cleanup;
  r->item_ids = p;
  if ((rc = read_col(file, "indptr", CLEARN_INT64, r->n_users + 1, &p)) !=
      CLEARN_OK)
    goto cleanup;
  r->u_ptr = p;
  if ((rc = read_col(file, "item_index", CLEARN_INT32, r->nnz, &p)) !=
      CLEARN_OK)
    goto cleanup;
  r->u_idx = p;
  if ((rc = read_col(file, "rating", CLEARN_FLOAT32, r->nnz, &p)) !=
      CLEARN_OK)
    goto cleanup;
  r->u_val = p;
  if ((rc = check_ids(r->user_ids, r->n_users, "user_ids")) != CLEARN_OK ||
      (rc = check_ids(r->item_ids, r->n_items, "item_ids")) != CLEARN_OK ||
      (rc = check_indptr(r->u_ptr, r->n_users, r->nnz)) != CLEARN_OK ||
      (rc = check_entries(r->u_ptr, 0, r->n_users, 0, r->u_idx, r->u_val,
                          r->n_items)) != CLEARN_OK ||
      (rc = build_by_item(r)) != CLEARN_OK)
    goto cleanup;
  clearn__ratings_set_views(r);
  *out = r;
  r = NULL;
cleanup:
  if (file >= 0) H5Fclose(file);
  clearn_ratings_free(r);
  if (rc != CLEARN_OK) rc = clearn__err_prefix(rc, "load '%s'", path);
  return rc;
}

/* ---- part read ------------------------------------------------------------- */

/* First user of block p of n: the smallest u with indptr[u] >= ceil(p *
 * nnz / n), computed without overflow (p < n <= INT32_MAX); block n ends
 * at n_users. */
static int64_t block_start(const int64_t *ptr, int64_t n_users, int64_t nnz,
                           int64_t p, int64_t n) {
  int64_t q = nnz / n, rem = nnz % n, target, lo = 0, hi = n_users;
  if (p >= n) return n_users;
  target = p * q + (p * rem + n - 1) / n;
  while (lo < hi) { /* lower bound of target in ptr[0 .. n_users] */
    int64_t mid = lo + (hi - lo) / 2;
    if (ptr[mid] < target)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* The part object from users [u0, u1) of the file (ids and indptr whole,
 * idx/val the slice of their entries, taken over): users without ratings
 * and items nobody in the part rated are left out, indices renumbered in
 * id order (so rows stay sorted), the by-item copy built by counting
 * sort. */
static int build_part(const int64_t *user_ids, const int64_t *item_ids,
                      int64_t n_items, const int64_t *ptr, int64_t u0,
                      int64_t u1, int32_t **idx, float **val,
                      clearn_ratings **out) {
  clearn_ratings *r = calloc(1, sizeof *r);
  int64_t base = ptr[u0], nnz = ptr[u1] - base, nu = 0, ni = 0, us, k;
  int32_t *map = clearn__calloc((size_t)n_items + 1, sizeof(int32_t));
  int64_t *fill = NULL;
  int rc = CLEARN_OK;
  if (r == NULL || map == NULL) goto nomem;
  r->nnz = nnz;
  r->u_idx = *idx;
  r->u_val = *val;
  *idx = NULL;
  *val = NULL;
  for (us = u0; us < u1; us++) nu += ptr[us + 1] > ptr[us];
  for (k = 0; k < nnz; k++) map[r->u_idx[k]] = 1;
  for (k = 0; k < n_items; k++)
    if (map[k]) map[k] = (int32_t)++ni; /* local index + 1 */
  r->n_users = nu;
  r->n_items = ni;
  r->user_ids = clearn__malloc((size_t)nu + 1, sizeof(int64_t));
  r->item_ids = clearn__malloc((size_t)ni + 1, sizeof(int64_t));
  r->u_ptr = clearn__malloc((size_t)nu + 1, sizeof(int64_t));
  r->i_ptr = clearn__calloc((size_t)ni + 1, sizeof(int64_t));
  r->i_idx = clearn__malloc((size_t)nnz + 1, sizeof(int32_t));
  r->i_val = clearn__malloc((size_t)nnz + 1, sizeof(float));
  fill = clearn__malloc((size_t)ni + 1, sizeof(int64_t));
  if (!r->user_ids || !r->item_ids || !r->u_ptr || !r->i_ptr || !r->i_idx ||
      !r->i_val || !fill)
    goto nomem;
  r->u_ptr[0] = 0;
  for (us = u0, nu = 0; us < u1; us++)
    if (ptr[us + 1] > ptr[us]) {
      r->user_ids[nu] = user_ids[us];
      r->u_ptr[++nu] = ptr[us + 1] - base;
    }
  for (k = 0; k < n_items; k++)
    if (map[k]) r->item_ids[map[k] - 1] = item_ids[k];
  for (k = 0; k < nnz; k++) {
    int32_t it = map[r->u_idx[k]] - 1;
    r->u_idx[k] = it;
    r->i_ptr[it + 1]++;
  }
  for (k = 0; k < ni; k++) r->i_ptr[k + 1] += r->i_ptr[k];
  clearn__ratings_transpose(nu, r->u_ptr, r->u_idx, r->u_val, ni, r->i_ptr,
                            r->i_idx, r->i_val, fill);
  clearn__ratings_set_views(r);
  *out = r;
  r = NULL;
  goto cleanup;
nomem:
  rc = clearn__err(CLEARN_ENOMEM, "cannot allocate %lld ratings",
                   (long long)nnz);
cleanup:
  free(map);
  free(fill);
  clearn_ratings_free(r);
  return rc;
}

int clearn_ratings_load_part(const char *path, int64_t part, int64_t n_parts,
                             clearn_ratings **out) {
  hid_t file = H5I_INVALID_HID;
  int64_t *user_ids = NULL, *item_ids = NULL, *ptr = NULL, u0, u1, k0, k1;
  int32_t *idx = NULL;
  float *val = NULL;
  header h;
  void *p;
  int rc;
  if (out == NULL)
    return clearn__err(CLEARN_EINVAL, "ratings load_part: out is NULL");
  *out = NULL;
  if (path == NULL)
    return clearn__err(CLEARN_EINVAL, "ratings load_part: path is NULL");
  if (n_parts < 1 || n_parts > INT32_MAX)
    return clearn__err(CLEARN_EINVAL,
                       "ratings load_part: n_parts = %lld is out of range "
                       "[1, %d]",
                       (long long)n_parts, INT32_MAX);
  if (part < 0 || part >= n_parts)
    return clearn__err(CLEARN_EINVAL,
                       "ratings load_part: part = %lld is out of range [0, "
                       "%lld) for n_parts = %lld",
                       (long long)part, (long long)n_parts,
                       (long long)n_parts);
  if ((rc = clearn__h5_open_read(path, &file)) != CLEARN_OK) {
    if (rc == CLEARN_EFORMAT) {
      /* A text file, most likely: say what to do about it. */
      char why[512];
      snprintf(why, sizeof why, "%s", clearn__errmsg());
      return clearn__err(CLEARN_EFORMAT,
                         "load_part: %s; partial reads need the clearn HDF5 "
                         "ratings format (convert the file once with "
                         "clearn_ratings_save, e.g. clearn convert)",
                         why);
    }
    return clearn__err_prefix(rc, "load_part");
  }
  if ((rc = read_header(file, &h)) != CLEARN_OK) goto cleanup;
  if ((rc = read_col(file, "user_ids", CLEARN_INT64, h.n_users, &p)) !=
      CLEARN_OK)
    goto cleanup;
  user_ids = p;
  if ((rc = read_col(file, "item_ids", CLEARN_INT64, h.n_items, &p)) !=
      CLEARN_OK)
    goto cleanup;
  item_ids = p;
  if ((rc = read_col(file, "indptr", CLEARN_INT64, h.n_users + 1, &p)) !=
      CLEARN_OK)
    goto cleanup;
  ptr = p;
  if ((rc = check_ids(user_ids, h.n_users, "user_ids")) != CLEARN_OK ||
      (rc = check_ids(item_ids, h.n_items, "item_ids")) != CLEARN_OK ||
      (rc = check_indptr(ptr, h.n_users, h.nnz)) != CLEARN_OK)
    goto cleanup;
  u0 = block_start(ptr, h.n_users, h.nnz, part, n_parts);
  u1 = block_start(ptr, h.n_users, h.nnz, part + 1, n_parts);
  k0 = ptr[u0];
  k1 = ptr[u1];
  idx = clearn__malloc((size_t)(k1 - k0) + 1, sizeof(int32_t));
  val = clearn__malloc((size_t)(k1 - k0) + 1, sizeof(float));
  if (idx == NULL || val == NULL) {
    rc = clearn__err(CLEARN_ENOMEM, "cannot allocate %lld ratings",
                     (long long)(k1 - k0));
    goto cleanup;
  }
  if ((rc = read_slice(file, "item_index", CLEARN_INT32, h.nnz, k0, k1 - k0,
                       idx)) != CLEARN_OK ||
      (rc = read_slice(file, "rating", CLEARN_FLOAT32, h.nnz, k0, k1 - k0,
                       val)) != CLEARN_OK ||
      (rc = check_entries(ptr, u0, u1, k0, idx, val, h.n_items)) !=
          CLEARN_OK)
    goto cleanup;
  rc = build_part(user_ids, item_ids, h.n_items, ptr, u0, u1, &idx, &val,
                  out);
cleanup:
  if (file >= 0) H5Fclose(file);
  free(user_ids);
  free(item_ids);
  free(ptr);
  free(idx);
  free(val);
  if (rc != CLEARN_OK) rc = clearn__err_prefix(rc, "load_part '%s'", path);
  return rc;
}
