/* Error codes and their human messages, shared by every part of ringfence.
 * This file only formats and names errors; it must never decide what an error
 * means to a client (the HTTP status table lives in server/http_error.c). */
#include "rf_err.h"

#include <stdarg.h>
#include <stdio.h>

rf_err rf_error_set(rf_error *e, rf_err code, const char *fmt, ...)
{
    if (e == NULL)
        return code;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    /* A message longer than the field is cut; the code still says what happened. */
    if (vsnprintf(e->message, sizeof(e->message), fmt, ap) < 0)
        e->message[0] = '\0';
    va_end(ap);
    return code;
}

const char *rf_err_name(rf_err code)
{
    switch (code) {
    case RF_OK:
        return "ok";
    case RF_ERR_INVALID:
        return "invalid";
    case RF_ERR_NOT_FOUND:
        return "not_found";
    case RF_ERR_CONFLICT:
        return "conflict";
    case RF_ERR_TOO_LARGE:
        return "too_large";
    case RF_ERR_UNAUTHORIZED:
        return "unauthorized";
    case RF_ERR_FORBIDDEN:
        return "forbidden";
    case RF_ERR_UNAVAILABLE:
        return "unavailable";
    case RF_ERR_VERIFY:
        return "verify";
    case RF_ERR_IO:
        return "io";
    case RF_ERR_NOMEM:
        return "nomem";
    case RF_ERR_INTERNAL:
        return "internal";
    }
    return "unknown";
}
