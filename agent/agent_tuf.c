/* The agent's TUF client shell: its files in DATA/tuf (the trusted root as
 * N.root.json and versions.json with the root version and the last trusted
 * timestamp, snapshot and targets versions, both written atomically) and the
 * update cycle of the specification (root chain, timestamp, snapshot,
 * targets, then the target lookup) over the server's /tuf/. Every decision is
 * rf_tuf's (common/tuf.c); this file only downloads with a hard cap per file,
 * feeds the bytes in and keeps what was verified. It never keeps or uses
 * anything that did not verify. */
#include "agent_internal.h"
#include "rf_log.h"
#include "rf_util.h"
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define VERSIONS_MAX_BYTES 4096

/* ---- files ------------------------------------------------------------- */

static rf_err root_path(const agent *a, int64_t version, char *out, size_t len)
{
    return rf_snprintf(out, len, "%s/%lld.root.json", a->tuf_dir, (long long)version);
}

static rf_err read_root(const char *path, rf_tuf_root *out, rf_error *err)
{
    rf_buf b;
    rf_error inner = {0};
    rf_err rc;

    rf_buf_init(&b, RF_TUF_ROOT_MAX_BYTES);
    rc = rf_file_read(path, &b, err);
    if (rc == RF_OK && (rc = rf_tuf_root_load(b.data, b.len, out, &inner)) != RF_OK)
        rf_error_set(err, rc, "%s: %s", path, inner.message);
    rf_buf_cleanup(&b);
    return rc;
}

static rf_err save_versions(agent *a, rf_error *err)
{
    char path[AGENT_PATH_MAX + 64];
    char text[256];
    const rf_tuf_client *c = &a->tuf;
    rf_err rc;

    if ((rc = rf_snprintf(path, sizeof(path), "%s/versions.json", a->tuf_dir)) != RF_OK)
        return rf_error_set(err, rc, "data dir path too long");
    snprintf(text, sizeof(text),
             "{\n \"root\": %lld,\n \"timestamp\": %lld,\n \"snapshot\": %lld,\n \"targets\": "
             "%lld\n}\n",
             (long long)c->root.version, (long long)c->timestamp_version,
             (long long)c->snapshot_version, (long long)c->targets_version);
    return rf_file_write_atomic(path, text, strlen(text), 0600, err);
}

/* Keeps data as the trusted root (its version's file), then points
 * versions.json at it; the previous root's file goes last. A crash in
 * between leaves the previous, consistent pair. */
static rf_err save_root(agent *a, const void *data, size_t len, int64_t old_version, rf_error *err)
{
    char path[AGENT_PATH_MAX + 64];
    rf_err rc;

    if ((rc = root_path(a, a->tuf.root.version, path, sizeof(path))) != RF_OK)
        return rf_error_set(err, rc, "data dir path too long");
    if ((rc = rf_file_write_atomic(path, data, len, 0600, err)) != RF_OK ||
        (rc = save_versions(a, err)) != RF_OK)
        return rc;
    if (old_version > 0 && old_version != a->tuf.root.version &&
        root_path(a, old_version, path, sizeof(path)) == RF_OK)
        unlink(path);
    return RF_OK;
}

static rf_err version_field(const json_t *o, const char *key, int64_t min, int64_t *out,
                            const char *path, rf_error *err)
{
    const json_t *v = json_object_get(o, key);

    if (!json_is_integer(v) || json_integer_value(v) < min)
        return rf_error_set(err, RF_ERR_INVALID, "%s: field '%s' must be an integer >= %lld", path,
                            key, (long long)min);
    *out = json_integer_value(v);
    return RF_OK;
}

/* versions.json and the root it names; RF_ERR_NOT_FOUND on a first start. */
static rf_err load_kept(agent *a, rf_tuf_client *kept, rf_error *err)
{
    char path[AGENT_PATH_MAX + 64], rpath[AGENT_PATH_MAX + 64];
    json_t *o = NULL;
    int64_t rv = 0, ts = 0, snap = 0, targ = 0;
    rf_tuf_root root;
    rf_buf b;
    rf_err rc;

    rf_buf_init(&b, VERSIONS_MAX_BYTES);
    if ((rc = rf_snprintf(path, sizeof(path), "%s/versions.json", a->tuf_dir)) != RF_OK ||
        (rc = rf_file_read(path, &b, err)) != RF_OK)
        goto out;
    o = json_loadb(b.data ? b.data : "", b.len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(o) || json_object_size(o) != 4) {
        rc = rf_error_set(err, RF_ERR_INVALID, "%s: want {root, timestamp, snapshot, targets}",
                          path);
        goto out;
    }
    if ((rc = version_field(o, "root", 1, &rv, path, err)) != RF_OK ||
        (rc = version_field(o, "timestamp", 0, &ts, path, err)) != RF_OK ||
        (rc = version_field(o, "snapshot", 0, &snap, path, err)) != RF_OK ||
        (rc = version_field(o, "targets", 0, &targ, path, err)) != RF_OK ||
        (rc = root_path(a, rv, rpath, sizeof(rpath))) != RF_OK ||
        (rc = read_root(rpath, &root, err)) != RF_OK)
        goto out;
    if (root.version != rv) {
        rc = rf_error_set(err, RF_ERR_INVALID, "%s holds root version %lld", rpath,
                          (long long)root.version);
        goto out;
    }
    rf_tuf_client_init(kept, &root);
    kept->timestamp_version = ts;
    kept->snapshot_version = snap;
    kept->targets_version = targ;
out:
    json_decref(o);
    rf_buf_cleanup(&b);
    return rc;
}

rf_err agent_tuf_open(agent *a, rf_error *err)
{
    rf_tuf_root installed;
    rf_tuf_client kept;
    rf_buf raw;
    rf_err rc;

    rf_buf_init(&raw, RF_TUF_ROOT_MAX_BYTES);
    if ((rc = rf_snprintf(a->tuf_dir, sizeof(a->tuf_dir), "%s/tuf", a->data)) != RF_OK ||
        (rc = rf_mkdirs(a->tuf_dir, 0700, err)) != RF_OK)
        goto out;
    if ((rc = rf_file_read(a->cfg->trusted_root, &raw, err)) != RF_OK)
        goto out;
    if ((rc = rf_tuf_root_load(raw.data, raw.len, &installed, err)) != RF_OK) {
        char msg[sizeof(err->message)];
        memcpy(msg, err->message, sizeof(msg));
        rc = rf_error_set(err, rc, "--trusted-root %.100s: %s", a->cfg->trusted_root, msg);
        goto out;
    }
    rc = load_kept(a, &kept, err);
    if (rc == RF_OK && kept.root.version >= installed.version) {
        a->tuf = kept; /* the chain followed since installation */
        goto out;
    }
    if (rc != RF_OK && rc != RF_ERR_NOT_FOUND) {
        char msg[sizeof(err->message)];
        memcpy(msg, err->message, sizeof(msg));
        rc = rf_error_set(err, rc, "%s (move %s away to start the chain from --trusted-root)", msg,
                          a->tuf_dir);
        goto out;
    }
    /* First start, or a newer root installed by hand: it starts the chain.
     * Versions vouched for by keys it may have replaced are not kept. */
    rf_tuf_client_init(&a->tuf, &installed);
    if (rc == RF_OK)
        a->tuf.targets_version = kept.targets_version;
    rc = save_root(a, raw.data, raw.len, rc == RF_OK ? kept.root.version : 0, err);
out:
    rf_buf_cleanup(&raw);
    return rc;
}

/* ---- the update cycle -------------------------------------------------- */

proto_result agent_tuf_update_root(agent *a, bool *changed, char *msg, size_t len)
{
    char file[64], path[96], ver[24];
    rf_buf resp;
    rf_error err = {0};
    proto_result r = PROTO_OK;
    long status = 0;

    *changed = false;
    rf_buf_init(&resp, RF_TUF_ROOT_MAX_BYTES);
    for (int i = 0; i < RF_TUF_MAX_ROOT_ROTATIONS; i++) {
        int64_t old = a->tuf.root.version;
        rf_tuf_root_file(old + 1, file, sizeof(file));
        snprintf(path, sizeof(path), "metadata/%s", file);
        rf_buf_reset(&resp);
        if ((r = agent_tuf_get(a, path, RF_TUF_ROOT_MAX_BYTES, true, &resp, &status, msg, len)) !=
                PROTO_OK ||
            status == 404)
            break;
        if (rf_tuf_update_root(&a->tuf, resp.data, resp.len, &err) != RF_OK) {
            snprintf(msg, len, "%s", err.message);
            r = PROTO_FAIL_VERIFY;
            break;
        }
        if (save_root(a, resp.data, resp.len, old, &err) != RF_OK) {
            snprintf(msg, len, "keeping the trusted root: %s", err.message);
            r = PROTO_FAIL_IO;
            break;
        }
        *changed = true;
        snprintf(ver, sizeof(ver), "%lld", (long long)a->tuf.root.version);
        rf_log(RF_LOG_INFO, "trusted root updated", "version", ver, NULL);
    }
    rf_buf_cleanup(&resp);
    return r;
}

typedef rf_err (*tuf_step_fn)(rf_tuf_client *c, const void *data, size_t len, int64_t now_s,
                              rf_error *err);

/* Downloads one metadata file (bounded by cap), has step verify it and keeps
 * the versions it moved. */
static proto_result meta_step(agent *a, const char *file, size_t cap, tuf_step_fn step,
                              int64_t now_s, char *msg, size_t len)
{
    char path[96];
    rf_buf resp;
    rf_error err = {0};
    long status = 0;
    proto_result r;

    rf_buf_init(&resp, cap);
    snprintf(path, sizeof(path), "metadata/%s", file);
    r = agent_tuf_get(a, path, cap, false, &resp, &status, msg, len);
    if (r == PROTO_OK &&
        step(&a->tuf, resp.data ? resp.data : "", resp.len, now_s, &err) != RF_OK) {
        snprintf(msg, len, "%s", err.message);
        r = err.code == RF_ERR_VERIFY || err.code == RF_ERR_TOO_LARGE ? PROTO_FAIL_VERIFY
                                                                      : PROTO_FAIL_IO;
    }
    if (r == PROTO_OK && save_versions(a, &err) != RF_OK) {
        snprintf(msg, len, "keeping the TUF versions: %.180s", err.message);
        r = PROTO_FAIL_IO;
    }
    rf_buf_cleanup(&resp);
    return r;
}

static proto_result refresh(agent *a, int64_t now_s, char *msg, size_t len)
{
    char file[64];
    rf_error err = {0};
    bool changed;
    proto_result r;

    if ((r = agent_tuf_update_root(a, &changed, msg, len)) != PROTO_OK)
        return r;
    if (rf_tuf_check_root(&a->tuf, now_s, &err) != RF_OK) {
        snprintf(msg, len, "%s", err.message);
        return PROTO_FAIL_VERIFY;
    }
    if ((r = meta_step(a, "timestamp.json", RF_TUF_TIMESTAMP_MAX_BYTES, rf_tuf_update_timestamp,
                       now_s, msg, len)) != PROTO_OK)
        return r;
    rf_tuf_snapshot_file(&a->tuf, file, sizeof(file));
    if ((r = meta_step(a, file, rf_tuf_snapshot_cap(&a->tuf), rf_tuf_update_snapshot, now_s, msg,
                       len)) != PROTO_OK)
        return r;
    rf_tuf_targets_file(&a->tuf, file, sizeof(file));
    return meta_step(a, file, rf_tuf_targets_cap(&a->tuf), rf_tuf_update_targets, now_s, msg, len);
}

void agent_do_refresh(agent *a, const proto_action *act, proto_event *ev)
{
    const proto_channel *c = &a->p.ch[act->channel];
    char path[WIRE_TARGET_PATH_MAX + 1], msg[PROTO_ERROR_MAX] = "";
    rf_tuf_target t;
    rf_error err = {0};
    proto_result r;

    ev->kind = PROTO_EV_REFRESHED;
    ev->channel = act->channel;
    ev->bundle_id = act->bundle->id;
    r = refresh(a, rf_now_ms() / 1000, msg, sizeof(msg));
    if (r == PROTO_OK && wire_target_path(c->name, act->bundle, path, sizeof(path)) != RF_OK) {
        snprintf(msg, sizeof(msg), "tuf: the target path of bundle %lld is too long",
                 (long long)act->bundle->id);
        r = PROTO_FAIL_VERIFY;
    }
    if (r == PROTO_OK && rf_tuf_target_get(&a->tuf, path, &t, &err) != RF_OK) {
        snprintf(msg, sizeof(msg), "%s", err.message);
        r = PROTO_FAIL_VERIFY;
    }
    if (r != PROTO_OK) {
        agent_fail(a, ev, r, msg);
        return;
    }
    a->target.length = t.length;
    memcpy(a->target.sha256, t.sha256, sizeof(a->target.sha256));
    ev->target = &a->target;
}
