/* Error codes shared by every part of ringfence.
 * Fallible functions return an rf_err (RF_OK == 0) and fill out-parameters;
 * an optional rf_error carries a human message that names the field or cause.
 * The mapping from rf_err to an HTTP status lives in server/http_error.c only. */
#ifndef RF_ERR_H
#define RF_ERR_H

#include <stddef.h>

typedef enum rf_err {
    RF_OK = 0,
    RF_ERR_INVALID,      /* bad input: a field is missing, of the wrong type or out of range */
    RF_ERR_NOT_FOUND,    /* the thing asked for does not exist */
    RF_ERR_CONFLICT,     /* the request conflicts with the current state or version */
    RF_ERR_TOO_LARGE,    /* input exceeds a hard size limit */
    RF_ERR_UNAUTHORIZED, /* no credentials, or credentials not recognised */
    RF_ERR_FORBIDDEN,    /* credentials recognised but not allowed to do this */
    RF_ERR_UNAVAILABLE,  /* a dependency (the database) is away; try again later */
    RF_ERR_VERIFY,       /* a signature, hash or length check failed */
    RF_ERR_IO,           /* a file or network operation failed */
    RF_ERR_NOMEM,        /* allocation failed */
    RF_ERR_INTERNAL      /* a bug or an unexpected state */
} rf_err;

/* A human-readable explanation that travels with an rf_err. */
typedef struct rf_error {
    rf_err code;
    char message[256];
} rf_error;

/* Sets e (if not NULL) to code and a printf-style message; returns code. */
rf_err rf_error_set(rf_error *e, rf_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A stable lower-case name for code, e.g. "invalid", "not_found". */
const char *rf_err_name(rf_err code);

#endif
