/* The simulator's shared TUF client (see sim_tuf.h). The update cycle mirrors
 * the real agent's (agent/agent_tuf.c) without keeping files: every verdict is
 * common/tuf.c's, and this file only downloads with a hard cap per file. It
 * never answers a lookup from metadata that did not verify. */
#include "sim_tuf.h"
#include "rf_util.h"
#include "wire.h"

#include <stdio.h>
#include <string.h>

typedef rf_err (*tuf_step_fn)(rf_tuf_client *c, const void *data, size_t len, int64_t now_s,
                              rf_error *err);

rf_err sim_tuf_open(sim_tuf *t, const char *base_url, const char *root_path, int64_t max_age_ms,
                    rf_error *err)
{
    rf_tuf_root root;
    rf_buf raw;
    rf_err rc;

    memset(t, 0, sizeof(*t));
    t->max_age_ms = max_age_ms;
    rf_buf_init(&raw, RF_TUF_ROOT_MAX_BYTES);
    if ((rc = rf_file_read(root_path, &raw, err)) != RF_OK ||
        (rc = rf_tuf_root_load(raw.data, raw.len, &root, err)) != RF_OK)
        goto out;
    rf_tuf_client_init(&t->tuf, &root);
    rc = client_init(&t->cl, base_url, NULL, err);
out:
    rf_buf_cleanup(&raw);
    return rc;
}

void sim_tuf_close(sim_tuf *t)
{
    if (!t)
        return;
    client_cleanup(&t->cl);
    rf_tuf_client_cleanup(&t->tuf);
}

static proto_result get(sim_tuf *t, const char *file, size_t cap, bool allow_404, rf_buf *resp,
                        long *status, char *msg, size_t len)
{
    char url[160];
    client_req req = {"GET", url, NULL, NULL, 0, 30, false};
    rf_error err = {0};
    rf_err rc;

    resp->cap = cap;
    snprintf(url, sizeof(url), "/tuf/metadata/%s", file);
    rc = client_call(&t->cl, &req, status, resp, &err);
    if (rc != RF_OK) {
        snprintf(msg, len, "tuf %s: %s", file, err.message);
        return rc == RF_ERR_TOO_LARGE ? PROTO_FAIL_VERIFY : PROTO_FAIL_IO;
    }
    if (*status == 200 || (allow_404 && *status == 404))
        return PROTO_OK;
    snprintf(msg, len, "tuf %s: HTTP %ld", file, *status);
    return PROTO_FAIL_IO;
}

static proto_result step(sim_tuf *t, const char *file, size_t cap, tuf_step_fn fn, int64_t now_s,
                         char *msg, size_t len)
{
    rf_buf resp;
    rf_error err = {0};
    long status = 0;
    proto_result r;

    rf_buf_init(&resp, cap);
    r = get(t, file, cap, false, &resp, &status, msg, len);
    if (r == PROTO_OK && fn(&t->tuf, resp.data ? resp.data : "", resp.len, now_s, &err) != RF_OK) {
        snprintf(msg, len, "%s", err.message);
        r = PROTO_FAIL_VERIFY;
    }
    rf_buf_cleanup(&resp);
    return r;
}

static proto_result cycle(sim_tuf *t, int64_t now_s, char *msg, size_t len)
{
    char file[64];
    rf_buf resp;
    rf_error err = {0};
    long status = 0;
    proto_result r = PROTO_OK;

    rf_buf_init(&resp, RF_TUF_ROOT_MAX_BYTES);
    for (int i = 0; i < RF_TUF_MAX_ROOT_ROTATIONS && r == PROTO_OK; i++) {
        rf_tuf_root_file(t->tuf.root.version + 1, file, sizeof(file));
        rf_buf_reset(&resp);
        if ((r = get(t, file, RF_TUF_ROOT_MAX_BYTES, true, &resp, &status, msg, len)) != PROTO_OK ||
            status == 404)
            break;
        if (rf_tuf_update_root(&t->tuf, resp.data, resp.len, &err) != RF_OK) {
            snprintf(msg, len, "%s", err.message);
            r = PROTO_FAIL_VERIFY;
        }
    }
    rf_buf_cleanup(&resp);
    if (r != PROTO_OK)
        return r;
    if (rf_tuf_check_root(&t->tuf, now_s, &err) != RF_OK) {
        snprintf(msg, len, "%s", err.message);
        return PROTO_FAIL_VERIFY;
    }
    if ((r = step(t, "timestamp.json", RF_TUF_TIMESTAMP_MAX_BYTES, rf_tuf_update_timestamp, now_s,
                  msg, len)) != PROTO_OK)
        return r;
    rf_tuf_snapshot_file(&t->tuf, file, sizeof(file));
    if ((r = step(t, file, rf_tuf_snapshot_cap(&t->tuf), rf_tuf_update_snapshot, now_s, msg,
                  len)) != PROTO_OK)
        return r;
    rf_tuf_targets_file(&t->tuf, file, sizeof(file));
    return step(t, file, rf_tuf_targets_cap(&t->tuf), rf_tuf_update_targets, now_s, msg, len);
}

proto_result sim_tuf_lookup(sim_tuf *t, const char *ch, const proto_bundle *b, int64_t now_ms,
                            proto_target *out, char *msg, size_t len)
{
    char path[WIRE_TARGET_PATH_MAX + 1];
    rf_tuf_target tt;
    rf_error err = {0};
    proto_result r;

    if (wire_target_path(ch, b, path, sizeof(path)) != RF_OK) {
        snprintf(msg, len, "target path too long");
        return PROTO_FAIL_VERIFY;
    }
    /* A fresh cycle when the copy is stale or does not list the target yet. */
    if (!t->refreshed_ms || now_ms - t->refreshed_ms > t->max_age_ms ||
        rf_tuf_target_get(&t->tuf, path, &tt, &err) != RF_OK) {
        if (t->failed_ms && now_ms - t->failed_ms < 1000) {
            snprintf(msg, len, "tuf: the last update cycle failed moments ago");
            return PROTO_FAIL_IO;
        }
        t->refreshed_ms = 0;
        t->cycles++;
        if ((r = cycle(t, now_ms / 1000, msg, len)) != PROTO_OK) {
            t->failed_ms = now_ms;
            return r;
        }
        t->failed_ms = 0;
        t->refreshed_ms = now_ms;
        if (rf_tuf_target_get(&t->tuf, path, &tt, &err) != RF_OK) {
            snprintf(msg, len, "%s", err.message);
            return PROTO_FAIL_VERIFY;
        }
    }
    out->length = tt.length;
    memcpy(out->sha256, tt.sha256, sizeof(out->sha256));
    return PROTO_OK;
}
