/* Publishing the TUF repository: reads the stored heads, builds and signs the
 * next versions (tuf_repo.c) and stores them (store_tuf.c), under the
 * repository lock, inside the caller's transaction. The clock is the caller's
 * (now_s). It refuses to sign when the online keys are not the ones the newest
 * root names, which is what a server still holding a rotated-out key finds. */
#include "tuf_publish.h"
#include "rf_log.h"
#include "store_tuf.h"

#include <stdlib.h>
#include <string.h>

void tuf_periods_of(const rf_config *cfg, tuf_periods *out)
{
    out->s[TUF_ROOT] = cfg->tuf_root_expiry_s;
    out->s[TUF_TARGETS] = cfg->tuf_targets_expiry_s;
    out->s[TUF_SNAPSHOT] = cfg->tuf_snapshot_expiry_s;
    out->s[TUF_TIMESTAMP] = cfg->tuf_timestamp_expiry_s;
}

rf_err tuf_publish_latest_root(rf_db *db, tuf_root *out, rf_buf *raw, rf_error *err)
{
    rf_buf b;
    rf_err rc;

    rf_buf_init(&b, TUF_META_CAP);
    rc = store_tuf_body(db, TUF_ROOT, 0, &b, NULL, err);
    if (rc == RF_ERR_NOT_FOUND)
        rf_error_set(err, rc,
                     "the TUF repository has no root: run `ringfenced keys init --out DIR`");
    if (rc == RF_OK)
        rc = tuf_root_parse(b.data, b.len, out, err);
    if (rc == RF_OK && raw != NULL) {
        rf_buf_reset(raw);
        rc = rf_buf_append(raw, b.data, b.len);
    }
    rf_buf_cleanup(&b);
    return rc;
}

/* Signs signed_obj (consumed) with one key and stores it as role's version. */
static rf_err sign_put(rf_db *db, json_t *signed_obj, const rf_key *key, tuf_role role,
                       long long version, int64_t expires_s, rf_buf *body, rf_error *err)
{
    const rf_key *keys[] = {key};
    rf_err rc;

    if (signed_obj == NULL)
        return err != NULL && err->code != RF_OK ? err->code : RF_ERR_INTERNAL;
    rc = tuf_sign(signed_obj, keys, 1, body, err);
    json_decref(signed_obj);
    if (rc == RF_OK)
        rc = store_tuf_put(db, role, version, expires_s, body->data, body->len, TUF_KEEP_VERSIONS,
                           err);
    return rc;
}

static rf_err publish_targets(rf_db *db, tuf_keyset *ks, const tuf_periods *p, int64_t now_s,
                              long long version, rf_buf *body, rf_error *err)
{
    tuf_target *items = NULL;
    size_t n = 0;
    int64_t exp = now_s + p->s[TUF_TARGETS];
    rf_err rc = store_tuf_targets(db, &items, &n, err);

    if (rc == RF_OK)
        rc = sign_put(db, tuf_targets_signed(version, exp, items, n, err), ks->key[TUF_TARGETS],
                      TUF_TARGETS, version, exp, body, err);
    free(items);
    return rc;
}

rf_err tuf_publish_chain(rf_db *db, tuf_keyset *ks, const tuf_periods *p, int64_t now_s,
                         tuf_role from, rf_error *err)
{
    tuf_root root;
    tuf_heads h;
    rf_buf body;
    char sha[RF_SHA256_HEX_LEN + 1];
    rf_err rc = store_tuf_lock(db, err);

    rf_buf_init(&body, TUF_META_CAP);
    if (rc == RF_OK)
        rc = tuf_publish_latest_root(db, &root, NULL, err);
    if (rc == RF_OK)
        rc = tuf_keyset_check(ks, &root, err);
    if (rc == RF_OK)
        rc = store_tuf_heads(db, &h, err);
    if (rc != RF_OK)
        goto out;
    /* A missing role cannot be skipped: start the chain at it. */
    if (h.role[TUF_SNAPSHOT].version == 0 && from > TUF_SNAPSHOT)
        from = TUF_SNAPSHOT;
    if (h.role[TUF_TARGETS].version == 0 && from > TUF_TARGETS)
        from = TUF_TARGETS;
    if (from <= TUF_TARGETS) {
        h.role[TUF_TARGETS].version++;
        rc = publish_targets(db, ks, p, now_s, h.role[TUF_TARGETS].version, &body, err);
    }
    if (rc == RF_OK && from <= TUF_SNAPSHOT) {
        int64_t snap_exp = now_s + p->s[TUF_SNAPSHOT];
        h.role[TUF_SNAPSHOT].version++;
        rc = sign_put(db,
                      tuf_snapshot_signed(h.role[TUF_SNAPSHOT].version, snap_exp,
                                          h.role[TUF_TARGETS].version, err),
                      ks->key[TUF_SNAPSHOT], TUF_SNAPSHOT, h.role[TUF_SNAPSHOT].version, snap_exp,
                      &body, err);
    } else if (rc == RF_OK) {
        rc = store_tuf_body(db, TUF_SNAPSHOT, h.role[TUF_SNAPSHOT].version, &body, NULL, err);
    }
    if (rc != RF_OK)
        goto out;
    rf_sha256_hex(body.data, body.len, sha);
    int64_t ts_exp = now_s + p->s[TUF_TIMESTAMP];
    long long tv = h.role[TUF_TIMESTAMP].version + 1;
    rc = sign_put(db,
                  tuf_timestamp_signed(tv, ts_exp, h.role[TUF_SNAPSHOT].version,
                                       (long long)body.len, sha, err),
                  ks->key[TUF_TIMESTAMP], TUF_TIMESTAMP, tv, ts_exp, &body, err);
out:
    rf_buf_cleanup(&body);
    return rc;
}

rf_err tuf_publish_target(rf_db *db, tuf_keyset *ks, const tuf_periods *p, int64_t now_s,
                          const tuf_target *t, rf_error *err)
{
    rf_err rc = store_tuf_lock(db, err);

    if (rc == RF_OK)
        rc = store_tuf_target_add(db, t, err);
    if (rc == RF_OK)
        rc = tuf_publish_chain(db, ks, p, now_s, TUF_TARGETS, err);
    return rc;
}

rf_err tuf_publish_refresh(rf_db *db, tuf_keyset *ks, const tuf_periods *p, int64_t now_s,
                           tuf_role *what, rf_error *err)
{
    tuf_heads h;
    rf_err rc = store_tuf_lock(db, err);

    *what = TUF_NROLES;
    if (rc == RF_OK)
        rc = store_tuf_heads(db, &h, err); /* under the lock: another server may have done it */
    if (rc == RF_OK)
        *what = tuf_plan_refresh(&h, p, now_s);
    if (rc == RF_OK && *what != TUF_NROLES)
        rc = tuf_publish_chain(db, ks, p, now_s, *what, err);
    return rc;
}

rf_err tuf_publish_root(rf_db *db, const tuf_root *root, const rf_buf *body, rf_error *err)
{
    tuf_heads h;
    rf_err rc = store_tuf_lock(db, err);

    if (rc == RF_OK)
        rc = store_tuf_heads(db, &h, err);
    if (rc == RF_OK && root->version != h.role[TUF_ROOT].version + 1)
        rc = rf_error_set(err, RF_ERR_CONFLICT,
                          "root version %lld cannot follow the stored version %lld (another "
                          "ceremony ran at the same time?)",
                          root->version, h.role[TUF_ROOT].version);
    if (rc == RF_OK)
        rc = store_tuf_put(db, TUF_ROOT, root->version, root->expires_s, body->data, body->len, 0,
                           err);
    return rc;
}
