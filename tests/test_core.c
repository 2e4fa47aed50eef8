/*
 * test_core.c -- versions, status strings, per-thread messages, containers.
 */
#include <pthread.h>

#include "clearn/clearn.h"
#include "testutil.h"

static void *thread_err(void *arg) {
  /* A failing call in this thread must not disturb the main thread's
   * message, and must be visible here. */
  clearn_matrix *m = NULL;
  int rc = clearn_matrix_create(-1, 2, CLEARN_FLOAT64, &m);
  int ok = rc == CLEARN_EINVAL &&
           strcmp(clearn_last_error(), "matrix: negative shape -1 x 2") == 0;
  (void)arg;
  return ok ? (void *)1 : NULL;
}

static void test_version_status(void) {
  CHECK(clearn_version_number() == CLEARN_VERSION_NUMBER, "%d",
        clearn_version_number());
  CHECK_STR(clearn_version_string(), CLEARN_VERSION_STRING);
  CHECK(CLEARN_OK == 0 && CLEARN_EINVAL == 1 && CLEARN_ENOMEM == 2 &&
            CLEARN_EPARAM == 3 && CLEARN_ENOTFITTED == 4 &&
            CLEARN_ESHAPE == 5 && CLEARN_EIO == 6 && CLEARN_EFORMAT == 7 &&
            CLEARN_EKIND == 8 && CLEARN_EVERSION == 9 &&
            CLEARN_ENUMERIC == 10 && CLEARN_EUNSUPPORTED == 11 &&
            CLEARN_EMPI == 12 && CLEARN_ENOTCONVERGED == 13,
        "status codes changed value");
  CHECK_STR(clearn_status_str(CLEARN_OK), "success");
  CHECK_STR(clearn_status_str(CLEARN_EPARAM), "invalid parameter");
  CHECK_STR(clearn_status_str(CLEARN_ENOTFITTED), "estimator is not fitted");
  CHECK_STR(clearn_status_str(CLEARN_ENOTCONVERGED), "did not converge");
  CHECK_STR(clearn_status_str(-1), "unknown status");
  CHECK_STR(clearn_status_str(999), "unknown status");
}

static void test_thread_messages(void) {
  clearn_matrix *m = NULL;
  pthread_t th;
  void *res = NULL;
  CHECK_RC(clearn_matrix_create(3, 3, (clearn_dtype)99, &m), CLEARN_EINVAL);
  CHECK_STR(clearn_last_error(), "matrix: unknown dtype 99");
  CHECK(pthread_create(&th, NULL, thread_err, NULL) == 0, "pthread_create");
  pthread_join(th, &res);
  CHECK(res == (void *)1, "the other thread did not see its own message");
  CHECK_STR(clearn_last_error(), "matrix: unknown dtype 99");
}

static void test_dense(void) {
  double buf[6] = {1, 2, 3, 4, 5, 6};
  clearn_matrix *m = NULL, *v = NULL, *c = NULL;
  CHECK_OK(clearn_matrix_create(2, 3, CLEARN_FLOAT64, &m));
  CHECK(clearn_matrix_rows(m) == 2 && clearn_matrix_cols(m) == 3, "shape");
  CHECK(clearn_matrix_is_owned(m) == 1, "owned");
  CHECK(clearn_matrix_get(m, 1, 2) == 0.0, "zero-filled");
  ((double *)clearn_matrix_mutable_data(m))[5] = 7.0;
  CHECK(clearn_matrix_get(m, 1, 2) == 7.0, "mutable data");
  CHECK(isnan(clearn_matrix_get(m, 2, 0)), "out of range is NaN");

  CHECK_OK(clearn_matrix_wrap(buf, 3, 2, CLEARN_FLOAT64, &v));
  CHECK(clearn_matrix_is_owned(v) == 0, "view is borrowed");
  CHECK(clearn_matrix_data(v) == buf, "view aliases caller memory");
  CHECK(clearn_matrix_mutable_data(v) == NULL, "no writes through a view");
  CHECK(clearn_matrix_get(v, 2, 1) == 6.0, "row-major");
  CHECK_OK(clearn_matrix_copy(v, &c));
  CHECK(clearn_matrix_is_owned(c) && clearn_matrix_data(c) != buf &&
            clearn_matrix_get(c, 1, 0) == 3.0,
        "deep copy");
  clearn_matrix_free(v); /* must not free buf */
  CHECK(buf[0] == 1.0, "view free left the caller's memory alone");

  CHECK_RC(clearn_matrix_wrap(NULL, 2, 2, CLEARN_FLOAT64, &v), CLEARN_EINVAL);
  CHECK(v == NULL, "out is NULL on failure");
  CHECK_STR(clearn_last_error(), "matrix: data is NULL for a 2 x 2 view");
  CHECK_OK(clearn_matrix_wrap(NULL, 0, 5, CLEARN_FLOAT64, &v));
  clearn_matrix_free(v);
  CHECK_RC(clearn_matrix_create(INT64_MAX, 4, CLEARN_FLOAT64, &v),
           CLEARN_EINVAL);
  CHECK(clearn_dtype_size(CLEARN_FLOAT32) == 4 &&
            clearn_dtype_size(CLEARN_INT64) == 8 &&
            clearn_dtype_size((clearn_dtype)0) == 0,
        "dtype sizes");
  clearn_matrix_free(NULL);
  clearn_matrix_free(m);
  clearn_matrix_free(c);
}

static void test_csr(void) {
  /* [[1, 0, 2], [0, 0, 0], [0, 3, 0]] */
  int64_t indptr[4] = {0, 2, 2, 3};
  int32_t indices[3] = {0, 2, 1};
  float values[3] = {1, 2, 3};
  int64_t bad_ptr[4] = {0, 2, 1, 3};
  int32_t bad_idx[3] = {0, 3, 1};
  clearn_csr *m = NULL;
  CHECK_OK(clearn_csr_wrap(3, 3, 3, indptr, indices, values, CLEARN_FLOAT32, &m));
  CHECK(clearn_csr_nnz(m) == 3 && clearn_csr_rows(m) == 3 &&
            clearn_csr_indptr(m) == indptr && !clearn_csr_is_owned(m) &&
            clearn_csr_mutable_values(m) == NULL,
        "csr view");
  clearn_csr_free(m);
  CHECK_RC(clearn_csr_wrap(3, 3, 3, bad_ptr, indices, values, CLEARN_FLOAT32, &m),
           CLEARN_EINVAL);
  CHECK_STR(clearn_last_error(), "csr: indptr decreases at row 1 (2 -> 1)");
  CHECK_RC(clearn_csr_wrap(3, 3, 3, indptr, bad_idx, values, CLEARN_FLOAT32, &m),
           CLEARN_EINVAL);
  CHECK_STR(clearn_last_error(), "csr: entry 1 has column 3 outside [0, 3)");
  CHECK_RC(clearn_csr_wrap(3, 3, 3, indptr, indices, values, CLEARN_INT64, &m),
           CLEARN_EINVAL);
  CHECK(m == NULL, "out NULL on failure");

  CHECK_OK(clearn_csr_create(2, 4, 3, CLEARN_FLOAT64, &m));
  {
    int64_t *p = clearn_csr_mutable_indptr(m);
    int32_t *ix = clearn_csr_mutable_indices(m);
    double *v = clearn_csr_mutable_values(m);
    p[1] = 1;
    p[2] = 3;
    ix[0] = 3;
    ix[1] = 0;
    ix[2] = 1;
    v[0] = v[1] = v[2] = 1.0;
    CHECK_OK(clearn_csr_validate(m));
    p[2] = 2;
    CHECK_RC(clearn_csr_validate(m), CLEARN_EINVAL);
    CHECK_STR(clearn_last_error(), "csr: indptr[2] = 2, expected nnz 3");
  }
  clearn_csr_free(m);
  clearn_csr_free(NULL);
}

static void test_threads(void) {
  CHECK_OK(clearn_set_num_threads(1));
  CHECK(clearn_get_num_threads() == 1, "%d", clearn_get_num_threads());
  CHECK_OK(clearn_set_num_threads(0));
  CHECK(clearn_get_num_threads() >= 1, "%d", clearn_get_num_threads());
}

int main(void) {
  test_version_status();
  test_thread_messages();
  test_dense();
  test_csr();
  test_threads();
  return TEST_SUMMARY();
}
