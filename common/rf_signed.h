/* Signed envelopes, shaped like TUF metadata:
 *   {"signed": {...}, "signatures": [{"keyid": "<hex>", "sig": "<hex>"}]}
 * The signature covers the canonical JSON of the "signed" object. This is
 * used for bundle metadata and per-device assignments. */
#ifndef RF_SIGNED_H
#define RF_SIGNED_H

#include "rf_crypto.h"
#include <jansson.h>

/* Returns a new reference to the envelope around signed_obj (borrowed;
 * the envelope takes its own reference), or NULL with err set. */
json_t *rf_signed_wrap(json_t *signed_obj, const rf_key *k, rf_error *err);

/* Verifies that envelope carries a valid signature by k (matched by keyid)
 * over its "signed" member. On RF_OK, *signed_out (if not NULL) is a borrowed
 * reference to the "signed" object. A signature by another key is ignored;
 * a signature by k that does not verify fails. */
rf_err rf_signed_verify(const json_t *envelope, const rf_key *k, json_t **signed_out,
                        rf_error *err);

#endif
