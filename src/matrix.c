/*
 * matrix.c -- dense row-major matrices and CSR matrices.
 *
 * A handle records whether it owns its storage.  Borrowed views let callers
 * (and the Python binding) hand clearn numpy buffers without a copy, which
 * matters at MovieLens scale where X or the ratings are gigabytes; owned
 * storage is what clearn returns.  Dense storage is contiguous row-major
 * because that is numpy's default layout and what the BLAS layer expects.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

size_t clearn_dtype_size(clearn_dtype dtype) {
  switch (dtype) {
  case CLEARN_FLOAT64: return sizeof(double);
  case CLEARN_FLOAT32: return sizeof(float);
  case CLEARN_INT64: return sizeof(int64_t);
  case CLEARN_INT32: return sizeof(int32_t);
  }
  return 0;
}

/* rows * cols * elsize without overflow; 0 on a bad request. */
static int dense_bytes(int64_t rows, int64_t cols, clearn_dtype dtype,
                       size_t *bytes) {
  size_t es = clearn_dtype_size(dtype);
  if (es == 0)
    return clearn__err(CLEARN_EINVAL, "matrix: unknown dtype %d", (int)dtype);
  if (rows < 0 || cols < 0)
    return clearn__err(CLEARN_EINVAL,
                       "matrix: negative shape %lld x %lld",
                       (long long)rows, (long long)cols);
  if (cols != 0 && (uint64_t)rows > SIZE_MAX / es / (uint64_t)cols)
    return clearn__err(CLEARN_EINVAL, "matrix: %lld x %lld is too large",
                       (long long)rows, (long long)cols);
  *bytes = (size_t)rows * (size_t)cols * es;
  return CLEARN_OK;
}

int clearn_matrix_create(int64_t rows, int64_t cols, clearn_dtype dtype,
                         clearn_matrix **out) {
  size_t bytes = 0;
  int rc;
  clearn_matrix *m;
  if (out == NULL) return clearn__err(CLEARN_EINVAL, "matrix: out is NULL");
  *out = NULL;
  if ((rc = dense_bytes(rows, cols, dtype, &bytes)) != CLEARN_OK) return rc;
  m = calloc(1, sizeof *m);
  if (m == NULL) return clearn__err(CLEARN_ENOMEM, "matrix: out of memory");
  if (bytes > 0) {
    m->data = calloc(1, bytes);
    if (m->data == NULL) {
      free(m);
      return clearn__err(CLEARN_ENOMEM,
                         "matrix: cannot allocate %lld x %lld (%zu bytes)",
                         (long long)rows, (long long)cols, bytes);
    }
  }
  m->rows = rows;
  m->cols = cols;
  m->dtype = dtype;
  m->owned = 1;
  *out = m;
  return CLEARN_OK;
}

int clearn_matrix_wrap(const void *data, int64_t rows, int64_t cols,
                       clearn_dtype dtype, clearn_matrix **out) {
  size_t bytes = 0;
  int rc;
  clearn_matrix *m;
  if (out == NULL) return clearn__err(CLEARN_EINVAL, "matrix: out is NULL");
  *out = NULL;
  if ((rc = dense_bytes(rows, cols, dtype, &bytes)) != CLEARN_OK) return rc;
  if (data == NULL && bytes > 0)
    return clearn__err(CLEARN_EINVAL,
                       "matrix: data is NULL for a %lld x %lld view",
                       (long long)rows, (long long)cols);
  m = calloc(1, sizeof *m);
  if (m == NULL) return clearn__err(CLEARN_ENOMEM, "matrix: out of memory");
  m->data = bytes > 0 ? (void *)data : NULL; /* never written: owned == 0 */
  m->rows = rows;
  m->cols = cols;
  m->dtype = dtype;
  m->owned = 0;
  *out = m;
  return CLEARN_OK;
}

int clearn_matrix_copy(const clearn_matrix *src, clearn_matrix **out) {
  int rc;
  if (src == NULL) {
    if (out) *out = NULL;
    return clearn__err(CLEARN_EINVAL, "matrix: source is NULL");
  }
  rc = clearn_matrix_create(src->rows, src->cols, src->dtype, out);
  if (rc != CLEARN_OK) return rc;
  if (src->data != NULL)
    memcpy((*out)->data, src->data,
           (size_t)src->rows * (size_t)src->cols *
               clearn_dtype_size(src->dtype));
  return CLEARN_OK;
}

void clearn_matrix_free(clearn_matrix *m) {
  if (m == NULL) return;
  if (m->owned) free(m->data);
  free(m);
}

int64_t clearn_matrix_rows(const clearn_matrix *m) { return m ? m->rows : 0; }
int64_t clearn_matrix_cols(const clearn_matrix *m) { return m ? m->cols : 0; }
clearn_dtype clearn_matrix_dtype(const clearn_matrix *m) {
  return m ? m->dtype : (clearn_dtype)0;
}
int clearn_matrix_is_owned(const clearn_matrix *m) { return m ? m->owned : 0; }
const void *clearn_matrix_data(const clearn_matrix *m) {
  return m ? m->data : NULL;
}
void *clearn_matrix_mutable_data(clearn_matrix *m) {
  return m && m->owned ? m->data : NULL;
}

double clearn_matrix_get(const clearn_matrix *m, int64_t i, int64_t j) {
  if (m == NULL || m->dtype != CLEARN_FLOAT64 || i < 0 || j < 0 ||
      i >= m->rows || j >= m->cols)
    return NAN;
  return CLEARN__F64(m)[i * m->cols + j];
}

int clearn__check_f64(const clearn_matrix *m, const char *who,
                      const char *what, int64_t rows, int64_t cols) {
  if (m == NULL) return clearn__err(CLEARN_EINVAL, "%s: %s is NULL", who, what);
  if (m->dtype != CLEARN_FLOAT64)
    return clearn__err(CLEARN_EINVAL, "%s: %s must be float64, got dtype %d",
                       who, what, (int)m->dtype);
  if (rows >= 0 && m->rows != rows)
    return clearn__err(CLEARN_ESHAPE,
                       "%s: %s has %lld rows, expected %lld", who, what,
                       (long long)m->rows, (long long)rows);
  if (cols >= 0 && m->cols != cols)
    return clearn__err(CLEARN_ESHAPE,
                       "%s: %s has %lld columns, expected %lld", who, what,
                       (long long)m->cols, (long long)cols);
  return CLEARN_OK;
}

int clearn__check_finite(const clearn_matrix *m, const char *who,
                         const char *what) {
  const double *a = CLEARN__F64(m);
  size_t n = (size_t)m->rows * (size_t)m->cols, i;
  /* Fast path: a sum over finite values is finite unless it overflows, so
   * only a non-finite sum needs the element-wise search. */
  double s = 0.0;
  int64_t k, nn = (int64_t)n;
  /* Memory-bound: on large inputs spread it over clearn's threads. */
#pragma omp parallel for reduction(+ : s) schedule(static) \
    num_threads(nn > (1 << 20) ? clearn__threads() : 1)
  for (k = 0; k < nn; k++) s += a[k] * 0.0;
  if (s == 0.0) return CLEARN_OK;
  for (i = 0; i < n; i++)
    if (!isfinite(a[i]))
      return clearn__err(CLEARN_ENUMERIC,
                         "%s: %s[%lld, %lld] = %g is not finite", who, what,
                         (long long)(i / (size_t)m->cols),
                         (long long)(i % (size_t)m->cols), a[i]);
  return CLEARN_OK;
}

/* ---- CSR ---------------------------------------------------------------- */

static int csr_check(int64_t rows, int64_t cols, int64_t nnz,
                     const int64_t *indptr, const int32_t *indices) {
  int64_t i, k;
  if (indptr[0] != 0)
    return clearn__err(CLEARN_EINVAL, "csr: indptr[0] = %lld, expected 0",
                       (long long)indptr[0]);
  for (i = 0; i < rows; i++)
    if (indptr[i + 1] < indptr[i])
      return clearn__err(CLEARN_EINVAL,
                         "csr: indptr decreases at row %lld (%lld -> %lld)",
                         (long long)i, (long long)indptr[i],
                         (long long)indptr[i + 1]);
  if (indptr[rows] != nnz)
    return clearn__err(CLEARN_EINVAL, "csr: indptr[%lld] = %lld, expected nnz %lld",
                       (long long)rows, (long long)indptr[rows],
                       (long long)nnz);
  for (k = 0; k < nnz; k++)
    if (indices[k] < 0 || indices[k] >= cols)
      return clearn__err(CLEARN_EINVAL,
                         "csr: entry %lld has column %d outside [0, %lld)",
                         (long long)k, (int)indices[k], (long long)cols);
  return CLEARN_OK;
}

static int csr_args(int64_t rows, int64_t cols, int64_t nnz,
                    clearn_dtype dtype) {
  if (rows < 0 || cols < 0 || nnz < 0)
    return clearn__err(CLEARN_EINVAL, "csr: negative shape or nnz");
  if (cols > INT32_MAX)
    return clearn__err(CLEARN_EINVAL,
                       "csr: %lld columns exceed the int32 index range",
                       (long long)cols);
  if (dtype != CLEARN_FLOAT64 && dtype != CLEARN_FLOAT32)
    return clearn__err(CLEARN_EINVAL,
                       "csr: values must be float64 or float32, got dtype %d",
                       (int)dtype);
  return CLEARN_OK;
}

int clearn_csr_create(int64_t rows, int64_t cols, int64_t nnz,
                      clearn_dtype dtype, clearn_csr **out) {
  int rc;
  clearn_csr *m;
  if (out == NULL) return clearn__err(CLEARN_EINVAL, "csr: out is NULL");
  *out = NULL;
  if ((rc = csr_args(rows, cols, nnz, dtype)) != CLEARN_OK) return rc;
  m = calloc(1, sizeof *m);
  if (m == NULL) return clearn__err(CLEARN_ENOMEM, "csr: out of memory");
  m->indptr = clearn__calloc((size_t)rows + 1, sizeof(int64_t));
  m->indices = clearn__malloc((size_t)nnz, sizeof(int32_t));
  m->values = clearn__malloc((size_t)nnz, clearn_dtype_size(dtype));
  if (!m->indptr || !m->indices || !m->values) {
    free(m->indptr);
    free(m->indices);
    free(m->values);
    free(m);
    return clearn__err(CLEARN_ENOMEM, "csr: cannot allocate %lld entries",
                       (long long)nnz);
  }
  m->rows = rows;
  m->cols = cols;
  m->nnz = nnz;
  m->dtype = dtype;
  m->owned = 1;
  *out = m;
  return CLEARN_OK;
}

int clearn_csr_wrap(int64_t rows, int64_t cols, int64_t nnz,
                    const int64_t *indptr, const int32_t *indices,
                    const void *values, clearn_dtype dtype, clearn_csr **out) {
  int rc;
  clearn_csr *m;
  if (out == NULL) return clearn__err(CLEARN_EINVAL, "csr: out is NULL");
  *out = NULL;
  if ((rc = csr_args(rows, cols, nnz, dtype)) != CLEARN_OK) return rc;
  if (indptr == NULL || (nnz > 0 && (indices == NULL || values == NULL)))
    return clearn__err(CLEARN_EINVAL, "csr: NULL array in view");
  if ((rc = csr_check(rows, cols, nnz, indptr, indices)) != CLEARN_OK)
    return rc;
  m = calloc(1, sizeof *m);
  if (m == NULL) return clearn__err(CLEARN_ENOMEM, "csr: out of memory");
  m->indptr = (int64_t *)indptr;
  m->indices = (int32_t *)indices;
  m->values = (void *)values;
  m->rows = rows;
  m->cols = cols;
  m->nnz = nnz;
  m->dtype = dtype;
  m->owned = 0;
  *out = m;
  return CLEARN_OK;
}

void clearn_csr_free(clearn_csr *m) {
  if (m == NULL) return;
  if (m->owned) {
    free(m->indptr);
    free(m->indices);
    free(m->values);
  }
  free(m);
}

int64_t clearn_csr_rows(const clearn_csr *m) { return m ? m->rows : 0; }
int64_t clearn_csr_cols(const clearn_csr *m) { return m ? m->cols : 0; }
int64_t clearn_csr_nnz(const clearn_csr *m) { return m ? m->nnz : 0; }
clearn_dtype clearn_csr_dtype(const clearn_csr *m) {
  return m ? m->dtype : (clearn_dtype)0;
}
int clearn_csr_is_owned(const clearn_csr *m) { return m ? m->owned : 0; }
const int64_t *clearn_csr_indptr(const clearn_csr *m) {
  return m ? m->indptr : NULL;
}
const int32_t *clearn_csr_indices(const clearn_csr *m) {
  return m ? m->indices : NULL;
}
const void *clearn_csr_values(const clearn_csr *m) {
  return m ? m->values : NULL;
}
int64_t *clearn_csr_mutable_indptr(clearn_csr *m) {
  return m && m->owned ? m->indptr : NULL;
}
int32_t *clearn_csr_mutable_indices(clearn_csr *m) {
  return m && m->owned ? m->indices : NULL;
}
void *clearn_csr_mutable_values(clearn_csr *m) {
  return m && m->owned ? m->values : NULL;
}

int clearn_csr_validate(const clearn_csr *m) {
  if (m == NULL) return clearn__err(CLEARN_EINVAL, "csr: handle is NULL");
  return csr_check(m->rows, m->cols, m->nnz, m->indptr, m->indices);
}
