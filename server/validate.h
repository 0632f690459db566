/* Input rules shared by the route handlers (validate.c): identifiers, labels,
 * ids and the set of fields a JSON body may carry. Pure: no I/O. Every
 * refusal is RF_ERR_INVALID with a message naming the field, as docs/api.md
 * shows ("field 'channel': must be a string of 1-64 characters [a-z0-9._-]"). */
#ifndef RF_VALIDATE_H
#define RF_VALIDATE_H

#include "rf_err.h"
#include <jansson.h>

#define VALIDATE_MAX_LABELS 32
#define VALIDATE_LABEL_VALUE_MAX 128

/* channel, name, ring name: 1-64 characters of [a-z0-9._-]. */
rf_err validate_slug(const char *field, const char *value, rf_error *err);
/* version: 1-64 characters of [A-Za-z0-9._+-]. */
rf_err validate_version(const char *field, const char *value, rf_error *err);
/* A token name: 1-64 characters of [A-Za-z0-9._@-]. */
rf_err validate_token_name(const char *field, const char *value, rf_error *err);
/* labels: an object of at most 32 pairs, keys [a-z0-9._-]{1,64}, string
 * values of at most 128 printable characters (no control characters). */
rf_err validate_labels(const char *field, const json_t *labels, rf_error *err);
/* A device id: exactly 32 lower-case hex digits. */
rf_err validate_device_id(const char *field, const char *value, rf_error *err);
/* Refuses a key of obj that is not in allowed (NULL-terminated). */
rf_err validate_known_fields(const json_t *obj, const char *const *allowed, rf_error *err);
/* A JSON integer within [min, max] (a real or a string is refused). */
rf_err validate_int(const char *field, const json_t *v, long long min, long long max,
                    long long *out, rf_error *err);
/* A path id: a decimal integer 1..2^53. Returns 0 if s is not one. */
int validate_path_id(const char *s, long long *out);

#endif
