/*
 * params.c -- parameters by name, checked against each kind's spec table.
 *
 * Every estimator kind describes its parameters in one static table
 * (clearn__param_spec): name, type, default text, numeric range or choices,
 * help.  All setting, getting, parsing, formatting and range checking goes
 * through this file, so each rule lives in exactly one place and every
 * binding or command line that lists the table gets the same validation.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const clearn__param_spec *find_spec(const clearn__estimator_type *t,
                                           const char *name) {
  int i;
  for (i = 0; i < t->n_params; i++)
    if (strcmp(t->params[i].name, name) == 0) return &t->params[i];
  return NULL;
}

static int unknown_param(const clearn__estimator_type *t, const char *name) {
  char list[400];
  size_t used = 0;
  int i;
  list[0] = '\0';
  for (i = 0; i < t->n_params && used < sizeof list; i++)
    used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                             i ? ", " : "", t->params[i].name);
  return clearn__err(CLEARN_EPARAM, "%s: unknown parameter '%s' (known: %s)",
                     t->name, name ? name : "(null)", list);
}

/* Index of `v` in "a|b|c", or -1. */
static int choice_index(const char *choices, const char *v) {
  const char *p = choices;
  size_t n = strlen(v);
  int idx = 0;
  while (*p) {
    const char *bar = strchr(p, '|');
    size_t len = bar ? (size_t)(bar - p) : strlen(p);
    if (len == n && strncmp(p, v, n) == 0) return idx;
    if (!bar) break;
    p = bar + 1;
    idx++;
  }
  return -1;
}

/* Copy the idx-th choice into buf. */
static void choice_name(const char *choices, int idx, char *buf, size_t cap) {
  const char *p = choices;
  while (idx-- > 0 && p) {
    p = strchr(p, '|');
    if (p) p++;
  }
  if (p == NULL) p = "";
  {
    const char *bar = strchr(p, '|');
    size_t len = bar ? (size_t)(bar - p) : strlen(p);
    if (len >= cap) len = cap - 1;
    memcpy(buf, p, len);
    buf[len] = '\0';
  }
}

/* Shortest of %.15g..%.17g that reads back exactly: "0.1", not
 * "0.10000000000000001", and still a lossless round trip. */
static void fmt_bound(char *buf, size_t cap, double v) {
  int prec;
  if (isinf(v)) {
    snprintf(buf, cap, "%sinf", v < 0 ? "-" : "");
    return;
  }
  for (prec = 15; prec <= 17; prec++) {
    snprintf(buf, cap, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) return;
  }
}

void clearn__param_range_text(const clearn__param_spec *s, char *buf,
                              size_t cap) {
  char lo[32], hi[32];
  switch (s->type) {
  case CLEARN_PARAM_BOOL: snprintf(buf, cap, "true|false"); return;
  case CLEARN_PARAM_STRING: snprintf(buf, cap, "%s", s->choices); return;
  case CLEARN_PARAM_INT:
  case CLEARN_PARAM_DOUBLE:
    fmt_bound(lo, sizeof lo, s->lo);
    fmt_bound(hi, sizeof hi, s->hi);
    snprintf(buf, cap, "%c%s, %s%c", s->lo_open || isinf(s->lo) ? '(' : '[',
             lo, hi, s->hi_open || isinf(s->hi) ? ')' : ']');
    return;
  }
  snprintf(buf, cap, "?");
}

/* The single range check for numeric values.  Half-bounded ranges read
 * as "must be >= 0"; bounded ones as "must be in (0, 1]". */
static int check_range(const clearn__estimator_type *t,
                       const clearn__param_spec *s, double v,
                       const char *text) {
  int ok = !isnan(v);
  char range[96], bound[32];
  if (ok) ok = s->lo_open ? v > s->lo : v >= s->lo;
  if (ok) ok = s->hi_open ? v < s->hi : v <= s->hi;
  if (ok) return CLEARN_OK;
  if (isinf(s->hi) && !isinf(s->lo)) {
    fmt_bound(bound, sizeof bound, s->lo);
    snprintf(range, sizeof range, "%s %s", s->lo_open ? ">" : ">=", bound);
  } else if (isinf(s->lo) && !isinf(s->hi)) {
    fmt_bound(bound, sizeof bound, s->hi);
    snprintf(range, sizeof range, "%s %s", s->hi_open ? "<" : "<=", bound);
  } else {
    char r[80];
    clearn__param_range_text(s, r, sizeof r);
    snprintf(range, sizeof range, "in %s", r);
  }
  return clearn__err(CLEARN_EPARAM, "%s: parameter '%s' = %s: must be %s",
                     t->name, s->name, text, range);
}

static void *slot(void *params, const clearn__param_spec *s) {
  return (char *)params + s->offset;
}

/* Parse text for spec s and store it; the one place text becomes a value. */
static int set_from_text(const clearn__estimator_type *t, void *params,
                         const clearn__param_spec *s, const char *text) {
  char *end;
  int rc;
  if (text == NULL)
    return clearn__err(CLEARN_EPARAM, "%s: parameter '%s': value is NULL",
                       t->name, s->name);
  switch (s->type) {
  case CLEARN_PARAM_BOOL:
    if (!strcmp(text, "true") || !strcmp(text, "1") || !strcmp(text, "True"))
      *(int *)slot(params, s) = 1;
    else if (!strcmp(text, "false") || !strcmp(text, "0") ||
             !strcmp(text, "False"))
      *(int *)slot(params, s) = 0;
    else
      return clearn__err(CLEARN_EPARAM,
                         "%s: parameter '%s' = '%s': must be true or false",
                         t->name, s->name, text);
    return CLEARN_OK;
  case CLEARN_PARAM_INT: {
    long long v;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE)
      return clearn__err(CLEARN_EPARAM,
                         "%s: parameter '%s' = '%s': not an integer", t->name,
                         s->name, text);
    if ((rc = check_range(t, s, (double)v, text)) != CLEARN_OK) return rc;
    *(int64_t *)slot(params, s) = (int64_t)v;
    return CLEARN_OK;
  }
  case CLEARN_PARAM_DOUBLE: {
    double v;
    errno = 0;
    v = strtod(text, &end);
    if (end == text || *end != '\0')
      return clearn__err(CLEARN_EPARAM,
                         "%s: parameter '%s' = '%s': not a number", t->name,
                         s->name, text);
    if ((rc = check_range(t, s, v, text)) != CLEARN_OK) return rc;
    *(double *)slot(params, s) = v;
    return CLEARN_OK;
  }
  case CLEARN_PARAM_STRING: {
    int idx = choice_index(s->choices, text);
    if (idx < 0)
      return clearn__err(CLEARN_EPARAM,
                         "%s: parameter '%s' = '%s': must be one of %s",
                         t->name, s->name, text, s->choices);
    *(int *)slot(params, s) = idx;
    return CLEARN_OK;
  }
  }
  return clearn__err(CLEARN_EPARAM, "%s: parameter '%s' has a bad type",
                     t->name, s->name);
}

int clearn__params_defaults(const clearn__estimator_type *t, void *params) {
  int i, rc;
  for (i = 0; i < t->n_params; i++)
    if ((rc = set_from_text(t, params, &t->params[i],
                            t->params[i].default_text)) != CLEARN_OK)
      return rc;
  return CLEARN_OK;
}

/* Set on a scratch copy, run the kind's cross-parameter check, then
 * commit: a refused value never changes the estimator. */
static int set_checked(clearn_estimator *est, const clearn__param_spec *s,
                       const char *text) {
  const clearn__estimator_type *t = est->type;
  void *scratch = malloc(t->params_size);
  int rc;
  if (scratch == NULL) return clearn__err(CLEARN_ENOMEM, "out of memory");
  memcpy(scratch, est->params, t->params_size);
  rc = set_from_text(t, scratch, s, text);
  if (rc == CLEARN_OK && t->check) rc = t->check(scratch);
  if (rc == CLEARN_OK) memcpy(est->params, scratch, t->params_size);
  free(scratch);
  return rc;
}

int clearn_estimator_set_param_string(clearn_estimator *est, const char *name,
                                      const char *v) {
  const clearn__param_spec *s;
  if (est == NULL) return clearn__err(CLEARN_EINVAL, "estimator is NULL");
  s = name ? find_spec(est->type, name) : NULL;
  if (s == NULL) return clearn__est_fail(est, unknown_param(est->type, name));
  return clearn__est_fail(est, set_checked(est, s, v));
}

int clearn_estimator_set_param_double(clearn_estimator *est, const char *name,
                                      double v) {
  const clearn__param_spec *s;
  char text[40];
  if (est == NULL) return clearn__err(CLEARN_EINVAL, "estimator is NULL");
  s = name ? find_spec(est->type, name) : NULL;
  if (s == NULL) return clearn__est_fail(est, unknown_param(est->type, name));
  if (s->type == CLEARN_PARAM_STRING)
    return clearn__est_fail(
        est, clearn__err(CLEARN_EPARAM,
                         "%s: parameter '%s' takes one of %s, not a number",
                         est->type->name, s->name, s->choices));
  if (s->type != CLEARN_PARAM_DOUBLE && (v != floor(v) || !isfinite(v) ||
                                         fabs(v) > 9.2e18)) {
    fmt_bound(text, sizeof text, v);
    return clearn__est_fail(
        est, clearn__err(CLEARN_EPARAM,
                         "%s: parameter '%s' = %s: must be an integer",
                         est->type->name, s->name, text));
  }
  if (s->type == CLEARN_PARAM_DOUBLE)
    fmt_bound(text, sizeof text, v);
  else
    snprintf(text, sizeof text, "%lld", (long long)v);
  return clearn__est_fail(est, set_checked(est, s, text));
}

int clearn_estimator_set_param_int(clearn_estimator *est, const char *name,
                                   int64_t v) {
  const clearn__param_spec *s;
  char text[32];
  if (est == NULL) return clearn__err(CLEARN_EINVAL, "estimator is NULL");
  s = name ? find_spec(est->type, name) : NULL;
  if (s == NULL) return clearn__est_fail(est, unknown_param(est->type, name));
  if (s->type == CLEARN_PARAM_STRING)
    return clearn__est_fail(
        est, clearn__err(CLEARN_EPARAM,
                         "%s: parameter '%s' takes one of %s, not a number",
                         est->type->name, s->name, s->choices));
  if (s->type == CLEARN_PARAM_BOOL && v != 0 && v != 1)
    return clearn__est_fail(
        est, clearn__err(CLEARN_EPARAM,
                         "%s: parameter '%s' = %lld: must be 0 or 1",
                         est->type->name, s->name, (long long)v));
  snprintf(text, sizeof text, "%lld", (long long)v);
  return clearn__est_fail(est, set_checked(est, s, text));
}

static int get_spec(const clearn_estimator *est, const char *name,
                    const clearn__param_spec **s) {
  if (est == NULL) return clearn__err(CLEARN_EINVAL, "estimator is NULL");
  *s = name ? find_spec(est->type, name) : NULL;
  if (*s == NULL) return clearn__est_fail(est, unknown_param(est->type, name));
  return CLEARN_OK;
}

int clearn_estimator_get_param_int(const clearn_estimator *est,
                                   const char *name, int64_t *v) {
  const clearn__param_spec *s;
  int rc = get_spec(est, name, &s);
  if (rc != CLEARN_OK) return rc;
  if (v == NULL) return clearn__err(CLEARN_EINVAL, "output pointer is NULL");
  switch (s->type) {
  case CLEARN_PARAM_BOOL: *v = *(const int *)slot(est->params, s); break;
  case CLEARN_PARAM_INT: *v = *(const int64_t *)slot(est->params, s); break;
  default:
    return clearn__est_fail(
        est, clearn__err(CLEARN_EPARAM,
                         "%s: parameter '%s' is not an integer; read it with "
                         "get_param_%s",
                         est->type->name, s->name,
                         s->type == CLEARN_PARAM_DOUBLE ? "double" : "string"));
  }
  return CLEARN_OK;
}

int clearn_estimator_get_param_double(const clearn_estimator *est,
                                      const char *name, double *v) {
  const clearn__param_spec *s;
  int rc = get_spec(est, name, &s);
  if (rc != CLEARN_OK) return rc;
  if (v == NULL) return clearn__err(CLEARN_EINVAL, "output pointer is NULL");
  switch (s->type) {
  case CLEARN_PARAM_BOOL: *v = *(const int *)slot(est->params, s); break;
  case CLEARN_PARAM_INT:
    *v = (double)*(const int64_t *)slot(est->params, s);
    break;
  case CLEARN_PARAM_DOUBLE: *v = *(const double *)slot(est->params, s); break;
  default:
    return clearn__est_fail(
        est, clearn__err(CLEARN_EPARAM,
                         "%s: parameter '%s' is a string; read it with "
                         "get_param_string",
                         est->type->name, s->name));
  }
  return CLEARN_OK;
}

void clearn__param_format(const clearn__param_spec *s, const void *params,
                          char *buf, size_t cap) {
  const void *p = (const char *)params + s->offset;
  switch (s->type) {
  case CLEARN_PARAM_BOOL:
    snprintf(buf, cap, "%s", *(const int *)p ? "true" : "false");
    break;
  case CLEARN_PARAM_INT:
    snprintf(buf, cap, "%lld", (long long)*(const int64_t *)p);
    break;
  case CLEARN_PARAM_DOUBLE: fmt_bound(buf, cap, *(const double *)p); break;
  case CLEARN_PARAM_STRING:
    choice_name(s->choices, *(const int *)p, buf, cap);
    break;
  }
}

int clearn_estimator_get_param_string(const clearn_estimator *est,
                                      const char *name, char *buf, size_t cap,
                                      size_t *needed) {
  const clearn__param_spec *s;
  char text[128];
  size_t len;
  int rc = get_spec(est, name, &s);
  if (rc != CLEARN_OK) return rc;
  clearn__param_format(s, est->params, text, sizeof text);
  len = strlen(text);
  if (needed) *needed = len + 1;
  if (buf && cap > 0) {
    size_t n = len < cap - 1 ? len : cap - 1;
    memcpy(buf, text, n);
    buf[n] = '\0';
  }
  return CLEARN_OK;
}

int clearn_estimator_param_count(const clearn_estimator *est) {
  return est ? est->type->n_params : 0;
}

int clearn_estimator_param_info(const clearn_estimator *est, int i,
                                const char **name, clearn_param_type *type,
                                const char **default_text,
                                const char **range_text, const char **help) {
  const clearn__param_spec *s;
  if (est == NULL) return clearn__err(CLEARN_EINVAL, "estimator is NULL");
  if (i < 0 || i >= est->type->n_params)
    return clearn__est_fail(
        est, clearn__err(CLEARN_EINVAL,
                         "%s: parameter index %d outside [0, %d)",
                         est->type->name, i, est->type->n_params));
  s = &est->type->params[i];
  if (name) *name = s->name;
  if (type) *type = s->type;
  if (default_text) *default_text = s->default_text;
  if (range_text) *range_text = est->range_text[i];
  if (help) *help = s->help;
  return CLEARN_OK;
}

/* ---- persistence of parameters ----------------------------------------- */

int clearn__params_save(const clearn__estimator_type *t, const void *params,
                        hid_t group) {
  int i, rc = CLEARN_OK;
  char text[128];
  for (i = 0; i < t->n_params && rc == CLEARN_OK; i++) {
    const clearn__param_spec *s = &t->params[i];
    const void *p = (const char *)params + s->offset;
    switch (s->type) {
    case CLEARN_PARAM_BOOL:
      rc = clearn__h5_attr_write_i64(group, s->name, *(const int *)p);
      break;
    case CLEARN_PARAM_INT:
      rc = clearn__h5_attr_write_i64(group, s->name, *(const int64_t *)p);
      break;
    case CLEARN_PARAM_DOUBLE:
      rc = clearn__h5_attr_write_f64(group, s->name, *(const double *)p);
      break;
    case CLEARN_PARAM_STRING:
      /* Names, not enum numbers: files survive reordered choices. */
      clearn__param_format(s, params, text, sizeof text);
      rc = clearn__h5_attr_write_str(group, s->name, text);
      break;
    }
  }
  return rc;
}

/* H5Aiterate2 callback: stop at the first attribute that names no
 * parameter of the kind, copying its name. */
typedef struct {
  const clearn__estimator_type *t;
  char unknown[128];
} unknown_scan;

static herr_t find_unknown(hid_t loc, const char *name,
                           const H5A_info_t *info, void *data) {
  unknown_scan *u = data;
  (void)loc;
  (void)info;
  if (find_spec(u->t, name) != NULL) return 0;
  snprintf(u->unknown, sizeof u->unknown, "%s", name);
  return 1;
}

/* Parameters missing from the file keep their defaults (files written
 * before a parameter existed stay loadable); values are re-validated as if
 * set by name, so a hand-edited file cannot smuggle in a bad value.  A
 * parameter this build does not know is refused rather than dropped: it
 * could change what the model means (it comes from a newer clearn or a
 * foreign writer). */
int clearn__params_load(const clearn__estimator_type *t, void *params,
                        hid_t group) {
  int i, rc;
  char text[128];
  unknown_scan u;
  herr_t st = -1;
  hsize_t idx = 0;
  u.t = t;
  u.unknown[0] = '\0';
  H5E_BEGIN_TRY {
    st = H5Aiterate2(group, H5_INDEX_NAME, H5_ITER_NATIVE, &idx, find_unknown,
                     &u);
  }
  H5E_END_TRY;
  if (st < 0)
    return clearn__err(CLEARN_EFORMAT,
                       "params: the attribute list cannot be read (corrupt)");
  if (u.unknown[0] != '\0') {
    unknown_param(t, u.unknown);
    return clearn__err_prefix(CLEARN_EFORMAT,
                              "params/%s: written by a newer clearn or "
                              "another program",
                              u.unknown);
  }
  for (i = 0; i < t->n_params; i++) {
    const clearn__param_spec *s = &t->params[i];
    if (!clearn__h5_attr_exists(group, s->name)) continue;
    if (s->type == CLEARN_PARAM_STRING) {
      rc = clearn__h5_attr_read_str(group, s->name, text, sizeof text);
    } else if (s->type == CLEARN_PARAM_DOUBLE) {
      double v = 0;
      rc = clearn__h5_attr_read_f64(group, s->name, &v);
      fmt_bound(text, sizeof text, v);
    } else {
      int64_t v = 0;
      rc = clearn__h5_attr_read_i64(group, s->name, &v);
      snprintf(text, sizeof text, "%lld", (long long)v);
    }
    if (rc != CLEARN_OK) return clearn__err_prefix(rc, "params/%s", s->name);
    if ((rc = set_from_text(t, params, s, text)) != CLEARN_OK)
      return clearn__err_prefix(CLEARN_EFORMAT, "params/%s", s->name);
  }
  if (t->check && (rc = t->check(params)) != CLEARN_OK)
    return clearn__err_prefix(CLEARN_EFORMAT, "params");
  return CLEARN_OK;
}
