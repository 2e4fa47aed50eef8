/*
 * outside_mpi.c -- an MPI program built against an INSTALLED clearn.
 *
 * Built by tests/install_test.sh through the CMake target clearn::clearn_mpi
 * and through pkg-config clearn-mpi, and run under mpirun -np 2.  Every
 * rank generates the same data, keeps its own block of rows, fits Ridge
 * with clearn_mpi_estimator_fit on MPI_COMM_WORLD, and compares the model
 * with a serial fit on all rows.  It also checks that a collective failure
 * is reported on every rank with a message.  Exit status is non-zero on
 * every rank if any rank failed.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <mpi.h>

#include <clearn/clearn_mpi.h>

static int failures = 0;
static int rank = 0;

#define EXPECT(cond, ...)                                                      \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "FAIL rank %d %s:%d: ", rank, __FILE__, __LINE__);       \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
      failures++;                                                              \
    }                                                                          \
  } while (0)

#define CHECK(call)                                                            \
  do {                                                                         \
    int rc_ = (call);                                                          \
    if (rc_ != CLEARN_OK) {                                                    \
      fprintf(stderr, "FAIL rank %d %s:%d: %s: %s (%s)\n", rank, __FILE__,     \
              __LINE__, #call, clearn_status_str(rc_), clearn_last_error());   \
      failures++;                                                              \
      goto cleanup;                                                            \
    }                                                                          \
  } while (0)

static double uniform(unsigned long long *s) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(*s >> 11) / 9007199254740992.0;
}

static int close_to(double a, double b) {
  return fabs(a - b) <= 1e-9 * (1.0 + fabs(b));
}

int main(int argc, char **argv) {
  enum { N = 1003, P = 3 };
  static double X[N * P], y[N];
  const double truth[P] = {2.0, -1.0, 0.5};
  unsigned long long seed = 11;
  clearn_matrix *Xall = NULL, *yall = NULL, *Xloc = NULL, *yloc = NULL;
  clearn_matrix *ybad = NULL, *cd = NULL, *cs = NULL, *id = NULL, *is = NULL;
  clearn_estimator *dist = NULL, *serial = NULL;
  double r2d = 0, r2s = 0;
  int size = 1, lo, hi, i, j, rc, total = 0;

  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  EXPECT(CLEARN_VERSION_NUMBER == clearn_version_number(),
         "header version %d != library version %d", CLEARN_VERSION_NUMBER,
         clearn_version_number());

  for (i = 0; i < N; i++) {
    y[i] = 4.0 + 0.01 * (uniform(&seed) - 0.5);
    for (j = 0; j < P; j++) {
      X[i * P + j] = 2.0 * uniform(&seed) - 1.0;
      y[i] += truth[j] * X[i * P + j];
    }
  }
  lo = (int)((long long)N * rank / size);
  hi = (int)((long long)N * (rank + 1) / size);

  CHECK(clearn_matrix_wrap(X, N, P, CLEARN_FLOAT64, &Xall));
  CHECK(clearn_matrix_wrap(y, N, 1, CLEARN_FLOAT64, &yall));
  CHECK(clearn_matrix_wrap(X + (size_t)lo * P, hi - lo, P, CLEARN_FLOAT64,
                           &Xloc));
  CHECK(clearn_matrix_wrap(y + lo, hi - lo, 1, CLEARN_FLOAT64, &yloc));

  CHECK(clearn_estimator_create("ridge", &dist));
  CHECK(clearn_estimator_create("ridge", &serial));
  CHECK(clearn_estimator_set_param_double(dist, "alpha", 0.5));
  CHECK(clearn_estimator_set_param_double(serial, "alpha", 0.5));

  CHECK(clearn_mpi_estimator_fit(dist, MPI_COMM_WORLD, Xloc, yloc, NULL));
  CHECK(clearn_mpi_estimator_score(dist, MPI_COMM_WORLD, Xloc, yloc, NULL,
                                   &r2d));
  CHECK(clearn_estimator_fit(serial, Xall, yall, NULL));
  CHECK(clearn_estimator_score(serial, Xall, yall, NULL, &r2s));

  CHECK(clearn_estimator_get_attr(dist, "coef", &cd));
  CHECK(clearn_estimator_get_attr(serial, "coef", &cs));
  CHECK(clearn_estimator_get_attr(dist, "intercept", &id));
  CHECK(clearn_estimator_get_attr(serial, "intercept", &is));
  for (j = 0; j < P; j++) {
    EXPECT(close_to(clearn_matrix_get(cd, 0, j), clearn_matrix_get(cs, 0, j)),
           "distributed coef[%d] = %.15g, serial %.15g", j,
           clearn_matrix_get(cd, 0, j), clearn_matrix_get(cs, 0, j));
    EXPECT(fabs(clearn_matrix_get(cd, 0, j) - truth[j]) < 1e-2,
           "coef[%d] = %g, want %g", j, clearn_matrix_get(cd, 0, j), truth[j]);
  }
  EXPECT(close_to(clearn_matrix_get(id, 0, 0), clearn_matrix_get(is, 0, 0)),
         "distributed intercept %.15g, serial %.15g",
         clearn_matrix_get(id, 0, 0), clearn_matrix_get(is, 0, 0));
  EXPECT(close_to(r2d, r2s), "distributed R^2 %.15g, serial %.15g", r2d, r2s);

  /* y with the wrong row count on rank 0 only: every rank must fail, with
   * a message both on the handle and in the thread's last error. */
  CHECK(clearn_matrix_wrap(y, rank == 0 ? hi - lo + 1 : hi - lo, 1,
                           CLEARN_FLOAT64, &ybad));
  rc = clearn_mpi_estimator_fit(dist, MPI_COMM_WORLD, Xloc, ybad, NULL);
  EXPECT(rc != CLEARN_OK, "bad shape on rank 0 was accepted");
  EXPECT(clearn_estimator_errmsg(dist)[0] != '\0',
         "no message on the handle after a failed collective fit");
  EXPECT(clearn_last_error()[0] != '\0',
         "clearn_last_error() is empty after a failed collective fit "
         "(handle says \"%s\")", clearn_estimator_errmsg(dist));
  EXPECT(clearn_estimator_is_fitted(dist), "failed fit dropped the model");

  if (rank == 0)
    printf("clearn %s on %d ranks: distributed ridge R^2 = %.6f (serial "
           "%.6f)\n", clearn_version_string(), size, r2d, r2s);

cleanup:
  clearn_matrix_free(is);
  clearn_matrix_free(id);
  clearn_matrix_free(cs);
  clearn_matrix_free(cd);
  clearn_matrix_free(ybad);
  clearn_matrix_free(yloc);
  clearn_matrix_free(Xloc);
  clearn_matrix_free(yall);
  clearn_matrix_free(Xall);
  clearn_estimator_free(serial);
  clearn_estimator_free(dist);
  MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0)
    printf("%s: %d failure(s) over %d rank(s)\n", total ? "FAILED" : "ok",
           total, size);
  MPI_Finalize();
  return total ? 1 : 0;
}
