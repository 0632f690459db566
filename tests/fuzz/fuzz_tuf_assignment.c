/* libFuzzer target: director-signed assignments. Each input goes through the
 * director check (rf_tuf_assignment_verify) as received and re-signed with the
 * director key, and what verifies through the agent's strict parser
 * (wire_assignment_parse) and its target path. */
#include "fuzz_support.h"
#include "wire.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_assignment(const void *data, size_t size)
{
    json_t *doc = NULL, *signed_obj = NULL;
    proto_assignment a;
    char path[WIRE_TARGET_PATH_MAX + 1];

    if (rf_tuf_assignment_verify(fuzz_root(), data, size, &doc, &signed_obj, NULL) == RF_OK &&
        wire_assignment_parse(signed_obj, &a, NULL) == RF_OK) {
        for (uint32_t i = 0; i < a.nch; i++)
            (void)wire_target_path(a.ch[i].name, &a.ch[i].want.bundle, path, sizeof(path));
    }
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rf_buf b;

    try_assignment(data, size);
    rf_buf_init(&b, RF_TUF_ASSIGNMENT_MAX_BYTES * 2);
    if (fuzz_resign(data, size, RF_TUF_DIRECTOR, &b) == 0)
        try_assignment(b.data, b.len);
    rf_buf_cleanup(&b);
    return 0;
}
