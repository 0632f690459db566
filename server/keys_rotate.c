/* `ringfenced keys rotate-root` and `keys rotate`: the next root version,
 * signed by the current root's threshold (so clients accept it) and by the
 * new root keys (so it can verify itself), stored in the same transaction as
 * whatever must be re-signed with a new online key. A new online key is
 * written as <role>.pem.new first and renamed over the old file only once the
 * root that names it is committed; servers sharing the keys directory then
 * reload it on their own. It refuses when the old threshold is not met. */
#include "keys_cmd.h"
#include "rf_util.h"
#include "store_tuf.h"
#include "tuf_keys.h"
#include "tuf_publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Loads the current root, and the keys of dir that are its root keys; refuses
 * unless they meet its threshold. *signers borrow keys from *set. */
static int load_current(rf_db *db, const char *dir, tuf_root *root, keys_set *set,
                        const rf_key **signers, int *nsigners)
{
    rf_error e = {0};

    if (tuf_publish_latest_root(db, root, NULL, &e) != RF_OK) {
        keys_fail("cannot read the current root", &e);
        return 1;
    }
    if (keys_load_root_dir(dir, set, &e) != RF_OK) {
        keys_fail("cannot load the root keys", &e);
        return 1;
    }
    *nsigners = keys_valid_for_root(set, root, signers);
    if (*nsigners < root->role[TUF_ROOT].threshold) {
        fprintf(stderr,
                "ringfenced: refusing: %s holds %d of the root keys of root version %lld, "
                "which needs %d to sign its successor\n",
                dir, *nsigners, root->version, root->role[TUF_ROOT].threshold);
        return 1;
    }
    return 0;
}

/* The next root keys: those already in dir, or n new ones saved there. */
static int next_root_keys(const config_cli *cli, const tuf_root *cur, keys_set *out)
{
    rf_error e = {0};
    int want = keys_count(cli->root_keys, cur->role[TUF_ROOT].n);

    if (keys_load_root_dir(cli->new_dir, out, &e) != RF_OK) {
        keys_fail("cannot load the new root keys", &e);
        return 1;
    }
    if (out->n > 0 && cli->root_keys[0] && out->n != want) {
        fprintf(stderr, "ringfenced: %s holds %d root keys, not the %d --root-keys asks for\n",
                cli->new_dir, out->n, want);
        return 1;
    }
    if (out->n == 0 && keys_generate_root_dir(cli->new_dir, want, out, &e) != RF_OK) {
        keys_fail("cannot create the new root keys", &e);
        return 1;
    }
    return 0;
}

/* Signs next with every signer and stores it (and writes dir/N.root.json). */
static rf_err sign_store_root(rf_db *db, const tuf_root *next, const rf_key *const *signers,
                              size_t n, const char *dir, rf_buf *body, rf_error *err)
{
    rf_err rc = keys_sign_root(next, signers, n, body, err);

    if (rc == RF_OK)
        rc = tuf_publish_root(db, next, body, err);
    if (rc == RF_OK)
        rc = keys_write_root_file(dir, next->version, body, err);
    return rc;
}

int keys_cmd_rotate_root(const config_cli *cli)
{
    rf_store *store = NULL;
    rf_db *db = NULL;
    keys_set old = {0}, fresh = {0};
    const rf_key *signers[2 * TUF_MAX_ROLE_KEYS];
    tuf_root cur, next;
    rf_buf body;
    rf_error e = {0};
    int nold = 0, code = 1, threshold;
    rf_err rc;

    rf_buf_init(&body, TUF_META_CAP);
    if (keys_open_db(&cli->cfg, &store, &db))
        return 1;
    if (load_current(db, cli->old_dir, &cur, &old, signers, &nold) ||
        next_root_keys(cli, &cur, &fresh))
        goto out;
    threshold = keys_count(cli->threshold, cur.role[TUF_ROOT].threshold);
    if (threshold > fresh.n) {
        fprintf(stderr, "ringfenced: --threshold %d cannot be met by %d new root keys\n", threshold,
                fresh.n);
        goto out;
    }
    next = cur;
    next.version = cur.version + 1;
    next.expires_s = rf_now_ms() / 1000 + cli->cfg.tuf_root_expiry_s;
    next.role[TUF_ROOT].n = fresh.n;
    next.role[TUF_ROOT].threshold = threshold;
    memcpy(next.role[TUF_ROOT].keys, fresh.pub, sizeof(fresh.pub));
    for (int i = 0; i < fresh.n; i++)
        signers[nold + i] = fresh.key[i]; /* tuf_sign signs once per key */
    rc = store_begin(db);
    if (rc == RF_OK) {
        rc = sign_store_root(db, &next, signers, (size_t)(nold + fresh.n), cli->new_dir, &body, &e);
        if (rc == RF_OK)
            rc = store_commit(db);
        else
            store_rollback(db);
    }
    if (rc != RF_OK) {
        keys_fail("root rotation failed", &e);
        goto out;
    }
    printf("root version %lld stored: %d root keys in %s, threshold %d; signed by %d old and %d "
           "new keys; wrote %s/%lld.root.json. Move %s and %s to offline storage.\n",
           next.version, fresh.n, cli->new_dir, threshold, nold, fresh.n, cli->new_dir,
           next.version, cli->new_dir, cli->old_dir);
    code = 0;
out:
    keys_set_cleanup(&old);
    keys_set_cleanup(&fresh);
    rf_buf_cleanup(&body);
    keys_close_db(store, db);
    return code;
}

/* ---- keys rotate --role R ---- */

static rf_err key_paths(const rf_config *cfg, tuf_role role, char *path, char *tmp, size_t n,
                        rf_error *err)
{
    if (rf_snprintf(path, n, "%s/%s", cfg->keys_dir, tuf_key_file(role)) != RF_OK ||
        rf_snprintf(tmp, n, "%s/%s.new", cfg->keys_dir, tuf_key_file(role)) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "--keys-dir: path too long");
    return RF_OK;
}

/* The chain a new key of role must re-sign; TUF_NROLES for none. */
static tuf_role resign_from(tuf_role role)
{
    return role == TUF_DIRECTOR ? TUF_NROLES : role;
}

/* Stores the new root and the metadata the new key signs; then commits. */
static rf_err rotate_commit(rf_db *db, const config_cli *cli, const tuf_root *next,
                            const rf_key *const *signers, int nsigners, tuf_keyset *ks,
                            tuf_role role, rf_buf *body, rf_error *err)
{
    tuf_periods p;
    rf_err rc = store_begin(db);

    tuf_periods_of(&cli->cfg, &p);
    if (rc != RF_OK)
        return rf_error_set(err, rc, "database unavailable");
    rc = sign_store_root(db, next, signers, (size_t)nsigners, cli->root_keys, body, err);
    if (rc == RF_OK && resign_from(role) != TUF_NROLES)
        rc = tuf_publish_chain(db, ks, &p, rf_now_ms() / 1000, resign_from(role), err);
    if (rc == RF_OK)
        return store_commit(db);
    store_rollback(db);
    return rc;
}

static int rotate_with(const config_cli *cli, rf_db *db, tuf_role role, const tuf_root *cur,
                       const rf_key *const *signers, int nsigners)
{
    char path[1024], tmp[1100];
    tuf_keyset *ks = NULL;
    tuf_root next = *cur;
    rf_buf body;
    rf_error e = {0};
    rf_key *fresh = NULL;
    rf_err rc = key_paths(&cli->cfg, role, path, tmp, sizeof(path), &e);

    rf_buf_init(&body, TUF_META_CAP);
    if (rc == RF_OK)
        rc = tuf_keyset_load(cli->cfg.keys_dir, &ks, &e);
    if (rc == RF_OK && (rc = rf_key_generate(&fresh)) != RF_OK)
        rf_error_set(&e, rc, "cannot generate a key");
    if (rc == RF_OK)
        rc = tuf_pubkey_of(fresh, &next.role[role].keys[0]);
    if (rc == RF_OK) {
        next.version = cur->version + 1;
        next.expires_s = rf_now_ms() / 1000 + cli->cfg.tuf_root_expiry_s;
        next.role[role].n = 1;
        next.role[role].threshold = 1;
        (void)unlink(tmp);
        rc = rf_key_save_private_pem(fresh, tmp, &e);
    }
    if (rc == RF_OK) {
        rf_key_free(ks->key[role]);
        ks->key[role] = fresh; /* the set owns it now */
        fresh = NULL;
        rc = rf_key_id(ks->key[role], ks->keyid[role]);
    }
    if (rc == RF_OK)
        rc = rotate_commit(db, cli, &next, signers, nsigners, ks, role, &body, &e);
    if (rc == RF_OK && rename(tmp, path) != 0)
        fprintf(stderr,
                "ringfenced: root version %lld is stored, but %s could not be renamed to %s: "
                "rename it by hand now\n",
                next.version, tmp, path);
    else if (rc == RF_OK)
        printf("rotated the %s key: keyid %s in %s; root version %lld (signed by %d root keys) "
               "written to %s. Servers sharing this keys directory load it within seconds; "
               "copy it to every other server's keys directory.\n",
               tuf_role_name(role), next.role[role].keys[0].keyid, path, next.version, nsigners,
               cli->root_keys);
    if (rc != RF_OK) {
        (void)unlink(tmp);
        keys_fail("key rotation failed", &e);
    }
    rf_key_free(fresh);
    tuf_keyset_put(ks);
    rf_buf_cleanup(&body);
    return rc == RF_OK ? 0 : 1;
}

int keys_cmd_rotate(const config_cli *cli)
{
    rf_store *store = NULL;
    rf_db *db = NULL;
    keys_set roots = {0};
    const rf_key *signers[TUF_MAX_ROLE_KEYS];
    tuf_root cur;
    tuf_role role;
    int nsigners = 0, code = 1;

    if (tuf_role_parse(cli->role, &role) != 0 || role == TUF_ROOT) {
        fprintf(stderr, "ringfenced: --role: must be one of targets, snapshot, timestamp, "
                        "director\n");
        return 2;
    }
    if (keys_open_db(&cli->cfg, &store, &db))
        return 1;
    if (load_current(db, cli->root_keys, &cur, &roots, signers, &nsigners) == 0)
        code = rotate_with(cli, db, role, &cur, signers, nsigners);
    keys_set_cleanup(&roots);
    keys_close_db(store, db);
    return code;
}
