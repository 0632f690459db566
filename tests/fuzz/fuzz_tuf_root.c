/* libFuzzer target: TUF root metadata. Each input is tried as a trusted root
 * (rf_tuf_root_load) and as the next root of the fixed trusted root
 * (rf_tuf_update_root), both as received and re-signed with the root key so
 * the key, role and director parsers behind the signature check are reached. */
#include "fuzz_support.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_root(const void *data, size_t size)
{
    rf_tuf_root r;
    rf_tuf_client c;

    (void)rf_tuf_root_load(data, size, &r, NULL);
    rf_tuf_client_init(&c, fuzz_root());
    c.timestamp_version = 3;
    c.snapshot_version = 3;
    if (rf_tuf_update_root(&c, data, size, NULL) == RF_OK)
        (void)rf_tuf_check_root(&c, FUZZ_NOW, NULL);
    rf_tuf_client_cleanup(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rf_buf b;

    try_root(data, size);
    rf_buf_init(&b, RF_TUF_ROOT_MAX_BYTES * 2);
    if (fuzz_resign(data, size, RF_TUF_ROOT, &b) == 0)
        try_root(b.data, b.len);
    rf_buf_cleanup(&b);
    return 0;
}
