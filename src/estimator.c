/*
 * estimator.c -- the generic estimator handle and its dispatch.
 *
 * A handle pairs a kind's type table (static, shared) with a params struct
 * and, once fitted, an opaque model.  Generic code here validates inputs,
 * dispatches through the table and implements what is the same for every
 * kind: error bookkeeping, the swap-on-success rule (a failed fit or load
 * never disturbs the current model), scoring and the HDF5 file layout.
 * Keeping params and model apart is what makes that rule cheap: fit builds
 * a complete new model and only then replaces the old one.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int clearn__est_fail(const clearn_estimator *est, int code) {
  if (code != CLEARN_OK && est != NULL)
    snprintf(((clearn_estimator *)est)->errmsg, sizeof est->errmsg, "%s",
             clearn__errmsg());
  return code;
}

void clearn__est_set_model(clearn_estimator *est, void *model) {
  if (est->model) est->type->model_free(est->model);
  est->model = model;
}

static int est_alloc(const clearn__estimator_type *t, clearn_estimator **out) {
  clearn_estimator *est = calloc(1, sizeof *est);
  int i;
  if (est == NULL) return clearn__err(CLEARN_ENOMEM, "out of memory");
  est->type = t;
  est->params = calloc(1, t->params_size ? t->params_size : 1);
  est->range_text = calloc((size_t)t->n_params + 1, sizeof(char *));
  if (est->params == NULL || est->range_text == NULL) goto nomem;
  for (i = 0; i < t->n_params; i++) {
    char buf[128];
    clearn__param_range_text(&t->params[i], buf, sizeof buf);
    if ((est->range_text[i] = malloc(strlen(buf) + 1)) == NULL) goto nomem;
    strcpy(est->range_text[i], buf);
  }
  *out = est;
  return CLEARN_OK;
nomem:
  clearn_estimator_free(est);
  return clearn__err(CLEARN_ENOMEM, "out of memory");
}

int clearn_estimator_create(const char *kind, clearn_estimator **out) {
  const clearn__estimator_type *t;
  int rc;
  if (out == NULL) return clearn__err(CLEARN_EINVAL, "out is NULL");
  *out = NULL;
  if (kind == NULL) return clearn__err(CLEARN_EINVAL, "kind is NULL");
  if ((t = clearn__find_type(kind)) == NULL) {
    char list[256];
    size_t used = 0;
    int i;
    list[0] = '\0';
    for (i = 0; i < clearn_kind_count() && used < sizeof list; i++)
      used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                               i ? ", " : "", clearn_kind_name(i));
    return clearn__err(CLEARN_EINVAL, "unknown estimator kind '%s' (known: %s)",
                       kind, list);
  }
  if ((rc = est_alloc(t, out)) != CLEARN_OK) return rc;
  if ((rc = clearn__params_defaults(t, (*out)->params)) != CLEARN_OK) {
    clearn_estimator_free(*out);
    *out = NULL;
  }
  return rc;
}

int clearn_estimator_clone(const clearn_estimator *src,
                           clearn_estimator **out) {
  int rc;
  if (out == NULL) return clearn__err(CLEARN_EINVAL, "out is NULL");
  *out = NULL;
  if (src == NULL) return clearn__err(CLEARN_EINVAL, "source estimator is NULL");
  if ((rc = est_alloc(src->type, out)) != CLEARN_OK) return rc;
  memcpy((*out)->params, src->params, src->type->params_size);
  return CLEARN_OK;
}

void clearn_estimator_free(clearn_estimator *est) {
  int i;
  if (est == NULL) return;
  if (est->model) est->type->model_free(est->model);
  if (est->range_text) {
    for (i = 0; i < est->type->n_params; i++) free(est->range_text[i]);
    free(est->range_text);
  }
  free(est->ckpt_path);
  free(est->params);
  free(est);
}

const char *clearn_estimator_kind(const clearn_estimator *est) {
  return est ? est->type->name : "";
}

const char *clearn_estimator_errmsg(const clearn_estimator *est) {
  return est ? est->errmsg : "";
}

int clearn_estimator_is_fitted(const clearn_estimator *est) {
  return est != NULL && est->model != NULL;
}

/* ---- supervised fit ------------------------------------------------------ */

int clearn__validate_xy(const char *who, const clearn_matrix *X,
                        const clearn_matrix *y, const clearn_matrix *w,
                        int allow_empty) {
  int rc;
  int64_t i;
  if ((rc = clearn__check_f64(X, who, "X", -1, -1)) != CLEARN_OK) return rc;
  if (!allow_empty && X->rows == 0)
    return clearn__err(CLEARN_ESHAPE, "%s: X has 0 samples, need at least 1",
                       who);
  if ((rc = clearn__check_f64(y, who, "y", X->rows, -1)) != CLEARN_OK)
    return rc;
  if (y->cols < 1)
    return clearn__err(CLEARN_ESHAPE, "%s: y has 0 targets", who);
  if ((rc = clearn__check_finite(X, who, "X")) != CLEARN_OK) return rc;
  if ((rc = clearn__check_finite(y, who, "y")) != CLEARN_OK) return rc;
  if (w != NULL) {
    if ((rc = clearn__check_f64(w, who, "sample_weight", X->rows, 1)) !=
        CLEARN_OK)
      return rc;
    if ((rc = clearn__check_finite(w, who, "sample_weight")) != CLEARN_OK)
      return rc;
    for (i = 0; i < w->rows; i++)
      if (CLEARN__F64(w)[i] < 0)
        return clearn__err(CLEARN_EINVAL,
                           "%s: sample_weight[%lld] = %g is negative", who,
                           (long long)i, CLEARN__F64(w)[i]);
  }
  return CLEARN_OK;
}

/* A transformer's fit without y: X and the weights only. */
static int validate_x(const char *who, const clearn_matrix *X,
                      const clearn_matrix *w) {
  int rc;
  int64_t i;
  if ((rc = clearn__check_f64(X, who, "X", -1, -1)) != CLEARN_OK) return rc;
  if (X->rows == 0)
    return clearn__err(CLEARN_ESHAPE, "%s: X has 0 samples, need at least 1",
                       who);
  if ((rc = clearn__check_finite(X, who, "X")) != CLEARN_OK) return rc;
  if (w == NULL) return CLEARN_OK;
  if ((rc = clearn__check_f64(w, who, "sample_weight", X->rows, 1)) !=
          CLEARN_OK ||
      (rc = clearn__check_finite(w, who, "sample_weight")) != CLEARN_OK)
    return rc;
  for (i = 0; i < w->rows; i++)
    if (CLEARN__F64(w)[i] < 0)
      return clearn__err(CLEARN_EINVAL,
                         "%s: sample_weight[%lld] = %g is negative", who,
                         (long long)i, CLEARN__F64(w)[i]);
  return CLEARN_OK;
}

int clearn__type_fit(const clearn_estimator *est, const clearn_matrix *X,
                     const clearn_matrix *y, const clearn_matrix *w,
                     const clearn__reducer *red, void **model) {
  const clearn__estimator_ext *ext = clearn__find_ext(est->type);
  if (ext != NULL && ext->fit_from != NULL)
    return ext->fit_from(est->params, est->model, X, y, w, red, model);
  return est->type->fit(est->params, X, y, w, red, model);
}

int clearn__fit_with(clearn_estimator *est, const clearn_matrix *X,
                     const clearn_matrix *y, const clearn_matrix *w,
                     const clearn__reducer *red) {
  void *model = NULL;
  int rc;
  if (est->type->fit == NULL)
    return clearn__err(CLEARN_EUNSUPPORTED,
                       "%s: fit(X, y) is not supported by this estimator",
                       est->type->name);
  if (est->type->check && (rc = est->type->check(est->params)) != CLEARN_OK)
    return rc;
  rc = clearn__type_fit(est, X, y, w, red, &model);
  /* ENOTCONVERGED still delivers a usable model. */
  if (model != NULL) clearn__est_set_model(est, model);
  return rc;
}

int clearn_estimator_fit(clearn_estimator *est, const clearn_matrix *X,
                         const clearn_matrix *y,
                         const clearn_matrix *sample_weight) {
  int rc;
  const clearn__estimator_ext *ext;
  if (est == NULL) return clearn__err(CLEARN_EINVAL, "estimator is NULL");
  ext = clearn__find_ext(est->type);
  if (y == NULL && ext != NULL && ext->y_optional)
    rc = validate_x(est->type->name, X, sample_weight);
  else
    rc = clearn__validate_xy(est->type->name, X, y, sample_weight, 0);
  if (rc == CLEARN_OK) rc = clearn__fit_with(est, X, y, sample_weight, NULL);
  return clearn__est_fail(est, rc);
}

/* Fitted?  Right feature count?  Finite?  (Without the predict check.) */
static int check_x(const clearn_estimator *est, const clearn_matrix *X) {
  int64_t p;
  int rc;
  if (est->model == NULL)
    return clearn__err(CLEARN_ENOTFITTED,
                       "%s: this estimator is not fitted yet; call fit "
                       "before predict or score",
                       est->type->name);
  if ((rc = clearn__check_f64(X, est->type->name, "X", -1, -1)) != CLEARN_OK)
    return rc;
  p = est->type->n_features(est->model);
  if (X->cols != p)
    return clearn__err(CLEARN_ESHAPE,
                       "%s: X has %lld features, but the estimator was "
                       "fitted with %lld features",
                       est->type->name, (long long)X->cols, (long long)p);
  return clearn__check_finite(X, est->type->name, "X");
}

int clearn__check_predict(const clearn_estimator *est, const clearn_matrix *X) {
  if (est->type->predict == NULL)
    return clearn__err(CLEARN_EUNSUPPORTED,
                       "%s: predict(X) and score(X, y) are not offered by "
                       "this estimator%s",
                       est->type->name,
                       est->type->rec ? "; see clearn/recommender.h" : "");
  return check_x(est, X);
}

int clearn_estimator_predict(const clearn_estimator *est,
                             const clearn_matrix *X, clearn_matrix **out) {
  int rc;
  if (est == NULL) return clearn__err(CLEARN_EINVAL, "estimator is NULL");
  if (out == NULL)
    return clearn__est_fail(est, clearn__err(CLEARN_EINVAL, "out is NULL"));
  *out = NULL;
  if ((rc = clearn__check_predict(est, X)) != CLEARN_OK)
    return clearn__est_fail(est, rc);
  if (est->type->predict == NULL)
    return clearn__est_fail(
        est, clearn__err(CLEARN_EUNSUPPORTED, "%s: predict(X) is not supported",
                         est->type->name));
  return clearn__est_fail(est, est->type->predict(est->params, est->model, X,
                                                  out));
}

/* One of the optional predict-like slots of the kind's ext table. */
enum { SLOT_PROBA, SLOT_DECISION, SLOT_TRANSFORM, SLOT_INVERSE };

static int call_slot(const clearn_estimator *est, const clearn_matrix *X,
                     clearn_matrix **out, int slot) {
  static const char *const what[] = {"predict_proba", "decision_function",
                                     "transform", "inverse_transform"};
  const clearn__estimator_ext *ext;
  int (*fn)(const void *, const void *, const clearn_matrix *,
            clearn_matrix **) = NULL;
  int rc;
  if (est == NULL) return clearn__err(CLEARN_EINVAL, "estimator is NULL");
  if (out == NULL)
    return clearn__est_fail(est, clearn__err(CLEARN_EINVAL, "out is NULL"));
  *out = NULL;
  if ((ext = clearn__find_ext(est->type)) != NULL)
    fn = slot == SLOT_PROBA      ? ext->predict_proba
         : slot == SLOT_DECISION ? ext->decision_function
         : slot == SLOT_TRANSFORM ? ext->transform
                                  : ext->inverse_transform;
  if (fn == NULL)
    return clearn__est_fail(
        est, clearn__err(CLEARN_EUNSUPPORTED,
                         "%s: %s(X) is not offered by this estimator",
                         est->type->name, what[slot]));
  if ((rc = check_x(est, X)) != CLEARN_OK) return clearn__est_fail(est, rc);
  return clearn__est_fail(est, fn(est->params, est->model, X, out));
}

int clearn_estimator_predict_proba(const clearn_estimator *est,
                                   const clearn_matrix *X,
                                   clearn_matrix **out) {
  return call_slot(est, X, out, SLOT_PROBA);
}

int clearn_estimator_decision_function(const clearn_estimator *est,
                                       const clearn_matrix *X,
                                       clearn_matrix **out) {
  return call_slot(est, X, out, SLOT_DECISION);
}

int clearn_estimator_transform(const clearn_estimator *est,
                               const clearn_matrix *X, clearn_matrix **out) {
  return call_slot(est, X, out, SLOT_TRANSFORM);
}

int clearn_estimator_inverse_transform(const clearn_estimator *est,
                                       const clearn_matrix *X,
                                       clearn_matrix **out) {
  return call_slot(est, X, out, SLOT_INVERSE);
}

int clearn_estimator_is_classifier(const clearn_estimator *est) {
  const clearn__estimator_ext *ext = est ? clearn__find_ext(est->type) : NULL;
  return ext != NULL && ext->is_classifier;
}

int clearn_estimator_path(clearn_estimator *est, const clearn_matrix *X,
                          const clearn_matrix *y,
                          const clearn_matrix *sample_weight,
                          const clearn_matrix *alphas, int64_t n_alphas,
                          clearn_matrix **alphas_out, clearn_matrix **coefs,
                          clearn_matrix **intercepts) {
  const clearn__estimator_ext *ext;
  clearn_matrix *ao = NULL, *co = NULL, *io = NULL;
  void *model = NULL;
  int64_t k;
  int rc;
  if (est == NULL) return clearn__err(CLEARN_EINVAL, "estimator is NULL");
  if (alphas_out) *alphas_out = NULL;
  if (coefs) *coefs = NULL;
  if (intercepts) *intercepts = NULL;
  ext = clearn__find_ext(est->type);
  if (ext == NULL || ext->path == NULL)
    return clearn__est_fail(
        est, clearn__err(CLEARN_EUNSUPPORTED,
                         "%s: a regularization path is not offered by this "
                         "estimator (lasso and elastic_net offer one)",
                         est->type->name));
  if ((rc = clearn__validate_xy(est->type->name, X, y, sample_weight, 0)) !=
      CLEARN_OK)
    return clearn__est_fail(est, rc);
  if (alphas != NULL) {
    int64_t i;
    if ((rc = clearn__check_f64(alphas, est->type->name, "alphas", -1, 1)) !=
        CLEARN_OK)
      return clearn__est_fail(est, rc);
    k = alphas->rows;
    for (i = 0; i < k; i++)
      if (!(CLEARN__F64(alphas)[i] >= 0) || isinf(CLEARN__F64(alphas)[i]))
        return clearn__est_fail(
            est, clearn__err(CLEARN_EINVAL,
                             "%s: alphas[%lld] = %g: must be finite and >= 0",
                             est->type->name, (long long)i,
                             CLEARN__F64(alphas)[i]));
  } else {
    k = n_alphas;
  }
  if (k < 1)
    return clearn__est_fail(
        est, clearn__err(CLEARN_EINVAL, "%s: path: n_alphas = %lld: must be "
                         ">= 1", est->type->name, (long long)k));
  if ((rc = clearn_matrix_create(k, 1, CLEARN_FLOAT64, &ao)) != CLEARN_OK ||
      (rc = clearn_matrix_create(k, X->cols, CLEARN_FLOAT64, &co)) !=
          CLEARN_OK ||
      (rc = clearn_matrix_create(k, 1, CLEARN_FLOAT64, &io)) != CLEARN_OK)
    goto cleanup;
  rc = ext->path(est->params, X, y, sample_weight,
                 alphas ? CLEARN__F64(alphas) : NULL, k, NULL, ao->data,
                 co->data, io->data, &model);
  if (model != NULL) clearn__est_set_model(est, model);
  if (rc == CLEARN_OK || rc == CLEARN_ENOTCONVERGED) {
    if (alphas_out) *alphas_out = ao, ao = NULL;
    if (coefs) *coefs = co, co = NULL;
    if (intercepts) *intercepts = io, io = NULL;
  }
cleanup:
  clearn_matrix_free(ao);
  clearn_matrix_free(co);
  clearn_matrix_free(io);
  return clearn__est_fail(est, rc);
}

int clearn__score_with(const clearn_estimator *est, const clearn_matrix *X,
                       const clearn_matrix *y, const clearn_matrix *w,
                       const clearn__reducer *red, double *out) {
  const clearn__estimator_ext *ext = clearn__find_ext(est->type);
  int classifier = ext != NULL && ext->is_classifier;
  clearn_matrix *yhat = NULL;
  int rc = clearn__check_predict(est, X);
  if (rc == CLEARN_OK)
    rc = clearn__validate_xy(est->type->name, X, y, w, red != NULL);
  if (rc == CLEARN_OK)
    rc = est->type->predict(est->params, est->model, X, &yhat);
  if (rc == CLEARN_OK && yhat->cols != y->cols)
    rc = clearn__err(CLEARN_ESHAPE,
                     "%s: y has %lld %s, the model predicts %lld",
                     est->type->name, (long long)y->cols,
                     classifier ? "columns" : "targets",
                     (long long)yhat->cols);
  /* Distributed: agree on the local checks before the first sum. */
  rc = clearn__reduce_sum(red, NULL, 0, rc);
  if (rc == CLEARN_OK)
    rc = classifier ? clearn__accuracy(y, yhat, w, red, out)
                    : clearn__r2(y, yhat, w, red, out);
  clearn_matrix_free(yhat);
  return rc;
}

int clearn_estimator_score(const clearn_estimator *est, const clearn_matrix *X,
                           const clearn_matrix *y,
                           const clearn_matrix *sample_weight, double *out) {
  if (est == NULL) return clearn__err(CLEARN_EINVAL, "estimator is NULL");
  if (out == NULL)
    return clearn__est_fail(est, clearn__err(CLEARN_EINVAL, "out is NULL"));
  return clearn__est_fail(
      est, clearn__score_with(est, X, y, sample_weight, NULL, out));
}

/* ---- attributes -------------------------------------------------------- */

int clearn_estimator_attr_count(const clearn_estimator *est) {
  return est ? est->type->n_attrs : 0;
}

const char *clearn_estimator_attr_name(const clearn_estimator *est, int i) {
  if (est == NULL || i < 0 || i >= est->type->n_attrs) return NULL;
  return est->type->attrs[i];
}

int clearn_estimator_get_attr(const clearn_estimator *est, const char *name,
                              clearn_matrix **out) {
  int i, known = 0;
  if (est == NULL) return clearn__err(CLEARN_EINVAL, "estimator is NULL");
  if (out == NULL)
    return clearn__est_fail(est, clearn__err(CLEARN_EINVAL, "out is NULL"));
  *out = NULL;
  for (i = 0; name && i < est->type->n_attrs; i++)
    known |= strcmp(est->type->attrs[i], name) == 0;
  if (!known) {
    char list[256];
    size_t used = 0;
    list[0] = '\0';
    for (i = 0; i < est->type->n_attrs && used < sizeof list; i++)
      used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                               i ? ", " : "", est->type->attrs[i]);
    return clearn__est_fail(
        est, clearn__err(CLEARN_EINVAL,
                         "%s: unknown attribute '%s' (known: %s)",
                         est->type->name, name ? name : "(null)", list));
  }
  if (est->model == NULL)
    return clearn__est_fail(
        est, clearn__err(CLEARN_ENOTFITTED,
                         "%s: attribute '%s' exists only after fit",
                         est->type->name, name));
  return clearn__est_fail(est, est->type->get_attr(est->model, name, out));
}

/* ---- persistence --------------------------------------------------------
 * File layout (docs/model-format.md):
 *   /            attrs format="clearn.model", schema_version, kind,
 *                clearn_version, fitted (0/1)
 *   /params      one attribute per parameter, by name
 *   /model       the kind's fitted arrays and scalars (if fitted)
 */

/* The layout above, written into an open, empty HDF5 file (on disk or a
 * memory image: src/serialize.c). */
int clearn__est_write(const clearn_estimator *est, hid_t file) {
  hid_t g = H5I_INVALID_HID;
  int rc;
  rc = clearn__h5_attr_write_str(file, "format", CLEARN__MODEL_FORMAT);
  if (rc == CLEARN_OK)
    rc = clearn__h5_attr_write_i64(file, "schema_version",
                                   CLEARN__MODEL_SCHEMA_VERSION);
  if (rc == CLEARN_OK)
    rc = clearn__h5_attr_write_str(file, "kind", est->type->name);
  if (rc == CLEARN_OK)
    rc = clearn__h5_attr_write_str(file, "clearn_version",
                                   CLEARN_VERSION_STRING);
  if (rc == CLEARN_OK)
    rc = clearn__h5_attr_write_i64(file, "fitted", est->model != NULL);
  if (rc == CLEARN_OK) {
    H5E_BEGIN_TRY { g = H5Gcreate2(file, "params", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT); }
    H5E_END_TRY;
    rc = g < 0 ? clearn__err(CLEARN_EIO, "cannot create group 'params'")
               : clearn__params_save(est->type, est->params, g);
    if (g >= 0) H5Gclose(g);
  }
  if (rc == CLEARN_OK && est->model != NULL && est->type->save == NULL)
    rc = clearn__err(CLEARN_EUNSUPPORTED,
                     "%s: saving a fitted model is not supported",
                     est->type->name);
  if (rc == CLEARN_OK && est->model != NULL) {
    H5E_BEGIN_TRY { g = H5Gcreate2(file, "model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT); }
    H5E_END_TRY;
    rc = g < 0 ? clearn__err(CLEARN_EIO, "cannot create group 'model'")
               : est->type->save(est->model, g);
    if (g >= 0) H5Gclose(g);
  }
  return rc;
}

int clearn_estimator_save(const clearn_estimator *est, const char *path) {
  clearn__h5_atomic a;
  int rc;
  if (est == NULL) return clearn__err(CLEARN_EINVAL, "estimator is NULL");
  if (path == NULL)
    return clearn__est_fail(est, clearn__err(CLEARN_EINVAL, "path is NULL"));
  if ((rc = clearn__h5_atomic_begin(&a, path)) != CLEARN_OK)
    return clearn__est_fail(est, rc);
  rc = clearn__est_write(est, a.file);
  if (rc == CLEARN_OK)
    rc = clearn__h5_atomic_commit(&a);
  else
    clearn__h5_atomic_abort(&a);
  if (rc != CLEARN_OK) rc = clearn__err_prefix(rc, "save '%s'", path);
  return clearn__est_fail(est, rc);
}

/* Read the layout above from an open HDF5 file (not closed here) into a
 * new estimator; *out is set only on success. */
int clearn__est_read(hid_t file, const char *expect_kind,
                     clearn_estimator **out) {
  hid_t g = H5I_INVALID_HID;
  clearn_estimator *est = NULL;
  char text[128];
  int64_t version = 0, fitted = 0;
  void *model = NULL;
  int rc;
  if (!clearn__h5_attr_exists(file, "format") ||
      clearn__h5_attr_read_str(file, "format", text, sizeof text) != CLEARN_OK ||
      strcmp(text, CLEARN__MODEL_FORMAT) != 0) {
    rc = clearn__err(CLEARN_EFORMAT, "not a clearn model file (no format=\"%s\" attribute)",
                     CLEARN__MODEL_FORMAT);
    goto cleanup;
  }
  if ((rc = clearn__h5_attr_read_i64(file, "schema_version", &version)) != CLEARN_OK)
    goto cleanup;
  if (version < 1) {
    rc = clearn__err(CLEARN_EFORMAT, "schema_version %lld is invalid (must be "
                     ">= 1)", (long long)version);
    goto cleanup;
  }
  if (version > CLEARN__MODEL_SCHEMA_VERSION) {
    rc = clearn__err(CLEARN_EVERSION,
                     "schema version %lld is not supported by clearn %s "
                     "(reads versions 1 to %d)",
                     (long long)version, CLEARN_VERSION_STRING,
                     CLEARN__MODEL_SCHEMA_VERSION);
    goto cleanup;
  }
  if ((rc = clearn__h5_attr_read_str(file, "kind", text, sizeof text)) != CLEARN_OK)
    goto cleanup;
  if (expect_kind != NULL && strcmp(text, expect_kind) != 0) {
    rc = clearn__err(CLEARN_EKIND, "file holds a '%s' model, expected '%s'",
                     text, expect_kind);
    goto cleanup;
  }
  if ((rc = clearn_estimator_create(text, &est)) != CLEARN_OK) {
    rc = clearn__err_prefix(CLEARN_EFORMAT, "kind");
    goto cleanup;
  }
  if ((rc = clearn__h5_attr_read_i64(file, "fitted", &fitted)) != CLEARN_OK)
    goto cleanup;
  if (fitted != 0 && fitted != 1) {
    rc = clearn__err(CLEARN_EFORMAT, "attribute 'fitted' = %lld, must be 0 or 1",
                     (long long)fitted);
    goto cleanup;
  }
  H5E_BEGIN_TRY { g = H5Gopen2(file, "params", H5P_DEFAULT); }
  H5E_END_TRY;
  if (g < 0) {
    rc = clearn__err(CLEARN_EFORMAT, "group 'params' is missing");
    goto cleanup;
  }
  rc = clearn__params_load(est->type, est->params, g);
  H5Gclose(g);
  if (rc != CLEARN_OK) goto cleanup;
  if (fitted) {
    H5E_BEGIN_TRY { g = H5Gopen2(file, "model", H5P_DEFAULT); }
    H5E_END_TRY;
    if (g < 0) {
      rc = clearn__err(CLEARN_EFORMAT, "group 'model' is missing");
      goto cleanup;
    }
    rc = est->type->load
             ? est->type->load(g, &model)
             : clearn__err(CLEARN_EUNSUPPORTED,
                           "%s: loading a fitted model is not supported",
                           est->type->name);
    H5Gclose(g);
    if (rc != CLEARN_OK) {
      rc = clearn__err_prefix(rc, "model");
      goto cleanup;
    }
    clearn__est_set_model(est, model);
  }
  *out = est;
  est = NULL;
cleanup:
  clearn_estimator_free(est);
  return rc;
}

int clearn_estimator_load(const char *path, const char *expect_kind,
                          clearn_estimator **out) {
  hid_t file = H5I_INVALID_HID;
  int rc;
  if (out == NULL) return clearn__err(CLEARN_EINVAL, "out is NULL");
  *out = NULL;
  if (path == NULL) return clearn__err(CLEARN_EINVAL, "path is NULL");
  /* Its messages already name the path. */
  if ((rc = clearn__h5_open_read(path, &file)) != CLEARN_OK)
    return clearn__err_prefix(rc, "load");
  rc = clearn__est_read(file, expect_kind, out);
  H5Fclose(file);
  if (rc != CLEARN_OK) rc = clearn__err_prefix(rc, "load '%s'", path);
  return rc;
}
