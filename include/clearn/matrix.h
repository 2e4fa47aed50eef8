/*
 * clearn/matrix.h -- dense and CSR sparse containers.
 *
 * Both containers are opaque handles with two ownership modes:
 *
 *   OWNED    created by clearn_matrix_create() / clearn_csr_create() (or
 *            returned by a clearn call, e.g. clearn_estimator_predict()):
 *            clearn allocated the storage and the matching _free() releases
 *            it.
 *   BORROWED created by clearn_matrix_wrap() / clearn_csr_wrap(): the handle
 *            points at the caller's memory, which is never copied, modified
 *            or freed by clearn.  The caller keeps that memory alive until
 *            the handle is freed.  _free() releases only the handle.
 *
 * Dense matrices are row-major and contiguous: element (i, j) is at
 * data[i * cols + j].  A vector of n values is an n x 1 matrix.
 *
 * Handles are not internally locked: one handle must not be modified by two
 * threads at once; read-only use from several threads is safe.
 */
#ifndef CLEARN_MATRIX_H
#define CLEARN_MATRIX_H

#include "clearn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Element types.  Fixed numeric values (stored in files). */
typedef enum {
  CLEARN_FLOAT64 = 1, /* double: linear models, outputs */
  CLEARN_FLOAT32 = 2, /* float: ALS factors */
  CLEARN_INT64 = 3,   /* int64_t: ids, labels, counts */
  CLEARN_INT32 = 4    /* int32_t: dense indices */
} clearn_dtype;

/* Size in bytes of one element of dtype, or 0 for an unknown dtype. */
CLEARN_API size_t clearn_dtype_size(clearn_dtype dtype);

typedef struct clearn_matrix clearn_matrix;

/* Allocate an OWNED rows x cols matrix of dtype, zero-filled.  rows or cols
 * may be 0.  Returns CLEARN_OK and sets *out, or CLEARN_EINVAL (bad dtype,
 * size overflow) / CLEARN_ENOMEM with *out = NULL. */
CLEARN_API int clearn_matrix_create(int64_t rows, int64_t cols,
                                    clearn_dtype dtype, clearn_matrix **out);

/* Create a BORROWED view of caller memory holding rows x cols elements of
 * dtype, row-major and contiguous.  data may be NULL only if rows*cols == 0.
 * The view is read-only for clearn: inputs are never modified. */
CLEARN_API int clearn_matrix_wrap(const void *data, int64_t rows, int64_t cols,
                                  clearn_dtype dtype, clearn_matrix **out);

/* OWNED deep copy of m (also of a borrowed view). */
CLEARN_API int clearn_matrix_copy(const clearn_matrix *m, clearn_matrix **out);

/* Release the handle and, if OWNED, its storage.  NULL is a no-op. */
CLEARN_API void clearn_matrix_free(clearn_matrix *m);

CLEARN_API int64_t clearn_matrix_rows(const clearn_matrix *m);
CLEARN_API int64_t clearn_matrix_cols(const clearn_matrix *m);
CLEARN_API clearn_dtype clearn_matrix_dtype(const clearn_matrix *m);
/* 1 if the handle owns its storage, 0 if it is a borrowed view. */
CLEARN_API int clearn_matrix_is_owned(const clearn_matrix *m);

/* Read-only pointer to the elements (NULL for an empty matrix). */
CLEARN_API const void *clearn_matrix_data(const clearn_matrix *m);
/* Writable pointer to the elements of an OWNED matrix; NULL for a borrowed
 * view (clearn never writes through a view). */
CLEARN_API void *clearn_matrix_mutable_data(clearn_matrix *m);

/* Convenience element access for float64 matrices (no bounds check beyond
 * an assertion-free clamp: out-of-range returns NaN). */
CLEARN_API double clearn_matrix_get(const clearn_matrix *m, int64_t i,
                                    int64_t j);

/* ---- HDF5 files ------------------------------------------------------------
 * A dense matrix as a 2-D dataset `name` of an HDF5 file, for data shared
 * by the ranks of a distributed fit: each rank reads only its own rows. */

/* Write m (any dtype) as dataset `name` of a new file at path (replaced
 * atomically: written to a temporary name, flushed, renamed).  I/O
 * failure: CLEARN_EIO. */
CLEARN_API int clearn_matrix_save_h5(const clearn_matrix *m, const char *path,
                                     const char *name);

/* Shape of dataset `name` (2-D, floating point) without reading it.  Not
 * HDF5, missing or not 2-D floating point: CLEARN_EFORMAT; unreadable
 * file: CLEARN_EIO. */
CLEARN_API int clearn_matrix_h5_shape(const char *path, const char *name,
                                      int64_t *rows, int64_t *cols);

/* Rows [row_begin, row_begin + n_rows) of dataset `name` as an OWNED
 * float64 matrix (n_rows < 0: to the last row); only those rows are read.
 * A range outside the dataset: CLEARN_EINVAL naming it.  For a rank r of
 * size ranks, rows [n r / size, n (r + 1) / size) give every row once.
 * Thread-safe only with a thread-safe HDF5 build. */
CLEARN_API int clearn_matrix_load_h5_rows(const char *path, const char *name,
                                          int64_t row_begin, int64_t n_rows,
                                          clearn_matrix **out);

/*
 * CSR sparse matrix: row i's entries are indices[indptr[i] .. indptr[i+1])
 * (column numbers, int32, ascending within a row is NOT required) with
 * values[] of dtype CLEARN_FLOAT64 or CLEARN_FLOAT32.  indptr has rows + 1
 * int64 entries, indptr[0] == 0 and indptr[rows] == nnz.
 */
typedef struct clearn_csr clearn_csr;

/* OWNED CSR with room for nnz entries; indptr zero-filled. */
CLEARN_API int clearn_csr_create(int64_t rows, int64_t cols, int64_t nnz,
                                 clearn_dtype dtype, clearn_csr **out);

/* BORROWED view of caller arrays.  The structure is validated (indptr
 * monotone from 0 to nnz, every index in [0, cols)); a violation returns
 * CLEARN_EINVAL with a message naming the first bad row or entry. */
CLEARN_API int clearn_csr_wrap(int64_t rows, int64_t cols, int64_t nnz,
                               const int64_t *indptr, const int32_t *indices,
                               const void *values, clearn_dtype dtype,
                               clearn_csr **out);

/* Release the handle and, if OWNED, its arrays.  NULL is a no-op. */
CLEARN_API void clearn_csr_free(clearn_csr *m);

CLEARN_API int64_t clearn_csr_rows(const clearn_csr *m);
CLEARN_API int64_t clearn_csr_cols(const clearn_csr *m);
CLEARN_API int64_t clearn_csr_nnz(const clearn_csr *m);
CLEARN_API clearn_dtype clearn_csr_dtype(const clearn_csr *m);
CLEARN_API int clearn_csr_is_owned(const clearn_csr *m);
CLEARN_API const int64_t *clearn_csr_indptr(const clearn_csr *m);
CLEARN_API const int32_t *clearn_csr_indices(const clearn_csr *m);
CLEARN_API const void *clearn_csr_values(const clearn_csr *m);
/* Writable arrays of an OWNED CSR (NULL for a borrowed view).  After
 * filling them, call clearn_csr_validate(). */
CLEARN_API int64_t *clearn_csr_mutable_indptr(clearn_csr *m);
CLEARN_API int32_t *clearn_csr_mutable_indices(clearn_csr *m);
CLEARN_API void *clearn_csr_mutable_values(clearn_csr *m);
/* Check the structure as clearn_csr_wrap() does. */
CLEARN_API int clearn_csr_validate(const clearn_csr *m);

#ifdef __cplusplus
}
#endif
#endif /* CLEARN_MATRIX_H */
