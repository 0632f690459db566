/* The TUF client workflow (specification 1.0.x, 5.3 to 5.7) as pure steps:
 * each takes the trusted state and the bytes of one downloaded file and either
 * advances the state or leaves it exactly as it was, with a message saying
 * which rule failed. The checks run in the order the specification gives
 * (length and hashes, signatures, version, rollback, expiry). This file must
 * never change the trusted state on a failed check, read a clock or do I/O. */
#include "rf_util.h"
#include "tuf_internal.h"

#include <stdio.h>
#include <string.h>

rf_err rf_tuf_root_load(const void *data, size_t len, rf_tuf_root *out, rf_error *err)
{
    tuf_doc d;
    rf_tuf_root r;
    char what[48];
    rf_err rc;

    if ((rc = tuf_doc_parse(data, len, RF_TUF_ROOT_MAX_BYTES, "root", "root", &d, err)) != RF_OK ||
        (rc = tuf_doc_header(&d, "root", err)) != RF_OK ||
        (rc = tuf_root_parse(&d, &r, err)) != RF_OK)
        goto out;
    snprintf(what, sizeof(what), "root version %lld", (long long)r.version);
    if ((rc = tuf_doc_verify(&d, &r.roles[RF_TUF_ROOT], what, "its own root", err)) != RF_OK)
        goto out;
    *out = r;
out:
    tuf_doc_cleanup(&d);
    return rc;
}

void rf_tuf_client_init(rf_tuf_client *c, const rf_tuf_root *root)
{
    memset(c, 0, sizeof(*c));
    c->root = *root;
}

void rf_tuf_client_cleanup(rf_tuf_client *c)
{
    if (!c)
        return;
    json_decref(c->targets);
    c->targets = NULL;
    c->step = 0;
}

void rf_tuf_begin(rf_tuf_client *c)
{
    json_decref(c->targets);
    c->targets = NULL;
    c->step = 0;
    memset(&c->snapshot_meta, 0, sizeof(c->snapshot_meta));
    memset(&c->targets_meta, 0, sizeof(c->targets_meta));
}

rf_err rf_tuf_update_root(rf_tuf_client *c, const void *data, size_t len, rf_error *err)
{
    int64_t want = c->root.version + 1;
    char what[48], by[48];
    rf_tuf_root r;
    tuf_doc d;
    rf_err rc;

    snprintf(what, sizeof(what), "root version %lld", (long long)want);
    snprintf(by, sizeof(by), "root version %lld's root", (long long)c->root.version);
    if ((rc = tuf_doc_parse(data, len, RF_TUF_ROOT_MAX_BYTES, "root", what, &d, err)) != RF_OK ||
        (rc = tuf_doc_header(&d, what, err)) != RF_OK ||
        (rc = tuf_root_parse(&d, &r, err)) != RF_OK ||
        (rc = tuf_doc_verify(&d, &c->root.roles[RF_TUF_ROOT], what, by, err)) != RF_OK ||
        (rc = tuf_doc_verify(&d, &r.roles[RF_TUF_ROOT], what, "its own root", err)) != RF_OK)
        goto out;
    if (r.version != want) {
        rc = rf_error_set(err, RF_ERR_VERIFY,
                          "tuf: %lld.root.json has version %lld; only %lld may follow trusted %lld",
                          (long long)want, (long long)r.version, (long long)want,
                          (long long)c->root.version);
        goto out;
    }
    /* 5.3.11: new timestamp or snapshot keys: what the old keys vouched for
     * no longer bounds what the new keys may sign. */
    if (!tuf_keyset_equal(&r.roles[RF_TUF_TIMESTAMP], &c->root.roles[RF_TUF_TIMESTAMP]) ||
        !tuf_keyset_equal(&r.roles[RF_TUF_SNAPSHOT], &c->root.roles[RF_TUF_SNAPSHOT])) {
        c->timestamp_version = 0;
        c->snapshot_version = 0;
    }
    c->root = r;
    rf_tuf_begin(c);
out:
    tuf_doc_cleanup(&d);
    return rc;
}

static rf_err check_expiry(int64_t expires_s, int64_t now_s, const char *what, rf_error *err)
{
    char when[32];

    if (expires_s > now_s)
        return RF_OK;
    rf_time_iso(expires_s, when);
    return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s expired at %s (freeze)", what, when);
}

rf_err rf_tuf_check_root(const rf_tuf_client *c, int64_t now_s, rf_error *err)
{
    char what[48];

    snprintf(what, sizeof(what), "root version %lld", (long long)c->root.version);
    return check_expiry(c->root.expires_s, now_s, what, err);
}

/* Length and SHA-256 of a downloaded file against its parent's listing. */
static rf_err check_listed(const void *data, size_t len, const rf_tuf_meta *m, const char *what,
                           const char *parent, rf_error *err)
{
    char sha[RF_SHA256_HEX_LEN + 1];

    if (m->length && (int64_t)len != m->length)
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s is %zu bytes; the %s lists %lld", what,
                            len, parent, (long long)m->length);
    if (!m->sha256[0])
        return RF_OK;
    rf_sha256_hex(data, len, sha);
    if (strcmp(sha, m->sha256) != 0)
        return rf_error_set(err, RF_ERR_VERIFY,
                            "tuf: %s sha256 %.12s... differs from the %.12s... the %s lists", what,
                            sha, m->sha256, parent);
    return RF_OK;
}

rf_err rf_tuf_update_timestamp(rf_tuf_client *c, const void *data, size_t len, int64_t now_s,
                               rf_error *err)
{
    rf_tuf_meta snap;
    tuf_doc d;
    rf_err rc;

    rf_tuf_begin(c);
    if ((rc = tuf_doc_parse(data, len, RF_TUF_TIMESTAMP_MAX_BYTES, "timestamp", "timestamp", &d,
                            err)) != RF_OK ||
        (rc = tuf_doc_header(&d, "timestamp", err)) != RF_OK ||
        (rc = tuf_doc_verify(&d, &c->root.roles[RF_TUF_TIMESTAMP], "timestamp", "timestamp",
                             err)) != RF_OK)
        goto out;
    if (d.version < c->timestamp_version) {
        rc = rf_error_set(err, RF_ERR_VERIFY,
                          "tuf: timestamp version %lld is older than trusted %lld (rollback)",
                          (long long)d.version, (long long)c->timestamp_version);
        goto out;
    }
    if ((rc = tuf_meta_parse(json_object_get(d.signed_obj, "meta"), "snapshot.json", "timestamp",
                             RF_TUF_SNAPSHOT_MAX_BYTES, &snap, err)) != RF_OK)
        goto out;
    if (snap.version < c->snapshot_version) {
        rc = rf_error_set(err, RF_ERR_VERIFY,
                          "tuf: timestamp names snapshot version %lld, older than trusted %lld "
                          "(rollback)",
                          (long long)snap.version, (long long)c->snapshot_version);
        goto out;
    }
    if ((rc = check_expiry(d.expires_s, now_s, "timestamp", err)) != RF_OK)
        goto out;
    c->timestamp_version = d.version;
    c->snapshot_version = snap.version;
    c->snapshot_meta = snap;
    c->step = 1;
out:
    tuf_doc_cleanup(&d);
    return rc;
}

rf_err rf_tuf_update_snapshot(rf_tuf_client *c, const void *data, size_t len, int64_t now_s,
                              rf_error *err)
{
    rf_tuf_meta tm;
    tuf_doc d;
    rf_err rc;

    memset(&d, 0, sizeof(d));
    if (c->step != 1) {
        rc = rf_error_set(err, RF_ERR_INTERNAL, "tuf: snapshot before a verified timestamp");
        goto out;
    }
    if (len > rf_tuf_snapshot_cap(c)) {
        rc = rf_error_set(err, RF_ERR_VERIFY, "tuf: snapshot is larger than %zu bytes",
                          rf_tuf_snapshot_cap(c));
        goto out;
    }
    if ((rc = check_listed(data, len, &c->snapshot_meta, "snapshot", "timestamp", err)) != RF_OK ||
        (rc = tuf_doc_parse(data, len, RF_TUF_SNAPSHOT_MAX_BYTES, "snapshot", "snapshot", &d,
                            err)) != RF_OK ||
        (rc = tuf_doc_header(&d, "snapshot", err)) != RF_OK ||
        (rc = tuf_doc_verify(&d, &c->root.roles[RF_TUF_SNAPSHOT], "snapshot", "snapshot", err)) !=
            RF_OK)
        goto out;
    if (d.version != c->snapshot_meta.version) {
        rc = rf_error_set(err, RF_ERR_VERIFY,
                          "tuf: snapshot version %lld differs from the %lld the timestamp names",
                          (long long)d.version, (long long)c->snapshot_meta.version);
        goto out;
    }
    if ((rc = tuf_meta_parse(json_object_get(d.signed_obj, "meta"), "targets.json", "snapshot",
                             RF_TUF_TARGETS_MAX_BYTES, &tm, err)) != RF_OK)
        goto out;
    if (tm.version < c->targets_version) {
        rc = rf_error_set(err, RF_ERR_VERIFY,
                          "tuf: snapshot names targets version %lld, older than trusted %lld "
                          "(rollback)",
                          (long long)tm.version, (long long)c->targets_version);
        goto out;
    }
    if ((rc = check_expiry(d.expires_s, now_s, "snapshot", err)) != RF_OK)
        goto out;
    c->targets_version = tm.version;
    c->targets_meta = tm;
    c->step = 2;
out:
    tuf_doc_cleanup(&d);
    return rc;
}

/* Every entry of signed.targets must be well-formed, not only the one asked
 * for: a malformed file is refused as a whole. */
static rf_err targets_check(const json_t *targets, rf_error *err)
{
    rf_tuf_target t;
    const char *path;
    json_t *v;
    rf_err rc;

    if (!json_is_object(targets))
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: targets: signed.targets must be an object");
    json_object_foreach((json_t *)targets, path, v)
    {
        if ((rc = tuf_target_parse(v, path, &t, err)) != RF_OK)
            return rc;
    }
    return RF_OK;
}

rf_err rf_tuf_update_targets(rf_tuf_client *c, const void *data, size_t len, int64_t now_s,
                             rf_error *err)
{
    const json_t *targets;
    tuf_doc d;
    rf_err rc;

    memset(&d, 0, sizeof(d));
    if (c->step != 2) {
        rc = rf_error_set(err, RF_ERR_INTERNAL, "tuf: targets before a verified snapshot");
        goto out;
    }
    if (len > rf_tuf_targets_cap(c)) {
        rc = rf_error_set(err, RF_ERR_VERIFY, "tuf: targets is larger than %zu bytes",
                          rf_tuf_targets_cap(c));
        goto out;
    }
    if ((rc = check_listed(data, len, &c->targets_meta, "targets", "snapshot", err)) != RF_OK ||
        (rc = tuf_doc_parse(data, len, RF_TUF_TARGETS_MAX_BYTES, "targets", "targets", &d, err)) !=
            RF_OK ||
        (rc = tuf_doc_header(&d, "targets", err)) != RF_OK ||
        (rc = tuf_doc_verify(&d, &c->root.roles[RF_TUF_TARGETS], "targets", "targets", err)) !=
            RF_OK)
        goto out;
    if (d.version != c->targets_meta.version) {
        rc = rf_error_set(err, RF_ERR_VERIFY,
                          "tuf: targets version %lld differs from the %lld the snapshot names "
                          "(mix-and-match)",
                          (long long)d.version, (long long)c->targets_meta.version);
        goto out;
    }
    if ((rc = check_expiry(d.expires_s, now_s, "targets", err)) != RF_OK)
        goto out;
    targets = json_object_get(d.signed_obj, "targets");
    if ((rc = targets_check(targets, err)) != RF_OK)
        goto out;
    c->targets = json_incref((json_t *)targets);
    c->step = 3;
out:
    tuf_doc_cleanup(&d);
    return rc;
}

size_t rf_tuf_snapshot_cap(const rf_tuf_client *c)
{
    return c->snapshot_meta.length ? (size_t)c->snapshot_meta.length : RF_TUF_SNAPSHOT_MAX_BYTES;
}

size_t rf_tuf_targets_cap(const rf_tuf_client *c)
{
    return c->targets_meta.length ? (size_t)c->targets_meta.length : RF_TUF_TARGETS_MAX_BYTES;
}

rf_err rf_tuf_root_file(int64_t version, char *out, size_t len)
{
    return rf_snprintf(out, len, "%lld.root.json", (long long)version);
}

rf_err rf_tuf_snapshot_file(const rf_tuf_client *c, char *out, size_t len)
{
    if (!c->root.consistent_snapshot)
        return rf_snprintf(out, len, "snapshot.json");
    return rf_snprintf(out, len, "%lld.snapshot.json", (long long)c->snapshot_meta.version);
}

rf_err rf_tuf_targets_file(const rf_tuf_client *c, char *out, size_t len)
{
    if (!c->root.consistent_snapshot)
        return rf_snprintf(out, len, "targets.json");
    return rf_snprintf(out, len, "%lld.targets.json", (long long)c->targets_meta.version);
}

rf_err rf_tuf_target_file(const rf_tuf_client *c, const char *path, const char *sha256, char *out,
                          size_t len)
{
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) + 1 : 0;

    if (!c->root.consistent_snapshot)
        return rf_snprintf(out, len, "%s", path);
    if (!tuf_hex64(sha256))
        return RF_ERR_INVALID;
    return rf_snprintf(out, len, "%.*s%s.%s", (int)dir, path, sha256, path + dir);
}

rf_err rf_tuf_target_get(const rf_tuf_client *c, const char *path, rf_tuf_target *out,
                         rf_error *err)
{
    const json_t *v;

    if (c->step != 3)
        return rf_error_set(err, RF_ERR_INTERNAL, "tuf: target lookup before verified targets");
    v = json_object_get(c->targets, path);
    if (!v)
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: target %.100s is not in targets version %lld",
                            path, (long long)c->targets_meta.version);
    return tuf_target_parse(v, path, out, err);
}

rf_err rf_tuf_target_check(const rf_tuf_target *t, const char *path, int64_t got,
                           const char *sha256, rf_error *err)
{
    if (got != t->length)
        return rf_error_set(err, RF_ERR_VERIFY,
                            "tuf: target %.100s is %lld bytes; the targets metadata says %lld",
                            path, (long long)got, (long long)t->length);
    if (!sha256 || strcmp(sha256, t->sha256) != 0)
        return rf_error_set(
            err, RF_ERR_VERIFY,
            "tuf: target %.100s sha256 %.12s... differs from the %.12s... in targets", path,
            sha256 ? sha256 : "", t->sha256);
    return RF_OK;
}

rf_err rf_tuf_assignment_verify(const rf_tuf_root *root, const void *data, size_t len, json_t **doc,
                                json_t **signed_obj, rf_error *err)
{
    tuf_doc d;
    rf_err rc;

    *doc = NULL;
    *signed_obj = NULL;
    if ((rc = tuf_doc_parse(data, len, RF_TUF_ASSIGNMENT_MAX_BYTES, "assignment", "assignment", &d,
                            err)) != RF_OK ||
        (rc = tuf_doc_verify(&d, &root->roles[RF_TUF_DIRECTOR], "assignment", "director", err)) !=
            RF_OK)
        goto out;
    *doc = d.root;
    *signed_obj = d.signed_obj;
    d.root = NULL;
out:
    tuf_doc_cleanup(&d);
    return rc;
}
