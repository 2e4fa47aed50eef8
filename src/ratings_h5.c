/*
 * ratings_h5.c -- the compact HDF5 ratings file: save, load, and the part
 * read that the MPI layer uses (docs/ratings-format.md).
 *
 * Schema 2 stores both CSR copies of the container (by user and by item)
 * and the two id maps, each array contiguous, in its in-memory type, with
 * no HDF5 filter.  Loading is then no work but reading: no transpose (its
 * scatter cost 17 ns or more per rating, over half of a schema 1 load), no
 * chunk cache, no type conversion.  The arrays' places in the
 * file come from HDF5 (H5Dget_offset) and the bytes are read by pread()
 * straight into the container's arrays, block by block on clearn's
 * threads (HDF5 would run its reads one at a time under its global lock);
 * a file whose arrays are stored any other way (chunked, compressed, other
 * types: another writer's) is read through HDF5 instead, with conversion.
 *
 * Integrity, without Fletcher-32 (which made HDF5 read each chunk into a
 * buffer, checksum it and copy it again):
 *   - every array carries a checksum per block of checksum_block bytes (an
 *     attribute, so it sits in HDF5's checksummed object header): a 64-bit
 *     hash of multiply-accumulate lanes, faster than the kernel copies the
 *     bytes in, checked as each block arrives, so damaged bytes are found
 *     before anything is built from them, and a part read checks just the
 *     blocks it reads;
 *   - the structure is validated as before (ids ascending, row pointers
 *     monotone and ending at nnz, column indices in range and ascending
 *     within rows, ratings finite), for both copies, by the task that read
 *     the block, while it is still in cache;
 *   - the two copies must hold the same ratings: a sum over all ratings of
 *     hu(user) hi(item) (rating bits ^ c) mod 2^64, with odd affine hashes
 *     hu and hi, which each copy computes with its row's hash factored out
 *     (one vectorized multiply per rating), must agree.  A writer whose
 *     by-item copy is not the transpose is refused.
 * What is left is the kernel's work: zeroing the fresh pages (huge pages
 * where the kernel offers them, far fewer faults) and copying from the
 * page cache, about two thirds of a load.
 *
 * A part read (clearn_ratings_load_part) takes a contiguous block of users
 * balanced by rating count: it reads the small arrays whole, finds its
 * block by bisection in indptr, and reads only its slice of the two big
 * by-user arrays (rounded out to checksum blocks) with an HDF5 hyperslab,
 * so P processes together read the file once.  The part is renumbered
 * (only the items its users rated) and transposed locally.
 *
 * Schema 1 files (by-user copy only, chunked with Fletcher-32) still load:
 * HDF5 checks the chunks and the by-item copy is built by transposing.
 */
#define _DEFAULT_SOURCE /* pread */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define RATINGS_FORMAT "clearn.ratings"
#define RATINGS_SCHEMA_VERSION 2

/* Bytes per checksum block: 256 KiB (index and value blocks of a task fit
 * in L2 together), doubled while an array would need more
 * than MAX_BLOCKS (attributes stay well under HDF5's 64 KiB header
 * message limit). */
#define CHECKSUM_BLOCK ((int64_t)1 << 18)
#define MAX_BLOCKS 4096

/* ---- checksum -------------------------------------------------------------
 * The block checksum of docs/ratings-format.md.  n bytes, zero-padded to a
 * multiple of 64, read as little-endian uint64 words w; lane j of stripe s
 * is word 8s + j.  Per lane, d = w ^ K[j], a += lo32(d) * hi32(d) + w,
 * b += a (all mod 2^64): the product mixes the bits, the plain w makes
 * every change of one word change a, and b weights each stripe by its
 * position, so moved words are caught too.  The result folds n and the 16
 * sums with a multiply by an odd constant (a bijection per step). */

static const uint64_t ck_key[8] = {
    UINT64_C(0x9E3779B97F4A7C15), UINT64_C(0xC2B2AE3D27D4EB4F),
    UINT64_C(0x165667B19E3779F9), UINT64_C(0x85EBCA77C2B2AE63),
    UINT64_C(0x27D4EB2F165667C5), UINT64_C(0xFF51AFD7ED558CCD),
    UINT64_C(0xC4CEB9FE1A85EC53), UINT64_C(0x94D049BB133111EB)};
#define CK_PRIME UINT64_C(0x100000001B3)

static uint64_t load_le64(const unsigned char *p) {
  uint64_t w;
  memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  w = __builtin_bswap64(w);
#endif
  return w;
}

/* The lanes over `stripes` full stripes at p, into a[8], b[8]. */
static void lanes_portable(const unsigned char *p, size_t stripes,
                           uint64_t *a, uint64_t *b) {
  for (size_t s = 0; s < stripes; s++, p += 64)
    for (int j = 0; j < 8; j++) {
      uint64_t w = load_le64(p + 8 * j), d = w ^ ck_key[j];
      a[j] += (d & UINT64_C(0xFFFFFFFF)) * (d >> 32) + w;
      b[j] += a[j];
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* The same lanes, two (SSE2, every x86-64) or four (AVX2) per register:
 * lo32(d) * hi32(d) is exactly pmuludq of d and d >> 32.  About 12 and
 * 21 GB/s on one core here, against 6 for what gcc makes of the portable
 * loop. */
#define CK_LANE(V, add, xor, mul, srl, a, b, k, off)                          \
  do {                                                                        \
    V w_ = load((const V *)(const void *)(p + (off)));                        \
    V d_ = xor(w_, k);                                                        \
    a = add(a, add(mul(d_, srl(d_, 32)), w_));                                \
    b = add(b, a);                                                            \
  } while (0)

static void lanes_sse2(const unsigned char *p, size_t stripes, uint64_t *a,
                       uint64_t *b) {
#define load _mm_loadu_si128
  __m128i k0 = load((const __m128i *)(const void *)ck_key),
          k1 = load((const __m128i *)(const void *)(ck_key + 2)),
          k2 = load((const __m128i *)(const void *)(ck_key + 4)),
          k3 = load((const __m128i *)(const void *)(ck_key + 6));
  __m128i a0 = load((const __m128i *)(const void *)a),
          a1 = load((const __m128i *)(const void *)(a + 2)),
          a2 = load((const __m128i *)(const void *)(a + 4)),
          a3 = load((const __m128i *)(const void *)(a + 6));
  __m128i b0 = load((const __m128i *)(const void *)b),
          b1 = load((const __m128i *)(const void *)(b + 2)),
          b2 = load((const __m128i *)(const void *)(b + 4)),
          b3 = load((const __m128i *)(const void *)(b + 6));
  for (size_t s = 0; s < stripes; s++, p += 64) {
    CK_LANE(__m128i, _mm_add_epi64, _mm_xor_si128, _mm_mul_epu32,
            _mm_srli_epi64, a0, b0, k0, 0);
    CK_LANE(__m128i, _mm_add_epi64, _mm_xor_si128, _mm_mul_epu32,
            _mm_srli_epi64, a1, b1, k1, 16);
    CK_LANE(__m128i, _mm_add_epi64, _mm_xor_si128, _mm_mul_epu32,
            _mm_srli_epi64, a2, b2, k2, 32);
    CK_LANE(__m128i, _mm_add_epi64, _mm_xor_si128, _mm_mul_epu32,
            _mm_srli_epi64, a3, b3, k3, 48);
  }
#undef load
  _mm_storeu_si128((__m128i *)(void *)a, a0);
  _mm_storeu_si128((__m128i *)(void *)(a + 2), a1);
  _mm_storeu_si128((__m128i *)(void *)(a + 4), a2);
  _mm_storeu_si128((__m128i *)(void *)(a + 6), a3);
  _mm_storeu_si128((__m128i *)(void *)b, b0);
  _mm_storeu_si128((__m128i *)(void *)(b + 2), b1);
  _mm_storeu_si128((__m128i *)(void *)(b + 4), b2);
  _mm_storeu_si128((__m128i *)(void *)(b + 6), b3);
}

__attribute__((target("avx2"))) static void
lanes_avx2(const unsigned char *p, size_t stripes, uint64_t *a, uint64_t *b) {
#define load _mm256_loadu_si256
  __m256i k0 = load((const __m256i *)(const void *)ck_key),
          k1 = load((const __m256i *)(const void *)(ck_key + 4));
  __m256i a0 = load((const __m256i *)(const void *)a),
          a1 = load((const __m256i *)(const void *)(a + 4));
  __m256i b0 = load((const __m256i *)(const void *)b),
          b1 = load((const __m256i *)(const void *)(b + 4));
  for (size_t s = 0; s < stripes; s++, p += 64) {
    CK_LANE(__m256i, _mm256_add_epi64, _mm256_xor_si256, _mm256_mul_epu32,
            _mm256_srli_epi64, a0, b0, k0, 0);
    CK_LANE(__m256i, _mm256_add_epi64, _mm256_xor_si256, _mm256_mul_epu32,
            _mm256_srli_epi64, a1, b1, k1, 32);
  }
#undef load
  _mm256_storeu_si256((__m256i *)(void *)a, a0);
  _mm256_storeu_si256((__m256i *)(void *)(a + 4), a1);
  _mm256_storeu_si256((__m256i *)(void *)b, b0);
  _mm256_storeu_si256((__m256i *)(void *)(b + 4), b1);
}
#endif

static uint64_t checksum(const void *data, size_t n) {
  const unsigned char *p = data;
  uint64_t a[8] = {0}, b[8] = {0}, h = (uint64_t)n;
  size_t full = n / 64;
  int j;
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx2"))
    lanes_avx2(p, full, a, b);
  else
    lanes_sse2(p, full, a, b);
#else
  lanes_portable(p, full, a, b);
#endif
  if (n % 64) {
    unsigned char tail[64] = {0};
    memcpy(tail, p + 64 * full, n % 64);
    lanes_portable(tail, 1, a, b);
  }
  for (j = 0; j < 8; j++) {
    h = (h ^ a[j]) * CK_PRIME;
    h = (h ^ b[j]) * CK_PRIME;
  }
  return h;
}

/* Block size for an array of `bytes`. */
static int64_t checksum_block(int64_t bytes) {
  int64_t b = CHECKSUM_BLOCK;
  while ((bytes + b - 1) / b > MAX_BLOCKS) b *= 2;
  return b;
}

static int64_t n_blocks(int64_t bytes, int64_t block) {
  return bytes == 0 ? 1 : (bytes + block - 1) / block;
}

/* ---- memory ---------------------------------------------------------------
 * Fresh arrays of hundreds of megabytes cost more in page faults than in
 * copying; transparent huge pages (where the kernel offers them on
 * request) cut the faults 512-fold.  The arrays stay ordinary malloc
 * memory, freed with free(). */
static void *alloc_big(int64_t n, size_t size) {
  void *p = clearn__malloc((size_t)n + 1, size);
  if (p != NULL) clearn__advise_huge(p, ((size_t)n + 1) * size);
  return p;
}

/* ---- writing ---------------------------------------------------------------- */

static hid_t file_type(clearn_dtype d) {
  switch (d) {
  case CLEARN_INT64: return H5T_STD_I64LE;
  case CLEARN_INT32: return H5T_STD_I32LE;
  case CLEARN_FLOAT32: return H5T_IEEE_F32LE;
  case CLEARN_FLOAT64: return H5T_IEEE_F64LE;
  }
  return H5I_INVALID_HID;
}

static hid_t mem_type(clearn_dtype d) {
  switch (d) {
  case CLEARN_INT64: return H5T_NATIVE_INT64;
  case CLEARN_INT32: return H5T_NATIVE_INT32;
  case CLEARN_FLOAT32: return H5T_NATIVE_FLOAT;
  case CLEARN_FLOAT64: return H5T_NATIVE_DOUBLE;
  }
  return H5I_INVALID_HID;
}

/* A rows x 1 contiguous dataset with its checksum attributes. */
static int write_array(hid_t file, const char *name, const void *data,
                       int64_t rows, clearn_dtype dtype) {
  hsize_t dims[2] = {(hsize_t)rows, 1}, nb;
  int64_t bytes = rows * (int64_t)clearn_dtype_size(dtype);
  int64_t block = checksum_block(bytes), k;
  uint64_t *sums;
  hid_t space = H5I_INVALID_HID, dset = H5I_INVALID_HID,
        aspace = H5I_INVALID_HID, attr = H5I_INVALID_HID;
  herr_t st = -1;
  nb = (hsize_t)n_blocks(bytes, block);
  if ((sums = clearn__malloc((size_t)nb, sizeof *sums)) == NULL)
    return clearn__err(CLEARN_ENOMEM, "out of memory");
  for (k = 0; k < (int64_t)nb; k++) {
    int64_t at = k * block, len = bytes - at < block ? bytes - at : block;
    sums[k] = checksum((const char *)data + at, (size_t)len);
  }
  H5E_BEGIN_TRY {
    space = H5Screate_simple(2, dims, NULL);
    if (space >= 0)
      dset = H5Dcreate2(file, name, file_type(dtype), space, H5P_DEFAULT,
                        H5P_DEFAULT, H5P_DEFAULT);
    st = dset < 0 ? -1
         : rows > 0 ? H5Dwrite(dset, mem_type(dtype), H5S_ALL, H5S_ALL,
                               H5P_DEFAULT, data)
                    : 0;
    if (st >= 0) {
      st = -1;
      aspace = H5Screate_simple(1, &nb, NULL);
      if (aspace >= 0)
        attr = H5Acreate2(dset, "checksum", H5T_STD_U64LE, aspace,
                          H5P_DEFAULT, H5P_DEFAULT);
      if (attr >= 0 && H5Awrite(attr, H5T_NATIVE_UINT64, sums) >= 0)
        st = clearn__h5_attr_write_i64(dset, "checksum_block", block) ==
                     CLEARN_OK
                 ? 0
                 : -1;
    }
    if (attr >= 0) H5Aclose(attr);
    if (aspace >= 0) H5Sclose(aspace);
    if (dset >= 0) H5Dclose(dset);
    if (space >= 0) H5Sclose(space);
  }
  H5E_END_TRY;
  free(sums);
  if (st < 0)
    return clearn__err(CLEARN_EIO, "cannot write dataset '%s' (%lld x 1)",
                       name, (long long)rows);
  return CLEARN_OK;
}

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
    rc = write_array(a.file, "user_ids", r->user_ids, r->n_users,
                     CLEARN_INT64);
  if (rc == CLEARN_OK)
    rc = write_array(a.file, "item_ids", r->item_ids, r->n_items,
                     CLEARN_INT64);
  if (rc == CLEARN_OK)
    rc = write_array(a.file, "indptr", r->u_ptr, r->n_users + 1,
                     CLEARN_INT64);
  if (rc == CLEARN_OK)
    rc = write_array(a.file, "item_index", r->u_idx, r->nnz, CLEARN_INT32);
  if (rc == CLEARN_OK)
    rc = write_array(a.file, "rating", r->u_val, r->nnz, CLEARN_FLOAT32);
  if (rc == CLEARN_OK)
    rc = write_array(a.file, "item_indptr", r->i_ptr, r->n_items + 1,
                     CLEARN_INT64);
  if (rc == CLEARN_OK)
    rc = write_array(a.file, "user_index", r->i_idx, r->nnz, CLEARN_INT32);
  if (rc == CLEARN_OK)
    rc = write_array(a.file, "item_rating", r->i_val, r->nnz,
                     CLEARN_FLOAT32);
  if (rc == CLEARN_OK)
    rc = clearn__h5_atomic_commit(&a);
  else
    clearn__h5_atomic_abort(&a);
  if (rc != CLEARN_OK) rc = clearn__err_prefix(rc, "save '%s'", path);
  return rc;
}

/* ---- reading: header -------------------------------------------------------- */

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

/* ---- reading: datasets -------------------------------------------------------
 * An array is opened into an `array` describing how it is stored; whole
 * arrays and slices are then read by pread (direct: contiguous, stored in
 * the in-memory type, at a known file offset) or by HDF5 (anything else),
 * and checked against the block checksums, or by HDF5's Fletcher-32
 * filter for arrays another program stored with it. */

typedef struct array {
  const char *name;
  clearn_dtype dtype;
  int64_t rows;     /* elements (the shape is rows x 1) */
  int64_t bytes;    /* rows * element size, in memory */
  hid_t dset;
  int direct;       /* pread at `offset` is the array's bytes */
  int64_t offset;
  int fletcher;     /* chunked with Fletcher-32: HDF5 checks it */
  int64_t block;    /* checksum block bytes; 0: no checksum attribute */
  int64_t nblocks;
  uint64_t *sums;   /* nblocks stored checksums */
} array;

static void array_close(array *a) {
  if (a->dset >= 0) {
    H5E_BEGIN_TRY { H5Dclose(a->dset); }
    H5E_END_TRY;
  }
  a->dset = H5I_INVALID_HID;
  free(a->sums);
  a->sums = NULL;
}

/* Is rows [start, start + count) of a chunked rows x 1 dataset backed by
 * stored chunks of the right size (exact, least: clearn__h5_chunk_sizes)
 * with their checksum filter (fletcher_bit) applied?
 * The 1.8-format chunk index has no checksum, and a chunk HDF5 cannot find
 * reads as the fill value without an error (as in h5io.c). */
static int chunks_cover(hid_t dset, hid_t dcpl, int64_t start, int64_t count,
                        unsigned fletcher_bit, hsize_t exact, hsize_t least) {
  hsize_t chunk[2] = {0, 0}, c, c0, c1;
  if (count == 0) return 1;
  if (H5Pget_chunk(dcpl, 2, chunk) != 2 || chunk[0] == 0 || chunk[1] != 1)
    return 0;
  c0 = (hsize_t)start / chunk[0];
  c1 = ((hsize_t)(start + count) - 1) / chunk[0];
  for (c = c0; c <= c1; c++) {
    hsize_t off[2] = {c * chunk[0], 0}, size = 0;
    haddr_t addr = HADDR_UNDEF;
    unsigned mask = 0;
    if (H5Dget_chunk_info_by_coord(dset, off, &mask, &addr, &size) < 0 ||
        addr == HADDR_UNDEF || size < least || (exact != 0 && size != exact) ||
        (mask & fletcher_bit) != 0)
      return 0;
  }
  return 1;
}

/* Open dataset `name`, which must be rows x 1 of the class of dtype, and
 * find how it is stored.  need_sums: schema 2, where an array must carry
 * checksums (or Fletcher-32). */
static int array_open(hid_t file, const char *name, clearn_dtype dtype,
                      int64_t rows, int need_sums, int64_t file_size,
                      array *a) {
  hid_t space = H5I_INVALID_HID, ftype = H5I_INVALID_HID,
        dcpl = H5I_INVALID_HID, fcpl = H5I_INVALID_HID, attr;
  hsize_t dims[2] = {0, 0}, ub = 1, exact = 0, least = 1;
  H5T_class_t cls = H5T_NO_CLASS;
  H5D_layout_t layout = H5D_LAYOUT_ERROR;
  size_t fsize = 0;
  int ndims = -1, rc = CLEARN_OK, complete = 0, same_type = 0;
  int want_float = dtype == CLEARN_FLOAT32 || dtype == CLEARN_FLOAT64;
  unsigned fletcher_bit = 0;
  haddr_t offset = HADDR_UNDEF;
  memset(a, 0, sizeof *a);
  a->name = name;
  a->dtype = dtype;
  a->rows = rows;
  a->bytes = rows * (int64_t)clearn_dtype_size(dtype);
  H5E_BEGIN_TRY {
    a->dset = H5Dopen2(file, name, H5P_DEFAULT);
    if (a->dset >= 0) space = H5Dget_space(a->dset);
    if (a->dset >= 0) ftype = H5Dget_type(a->dset);
    if (ftype >= 0) cls = H5Tget_class(ftype);
    if (ftype >= 0) fsize = H5Tget_size(ftype);
    if (ftype >= 0) same_type = H5Tequal(ftype, mem_type(dtype)) > 0;
    if (space >= 0) ndims = H5Sget_simple_extent_ndims(space);
    if (ndims == 2) H5Sget_simple_extent_dims(space, dims, NULL);
    if (ftype >= 0) H5Tclose(ftype);
    if (space >= 0) H5Sclose(space);
  }
  H5E_END_TRY;
  if (a->dset < 0)
    return clearn__err(CLEARN_EFORMAT, "dataset '%s' is missing or unreadable",
                       name);
  if (cls != (want_float ? H5T_FLOAT : H5T_INTEGER))
    return clearn__err(CLEARN_EFORMAT, "dataset '%s' does not hold %s", name,
                       want_float ? "floating-point numbers" : "integers");
  if (ndims != 2)
    return clearn__err(CLEARN_EFORMAT,
                       "dataset '%s' has %d dimensions, expected 2", name,
                       ndims);
  if (dims[0] != (hsize_t)rows || dims[1] != 1)
    return clearn__err(CLEARN_EFORMAT,
                       "dataset '%s' has shape %llu x %llu, expected %lld x 1",
                       name, (unsigned long long)dims[0],
                       (unsigned long long)dims[1], (long long)rows);
  H5E_BEGIN_TRY {
    dcpl = H5Dget_create_plist(a->dset);
    if (dcpl >= 0) layout = H5Pget_layout(dcpl);
    if (layout == H5D_CHUNKED)
      fletcher_bit = clearn__h5_chunk_sizes(a->dset, dcpl, &exact, &least);
    if (rows == 0 || layout == H5D_COMPACT) {
      complete = 1;
    } else if (layout == H5D_CHUNKED) {
      /* As many chunks stored as the shape needs (which also bounds the
       * lookups below by what the file holds), then each one found. */
      hsize_t chunk[2] = {0, 0}, n = 0;
      hid_t fspace = H5Dget_space(a->dset);
      complete =
          H5Pget_chunk(dcpl, 2, chunk) == 2 && chunk[0] > 0 && fspace >= 0 &&
          H5Dget_num_chunks(a->dset, fspace, &n) >= 0 &&
          n == (dims[0] + chunk[0] - 1) / chunk[0] &&
          chunks_cover(a->dset, dcpl, 0, rows, fletcher_bit, exact, least);
      if (fspace >= 0) H5Sclose(fspace);
    }
    else if (layout == H5D_CONTIGUOUS)
      complete = H5Dget_storage_size(a->dset) >= dims[0] * fsize;
    if (layout == H5D_CONTIGUOUS && same_type && rows > 0) {
      offset = H5Dget_offset(a->dset);
      fcpl = H5Fget_create_plist(file);
      if (fcpl >= 0) H5Pget_userblock(fcpl, &ub);
      if (fcpl >= 0) H5Pclose(fcpl);
    }
    if (dcpl >= 0) H5Pclose(dcpl);
  }
  H5E_END_TRY;
  if (!complete)
    return clearn__err(CLEARN_EFORMAT,
                       "dataset '%s' (%llu x 1) is incomplete: part of its "
                       "data is not stored (truncated or corrupt)",
                       name, (unsigned long long)dims[0]);
  a->fletcher = fletcher_bit != 0;
  /* Bytes beyond the end of the file: truncated. */
  if (offset != HADDR_UNDEF && ub == 0 &&
      (int64_t)offset > file_size - a->bytes)
    return clearn__err(CLEARN_EFORMAT,
                       "dataset '%s' (%llu x 1) is incomplete: the file ends "
                       "before its data (truncated)",
                       name, (unsigned long long)dims[0]);
  if (offset != HADDR_UNDEF && ub == 0) {
    a->direct = 1;
    a->offset = (int64_t)offset;
  }
  if (!need_sums) return CLEARN_OK;
  /* Checksums: attribute 'checksum' (uint64, one per block) and
   * 'checksum_block' (bytes per block). */
  if (!clearn__h5_attr_exists(a->dset, "checksum")) {
    if (a->fletcher || rows == 0) return CLEARN_OK;
    return clearn__err(CLEARN_EFORMAT,
                       "dataset '%s' has no checksum (schema 2 needs a "
                       "'checksum' attribute or HDF5's Fletcher-32 filter)",
                       name);
  }
  if ((rc = clearn__h5_attr_read_i64(a->dset, "checksum_block", &a->block)) !=
      CLEARN_OK)
    return clearn__err_prefix(rc, "dataset '%s'", name);
  if (a->block < 64 || a->block % 64 != 0 || a->block > ((int64_t)1 << 40))
    return clearn__err(CLEARN_EFORMAT,
                       "dataset '%s': attribute 'checksum_block' = %lld is not "
                       "a positive multiple of 64 up to 2^40",
                       name, (long long)a->block);
  a->nblocks = n_blocks(a->bytes, a->block);
  {
    hid_t aspace = H5I_INVALID_HID, atype = H5I_INVALID_HID;
    hssize_t npts = -1;
    H5T_class_t acls = H5T_NO_CLASS;
    herr_t st = -1;
    a->sums = clearn__malloc((size_t)a->nblocks, sizeof(uint64_t));
    if (a->sums == NULL) return clearn__err(CLEARN_ENOMEM, "out of memory");
    H5E_BEGIN_TRY {
      attr = H5Aopen(a->dset, "checksum", H5P_DEFAULT);
      if (attr >= 0) aspace = H5Aget_space(attr);
      if (attr >= 0) atype = H5Aget_type(attr);
      if (atype >= 0) acls = H5Tget_class(atype);
      if (aspace >= 0) npts = H5Sget_simple_extent_npoints(aspace);
      if (acls == H5T_INTEGER && npts == a->nblocks)
        st = H5Aread(attr, H5T_NATIVE_UINT64, a->sums);
      if (atype >= 0) H5Tclose(atype);
      if (aspace >= 0) H5Sclose(aspace);
      if (attr >= 0) H5Aclose(attr);
    }
    H5E_END_TRY;
    if (st < 0)
      return clearn__err(CLEARN_EFORMAT,
                         "dataset '%s': attribute 'checksum' is not %lld "
                         "unsigned integers (one per %lld bytes) or cannot "
                         "be read",
                         name, (long long)a->nblocks, (long long)a->block);
  }
  return CLEARN_OK;
}

static int bad_block(const array *a, int64_t k) {
  int64_t at = k * a->block,
          end = at + a->block < a->bytes ? at + a->block : a->bytes;
  return clearn__err(CLEARN_EFORMAT,
                     "dataset '%s' is corrupt: bytes %lld to %lld do not match "
                     "their checksum",
                     a->name, (long long)at, (long long)end - 1);
}

static int hdf5_read_failed(const array *a) {
  return clearn__err(CLEARN_EFORMAT,
                     "dataset '%s' cannot be read (corrupt or truncated: "
                     "checksum or I/O failure)",
                     a->name);
}

/* Rows [start, start + count) by HDF5 (hyperslab, converting types). */
static int hdf5_read(const array *a, int64_t start, int64_t count,
                     void *dst) {
  hid_t space = H5I_INVALID_HID, mspace = H5I_INVALID_HID;
  hsize_t off[2] = {(hsize_t)start, 0}, cnt[2] = {(hsize_t)count, 1};
  herr_t st = -1;
  if (count == 0) return CLEARN_OK;
  H5E_BEGIN_TRY {
    space = H5Dget_space(a->dset);
    mspace = H5Screate_simple(2, cnt, NULL);
    if (space >= 0 && mspace >= 0 &&
        H5Sselect_hyperslab(space, H5S_SELECT_SET, off, NULL, cnt, NULL) >= 0)
      st = H5Dread(a->dset, mem_type(a->dtype), mspace, space, H5P_DEFAULT,
                   dst);
    if (mspace >= 0) H5Sclose(mspace);
    if (space >= 0) H5Sclose(space);
  }
  H5E_END_TRY;
  return st < 0 ? hdf5_read_failed(a) : CLEARN_OK;
}

/* Bytes [at, at + len) of a direct array; 0 or -1 (errno). */
static int pread_all(int fd, void *dst, int64_t len, int64_t at) {
  char *p = dst;
  while (len > 0) {
    ssize_t got = pread(fd, p, (size_t)len, (off_t)at);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return -1;
    p += got;
    at += got;
    len -= got;
  }
  return 0;
}

/* Checksum blocks [b0, b1) of an array whose bytes from block b0 on are at
 * mem: the index of the first that fails, or b1. */
static int64_t verify_blocks(const array *a, const char *mem, int64_t b0,
                             int64_t b1) {
  for (int64_t k = b0; k < b1; k++) {
    int64_t at = k * a->block,
            len = a->bytes - at < a->block ? a->bytes - at : a->block;
    if (checksum(mem + (at - b0 * a->block), (size_t)len) != a->sums[k])
      return k;
  }
  return b1;
}

/* The whole array into dst through HDF5 (an array not stored for direct
 * reads: another writer's types or layout), then checked. */
static int read_through_hdf5(const array *a, void *dst) {
  int64_t k;
  int rc = hdf5_read(a, 0, a->rows, dst);
  if (rc != CLEARN_OK || a->block == 0) return rc;
  k = verify_blocks(a, dst, 0, a->nblocks);
  return k == a->nblocks ? CLEARN_OK : bad_block(a, k);
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

/* Row pointers `name` (n + 1 entries) of a CSR with nnz entries. */
static int check_indptr(const int64_t *ptr, int64_t n, int64_t nnz,
                        const char *name) {
  int64_t k;
  if (ptr[0] != 0)
    return clearn__err(CLEARN_EFORMAT,
                       "dataset '%s': %s[0] = %lld, must be 0", name, name,
                       (long long)ptr[0]);
  for (k = 0; k < n; k++)
    if (ptr[k + 1] < ptr[k] || ptr[k + 1] > nnz)
      return clearn__err(CLEARN_EFORMAT,
                         "dataset '%s': %s[%lld] = %lld after %lld "
                         "(must be non-decreasing and at most nnz = %lld)",
                         name, name, (long long)k + 1, (long long)ptr[k + 1],
                         (long long)ptr[k], (long long)nnz);
  if (ptr[n] != nnz)
    return clearn__err(CLEARN_EFORMAT,
                       "dataset '%s': last entry %lld != nnz = %lld", name,
                       (long long)ptr[n], (long long)nnz);
  return CLEARN_OK;
}

/* Names of one CSR copy's datasets, for messages. */
typedef struct copy_names {
  const char *idx, *val, *row, *col; /* "item_index", "rating", "user", ... */
} copy_names;

static const copy_names by_user_names = {"item_index", "rating", "user",
                                         "item"};
static const copy_names by_item_names = {"user_index", "item_rating", "item",
                                         "user"};

/* The entries of rows [r0, r1) (idx/val hold the entries from file
 * position base on): the first bad one, as a message. */
static int entries_error(const int64_t *ptr, int64_t r0, int64_t r1,
                         int64_t base, const int32_t *idx, const float *val,
                         int64_t ncols, const copy_names *nm) {
  int64_t row, k;
  for (row = r0; row < r1; row++) {
    int32_t prev = 0;
    for (k = ptr[row] - base; k < ptr[row + 1] - base; k++) {
      int32_t c = idx[k];
      if (c < 0 || c >= ncols)
        return clearn__err(CLEARN_EFORMAT,
                           "dataset '%s': %s[%lld] = %d is out of range [0, "
                           "%lld)",
                           nm->idx, nm->idx, (long long)(k + base), c,
                           (long long)ncols);
      if (c < prev)
        return clearn__err(CLEARN_EFORMAT,
                           "dataset '%s': %s[%lld] = %d < %d within %s %lld "
                           "(must be ascending)",
                           nm->idx, nm->idx, (long long)(k + base), c, prev,
                           nm->row, (long long)row);
      prev = c;
    }
  }
  for (k = 0; k < ptr[r1] - ptr[r0]; k++)
    if (!isfinite(val[k]))
      return clearn__err(CLEARN_EFORMAT,
                         "dataset '%s': %s[%lld] = %g is not finite", nm->val,
                         nm->val, (long long)(k + base), (double)val[k]);
  return CLEARN_OK;
}

/* The copies' agreement sum: over all ratings (u, i, v), hu(u) * hi(i) *
 * (bits(v) ^ salt) mod 2^64, with hu, hi odd affine hashes of the dense
 * indices.  Each copy factors out its row's hash, so a row costs one
 * multiply and an entry one 32-bit and one 32x32->64-bit multiply, no
 * table lookups: the loop vectorizes. */
typedef struct index_hash {
  uint32_t mul, add;
} index_hash;

static const index_hash user_hash = {0x9E3779B1u, 0x7F4A7C15u};
static const index_hash item_hash = {0x85EBCA77u, 0x165667B1u};
#define RATING_SALT 0x5BD1E995u

/* Rows [r0, r1) of one copy, only their entries in [k0, k1): are the
 * column indices in [0, ncols) and ascending within rows (pairs inside
 * [k0, k1)), the values finite?  Adds their share of the agreement sum to
 * *sum (a row cut by k0 or k1 adds its part; the parts add up).  An AVX2
 * clone where the CPU has it (noinline: an inlined copy would be the
 * default clone). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx2", "default"), noinline))
#endif
static int entries_ok(const int64_t *restrict ptr, int64_t r0, int64_t r1,
                      int64_t k0, int64_t k1, const int32_t *restrict idx,
                      const float *restrict val, int64_t ncols,
                      index_hash rh, index_hash ch, uint64_t *sum) {
  const uint32_t *restrict bits = (const uint32_t *)(const void *)val;
  const uint32_t n = (uint32_t)ncols, cm = ch.mul, ca = ch.add | 1u;
  uint64_t total = 0;
  uint32_t bad = 0;
  for (int64_t row = r0; row < r1; row++) {
    const int64_t b = ptr[row] > k0 ? ptr[row] : k0,
                  e = ptr[row + 1] < k1 ? ptr[row + 1] : k1;
    uint64_t s = 0;
    for (int64_t k = b; k < e; k++) {
      const uint32_t c = (uint32_t)idx[k], x = bits[k];
      bad |= (uint32_t)(c >= n) | (uint32_t)((x & 0x7F800000u) == 0x7F800000u);
      s += (uint64_t)((c * cm + ca) | 1u) * (x ^ RATING_SALT);
    }
    for (int64_t k = b + 1; k < e; k++) bad |= (uint32_t)(idx[k] < idx[k - 1]);
    total += (uint64_t)(((uint32_t)row * rh.mul + rh.add) | 1u) * s;
  }
  *sum += total;
  return bad == 0;
}

/* Rows [r0, r1) of piece p of np of a CSR: the rows from the first whose
 * start reaches p * nnz / np (pieces of about equal entry counts). */
static void piece_rows(const int64_t *ptr, int64_t rows, int64_t p,
                       int64_t np, int64_t *r0, int64_t *r1) {
  const int64_t nnz = ptr[rows];
  for (int end = 0; end < 2; end++) {
    int64_t q = p + end, t = q * (nnz / np) + (q * (nnz % np)) / np;
    int64_t lo = 0, hi = rows;
    while (lo < hi) {
      int64_t mid = lo + (hi - lo) / 2;
      if (ptr[mid] < t)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (end == 0)
      *r0 = p == 0 ? 0 : lo;
    else
      *r1 = q == np ? rows : lo;
  }
}

/* Both copies (row pointers already checked) in one parallel pass of
 * pieces on `threads` threads: entries valid, agreement sums equal. */
static int check_copies(const clearn_ratings *r, int threads) {
  const int64_t np = 8 * (int64_t)threads;
  uint64_t *sums = clearn__calloc((size_t)(2 * np), sizeof *sums);
  unsigned char *ok = clearn__malloc((size_t)(2 * np), 1);
  uint64_t su = 0, si = 0;
  int64_t t;
  int rc = CLEARN_OK;
  if (sums == NULL || ok == NULL) {
    free(sums);
    free(ok);
    return clearn__err(CLEARN_ENOMEM, "out of memory");
  }
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (t = 0; t < 2 * np; t++) {
    int64_t r0 = 0, r1 = 0;
    if (t < np) {
      piece_rows(r->u_ptr, r->n_users, t, np, &r0, &r1);
      ok[t] = (unsigned char)entries_ok(r->u_ptr, r0, r1, r->u_ptr[r0],
                                        r->u_ptr[r1], r->u_idx, r->u_val,
                                        r->n_items, user_hash, item_hash,
                                        &sums[t]);
    } else {
      piece_rows(r->i_ptr, r->n_items, t - np, np, &r0, &r1);
      ok[t] = (unsigned char)entries_ok(r->i_ptr, r0, r1, r->i_ptr[r0],
                                        r->i_ptr[r1], r->i_idx, r->i_val,
                                        r->n_users, item_hash, user_hash,
                                        &sums[t]);
    }
  }
  for (t = 0; t < np; t++) {
    su += sums[t];
    si += sums[np + t];
  }
  for (t = 0; t < 2 * np && rc == CLEARN_OK; t++)
    if (!ok[t]) {
      /* the message comes from the plain scan, which checks alike */
      rc = t < np ? entries_error(r->u_ptr, 0, r->n_users, 0, r->u_idx,
                                  r->u_val, r->n_items, &by_user_names)
                  : entries_error(r->i_ptr, 0, r->n_items, 0, r->i_idx,
                                  r->i_val, r->n_users, &by_item_names);
      if (rc == CLEARN_OK)
        rc = clearn__err(CLEARN_EFORMAT, "invalid entries"); /* not reached */
    }
  if (rc == CLEARN_OK && su != si)
    rc = clearn__err(CLEARN_EFORMAT,
                     "datasets 'item_indptr', 'user_index', 'item_rating' "
                     "(by item) do not hold the same ratings as 'indptr', "
                     "'item_index', 'rating' (by user)");
  free(sums);
  free(ok);
  return rc;
}

/* ---- transpose ---------------------------------------------------------------
 * A counting-sort scatter from a CSR into its transpose writes each entry
 * to one of `cols` places far apart: with tens of thousands of columns the
 * write targets outgrow the caches and every entry costs a cache miss
 * (about 35 ns here, most of a part read).  Two passes over chunks of the
 * entries keep the targets few instead: the first appends each entry to
 * one of at most 256 buckets of adjacent columns (256 write streams), the
 * second scatters each bucket into its columns' rows, which lie together
 * in the output.  Both passes are stable, so the output is the one the
 * plain scatter gives: within a column, rows ascending in source order. */

typedef struct entry {
  int32_t col, row;
  float val;
} entry;

#define TRANSPOSE_CHUNK ((int64_t)1 << 18)

static int transpose_csr(int64_t rows, const int64_t *restrict sp,
                         const int32_t *restrict si,
                         const float *restrict sv, int64_t cols,
                         const int64_t *restrict dp, int32_t *restrict di,
                         float *restrict dv) {
  const int64_t nnz = sp[rows];
  int64_t *fill = NULL, *bfill = NULL, *bcount = NULL, r, k;
  entry *tmp = NULL;
  int shift = 0, nb;
  while ((cols - 1) >> shift >= 256) shift++;
  nb = cols > 0 ? (int)((cols - 1) >> shift) + 1 : 1;
  fill = clearn__malloc((size_t)cols + 1, sizeof *fill);
  if (fill == NULL) return clearn__err(CLEARN_ENOMEM, "out of memory");
  if (cols > 0) memcpy(fill, dp, (size_t)cols * sizeof *fill);
  if (shift == 0 || nnz < TRANSPOSE_CHUNK / 4) {
    /* few columns or entries: the targets fit in cache anyway */
    for (r = 0; r < rows; r++)
      for (k = sp[r]; k < sp[r + 1]; k++) {
        const int64_t at = fill[si[k]]++;
        di[at] = (int32_t)r;
        dv[at] = sv[k];
      }
    free(fill);
    return CLEARN_OK;
  }
  tmp = clearn__malloc((size_t)TRANSPOSE_CHUNK, sizeof *tmp);
  bfill = clearn__malloc((size_t)nb + 1, sizeof *bfill);
  bcount = clearn__malloc((size_t)nb + 1, sizeof *bcount);
  if (tmp == NULL || bfill == NULL || bcount == NULL) {
    free(fill);
    free(tmp);
    free(bfill);
    free(bcount);
    return clearn__err(CLEARN_ENOMEM, "out of memory");
  }
  r = 0;
  for (int64_t k0 = 0; k0 < nnz; k0 += TRANSPOSE_CHUNK) {
    const int64_t k1 = nnz - k0 < TRANSPOSE_CHUNK ? nnz : k0 + TRANSPOSE_CHUNK;
    int b;
    memset(bcount, 0, (size_t)(nb + 1) * sizeof *bcount);
    for (k = k0; k < k1; k++) bcount[(si[k] >> shift) + 1]++;
    for (b = 0; b < nb; b++) bcount[b + 1] += bcount[b];
    memcpy(bfill, bcount, (size_t)nb * sizeof *bfill);
    /* pass 1: rows in order into the buckets; r is the row of entry k */
    for (k = k0; k < k1; k++) {
      while (sp[r + 1] <= k) r++;
      entry *e = &tmp[bfill[si[k] >> shift]++];
      e->col = si[k];
      e->row = (int32_t)r;
      e->val = sv[k];
    }
    /* pass 2: each bucket into its columns */
    for (k = 0; k < k1 - k0; k++) {
      const entry e = tmp[k];
      const int64_t at = fill[e.col]++;
      di[at] = e.row;
      dv[at] = e.val;
    }
  }
  free(fill);
  free(tmp);
  free(bfill);
  free(bcount);
  return CLEARN_OK;
}

/* ---- whole load ------------------------------------------------------------ */

/* The by-item copy from the checked by-user CSR (schema 1): a counting
 * sort that visits users in ascending order, so users come out ascending
 * within each item. */
static int build_by_item(clearn_ratings *r) {
  int64_t k;
  r->i_ptr = clearn__calloc((size_t)r->n_items + 1, sizeof(int64_t));
  r->i_idx = alloc_big(r->nnz, sizeof(int32_t));
  r->i_val = alloc_big(r->nnz, sizeof(float));
  if (!r->i_ptr || !r->i_idx || !r->i_val)
    return clearn__err(CLEARN_ENOMEM, "cannot allocate %lld ratings",
                       (long long)r->nnz);
  for (k = 0; k < r->nnz; k++) r->i_ptr[r->u_idx[k] + 1]++;
  for (k = 0; k < r->n_items; k++) r->i_ptr[k + 1] += r->i_ptr[k];
  return transpose_csr(r->n_users, r->u_ptr, r->u_idx, r->u_val, r->n_items,
                       r->i_ptr, r->i_idx, r->i_val);
}

/* Schema 1: the by-user copy through HDF5 (Fletcher-32 chunks), checked,
 * and the by-item copy built. */
static int load_v1(hid_t file, clearn_ratings *r, int64_t file_size) {
  static const struct {
    const char *name;
    clearn_dtype dtype;
  } spec[5] = {{"user_ids", CLEARN_INT64},
               {"item_ids", CLEARN_INT64},
               {"indptr", CLEARN_INT64},
               {"item_index", CLEARN_INT32},
               {"rating", CLEARN_FLOAT32}};
  int64_t rows[5] = {r->n_users, r->n_items, r->n_users + 1, r->nnz, r->nnz};
  void **dst[5] = {(void **)&r->user_ids, (void **)&r->item_ids,
                   (void **)&r->u_ptr, (void **)&r->u_idx,
                   (void **)&r->u_val};
  int rc = CLEARN_OK;
  for (int d = 0; d < 5 && rc == CLEARN_OK; d++) {
    array a;
    rc = array_open(file, spec[d].name, spec[d].dtype, rows[d], 0, file_size,
                    &a);
    if (rc == CLEARN_OK) {
      *dst[d] = alloc_big(rows[d], clearn_dtype_size(spec[d].dtype));
      rc = *dst[d] == NULL ? clearn__err(CLEARN_ENOMEM, "out of memory")
                           : hdf5_read(&a, 0, rows[d], *dst[d]);
    }
    array_close(&a);
  }
  if (rc == CLEARN_OK &&
      ((rc = check_ids(r->user_ids, r->n_users, "user_ids")) != CLEARN_OK ||
       (rc = check_ids(r->item_ids, r->n_items, "item_ids")) != CLEARN_OK ||
       (rc = check_indptr(r->u_ptr, r->n_users, r->nnz, "indptr")) !=
           CLEARN_OK ||
       (rc = entries_error(r->u_ptr, 0, r->n_users, 0, r->u_idx, r->u_val,
                           r->n_items, &by_user_names)) != CLEARN_OK))
    return rc;
  return rc == CLEARN_OK ? build_by_item(r) : rc;
}

/* Arrays list[0 .. n) into dst[]: those not stored for direct reads
 * through HDF5, the others by checksum blocks, all blocks of all of them
 * in one parallel loop; the first failure in list and block order is
 * reported, whichever thread met it. */
static int read_arrays(const array *arr, void *const *dst, const int *list,
                       int n, int fd, int threads) {
  int64_t first[9], t, n_tasks;
  unsigned char *fail; /* per block: 0 good, 1 I/O, 2 checksum */
  int rc = CLEARN_OK, i;
  first[0] = 0;
  for (i = 0; i < n; i++) {
    const array *a = &arr[list[i]];
    int direct = a->direct && a->block > 0 && a->rows > 0;
    if (rc == CLEARN_OK && !direct) rc = read_through_hdf5(a, dst[list[i]]);
    first[i + 1] = first[i] + (direct ? a->nblocks : 0);
  }
  n_tasks = first[n];
  if (rc != CLEARN_OK || n_tasks == 0) return rc;
  if ((fail = clearn__calloc((size_t)n_tasks, 1)) == NULL)
    return clearn__err(CLEARN_ENOMEM, "out of memory");
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (t = 0; t < n_tasks; t++) {
    int j = 0;
    while (t >= first[j + 1]) j++;
    const array *a = &arr[list[j]];
    int64_t at = (t - first[j]) * a->block,
            len = a->bytes - at < a->block ? a->bytes - at : a->block;
    char *mem = (char *)dst[list[j]] + at;
    if (pread_all(fd, mem, len, a->offset + at) != 0)
      fail[t] = 1;
    else if (checksum(mem, (size_t)len) != a->sums[t - first[j]])
      fail[t] = 2;
  }
  for (t = 0; t < n_tasks && rc == CLEARN_OK; t++)
    if (fail[t]) {
      i = 0;
      while (t >= first[i + 1]) i++;
      rc = fail[t] == 2 ? bad_block(&arr[list[i]], t - first[i])
                        : clearn__err(CLEARN_EFORMAT,
                                      "dataset '%s' cannot be read "
                                      "(truncated file or I/O error)",
                                      arr[list[i]].name);
    }
  free(fail);
  return rc;
}

/* Lower bound of v in ptr[0 .. n]. */
static int64_t lower_bound(const int64_t *ptr, int64_t n, int64_t v) {
  int64_t lo = 0, hi = n + 1;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (ptr[mid] < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* The four per-rating arrays, stored for direct reads with one block
 * size: each task reads block b of one copy's index and value arrays,
 * checks their checksums and then, while they are in cache, their entries
 * (the row pointers are already checked).  Saves a second pass over 320 MB
 * of memory at ml-20m scale. */
static int read_and_check_fused(const clearn_ratings *r, const array *arr,
                                int fd, int threads) {
  const int64_t nb = arr[3].nblocks, per = arr[3].block / 4, nnz = r->nnz;
  int64_t t;
  unsigned char *fail = clearn__calloc((size_t)(2 * nb), 2), *ok;
  uint64_t *sums = clearn__calloc((size_t)(2 * nb), sizeof *sums), su = 0,
           si = 0;
  int rc = CLEARN_OK;
  if (fail == NULL || sums == NULL) {
    free(fail);
    free(sums);
    return clearn__err(CLEARN_ENOMEM, "out of memory");
  }
  ok = fail + 2 * nb;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (t = 0; t < 2 * nb; t++) {
    const int c = t >= nb;                  /* 0 by user, 1 by item */
    const int64_t b = t - c * nb, k0 = b * per,
                  k1 = nnz - k0 < per ? nnz : k0 + per;
    const array *ai = &arr[c ? 6 : 3], *av = &arr[c ? 7 : 4];
    int32_t *idx = c ? r->i_idx : r->u_idx;
    float *val = c ? r->i_val : r->u_val;
    const int64_t *ptr = c ? r->i_ptr : r->u_ptr,
                  rows = c ? r->n_items : r->n_users;
    const int64_t bytes = (k1 - k0) * 4;
    if (pread_all(fd, idx + k0, bytes, ai->offset + k0 * 4) != 0 ||
        pread_all(fd, val + k0, bytes, av->offset + k0 * 4) != 0)
      fail[t] = 1;
    else if (checksum(idx + k0, (size_t)bytes) != ai->sums[b])
      fail[t] = 2;
    else if (checksum(val + k0, (size_t)bytes) != av->sums[b])
      fail[t] = 3;
    else
      ok[t] = (unsigned char)entries_ok(
          ptr, lower_bound(ptr, rows, k0 + 1) - 1, lower_bound(ptr, rows, k1),
          k0, k1, idx, val, c ? r->n_users : r->n_items,
          c ? item_hash : user_hash, c ? user_hash : item_hash, &sums[t]);
  }
  /* Damage first, in dataset order (item_index, rating, user_index,
   * item_rating), then block order. */
  for (int d = 0; d < 4 && rc == CLEARN_OK; d++)
    for (t = (d >= 2) * nb; t < (d >= 2 ? 2 : 1) * nb && rc == CLEARN_OK;
         t++)
      if (fail[t] == 1)
        rc = clearn__err(CLEARN_EFORMAT,
                         "dataset '%s' cannot be read (truncated file or I/O "
                         "error)",
                         arr[3 + d + (d >= 2)].name);
      else if (fail[t] == 2 + (d & 1))
        rc = bad_block(&arr[3 + d + (d >= 2)], t - (d >= 2) * nb);
  for (t = 0; t < 2 * nb && rc == CLEARN_OK; t++) {
    const int c = t >= nb;
    const int64_t *ptr = c ? r->i_ptr : r->u_ptr,
                  rows = c ? r->n_items : r->n_users;
    const int32_t *idx = c ? r->i_idx : r->u_idx;
    const int64_t k0 = (t - c * nb) * per;
    /* a row running across a block boundary: its pair there */
    int pair_ok = k0 == 0 || k0 >= nnz ||
                  ptr[lower_bound(ptr, rows, k0 + 1) - 1] == k0 ||
                  idx[k0 - 1] <= idx[k0];
    if (!ok[t] || !pair_ok) {
      rc = c ? entries_error(r->i_ptr, 0, r->n_items, 0, r->i_idx, r->i_val,
                             r->n_users, &by_item_names)
             : entries_error(r->u_ptr, 0, r->n_users, 0, r->u_idx, r->u_val,
                             r->n_items, &by_user_names);
      if (rc == CLEARN_OK) /* not reached: the scans check alike */
        rc = clearn__err(CLEARN_EFORMAT, "invalid entries");
    }
    if (c)
      si += sums[t];
    else
      su += sums[t];
  }
  if (rc == CLEARN_OK && su != si)
    rc = clearn__err(CLEARN_EFORMAT,
                     "datasets 'item_indptr', 'user_index', 'item_rating' "
                     "(by item) do not hold the same ratings as 'indptr', "
                     "'item_index', 'rating' (by user)");
  free(fail);
  free(sums);
  return rc;
}

/* Schema 2: all eight arrays read in place, checked, and the copies'
 * agreement sums compared. */
static int load_v2(hid_t file, clearn_ratings *r, int fd, int64_t file_size) {
  static const int small[4] = {0, 1, 2, 5}, big[4] = {3, 4, 6, 7};
  const int64_t nu = r->n_users, ni = r->n_items, nnz = r->nnz;
  struct {
    const char *name;
    clearn_dtype dtype;
    int64_t rows;
  } spec[8] = {
      {"user_ids", CLEARN_INT64, nu},      {"item_ids", CLEARN_INT64, ni},
      {"indptr", CLEARN_INT64, nu + 1},    {"item_index", CLEARN_INT32, nnz},
      {"rating", CLEARN_FLOAT32, nnz},     {"item_indptr", CLEARN_INT64, ni + 1},
      {"user_index", CLEARN_INT32, nnz},   {"item_rating", CLEARN_FLOAT32, nnz},
  };
  void **dst[8] = {(void **)&r->user_ids, (void **)&r->item_ids,
                   (void **)&r->u_ptr,    (void **)&r->u_idx,
                   (void **)&r->u_val,    (void **)&r->i_ptr,
                   (void **)&r->i_idx,    (void **)&r->i_val};
  void *mem[8];
  array arr[8];
  int threads = clearn__threads(), rc = CLEARN_OK, d, opened = 0, fused = 1;
  /* Threads pay off only for big arrays (waking them costs more than
   * reading a few megabytes). */
  if (threads < 1 || nnz < ((int64_t)1 << 19)) threads = 1;
  for (d = 0; d < 8 && rc == CLEARN_OK; d++, opened++) {
    rc = array_open(file, spec[d].name, spec[d].dtype, spec[d].rows, 1,
                    file_size, &arr[d]);
    if (rc == CLEARN_OK &&
        (*dst[d] = alloc_big(spec[d].rows, clearn_dtype_size(spec[d].dtype))) ==
            NULL)
      rc = clearn__err(CLEARN_ENOMEM, "cannot allocate %lld ratings",
                       (long long)nnz);
    mem[d] = rc == CLEARN_OK ? *dst[d] : NULL;
  }
  if (rc == CLEARN_OK) rc = read_arrays(arr, mem, small, 4, fd, 1);
  if (rc == CLEARN_OK) rc = check_ids(r->user_ids, nu, "user_ids");
  if (rc == CLEARN_OK) rc = check_ids(r->item_ids, ni, "item_ids");
  if (rc == CLEARN_OK) rc = check_indptr(r->u_ptr, nu, nnz, "indptr");
  if (rc == CLEARN_OK) rc = check_indptr(r->i_ptr, ni, nnz, "item_indptr");
  for (d = 0; d < 4 && rc == CLEARN_OK; d++)
    fused &= arr[big[d]].direct && arr[big[d]].block == arr[3].block &&
             arr[3].block > 0 && nnz > 0;
  if (rc == CLEARN_OK && fused) {
    rc = read_and_check_fused(r, arr, fd, threads);
  } else if (rc == CLEARN_OK) {
    rc = read_arrays(arr, mem, big, 4, fd, threads);
    if (rc == CLEARN_OK) rc = check_copies(r, threads);
  }
  for (d = 0; d < opened; d++) array_close(&arr[d]);
  return rc;
}

static int open_file(const char *path, hid_t *file, int *fd,
                     int64_t *file_size) {
  struct stat st;
  int rc = clearn__h5_open_read(path, file);
  *fd = -1;
  if (rc != CLEARN_OK) return rc;
  *fd = open(path, O_RDONLY);
  if (*fd < 0 || fstat(*fd, &st) != 0)
    return clearn__err(CLEARN_EIO, "cannot open '%s': %s", path,
                       strerror(errno));
  *file_size = (int64_t)st.st_size;
  return CLEARN_OK;
}

int clearn_ratings_load(const char *path, clearn_ratings **out) {
  hid_t file = H5I_INVALID_HID;
  clearn_ratings *r = NULL;
  int64_t file_size = 0;
  int fd = -1, rc;
  header h;
  if (out == NULL)
    return clearn__err(CLEARN_EINVAL, "ratings load: out is NULL");
  *out = NULL;
  if (path == NULL)
    return clearn__err(CLEARN_EINVAL, "ratings load: path is NULL");
  if ((rc = open_file(path, &file, &fd, &file_size)) != CLEARN_OK) {
    if (file >= 0) H5Fclose(file);
    return clearn__err_prefix(rc, "load");
  }
  if ((rc = read_header(file, &h)) != CLEARN_OK) goto cleanup;
  if ((r = calloc(1, sizeof *r)) == NULL) {
    rc = clearn__err(CLEARN_ENOMEM, "out of memory");
    goto cleanup;
  }
  r->n_users = h.n_users;
  r->n_items = h.n_items;
  r->nnz = h.nnz;
  rc = h.version == 1 ? load_v1(file, r, file_size)
                      : load_v2(file, r, fd, file_size);
  if (rc != CLEARN_OK) goto cleanup;
  clearn__ratings_set_views(r);
  *out = r;
  r = NULL;
cleanup:
  if (fd >= 0) close(fd);
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

/* Elements [k0, k1) of an array into a new buffer *out: the slice alone
 * by hyperslab, or, if the array has checksums, the checksum blocks
 * around it (each then checked) and the slice moved to the front. */
static int read_part(const array *a, int64_t k0, int64_t k1, void **out) {
  size_t es = clearn_dtype_size(a->dtype);
  int64_t s0 = k0, s1 = k1, b0 = 0, b1 = 0;
  char *buf;
  int rc;
  *out = NULL;
  if (a->block > 0) {
    int64_t per = a->block / (int64_t)es; /* elements per block */
    b0 = k0 / per;
    b1 = k1 == k0 ? b0 : (k1 - 1) / per + 1;
    s0 = b0 * per;
    s1 = b1 * per < a->rows ? b1 * per : a->rows;
  }
  if ((buf = alloc_big(s1 - s0, es)) == NULL)
    return clearn__err(CLEARN_ENOMEM, "cannot allocate %lld ratings",
                       (long long)(s1 - s0));
  if ((rc = hdf5_read(a, s0, s1 - s0, buf)) != CLEARN_OK) {
    free(buf);
    return rc;
  }
  if (a->block > 0 && k1 > k0) {
    int64_t bad = verify_blocks(a, buf, b0, b1);
    if (bad < b1) {
      free(buf);
      return bad_block(a, bad);
    }
  }
  if (k0 > s0) memmove(buf, buf + (k0 - s0) * es, (size_t)(k1 - k0) * es);
  *out = buf;
  return CLEARN_OK;
}

/* The entries of users [u0, u1), which start at file position base:
 * the vectorized scan, and the plain one for the message if it fails. */
static int check_slice(const int64_t *ptr, int64_t u0, int64_t u1,
                       int64_t base, const void *idx, const void *val,
                       int64_t n_items) {
  uint64_t unused = 0;
  int64_t *rel = clearn__malloc((size_t)(u1 - u0) + 1, sizeof *rel), u;
  int ok;
  if (rel == NULL) return clearn__err(CLEARN_ENOMEM, "out of memory");
  for (u = u0; u <= u1; u++) rel[u - u0] = ptr[u] - base;
  ok = entries_ok(rel, 0, u1 - u0, 0, rel[u1 - u0], idx, val, n_items,
                  user_hash, item_hash, &unused);
  free(rel);
  if (ok) return CLEARN_OK;
  if (entries_error(ptr, u0, u1, base, idx, val, n_items, &by_user_names) ==
      CLEARN_OK) /* not reached: both scans check alike */
    return clearn__err(CLEARN_EFORMAT, "dataset 'item_index': invalid entries");
  return CLEARN_EFORMAT;
}

/* The small arrays of a part read: whole, checked. */
static int read_small(hid_t file, const char *name, int64_t rows,
                      int need_sums, int64_t file_size, int64_t **out) {
  array a;
  void *p = NULL;
  int rc = array_open(file, name, CLEARN_INT64, rows, need_sums, file_size,
                      &a);
  if (rc == CLEARN_OK) rc = read_part(&a, 0, rows, &p);
  array_close(&a);
  *out = p;
  return rc;
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
  r->i_idx = alloc_big(nnz, sizeof(int32_t));
  r->i_val = alloc_big(nnz, sizeof(float));
  if (!r->user_ids || !r->item_ids || !r->u_ptr || !r->i_ptr || !r->i_idx ||
      !r->i_val)
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
  if ((rc = transpose_csr(nu, r->u_ptr, r->u_idx, r->u_val, ni, r->i_ptr,
                          r->i_idx, r->i_val)) != CLEARN_OK)
    goto cleanup;
  clearn__ratings_set_views(r);
  *out = r;
  r = NULL;
  goto cleanup;
nomem:
  rc = clearn__err(CLEARN_ENOMEM, "cannot allocate %lld ratings",
                   (long long)nnz);
cleanup:
  free(map);
  clearn_ratings_free(r);
  return rc;
}

int clearn_ratings_load_part(const char *path, int64_t part, int64_t n_parts,
                             clearn_ratings **out) {
  hid_t file = H5I_INVALID_HID;
  int64_t *user_ids = NULL, *item_ids = NULL, *ptr = NULL, u0, u1, k0, k1;
  int64_t file_size = 0;
  array ai = {.dset = H5I_INVALID_HID}, av = {.dset = H5I_INVALID_HID};
  void *idx = NULL, *val = NULL;
  int fd = -1, rc, v2;
  header h;
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
  if ((rc = open_file(path, &file, &fd, &file_size)) != CLEARN_OK) {
    if (file >= 0) H5Fclose(file);
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
  v2 = h.version >= 2;
  if (n_parts == 1 && v2) {
    /* The share is the whole file: read both stored copies as a whole
     * load does (no transpose), unless some id has no ratings (the part
     * would leave it out; another writer's file), then as any part. */
    clearn_ratings *r = calloc(1, sizeof *r);
    int64_t k, empty = 0;
    if (r == NULL) {
      rc = clearn__err(CLEARN_ENOMEM, "out of memory");
      goto cleanup;
    }
    r->n_users = h.n_users;
    r->n_items = h.n_items;
    r->nnz = h.nnz;
    rc = load_v2(file, r, fd, file_size);
    for (k = 0; rc == CLEARN_OK && k < r->n_users; k++)
      empty += r->u_ptr[k + 1] == r->u_ptr[k];
    for (k = 0; rc == CLEARN_OK && k < r->n_items; k++)
      empty += r->i_ptr[k + 1] == r->i_ptr[k];
    if (rc == CLEARN_OK && empty == 0) {
      clearn__ratings_set_views(r);
      *out = r;
      goto cleanup;
    }
    clearn_ratings_free(r);
    if (rc != CLEARN_OK) goto cleanup;
  }
  if ((rc = read_small(file, "user_ids", h.n_users, v2, file_size,
                       &user_ids)) != CLEARN_OK ||
      (rc = read_small(file, "item_ids", h.n_items, v2, file_size,
                       &item_ids)) != CLEARN_OK ||
      (rc = read_small(file, "indptr", h.n_users + 1, v2, file_size, &ptr)) !=
          CLEARN_OK)
    goto cleanup;
  if ((rc = check_ids(user_ids, h.n_users, "user_ids")) != CLEARN_OK ||
      (rc = check_ids(item_ids, h.n_items, "item_ids")) != CLEARN_OK ||
      (rc = check_indptr(ptr, h.n_users, h.nnz, "indptr")) != CLEARN_OK)
    goto cleanup;
  u0 = block_start(ptr, h.n_users, h.nnz, part, n_parts);
  u1 = block_start(ptr, h.n_users, h.nnz, part + 1, n_parts);
  k0 = ptr[u0];
  k1 = ptr[u1];
  if ((rc = array_open(file, "item_index", CLEARN_INT32, h.nnz, v2, file_size,
                       &ai)) != CLEARN_OK ||
      (rc = array_open(file, "rating", CLEARN_FLOAT32, h.nnz, v2, file_size,
                       &av)) != CLEARN_OK ||
      (rc = read_part(&ai, k0, k1, &idx)) != CLEARN_OK ||
      (rc = read_part(&av, k0, k1, &val)) != CLEARN_OK ||
      (rc = check_slice(ptr, u0, u1, k0, idx, val, h.n_items)) != CLEARN_OK)
    goto cleanup;
  rc = build_part(user_ids, item_ids, h.n_items, ptr, u0, u1,
                  (int32_t **)&idx, (float **)&val, out);
cleanup:
  array_close(&ai);
  array_close(&av);
  if (fd >= 0) close(fd);
  if (file >= 0) H5Fclose(file);
  free(user_ids);
  free(item_ids);
  free(ptr);
  free(idx);
  free(val);
  if (rc != CLEARN_OK) rc = clearn__err_prefix(rc, "load_part '%s'", path);
  return rc;
}
