/* libFuzzer target: TUF timestamp, snapshot and targets metadata, and the
 * target lookup. Each input is fed to the step its signed._type names (all
 * three when it has none) after the steps before it were satisfied with fixed
 * valid metadata naming the input's version, both as received and re-signed
 * with the role's key. */
#include "fuzz_support.h"

#include <jansson.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_step(int step, int64_t version, const void *data, size_t size)
{
    rf_tuf_client c;
    rf_tuf_target t;
    rf_buf ts, snap;

    rf_buf_init(&ts, RF_TUF_TIMESTAMP_MAX_BYTES);
    rf_buf_init(&snap, RF_TUF_SNAPSHOT_MAX_BYTES);
    rf_tuf_client_init(&c, fuzz_root());
    if (step == 0) {
        (void)rf_tuf_update_timestamp(&c, data, size, FUZZ_NOW, NULL);
        goto out;
    }
    fuzz_fixed_meta("timestamp", step == 1 ? version : 1, &ts);
    if (rf_tuf_update_timestamp(&c, ts.data, ts.len, FUZZ_NOW, NULL) != RF_OK)
        goto out;
    if (step == 1) {
        (void)rf_tuf_update_snapshot(&c, data, size, FUZZ_NOW, NULL);
        goto out;
    }
    fuzz_fixed_meta("snapshot", version, &snap);
    if (rf_tuf_update_snapshot(&c, snap.data, snap.len, FUZZ_NOW, NULL) != RF_OK)
        goto out;
    if (rf_tuf_update_targets(&c, data, size, FUZZ_NOW, NULL) == RF_OK) {
        (void)rf_tuf_target_get(&c, "content/sensor-1", &t, NULL);
        (void)rf_tuf_target_get(&c, "", &t, NULL);
    }
out:
    rf_tuf_client_cleanup(&c);
    rf_buf_cleanup(&ts);
    rf_buf_cleanup(&snap);
}

/* The step signed._type names (-1: none) and signed.version (0: none). */
static int step_of(const uint8_t *data, size_t size, int64_t *version)
{
    json_t *doc = json_loadb((const char *)data, size, 0, NULL);
    const json_t *sd = json_object_get(doc, "signed");
    const char *t = json_string_value(json_object_get(sd, "_type"));
    int step = !t                            ? -1
               : strcmp(t, "timestamp") == 0 ? 0
               : strcmp(t, "snapshot") == 0  ? 1
               : strcmp(t, "targets") == 0   ? 2
                                             : -1;
    *version = json_integer_value(json_object_get(sd, "version"));
    json_decref(doc);
    return step;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const rf_tuf_role roles[] = {RF_TUF_TIMESTAMP, RF_TUF_SNAPSHOT, RF_TUF_TARGETS};
    int64_t version = 0;
    int step = step_of(data, size, &version);
    rf_buf b;

    rf_buf_init(&b, RF_TUF_TARGETS_MAX_BYTES * 2);
    for (int s = 0; s < 3; s++) {
        if (step >= 0 && s != step)
            continue;
        try_step(s, version, data, size);
        if (fuzz_resign(data, size, roles[s], &b) == 0)
            try_step(s, version, b.data, b.len);
    }
    rf_buf_cleanup(&b);
    return 0;
}
