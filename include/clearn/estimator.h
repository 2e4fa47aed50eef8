/*
 * clearn/estimator.h -- the generic estimator handle.
 *
 * Every model in clearn is a clearn_estimator created from a registered kind
 * name ("linear_regression", "ridge", ...).  One handle type serves all
 * kinds, in the manner of scikit-learn's estimator protocol:
 *
 *   clearn_estimator *est;
 *   clearn_estimator_create("ridge", &est);
 *   clearn_estimator_set_param_double(est, "alpha", 0.5);
 *   clearn_estimator_fit(est, X, y, NULL);
 *   clearn_estimator_predict(est, Xnew, &yhat);     // yhat: OWNED, free it
 *   clearn_estimator_save(est, "model.h5");
 *   clearn_estimator_free(est);
 *
 * Parameters are set and read by name; each kind validates them in one
 * place and refuses unknown names or out-of-range values with a message
 * naming the parameter, the value and the allowed range.  The listing calls
 * (clearn_estimator_param_count / _param_info) enumerate them with their
 * defaults, so command lines and bindings generate their options from it.
 *
 * Errors: every call returns a status (clearn/core.h).  On failure the
 * context message is available from clearn_estimator_errmsg(est) and from
 * clearn_last_error().  A failed call leaves the handle as it was: a failed
 * fit keeps the previous fitted model, a refused set_param keeps the old
 * value.
 *
 * Thread safety: distinct handles may be used from distinct threads.  One
 * handle may be used for concurrent predict/score/get calls, but fit,
 * set_param and load must not run concurrently with anything else on it.
 */
#ifndef CLEARN_ESTIMATOR_H
#define CLEARN_ESTIMATOR_H

#include "clearn/core.h"
#include "clearn/matrix.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clearn_estimator clearn_estimator;

/* Parameter value types.  Fixed numeric values. */
typedef enum {
  CLEARN_PARAM_BOOL = 1,   /* read/write as int 0/1, text "true"/"false" */
  CLEARN_PARAM_INT = 2,    /* int64 */
  CLEARN_PARAM_DOUBLE = 3, /* double */
  CLEARN_PARAM_STRING = 4  /* one of a fixed set of choices */
} clearn_param_type;

/* ---- Registry --------------------------------------------------------- */

/* Number of registered estimator kinds, and the name of the i-th (static
 * string, NULL if i is out of range).  Thread-safe. */
CLEARN_API int clearn_kind_count(void);
CLEARN_API const char *clearn_kind_name(int i);

/* ---- Life cycle ------------------------------------------------------- */

/* Create an unfitted estimator of the given kind with default parameters.
 * Unknown kind: CLEARN_EINVAL, message lists the registered kinds. */
CLEARN_API int clearn_estimator_create(const char *kind,
                                       clearn_estimator **out);

/* Create an unfitted estimator of the same kind and parameters as src
 * (scikit-learn's clone()). */
CLEARN_API int clearn_estimator_clone(const clearn_estimator *src,
                                      clearn_estimator **out);

/* Free the handle and everything it owns.  NULL is a no-op. */
CLEARN_API void clearn_estimator_free(clearn_estimator *est);

/* Kind name (static string). */
CLEARN_API const char *clearn_estimator_kind(const clearn_estimator *est);

/* Context message of the last failing call on this handle, "" if none.
 * Valid until the next call on the handle. */
CLEARN_API const char *clearn_estimator_errmsg(const clearn_estimator *est);

/* ---- Parameters ------------------------------------------------------- */

/* Typed setters.  set_param_int accepts BOOL and INT parameters (and DOUBLE,
 * converted); set_param_double accepts DOUBLE and integral values for INT;
 * set_param_string parses text for any type ("0.5", "true", "cholesky").
 * Unknown name or value out of range: CLEARN_EPARAM, value unchanged. */
CLEARN_API int clearn_estimator_set_param_int(clearn_estimator *est,
                                              const char *name, int64_t v);
CLEARN_API int clearn_estimator_set_param_double(clearn_estimator *est,
                                                 const char *name, double v);
CLEARN_API int clearn_estimator_set_param_string(clearn_estimator *est,
                                                 const char *name,
                                                 const char *v);

/* Typed getters (INT/BOOL read as int, any numeric as double).  get_string
 * formats any type so that set_param_string() of the text round-trips
 * exactly; it writes at most cap bytes (NUL-terminated) and sets *needed (if
 * not NULL) to the full length + 1.  Truncation is not an error. */
CLEARN_API int clearn_estimator_get_param_int(const clearn_estimator *est,
                                              const char *name, int64_t *v);
CLEARN_API int clearn_estimator_get_param_double(const clearn_estimator *est,
                                                 const char *name, double *v);
CLEARN_API int clearn_estimator_get_param_string(const clearn_estimator *est,
                                                 const char *name, char *buf,
                                                 size_t cap, size_t *needed);

/* Parameter listing.  param_info fills any non-NULL out-pointer with static
 * strings: the name, its type, the default as text (parseable by
 * set_param_string), the allowed range or choices ("[0, inf)",
 * "auto|cholesky") and a one-line description.  i out of range:
 * CLEARN_EINVAL. */
CLEARN_API int clearn_estimator_param_count(const clearn_estimator *est);
CLEARN_API int clearn_estimator_param_info(const clearn_estimator *est, int i,
                                           const char **name,
                                           clearn_param_type *type,
                                           const char **default_text,
                                           const char **range_text,
                                           const char **help);

/* ---- Supervised fitting ----------------------------------------------- */

/* Fit on X (n x p, float64) and y (n x t, float64; t > 1 = multi-target).
 * sample_weight: NULL or n x 1 float64, all >= 0 and finite.  X, y and the
 * weights are borrowed and not modified; the estimator keeps no reference.
 * Non-finite inputs: CLEARN_ENUMERIC naming the array and position. */
CLEARN_API int clearn_estimator_fit(clearn_estimator *est,
                                    const clearn_matrix *X,
                                    const clearn_matrix *y,
                                    const clearn_matrix *sample_weight);

/* Predict for X (m x p, p = the fitted feature count).  *out receives an
 * OWNED m x t float64 matrix.  Before fit: CLEARN_ENOTFITTED; wrong p:
 * CLEARN_ESHAPE naming both counts. */
CLEARN_API int clearn_estimator_predict(const clearn_estimator *est,
                                        const clearn_matrix *X,
                                        clearn_matrix **out);

/* Default score: R^2 for regressors (scikit-learn's r2_score, uniform
 * average over targets, optional sample weights); accuracy for classifiers
 * (weighted fraction of rows whose predicted label equals y, as
 * scikit-learn's accuracy_score). */
CLEARN_API int clearn_estimator_score(const clearn_estimator *est,
                                      const clearn_matrix *X,
                                      const clearn_matrix *y,
                                      const clearn_matrix *sample_weight,
                                      double *out);

/* 1 if the estimator holds a fitted model, 0 if not. */
CLEARN_API int clearn_estimator_is_fitted(const clearn_estimator *est);

/* ---- Classifiers ---------------------------------------------------------
 *
 * Class labels are passed as y = n x 1 float64 holding integral values
 * (any int64 label with |label| <= 2^53 is exact in a double); a value that
 * is not an integer is CLEARN_EINVAL naming its row.  The classes are the
 * sorted distinct labels seen by fit, readable as the "classes" attribute
 * (1 x K, CLEARN_INT64).  clearn_estimator_predict() returns the predicted
 * labels as m x 1 float64, and clearn_estimator_score() the accuracy.
 *
 * The calls below share clearn_estimator_predict()'s contract: *out is an
 * OWNED matrix the caller frees; CLEARN_ENOTFITTED before fit; X with
 * another feature count: CLEARN_ESHAPE; a kind that does not offer the
 * call: CLEARN_EUNSUPPORTED.  Safe to call concurrently on one fitted
 * handle. */

/* 1 if est is a classifier kind ("logistic_regression"), else 0. */
CLEARN_API int clearn_estimator_is_classifier(const clearn_estimator *est);

/* Class probabilities: m x K float64, column k for classes[k]; rows sum
 * to 1. */
CLEARN_API int clearn_estimator_predict_proba(const clearn_estimator *est,
                                              const clearn_matrix *X,
                                              clearn_matrix **out);

/* Decision values: m x 1 for two classes (the margin of classes[1]), else
 * m x K (one per class), as scikit-learn's decision_function. */
CLEARN_API int clearn_estimator_decision_function(const clearn_estimator *est,
                                                  const clearn_matrix *X,
                                                  clearn_matrix **out);

/* ---- Regularization paths (lasso, elastic_net) ------------------------
 *
 * Fit est for each alpha of a decreasing sequence, each fit starting from
 * the previous coefficients, on one Gram matrix computed once (scikit-
 * learn's enet_path / lasso_path).  est's other parameters apply; its
 * "alpha" is ignored.  alphas: k x 1 float64 (finite, >= 0; descending
 * order is fastest), or NULL for scikit-learn's grid of n_alphas values
 * log-spaced from alpha_max (the smallest alpha with all coefficients 0)
 * down to 1e-3 alpha_max.  y must have one target.  Outputs (each may be
 * NULL if not wanted; OWNED): alphas_out k x 1, coefs k x p, intercepts
 * k x 1.  Afterwards est holds the model of the last alpha.  An alpha whose
 * descent does not converge: CLEARN_ENOTCONVERGED naming it, with every
 * output still written.  Other kinds: CLEARN_EUNSUPPORTED. */
CLEARN_API int clearn_estimator_path(clearn_estimator *est,
                                     const clearn_matrix *X,
                                     const clearn_matrix *y,
                                     const clearn_matrix *sample_weight,
                                     const clearn_matrix *alphas,
                                     int64_t n_alphas,
                                     clearn_matrix **alphas_out,
                                     clearn_matrix **coefs,
                                     clearn_matrix **intercepts);

/* ---- Transformers --------------------------------------------------------
 *
 * Transformers ("standard_scaler") are fitted with clearn_estimator_fit()
 * and y = NULL (a y, if given, must have X's rows and is ignored).  Same
 * contract as clearn_estimator_predict(); *out is m x p. */
CLEARN_API int clearn_estimator_transform(const clearn_estimator *est,
                                          const clearn_matrix *X,
                                          clearn_matrix **out);
CLEARN_API int clearn_estimator_inverse_transform(const clearn_estimator *est,
                                                  const clearn_matrix *X,
                                                  clearn_matrix **out);

/* ---- Fitted attributes ------------------------------------------------ */

/* Names of the fitted attributes of this kind ("coef", "intercept",
 * "n_features_in", "rank", "singular", ...).  Static strings. */
CLEARN_API int clearn_estimator_attr_count(const clearn_estimator *est);
CLEARN_API const char *clearn_estimator_attr_name(const clearn_estimator *est,
                                                  int i);

/* OWNED copy of a fitted attribute as a matrix (scalars are 1 x 1).  For
 * linear models: coef is t x p, intercept is 1 x t (float64).  Unknown name:
 * CLEARN_EINVAL listing the names; before fit: CLEARN_ENOTFITTED. */
CLEARN_API int clearn_estimator_get_attr(const clearn_estimator *est,
                                         const char *name,
                                         clearn_matrix **out);

/* ---- Persistence (HDF5) ----------------------------------------------- */

/* Save parameters and fitted model to an HDF5 file (schema in
 * docs/model-format.md).  The file is written to a temporary name in the
 * same directory, flushed to disk and renamed over path, so an interrupted
 * or failed save never leaves a broken file at path. */
CLEARN_API int clearn_estimator_save(const clearn_estimator *est,
                                     const char *path);

/* Load an estimator from a file written by clearn_estimator_save().
 * expect_kind: NULL accepts any kind; otherwise a file of another kind is
 * CLEARN_EKIND.  A newer schema: CLEARN_EVERSION; not HDF5, truncated or
 * missing pieces: CLEARN_EFORMAT naming what is wrong. */
CLEARN_API int clearn_estimator_load(const char *path, const char *expect_kind,
                                     clearn_estimator **out);

/* ---- Persistence in memory (bytes) ------------------------------------
 *
 * For bindings that serialize objects (Python's pickle) and for sending a
 * model over a socket or MPI.  The bytes are exactly an HDF5 model file
 * image: the layout and schema version of clearn_estimator_save()
 * (docs/model-format.md), so written to disk they are a model file that
 * clearn_estimator_load(), `clearn info` and h5py read, and a newer
 * schema is refused on load as for a file.  Thread-safe for distinct
 * handles (and for concurrent save_bytes on one handle), with the HDF5
 * caveat of clearn/ratings.h: HDF5 calls run one at a time when the HDF5
 * library is built thread-safe, as Debian's is. */

/* Serialize est (fitted or not: parameters always, the model if fitted).
 * On success *buf receives an OWNED buffer of *len bytes, released with
 * clearn_free(); on failure *buf = NULL and *len = 0.  buf or len NULL:
 * CLEARN_EINVAL; a kind that cannot save its model: CLEARN_EUNSUPPORTED;
 * no memory: CLEARN_ENOMEM. */
CLEARN_API int clearn_estimator_save_bytes(const clearn_estimator *est,
                                           void **buf, size_t *len);

/* A new estimator from len bytes made by clearn_estimator_save_bytes() (or
 * read from a model file).  buf is borrowed (copied as needed, never
 * modified or kept).  expect_kind: NULL accepts any kind; otherwise another
 * kind is CLEARN_EKIND.  Bytes that are not an HDF5 image, truncated or
 * corrupt, or lack a piece of the layout: CLEARN_EFORMAT naming what is
 * wrong; a newer schema: CLEARN_EVERSION.  On failure *out = NULL. */
CLEARN_API int clearn_estimator_load_bytes(const void *buf, size_t len,
                                           const char *expect_kind,
                                           clearn_estimator **out);

/* Release a buffer the library returned (clearn_estimator_save_bytes).
 * NULL is a no-op. */
CLEARN_API void clearn_free(void *p);

#ifdef __cplusplus
}
#endif
#endif /* CLEARN_ESTIMATOR_H */
