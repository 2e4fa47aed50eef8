/*
 * clearn/core.h -- versions, status codes, error messages and threading.
 *
 * Every fallible clearn call returns an int status: CLEARN_OK (0) on
 * success or one of the CLEARN_E* codes below.  The numeric values are part
 * of the stable ABI and never change; new codes are only appended.
 *
 * Two kinds of message exist:
 *   - clearn_status_str(code) is a static, fixed description of a code;
 *   - a context message ("ridge: parameter 'alpha' = -1: must be >= 0") is
 *     recorded on the failing handle (clearn_estimator_errmsg()) and in the
 *     calling thread's last-error slot (clearn_last_error()).
 *
 * The library never aborts, exits or prints on its own.
 */
#ifndef CLEARN_CORE_H
#define CLEARN_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Symbol visibility: everything not marked CLEARN_API is hidden. */
#if defined(_WIN32)
#define CLEARN_API
#elif defined(__GNUC__)
#define CLEARN_API __attribute__((visibility("default")))
#else
#define CLEARN_API
#endif

#define CLEARN_VERSION_MAJOR 0
#define CLEARN_VERSION_MINOR 1
#define CLEARN_VERSION_PATCH 0
#define CLEARN_VERSION_STRING "0.1.0"
/* Single number MAJOR*10000 + MINOR*100 + PATCH, comparable with <. */
#define CLEARN_VERSION_NUMBER                                                  \
  (CLEARN_VERSION_MAJOR * 10000 + CLEARN_VERSION_MINOR * 100 +                 \
   CLEARN_VERSION_PATCH)

/* Version of the library actually linked, as CLEARN_VERSION_NUMBER.  A
 * program may compare it with the header's macro to detect a mismatch. */
CLEARN_API int clearn_version_number(void);
/* Same as a string, e.g. "0.1.0".  Static storage. */
CLEARN_API const char *clearn_version_string(void);

/* Status codes.  Fixed numeric values: part of the ABI. */
enum {
  CLEARN_OK = 0,
  CLEARN_EINVAL = 1,        /* invalid argument (NULL, bad shape, bad value) */
  CLEARN_ENOMEM = 2,        /* allocation failed */
  CLEARN_EPARAM = 3,        /* unknown parameter or value out of range */
  CLEARN_ENOTFITTED = 4,    /* estimator used before a successful fit */
  CLEARN_ESHAPE = 5,        /* array dimensions do not agree */
  CLEARN_EIO = 6,           /* file could not be opened, read or written */
  CLEARN_EFORMAT = 7,       /* file is not a valid clearn file / corrupt */
  CLEARN_EKIND = 8,         /* file or handle holds another estimator kind */
  CLEARN_EVERSION = 9,      /* file written by a newer, unknown schema */
  CLEARN_ENUMERIC = 10,     /* numerical failure (non-finite input, not
                               positive definite, SVD did not converge) */
  CLEARN_EUNSUPPORTED = 11, /* operation not offered by this estimator */
  CLEARN_EMPI = 12,         /* MPI call failed or a peer rank failed */
  CLEARN_ENOTCONVERGED = 13 /* iterative fit stopped at max_iter; the model
                               is usable (this is a warning-level status) */
};

/* Static description of a status code, never NULL ("unknown status" for an
 * unknown code).  Thread-safe. */
CLEARN_API const char *clearn_status_str(int status);

/* Context message of the most recent failing clearn call made by the calling
 * thread, or "" if none failed yet.  The pointer stays valid until the next
 * clearn call from the same thread.  Thread-safe (thread-local storage). */
CLEARN_API const char *clearn_last_error(void);

/* Threads used by the linear-algebra backend (OpenBLAS) and clearn's own
 * parallel loops.  n <= 0 means "all cores".  Process-wide: not thread-safe
 * with respect to concurrent fits. */
CLEARN_API int clearn_set_num_threads(int n);
CLEARN_API int clearn_get_num_threads(void);

#ifdef __cplusplus
}
#endif
#endif /* CLEARN_CORE_H */
