/*
 * error.c -- status strings and the per-thread context message.
 *
 * Each thread owns one message buffer (C11 _Thread_local), so concurrent
 * calls on different handles never overwrite each other's messages and no
 * lock is needed.  Handles copy the message when a call on them fails.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static _Thread_local char tls_msg[1024];

static const char *const status_names[] = {
    "success",
    "invalid argument",
    "out of memory",
    "invalid parameter",
    "estimator is not fitted",
    "array shapes do not agree",
    "input/output error",
    "invalid or corrupt file",
    "wrong estimator kind",
    "unsupported schema version",
    "numerical failure",
    "operation not supported",
    "MPI failure",
    "did not converge",
};

const char *clearn_status_str(int status) {
  if (status < 0 ||
      status >= (int)(sizeof status_names / sizeof status_names[0]))
    return "unknown status";
  return status_names[status];
}

const char *clearn_last_error(void) { return tls_msg; }

int clearn__err(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tls_msg, sizeof tls_msg, fmt, ap);
  va_end(ap);
  return code;
}

int clearn__err_prefix(int code, const char *fmt, ...) {
  char prefix[256], old[sizeof tls_msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  size_t lp, lo;
  memcpy(old, tls_msg, sizeof old);
  old[sizeof old - 1] = '\0';
  /* "<prefix>: <old>", truncated to the buffer. */
  lp = strlen(prefix);
  lo = strlen(old);
  if (lp > sizeof tls_msg - 3) lp = sizeof tls_msg - 3;
  memcpy(tls_msg, prefix, lp);
  memcpy(tls_msg + lp, ": ", 2);
  if (lo > sizeof tls_msg - lp - 3) lo = sizeof tls_msg - lp - 3;
  memcpy(tls_msg + lp + 2, old, lo);
  tls_msg[lp + 2 + lo] = '\0';
  return code;
}

const char *clearn__errmsg(void) { return tls_msg; }

void clearn__err_clear(void) { tls_msg[0] = '\0'; }

int clearn_version_number(void) { return CLEARN_VERSION_NUMBER; }

const char *clearn_version_string(void) { return CLEARN_VERSION_STRING; }
