/* Canonical JSON, the byte form that signatures cover.
 * Rules (OLPC canonical JSON as TUF clients expect): object keys sorted by
 * their UTF-8 bytes, no whitespace, strings escape only '\\' and '"', numbers
 * are integers only. Reals, and strings holding control characters, are
 * refused rather than encoded differently from other implementations. */
#ifndef RF_CJSON_H
#define RF_CJSON_H

#include "rf_buf.h"
#include <jansson.h>

/* Appends the canonical form of v to out. Fails with RF_ERR_INVALID (and a
 * message naming the offending key path) on a real or a control character. */
rf_err rf_cjson_encode(const json_t *v, rf_buf *out, rf_error *err);

/* Same, with key paths in messages starting at path (e.g. "signed", giving
 * "signed.channels.content.length: real numbers are not allowed"); path may
 * be NULL or "". Array elements appear as "[i]". Nesting deeper than
 * RF_CJSON_MAX_DEPTH is refused too. On failure out may hold a partial
 * encoding: callers discard it. */
#define RF_CJSON_MAX_DEPTH 64
rf_err rf_cjson_encode_at(const json_t *v, const char *path, rf_buf *out, rf_error *err);

#endif
