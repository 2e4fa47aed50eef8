/*
 * test_params.c -- parameters by name: listing, typed and text access,
 * range checks with exact messages, round trips, refusal keeps the value.
 */
#include "clearn/clearn.h"
#include "testutil.h"

static void test_listing(void) {
  clearn_estimator *est = NULL;
  const char *name, *def, *range, *help;
  clearn_param_type type;
  CHECK_OK(clearn_estimator_create("ridge", &est));
  CHECK(clearn_estimator_param_count(est) == 2, "%d",
        clearn_estimator_param_count(est));
  CHECK_OK(clearn_estimator_param_info(est, 0, &name, &type, &def, &range, &help));
  CHECK_STR(name, "alpha");
  CHECK(type == CLEARN_PARAM_DOUBLE, "type %d", (int)type);
  CHECK_STR(def, "1.0");
  CHECK_STR(range, "[0, inf)");
  CHECK(help && strlen(help) > 10, "help text");
  CHECK_OK(clearn_estimator_param_info(est, 1, &name, &type, &def, &range, NULL));
  CHECK_STR(name, "fit_intercept");
  CHECK(type == CLEARN_PARAM_BOOL, "type %d", (int)type);
  CHECK_STR(def, "true");
  CHECK_STR(range, "true|false");
  CHECK_RC(clearn_estimator_param_info(est, 2, &name, NULL, NULL, NULL, NULL),
           CLEARN_EINVAL);
  CHECK_STR(clearn_estimator_errmsg(est), "ridge: parameter index 2 outside [0, 2)");
  clearn_estimator_free(est);
}

static void test_set_get(void) {
  clearn_estimator *est = NULL, *cl = NULL;
  double d = 0;
  int64_t i = 0;
  char buf[64];
  size_t needed = 0;
  CHECK_OK(clearn_estimator_create("ridge", &est));
  CHECK_OK(clearn_estimator_get_param_double(est, "alpha", &d));
  CHECK(d == 1.0, "default alpha %g", d);

  CHECK_OK(clearn_estimator_set_param_double(est, "alpha", 0.1));
  CHECK_OK(clearn_estimator_get_param_string(est, "alpha", buf, sizeof buf, &needed));
  CHECK_STR(buf, "0.1");
  CHECK(needed == 4, "needed %zu", needed);
  /* Text round trip is exact for any double. */
  CHECK_OK(clearn_estimator_set_param_double(est, "alpha", 1.0 / 3.0));
  CHECK_OK(clearn_estimator_get_param_string(est, "alpha", buf, sizeof buf, NULL));
  CHECK_OK(clearn_estimator_set_param_string(est, "alpha", buf));
  CHECK_OK(clearn_estimator_get_param_double(est, "alpha", &d));
  CHECK(d == 1.0 / 3.0, "round trip %.17g", d);
  /* Truncation is reported through needed, not as an error. */
  CHECK_OK(clearn_estimator_get_param_string(est, "alpha", buf, 4, &needed));
  CHECK_STR(buf, "0.3");
  CHECK(needed == strlen("0.3333333333333333") + 1, "needed %zu", needed);

  CHECK_OK(clearn_estimator_set_param_string(est, "fit_intercept", "false"));
  CHECK_OK(clearn_estimator_get_param_int(est, "fit_intercept", &i));
  CHECK(i == 0, "bool %lld", (long long)i);
  CHECK_OK(clearn_estimator_set_param_int(est, "fit_intercept", 1));
  CHECK_OK(clearn_estimator_get_param_string(est, "fit_intercept", buf, sizeof buf, NULL));
  CHECK_STR(buf, "true");
  CHECK_OK(clearn_estimator_set_param_int(est, "alpha", 3));
  CHECK_OK(clearn_estimator_get_param_double(est, "alpha", &d));
  CHECK(d == 3.0, "int into double %g", d);

  /* Clone: same parameters, not fitted. */
  CHECK_OK(clearn_estimator_clone(est, &cl));
  CHECK_OK(clearn_estimator_get_param_double(cl, "alpha", &d));
  CHECK(d == 3.0 && !clearn_estimator_is_fitted(cl), "clone");
  CHECK_STR(clearn_estimator_kind(cl), "ridge");
  clearn_estimator_free(cl);
  clearn_estimator_free(est);
}

static void test_refusals(void) {
  clearn_estimator *est = NULL;
  double d = 0;
  int64_t i = 0;
  CHECK_OK(clearn_estimator_create("ridge", &est));
  CHECK_OK(clearn_estimator_set_param_double(est, "alpha", 2.5));

  CHECK_RC(clearn_estimator_set_param_double(est, "alpha", -1), CLEARN_EPARAM);
  CHECK_STR(clearn_estimator_errmsg(est),
            "ridge: parameter 'alpha' = -1: must be >= 0");
  CHECK_STR(clearn_last_error(), "ridge: parameter 'alpha' = -1: must be >= 0");
  CHECK_RC(clearn_estimator_set_param_string(est, "alpha", "inf"), CLEARN_EPARAM);
  CHECK_STR(clearn_last_error(), "ridge: parameter 'alpha' = inf: must be >= 0");
  CHECK_RC(clearn_estimator_set_param_string(est, "alpha", "nan"), CLEARN_EPARAM);
  CHECK_RC(clearn_estimator_set_param_string(est, "alpha", "1.5x"), CLEARN_EPARAM);
  CHECK_STR(clearn_last_error(), "ridge: parameter 'alpha' = '1.5x': not a number");
  CHECK_RC(clearn_estimator_set_param_string(est, "fit_intercept", "yes"),
           CLEARN_EPARAM);
  CHECK_STR(clearn_last_error(),
            "ridge: parameter 'fit_intercept' = 'yes': must be true or false");
  CHECK_RC(clearn_estimator_set_param_int(est, "fit_intercept", 2), CLEARN_EPARAM);
  CHECK_STR(clearn_last_error(),
            "ridge: parameter 'fit_intercept' = 2: must be 0 or 1");
  CHECK_RC(clearn_estimator_set_param_double(est, "fit_intercept", 0.5),
           CLEARN_EPARAM);
  CHECK_STR(clearn_last_error(),
            "ridge: parameter 'fit_intercept' = 0.5: must be an integer");
  CHECK_RC(clearn_estimator_set_param_double(est, "alhpa", 1), CLEARN_EPARAM);
  CHECK_STR(clearn_last_error(),
            "ridge: unknown parameter 'alhpa' (known: alpha, fit_intercept)");
  CHECK_RC(clearn_estimator_get_param_int(est, "alpha", &i), CLEARN_EPARAM);
  CHECK_RC(clearn_estimator_get_param_double(est, NULL, &d), CLEARN_EPARAM);

  /* Every refusal left the value alone. */
  CHECK_OK(clearn_estimator_get_param_double(est, "alpha", &d));
  CHECK(d == 2.5, "alpha changed to %g", d);
  CHECK_OK(clearn_estimator_get_param_int(est, "fit_intercept", &i));
  CHECK(i == 1, "fit_intercept changed to %lld", (long long)i);

  CHECK_RC(clearn_estimator_set_param_double(NULL, "alpha", 1), CLEARN_EINVAL);
  clearn_estimator_free(est);
}

static void test_every_kind_lists_valid_defaults(void) {
  int k, i;
  for (k = 0; k < clearn_kind_count(); k++) {
    clearn_estimator *est = NULL;
    CHECK_OK(clearn_estimator_create(clearn_kind_name(k), &est));
    for (i = 0; est && i < clearn_estimator_param_count(est); i++) {
      const char *name, *def;
      char buf[128];
      CHECK_OK(clearn_estimator_param_info(est, i, &name, NULL, &def, NULL, NULL));
      /* The listed default is what a new estimator holds, and parses. */
      CHECK_OK(clearn_estimator_set_param_string(est, name, def));
      CHECK_OK(clearn_estimator_get_param_string(est, name, buf, sizeof buf, NULL));
      CHECK(strcmp(buf, def) == 0 || strtod(buf, NULL) == strtod(def, NULL),
            "%s.%s default '%s' reads back as '%s'", clearn_kind_name(k), name,
            def, buf);
    }
    clearn_estimator_free(est);
  }
  CHECK(clearn_kind_name(-1) == NULL && clearn_kind_name(clearn_kind_count()) == NULL,
        "kind index bounds");
}

int main(void) {
  test_listing();
  test_set_get();
  test_refusals();
  test_every_kind_lists_valid_defaults();
  return TEST_SUMMARY();
}
