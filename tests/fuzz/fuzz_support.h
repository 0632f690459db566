/* Shared by the libFuzzer targets of the TUF client: a fixed set of test keys,
 * a trusted root naming them (root threshold 1), and re-signing of a fuzzed
 * document's "signed" object with a role's key, so that inputs reach the
 * parsers behind the signature check too. Test code only. */
#ifndef RF_FUZZ_SUPPORT_H
#define RF_FUZZ_SUPPORT_H

#include "rf_buf.h"
#include "rf_tuf.h"
#include <stddef.h>
#include <stdint.h>

#define FUZZ_NOW 1800000000LL /* 2027-01-15: the fixed update start time */

/* The root (version 1) whose keys fuzz_resign signs with; built once. */
const rf_tuf_root *fuzz_root(void);
/* When data is an envelope, writes into out (reset first) the same document
 * with its "signed" object signed by the key of role; 0 then, -1 when data
 * is not an envelope or cannot be signed (not canonical). */
int fuzz_resign(const uint8_t *data, size_t len, rf_tuf_role role, rf_buf *out);
/* A valid document of type ("timestamp" naming snapshot version `names`
 * without length or hashes, "snapshot" naming targets version `names`),
 * version 1, signed by its role, into out. */
void fuzz_fixed_meta(const char *type, int64_t names, rf_buf *out);

#endif
