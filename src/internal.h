/*
 * internal.h -- declarations shared by src/, algorithms/ and mpi/.
 *
 * Nothing here is installed.  Internal cross-file symbols carry the
 * "clearn__" prefix (two underscores) and are hidden from the shared
 * library's export table.
 *
 * Dependency order: src/ knows nothing of algorithms/ except through the
 * estimator type tables listed in registry.c; mpi/ may use both.
 */
#ifndef CLEARN_INTERNAL_H
#define CLEARN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

#include "clearn/clearn.h"
#include "clearn/recommender.h"

/* The few internal functions libclearn_mpi calls are exported from
 * libclearn.so with this marker, so the MPI layer links the one shared core
 * (one per-thread error slot, one registry) instead of embedding a copy.
 * They are a private interface between libclearn and libclearn_mpi of the
 * same version: not declared in any installed header, not for
 * applications, free to change. */
#if defined(__GNUC__)
#define CLEARN__SHARED __attribute__((visibility("default")))
#else
#define CLEARN__SHARED
#endif

#if defined(__GNUC__)
#define CLEARN__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLEARN__PRINTF(a, b)
#endif

/* ---- containers (matrix.c) ------------------------------------------- */

struct clearn_matrix {
  void *data;
  int64_t rows;
  int64_t cols;
  clearn_dtype dtype;
  int owned;
};

struct clearn_csr {
  int64_t *indptr;
  int32_t *indices;
  void *values;
  int64_t rows;
  int64_t cols;
  int64_t nnz;
  clearn_dtype dtype;
  int owned;
};

/* Typed element pointers, valid only for the matching dtype. */
#define CLEARN__F64(m) ((const double *)(m)->data)

/* Check that m is a non-NULL float64 matrix; `what` names it in the error
 * ("X", "y", "sample_weight").  cols < 0 skips the column check. */
int clearn__check_f64(const clearn_matrix *m, const char *who,
                      const char *what, int64_t rows, int64_t cols);
/* First non-finite element of a float64 matrix -> CLEARN_ENUMERIC naming
 * array, row and column; else CLEARN_OK. */
int clearn__check_finite(const clearn_matrix *m, const char *who,
                         const char *what);

/* ---- errors (error.c) -------------------------------------------------- */

/* Record a context message for the calling thread and return code.  Usage:
 *   return clearn__err(CLEARN_EPARAM, "ridge: parameter '%s' ...", ...); */
CLEARN__SHARED int clearn__err(int code, const char *fmt, ...) CLEARN__PRINTF(2, 3);
/* Prefix the thread's current message: "<prefix>: <old message>". */
int clearn__err_prefix(int code, const char *fmt, ...) CLEARN__PRINTF(2, 3);
/* The calling thread's current context message. */
CLEARN__SHARED const char *clearn__errmsg(void);
void clearn__err_clear(void);

/* ---- memory (memory.c) ----------------------------------------------------
 * Checked allocation: n * size overflow returns NULL.  clearn__advise_huge
 * asks for transparent huge pages on a big fresh array (see memory.c): page
 * faults and TLB misses fall 512-fold where it is granted. */
CLEARN__SHARED void *clearn__malloc(size_t n, size_t size);
void *clearn__calloc(size_t n, size_t size);
void clearn__advise_huge(void *p, size_t bytes);

/* ---- linear algebra and threads (linalg.c) ------------------------------
 * The only file that includes cblas.h / lapacke.h.  Sizes are int64 at the
 * interface and checked against the backend's 32-bit ints here. */

/* C (p x p, row-major, upper triangle) = beta*C + alpha * A^T A, where A is
 * n x p row-major with leading dimension lda. */
int clearn__dsyrk_tn(int64_t n, int64_t p, double alpha, const double *A,
                     int64_t lda, double beta, double *C);
/* C (m x k) = beta*C + alpha * A^T B; A n x m (lda), B n x k (ldb). */
int clearn__dgemm_tn(int64_t n, int64_t m, int64_t k, double alpha,
                     const double *A, int64_t lda, const double *B,
                     int64_t ldb, double beta, double *C);
/* C (m x k) = beta*C + alpha * A B^T; A m x p (lda), B k x p (ldb). */
int clearn__dgemm_nt(int64_t m, int64_t k, int64_t p, double alpha,
                     const double *A, int64_t lda, const double *B,
                     int64_t ldb, double beta, double *C);
/* y (m) = beta*y + alpha * A^T x; A n x m row-major (lda). */
int clearn__dgemv_t(int64_t n, int64_t m, double alpha, const double *A,
                    int64_t lda, const double *x, double beta, double *y);
/* Cholesky solve of S X = B in place: S p x p symmetric positive definite
 * (upper triangle used, overwritten by the factor), B p x k row-major.
 * Not positive definite: CLEARN_ENUMERIC. */
int clearn__dposv(int64_t p, int64_t k, double *S, double *B);
/* Minimum-norm least squares by divide-and-conquer SVD (LAPACK dgelsd):
 * A is n x p COLUMN-major (overwritten), B is max(n,p) x k column-major
 * (ldb = max(n,p)); on return its first p rows hold the solution.  rcond < 0
 * means machine precision.  *rank and s[min(n,p)] receive the effective
 * rank and singular values. */
int clearn__dgelsd(int64_t n, int64_t p, int64_t k, double *A, double *B,
                   double rcond, double *s, int64_t *rank);
/* float32 counterparts used by ALS (same conventions as above):
 * ssyrk_tn: C (p x p, upper) = beta C + alpha A^T A, A n x p (lda);
 * sgemm_nt: C (m x k) = beta C + alpha A B^T;
 * sgemv_t / dgemv_n: y = beta y + alpha A^T x / A x, A n x m (lda);
 * sgemv_n: y (n) = beta y + alpha A x. */
int clearn__ssyrk_tn(int64_t n, int64_t p, float alpha, const float *A,
                     int64_t lda, float beta, float *C);
int clearn__sgemm_nt(int64_t m, int64_t k, int64_t p, float alpha,
                     const float *A, int64_t lda, const float *B, int64_t ldb,
                     float beta, float *C);
int clearn__sgemv_t(int64_t n, int64_t m, float alpha, const float *A,
                    int64_t lda, const float *x, float beta, float *y);
int clearn__sgemv_n(int64_t n, int64_t m, float alpha, const float *A,
                    int64_t lda, const float *x, float beta, float *y);
int clearn__dgemv_n(int64_t n, int64_t m, double alpha, const double *A,
                    int64_t lda, const double *x, double beta, double *y);
/* Solve S x = b in place for one right-hand side (S p x p SPD, upper
 * triangle used and overwritten by its factor): no layout copies, for the
 * many small solves of ALS.  Not positive definite: CLEARN_ENUMERIC. */
int clearn__dposv1(int64_t p, double *S, double *b);
/* Hold the BLAS backend at one thread (for calls from inside clearn's own
 * parallel loops); returns the previous count for _end to restore. */
int clearn__blas_serial_begin(void);
void clearn__blas_serial_end(int prev);
int clearn__threads(void);
/* Whether the AVX-512 row kernels (ALS, its Gibbs sampler) may run: the
 * CPU has AVX-512F and the environment variable CLEARN_NO_AVX512 is unset,
 * empty or "0".  Set, it makes them take their portable paths, as on a CPU
 * without AVX-512 (to test and measure those paths).  Read once per
 * process; thread-safe. */
int clearn__avx512_ok(void);
/* Whether the AVX2 + FMA row kernels (ALS's CG passes on CPUs without
 * AVX-512) may run: the CPU has both and CLEARN_NO_AVX2 is unset, empty or
 * "0".  Read once per process; thread-safe. */
int clearn__avx2_ok(void);

/* ---- parameters (params.c) ---------------------------------------------- */

/* One row per parameter of an estimator kind: the single place where its
 * type, default, range and documentation live.  Values are stored in the
 * kind's params struct at `offset`: int (BOOL), int64_t (INT), double
 * (DOUBLE), int index into `choices` (STRING). */
typedef struct clearn__param_spec {
  const char *name;
  clearn_param_type type;
  size_t offset;
  const char *default_text; /* parsed at create: one source of defaults */
  double lo, hi;            /* numeric range */
  int lo_open, hi_open;     /* 1 = bound excluded */
  const char *choices;      /* STRING: "auto|cholesky" */
  const char *help;
} clearn__param_spec;

struct clearn__estimator_type;
/* Set every parameter to its default (parsed from default_text). */
int clearn__params_defaults(const struct clearn__estimator_type *t,
                            void *params);
/* "[0, inf)", "(0, 1]", "a|b", "true|false". */
void clearn__param_range_text(const clearn__param_spec *s, char *buf,
                              size_t cap);
/* Value as text that set_param_string parses back exactly. */
CLEARN__SHARED void clearn__param_format(const clearn__param_spec *s, const void *params,
                          char *buf, size_t cap);
/* Parameters as attributes of an HDF5 group (by name). */
int clearn__params_save(const struct clearn__estimator_type *t,
                        const void *params, hid_t group);
int clearn__params_load(const struct clearn__estimator_type *t, void *params,
                        hid_t group);

/* ---- MPI-neutral reduction hook ------------------------------------------
 * Algorithms that can fit on distributed rows sum their sufficient
 * statistics through this hook.  NULL means serial (nothing to do).  The
 * MPI layer supplies one that calls MPI_Allreduce; algorithms never see
 * MPI. */
typedef struct clearn__reducer {
  /* Collective: first agree on status -- if local_rc or any peer's status
   * is an error, every participant returns that error (with the failing
   * participant's message) and buf is untouched.  Otherwise sum n doubles
   * element-wise over all participants, in place, with the bitwise same
   * result on every participant. */
  int (*sum)(void *ctx, double *buf, size_t n, int local_rc);
  void *ctx;
  /* Same contract as sum, element-wise maximum instead of the sum (class
   * labels are gathered with it).  NULL if the layer offers none. */
  int (*max)(void *ctx, double *buf, size_t n, int local_rc);
} clearn__reducer;

/* Rule for algorithms: every participant makes the same sequence of
 * clearn__reduce_sum calls, passing its local status instead of skipping
 * the call on failure; the returned status is then the same everywhere.
 * With r == NULL (serial) it returns local_rc. */
int clearn__reduce_sum(const clearn__reducer *r, double *buf, size_t n,
                       int local_rc);
/* Element-wise maximum, same rule; CLEARN_EUNSUPPORTED (on every
 * participant) if the reducer offers no max. */
int clearn__reduce_max(const clearn__reducer *r, double *buf, size_t n,
                       int local_rc);

/* ---- ratings (ratings.c) ------------------------------------------------- */

/* Two CSR copies over dense indices and the id maps.  Built by
 * clearn__ratings_build from (dense user, dense item, value) triples, the
 * one constructor every loader, split and generator goes through. */
struct clearn_ratings {
  int64_t n_users, n_items, nnz;
  int64_t *user_ids; /* n_users, ascending */
  int64_t *item_ids; /* n_items, ascending */
  int64_t *u_ptr;    /* n_users + 1 */
  int32_t *u_idx;    /* nnz item indices, ascending within a user */
  float *u_val;
  int64_t *i_ptr;    /* n_items + 1 */
  int32_t *i_idx;    /* nnz user indices, ascending within an item */
  float *i_val;
  clearn_csr by_user, by_item; /* borrowed views of the arrays above */
};

/* Take ownership of user_ids/item_ids (ascending, unique) and build both
 * CSRs from nnz dense triples (u[k] < n_users, i[k] < n_items; the triple
 * arrays are only read).  Counting sort: O(nnz + users + items). On failure
 * the id arrays are freed too. */
int clearn__ratings_build(int64_t *user_ids, int64_t n_users,
                          int64_t *item_ids, int64_t n_items,
                          const int32_t *u, const int32_t *i, const float *v,
                          int64_t nnz, clearn_ratings **out);
/* Point the by_user / by_item views at the arrays (after filling them). */
void clearn__ratings_set_views(clearn_ratings *r);
/* Counting-sort scatter of a CSR (rows x cols) into its transpose, whose
 * row pointers dst_ptr (cols + 1) are final; fill is scratch of cols
 * entries.  Visiting source rows in order leaves each destination row
 * sorted by column. */
void clearn__ratings_transpose(int64_t rows, const int64_t *src_ptr,
                               const int32_t *src_idx, const float *src_val,
                               int64_t cols, const int64_t *dst_ptr,
                               int32_t *dst_idx, float *dst_val,
                               int64_t *fill);
/* Build from triples of ORIGINAL ids (sorts the distinct ids). */
int clearn__ratings_from_ids(const int64_t *users, const int64_t *items,
                             const float *values, int64_t n,
                             clearn_ratings **out);
/* Index of id in an ascending array, or -1. */
CLEARN__SHARED int64_t clearn__id_lookup(const int64_t *ids, int64_t n,
                                         int64_t id);

/* ---- estimator type table ----------------------------------------------- */

/* Progress reporting handed to iterative fits. */
typedef struct clearn__progress {
  clearn_progress_fn fn; /* NULL: nobody listens */
  void *user_data;
} clearn__progress;

/* ---- recommender fits over shards of the ratings --------------------------
 * A recommender fit sees its training data as a shard: the global shape and
 * id maps, which every participant holds whole, and the rows this
 * participant updates.  Users and items are cut into contiguous blocks of
 * rows; participant p owns user rows [user_off[p], user_off[p+1]) and item
 * rows [item_off[p], item_off[p+1]), with their ratings in two local CSRs
 * whose column indices are GLOBAL rows of the other side, ascending within
 * a row (the order of the serial by-user / by-item CSRs).  A serial fit is
 * the shard with one participant owning everything (recommender.c builds
 * it from a clearn_ratings without copying the CSRs); mpi/mpi_rec.c builds
 * the shards of a distributed fit.  Validation ratings are cut into
 * contiguous blocks of validation users in ascending id order. */
typedef struct clearn__rshard {
  int64_t n_users, n_items, nnz; /* global */
  const int64_t *user_ids;       /* n_users, ascending */
  const int64_t *item_ids;       /* n_items, ascending */
  int rank, size;
  const int64_t *user_off, *item_off; /* size + 1 rows */
  const int64_t *nnz_off;             /* size + 1: by-user ratings */
  const int64_t *u_ptr;               /* owned users + 1, u_ptr[0] = 0 */
  const int32_t *u_idx;               /* global item rows */
  const float *u_val;
  const int64_t *i_ptr; /* owned items + 1, i_ptr[0] = 0 */
  const int32_t *i_idx; /* global user rows */
  const float *i_val;
  /* validation: has_valid = 0 means none (every participant alike) */
  int has_valid;
  const int64_t *va_off;  /* size + 1 validation users */
  const int64_t *va_ptr;  /* local validation users + 1, va_ptr[0] = 0 */
  const int64_t *va_urow; /* per local validation user: training row or -1 */
  const int64_t *va_irow; /* per rating: training item row or -1, ascending
                             item id within a user */
  const float *va_val;
} clearn__rshard;

/* How the participants of a sharded fit talk; NULL means serial. */
typedef struct clearn__exchange {
  /* Collective: agree on status first (as clearn__reducer.sum: an error
   * anywhere is returned everywhere with the failing participant's
   * message, buf untouched); then every participant's block of elements
   * [off[p], off[p+1]) of buf (elem bytes each) is copied into the buf of
   * every other participant. */
  int (*gather)(void *ctx, void *buf, size_t elem, const int64_t *off,
                int local_rc);
  /* Collective status agreement alone. */
  int (*agree)(void *ctx, int local_rc);
  /* Collective: 1 on every participant if flag is non-zero on any. */
  int (*any)(void *ctx, int flag);
  /* Seconds spent in the calls above so far. */
  double (*seconds)(void *ctx);
  void *ctx;
} clearn__exchange;

/* Checkpoints: called after iteration n_iter (every participant, same
 * model) when n_iter is a multiple of every; returns a status that the fit
 * then agrees on. */
typedef struct clearn__checkpoint {
  int (*write)(void *ctx, const void *model, int64_t n_iter);
  void *ctx;
  int64_t every;
} clearn__checkpoint;

/* Slots of a recommender kind (NULL table for other kinds).  Ids are
 * original ids throughout. */
typedef struct clearn__recommender_ops {
  /* Fit on a shard.  resume (may be NULL): a model of this kind to
   * continue from (checked against the shard's ids and data); ckpt may be
   * NULL.  On success every participant holds the same model. */
  int (*fit)(const void *params, const clearn__rshard *train,
             const clearn__exchange *ex, const clearn__progress *progress,
             const void *resume, const clearn__checkpoint *ckpt,
             void **model);
  int (*predict_pairs)(const void *params, const void *model,
                       const int64_t *users, const int64_t *items, int64_t n,
                       double *out);
  int (*recommend)(const void *params, const void *model,
                   const int64_t *users, int64_t n_users, int64_t k,
                   const clearn_ratings *exclude, int64_t *items,
                   double *scores);
  int (*similar_items)(const void *params, const void *model, int64_t item,
                       int64_t k, int64_t *items, double *scores);
  int (*fold_in)(const void *params, void *model, int64_t user,
                 const int64_t *items, const float *values, int64_t n,
                 int64_t *n_ignored);
  /* 1 if cold-start pairs are to be left out of scores ("drop"). */
  int (*drops_cold)(const void *params);
} clearn__recommender_ops;

typedef struct clearn__estimator_type {
  const char *name;    /* kind, e.g. "ridge" */
  const char *summary; /* one line */
  const clearn__param_spec *params;
  int n_params;
  size_t params_size; /* bytes of the params struct */
  const char *const *attrs;
  int n_attrs;
  /* Cross-parameter checks beyond per-parameter ranges; may be NULL. */
  int (*check)(const void *params);
  /* Fit on (X, y, w); red is NULL for a serial fit.  On success *model is a
   * new model; on failure nothing is allocated. */
  int (*fit)(const void *params, const clearn_matrix *X,
             const clearn_matrix *y, const clearn_matrix *w,
             const clearn__reducer *red, void **model);
  int (*predict)(const void *params, const void *model,
                 const clearn_matrix *X, clearn_matrix **out);
  int64_t (*n_features)(const void *model);
  int (*get_attr)(const void *model, const char *name, clearn_matrix **out);
  /* Write / read the fitted model into / from an open HDF5 group. */
  int (*save)(const void *model, hid_t group);
  int (*load)(hid_t group, void **model);
  void (*model_free)(void *model);
  /* Recommender slots, or NULL for supervised kinds (whose fit, predict and
   * n_features slots above are then NULL for recommenders). */
  const clearn__recommender_ops *rec;
} clearn__estimator_type;

/* Optional slots of a kind beyond the base table, in a side table so the
 * base tables of existing kinds (positional initializers) stay as they
 * are.  A kind without one is a regressor (or recommender). */
typedef struct clearn__estimator_ext {
  const clearn__estimator_type *type;
  /* Classifiers: y holds class labels, score is accuracy.  proba: m x K in
   * the order of the "classes" attribute; decision: m x 1 (binary) or
   * m x K. */
  int is_classifier;
  int (*predict_proba)(const void *params, const void *model,
                       const clearn_matrix *X, clearn_matrix **out);
  int (*decision_function)(const void *params, const void *model,
                           const clearn_matrix *X, clearn_matrix **out);
  /* Transformers: fit accepts y == NULL; transform / inverse_transform
   * map m x p to m x p. */
  int y_optional;
  int (*transform)(const void *params, const void *model,
                   const clearn_matrix *X, clearn_matrix **out);
  int (*inverse_transform)(const void *params, const void *model,
                           const clearn_matrix *X, clearn_matrix **out);
  /* Fit that may start from the current model (warm start); used instead
   * of the base table's fit when present.  prev is NULL if unfitted. */
  int (*fit_from)(const void *params, const void *prev,
                  const clearn_matrix *X, const clearn_matrix *y,
                  const clearn_matrix *w, const clearn__reducer *red,
                  void **model);
  /* Regularization path over k alphas (NULL: the kind's default grid),
   * one target: writes alphas_out (k), coefs (k x p), intercepts (k) and
   * the model at the last alpha into *last. */
  int (*path)(const void *params, const clearn_matrix *X,
              const clearn_matrix *y, const clearn_matrix *w,
              const double *alphas, int64_t k, const clearn__reducer *red,
              double *alphas_out, double *coefs, double *intercepts,
              void **last);
} clearn__estimator_ext;

/* Run the kind's fit (fit_from with the current model if the kind has
 * one); shared by the serial and the distributed fit. */
CLEARN__SHARED int clearn__type_fit(const clearn_estimator *est,
                                    const clearn_matrix *X,
                                    const clearn_matrix *y,
                                    const clearn_matrix *w,
                                    const clearn__reducer *red, void **model);

/* registry.c */
const clearn__estimator_type *clearn__find_type(const char *kind);
/* The kind's optional slots, or NULL. */
const clearn__estimator_ext *clearn__find_ext(const clearn__estimator_type *t);

/* estimator.c: the handle, visible to mpi/ */
struct clearn_estimator {
  const clearn__estimator_type *type;
  void *params; /* type->params_size bytes */
  void *model;  /* NULL until fitted */
  char **range_text; /* per parameter, built at create */
  clearn__progress progress;
  char *ckpt_path; /* NULL: no checkpoints */
  int64_t ckpt_every;
  char errmsg[512];
};

/* recommender.c: the checkpoint writer (saves est's kind and parameters
 * with a model in progress to path atomically; only participants with
 * write_here set write) and the serial shard of a ratings object. */
typedef struct clearn__ckpt_file {
  const struct clearn_estimator *est;
  const char *path;
  int write_here;
} clearn__ckpt_file;
CLEARN__SHARED int clearn__ckpt_write(void *ctx, const void *model,
                                      int64_t n_iter);
/* The one-participant shard of train and validation: views of the CSRs
 * (no copy), plus validation rows mapped to the training rows (-1:
 * unseen), which _free releases.  va may be NULL. */
typedef struct clearn__serial_shard {
  clearn__rshard sh;
  int64_t user_off[2], item_off[2], nnz_off[2], va_off[2];
  int64_t *va_urow, *va_irow;
} clearn__serial_shard;
CLEARN__SHARED int clearn__shard_serial(const clearn_ratings *tr,
                                        const clearn_ratings *va,
                                        clearn__serial_shard *s);
CLEARN__SHARED void clearn__shard_serial_free(clearn__serial_shard *s);

/* Record the thread's current message on the handle and return code. */
CLEARN__SHARED int clearn__est_fail(const clearn_estimator *est, int code);
/* Install a freshly fitted model (frees the old one). */
CLEARN__SHARED void clearn__est_set_model(clearn_estimator *est, void *model);

/* Input checks shared by serial and distributed calls: float64, matching
 * rows, finite values, non-negative weights.  allow_empty lets a rank hold
 * 0 rows of a distributed fit. */
CLEARN__SHARED int clearn__validate_xy(const char *who, const clearn_matrix *X,
                        const clearn_matrix *y, const clearn_matrix *w,
                        int allow_empty);
/* Fit through the type table and install the model (inputs validated). */
int clearn__fit_with(clearn_estimator *est, const clearn_matrix *X,
                     const clearn_matrix *y, const clearn_matrix *w,
                     const clearn__reducer *red);
/* Fitted?  Right feature count?  Finite? */
CLEARN__SHARED int clearn__check_predict(const clearn_estimator *est, const clearn_matrix *X);
/* R^2 of est on (X, y, w), summed over participants of red (may be NULL). */
CLEARN__SHARED int clearn__score_with(const clearn_estimator *est, const clearn_matrix *X,
                       const clearn_matrix *y, const clearn_matrix *w,
                       const clearn__reducer *red, double *out);

/* ---- metrics (metrics.c) ------------------------------------------------ */

/* scikit-learn's r2_score (uniform average over targets, optional weights,
 * force_finite): a constant target scores 1 if predicted exactly, else 0.
 * Two passes (weighted mean, then squared deviations) for accuracy; sums
 * go through red so distributed rows give the global score. */
int clearn__r2(const clearn_matrix *y, const clearn_matrix *yhat,
               const clearn_matrix *w, const clearn__reducer *red,
               double *out);
/* Weighted fraction of rows where yhat == y (n x 1 each), summed over
 * red: scikit-learn's accuracy_score. */
int clearn__accuracy(const clearn_matrix *y, const clearn_matrix *yhat,
                     const clearn_matrix *w, const clearn__reducer *red,
                     double *out);

/* ---- HDF5 helpers (h5io.c) ----------------------------------------------
 * Every call suppresses HDF5's automatic error printing. */

/* Write a dataset (chunked, Fletcher-32 checksummed) of rows x cols
 * elements of dtype from data. */
int clearn__h5_write(hid_t loc, const char *name, const void *data,
                     int64_t rows, int64_t cols, clearn_dtype dtype);
/* Read a 2-D dataset into a new OWNED matrix of dtype; rows/cols >= 0
 * demand that shape. */
int clearn__h5_read(hid_t loc, const char *name, clearn_dtype dtype,
                    int64_t rows, int64_t cols, clearn_matrix **out);
int clearn__h5_attr_write_str(hid_t loc, const char *name, const char *v);
int clearn__h5_attr_write_i64(hid_t loc, const char *name, int64_t v);
int clearn__h5_attr_write_f64(hid_t loc, const char *name, double v);
/* Read attributes; a missing one is CLEARN_EFORMAT naming it. */
int clearn__h5_attr_read_str(hid_t loc, const char *name, char *buf,
                             size_t cap);
int clearn__h5_attr_read_i64(hid_t loc, const char *name, int64_t *v);
int clearn__h5_attr_read_f64(hid_t loc, const char *name, double *v);
int clearn__h5_attr_exists(hid_t loc, const char *name);
/* A chunked dataset's (creation plist dcpl) checks for each stored chunk.
 * Returns the Fletcher-32 filter's bit in a chunk's filter mask (0 when
 * the pipeline lacks it: set in the mask, the check was skipped).  The
 * stored size must be exactly *exact bytes when Fletcher-32 is the only
 * filter (the chunk plus its checksum, as clearn writes), else (*exact =
 * 0) at least *least: HDF5 1.10's Fletcher-32 filter reads far out of
 * bounds on a stored chunk shorter than its 4-byte checksum (a damaged
 * file). */
unsigned clearn__h5_chunk_sizes(hid_t dset, hid_t dcpl, hsize_t *exact,
                                hsize_t *least);

/* Atomic file write: begin creates a temporary file beside path; commit
 * closes, fsyncs and renames it over path; abort closes and removes it. */
typedef struct clearn__h5_atomic {
  hid_t file;     /* an in-memory HDF5 file (core driver, no backing store) */
  int fd;         /* the temporary file, open for writing */
  char *tmp_path;
  char *path;
} clearn__h5_atomic;
int clearn__h5_atomic_begin(clearn__h5_atomic *a, const char *path);
/* Recompute the checksum of a version 2/3 superblock at the start of a
 * file image (H5Fget_file_image leaves it stale); -1 if malformed. */
int clearn__h5_superblock_fix(unsigned char *img, size_t n);
int clearn__h5_atomic_commit(clearn__h5_atomic *a);
void clearn__h5_atomic_abort(clearn__h5_atomic *a);
/* Temporary names of atomic saves (tmpname.c).  clearn__tmp_owner writes
 * "<pid>-<start>-<boot>-<pidns>" for a live (or zombie) process; -1 where
 * it cannot be known (no /proc).  clearn__tmp_sweep removes the files
 * "<path>.tmp-<owner>-<n>" whose owner is provably dead; best effort, no
 * allocation, never an error. */
int clearn__tmp_owner(long pid, char *buf, size_t cap);
void clearn__tmp_sweep(const char *path);
/* Open an existing file read-only; errors name the path. */
int clearn__h5_open_read(const char *path, hid_t *file);

/* The model layout (docs/model-format.md) written into an open, empty HDF5
 * file, and read back from an open file into a new estimator (*out set on
 * success only; the file is not closed).  estimator.c; used by its
 * save/load and by the in-memory images of serialize.c. */
int clearn__est_write(const clearn_estimator *est, hid_t file);
int clearn__est_read(hid_t file, const char *expect_kind,
                     clearn_estimator **out);

/* Schema version written by this library; loading a larger one fails. */
#define CLEARN__MODEL_SCHEMA_VERSION 1
#define CLEARN__MODEL_FORMAT "clearn.model"

#endif /* CLEARN_INTERNAL_H */
