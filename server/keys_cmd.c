/* `ringfenced keys init` and `keys show-root`, and the helpers the rotation
 * commands share: loading and generating root key directories, signing and
 * writing root files. init creates the whole repository in one transaction
 * (root version 1, the first targets, snapshot and timestamp) and writes the
 * key files before it commits; it refuses to overwrite any key file, and it
 * leaves an initialised repository alone. init also creates the webhook
 * master key when the keys directory has none. No private key is ever
 * printed. */
#include "keys_cmd.h"
#include "rf_util.h"
#include "store_tuf.h"
#include "tuf_keys.h"
#include "tuf_publish.h"
#include "webhook_key.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void keys_fail(const char *what, const rf_error *e)
{
    fprintf(stderr, "ringfenced: %s%s%s\n", what, e && e->message[0] ? ": " : "",
            e ? e->message : "");
}

void keys_set_cleanup(keys_set *s)
{
    for (int i = 0; i < s->n; i++)
        rf_key_free(s->key[i]);
    memset(s, 0, sizeof(*s));
}

int keys_count(const char *s, int dflt)
{
    long long v;

    return s[0] && rf_parse_ll(s, 1, 1000, &v) == RF_OK ? (int)v : dflt;
}

int keys_open_db(const rf_config *cfg, rf_store **store, rf_db **db)
{
    rf_error e = {0};

    *db = NULL;
    if (store_open(cfg->database_url, 1, store, &e) != RF_OK) {
        keys_fail("cannot connect to the database", &e);
        return 1;
    }
    if (store_acquire(*store, 10000, db) != RF_OK) {
        keys_fail("cannot connect to the database", NULL);
        store_close(*store);
        *store = NULL;
        return 1;
    }
    if (store_migrations_check(*db, &e) != RF_OK) {
        keys_fail("database not ready (run `ringfenced migrate`)", &e);
        keys_close_db(*store, *db);
        *store = NULL;
        *db = NULL;
        return 1;
    }
    return 0;
}

void keys_close_db(rf_store *store, rf_db *db)
{
    if (db != NULL)
        store_release(store, db);
    store_close(store);
}

/* 1 and *num when name is "root-<num>.pem". */
static int root_key_name(const char *name, long long *num)
{
    size_t n = strlen(name);
    char digits[16];

    if (n < 10 || strncmp(name, "root-", 5) != 0 || strcmp(name + n - 4, ".pem") != 0 ||
        n - 9 >= sizeof(digits))
        return 0;
    memcpy(digits, name + 5, n - 9);
    digits[n - 9] = '\0';
    return rf_parse_ll(digits, 1, 999, num) == RF_OK;
}

rf_err keys_load_root_dir(const char *dir, keys_set *out, rf_error *err)
{
    char path[1024];
    rf_err rc = RF_OK;
    DIR *d = opendir(dir);

    memset(out, 0, sizeof(*out));
    if (d == NULL)
        return RF_OK; /* no directory: no keys */
    /* Numbered names, loaded in number order so output is stable. */
    for (long long want = 1; rc == RF_OK && want <= 999 && out->n < TUF_MAX_ROLE_KEYS; want++) {
        struct dirent *ent;
        long long num;
        int found = 0;
        rewinddir(d);
        while (!found && (ent = readdir(d)) != NULL)
            found = root_key_name(ent->d_name, &num) && num == want;
        if (!found)
            continue;
        rc = rf_snprintf(path, sizeof(path), "%s/root-%lld.pem", dir, want);
        if (rc == RF_OK)
            rc = rf_key_load_private_pem(path, &out->key[out->n], err);
        if (rc == RF_OK)
            rc = tuf_pubkey_of(out->key[out->n], &out->pub[out->n]);
        if (out->key[out->n] != NULL)
            out->n++;
    }
    closedir(d);
    if (rc != RF_OK)
        keys_set_cleanup(out);
    return rc;
}

static rf_err save_key(const char *dir, const char *name, const rf_key *k, rf_error *err)
{
    char path[1024];
    struct stat st;

    if (rf_snprintf(path, sizeof(path), "%s/%s", dir, name) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "%s: path too long", dir);
    if (stat(path, &st) == 0)
        return rf_error_set(err, RF_ERR_CONFLICT, "%s exists already; refusing to overwrite it",
                            path);
    return rf_key_save_private_pem(k, path, err);
}

void keys_remove_root_dir(const char *dir, int n)
{
    char path[1024];

    for (int i = 1; i <= n; i++)
        if (rf_snprintf(path, sizeof(path), "%s/root-%d.pem", dir, i) == RF_OK)
            (void)unlink(path);
}

rf_err keys_generate_root_dir(const char *dir, int n, keys_set *out, rf_error *err)
{
    char name[32];
    int saved = 0;
    rf_err rc = rf_mkdirs(dir, 0700, err);

    memset(out, 0, sizeof(*out));
    for (int i = 0; rc == RF_OK && i < n && i < TUF_MAX_ROLE_KEYS; i++) {
        rc = rf_key_generate(&out->key[i]);
        if (rc != RF_OK) {
            rf_error_set(err, rc, "cannot generate a key");
            break;
        }
        out->n++;
        rc = tuf_pubkey_of(out->key[i], &out->pub[i]);
        rf_snprintf(name, sizeof(name), "root-%d.pem", i + 1);
        if (rc == RF_OK)
            rc = save_key(dir, name, out->key[i], err);
        saved += rc == RF_OK;
    }
    if (rc != RF_OK) {
        keys_remove_root_dir(dir, saved); /* only what this call wrote */
        keys_set_cleanup(out);
    }
    return rc;
}

int keys_valid_for_root(const keys_set *s, const tuf_root *root, const rf_key **out)
{
    int n = 0;

    for (int i = 0; i < s->n; i++)
        if (tuf_root_has_key(root, TUF_ROOT, s->pub[i].keyid))
            out[n++] = s->key[i];
    return n;
}

rf_err keys_write_root_file(const char *dir, long long version, const rf_buf *body, rf_error *err)
{
    char path[1024];

    if (rf_snprintf(path, sizeof(path), "%s/%lld.root.json", dir, version) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "%s: path too long", dir);
    return rf_file_write_atomic(path, body->data, body->len, 0644, err);
}

rf_err keys_sign_root(const tuf_root *root, const rf_key *const *keys, size_t n, rf_buf *out,
                      rf_error *err)
{
    json_t *sd = tuf_root_signed(root, err);
    rf_err rc;

    if (sd == NULL)
        return err != NULL && err->code != RF_OK ? err->code : RF_ERR_INTERNAL;
    rc = tuf_sign(sd, keys, n, out, err);
    json_decref(sd);
    return rc;
}

/* ---- keys init ---- */

/* Refuses when any key file init would write exists already. */
static rf_err check_fresh(const config_cli *cli, rf_error *err)
{
    keys_set have;
    char path[1024];
    struct stat st;
    rf_err rc = keys_load_root_dir(cli->out_dir, &have, err);
    int n = have.n;

    keys_set_cleanup(&have);
    if (rc == RF_OK && n > 0)
        return rf_error_set(err, RF_ERR_CONFLICT,
                            "%s holds root keys already, but the database has no root; refusing "
                            "to overwrite them (use an empty --out directory)",
                            cli->out_dir);
    for (int r = TUF_TARGETS; rc == RF_OK && r < TUF_NROLES; r++) {
        rf_snprintf(path, sizeof(path), "%s/%s", cli->cfg.keys_dir, tuf_key_file((tuf_role)r));
        if (stat(path, &st) == 0)
            return rf_error_set(err, RF_ERR_CONFLICT,
                                "%s exists already, but the database has no root; refusing to "
                                "overwrite it (move the old keys away first)",
                                path);
    }
    return rc;
}

/* Generates the four online keys into a new key set (one reference). */
static rf_err new_online_keys(tuf_keyset **out, rf_error *err)
{
    tuf_keyset *ks = calloc(1, sizeof(*ks));
    rf_err rc = RF_OK;

    *out = NULL;
    if (ks == NULL)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    ks->refs = 1;
    for (int r = TUF_TARGETS; rc == RF_OK && r < TUF_NROLES; r++) {
        rc = rf_key_generate(&ks->key[r]);
        if (rc == RF_OK)
            rc = rf_key_id(ks->key[r], ks->keyid[r]);
    }
    if (rc != RF_OK) {
        tuf_keyset_put(ks);
        return rf_error_set(err, rc, "cannot generate the online keys");
    }
    *out = ks;
    return RF_OK;
}

/* Root version 1 naming the root keys and the online keys. */
static rf_err first_root(const keys_set *roots, int threshold, const tuf_keyset *ks,
                         int64_t expires_s, tuf_root *out)
{
    memset(out, 0, sizeof(*out));
    out->version = 1;
    out->expires_s = expires_s;
    out->role[TUF_ROOT].threshold = threshold;
    out->role[TUF_ROOT].n = roots->n;
    memcpy(out->role[TUF_ROOT].keys, roots->pub, sizeof(roots->pub));
    for (int r = TUF_TARGETS; r < TUF_NROLES; r++) {
        out->role[r].threshold = 1;
        out->role[r].n = 1;
        rf_err rc = tuf_pubkey_of(ks->key[r], &out->role[r].keys[0]);
        if (rc != RF_OK)
            return rc;
    }
    return RF_OK;
}

/* Removes the online key files of roles [TUF_TARGETS, upto) from dir. */
static void remove_online_keys(const char *dir, int upto)
{
    char path[1024];

    for (int r = TUF_TARGETS; r < upto; r++)
        if (rf_snprintf(path, sizeof(path), "%s/%s", dir, tuf_key_file((tuf_role)r)) == RF_OK)
            (void)unlink(path);
}

/* Saves the four online keys; on failure removes the ones it saved. */
static rf_err save_online_keys(const char *dir, const tuf_keyset *ks, rf_error *err)
{
    rf_err rc = rf_mkdirs(dir, 0700, err);
    int r = TUF_TARGETS;

    for (; rc == RF_OK && r < TUF_NROLES; r++)
        rc = save_key(dir, tuf_key_file((tuf_role)r), ks->key[r], err);
    if (rc != RF_OK)
        remove_online_keys(dir, r - 1);
    return rc;
}

static void print_init(const config_cli *cli, const tuf_root *root, const tuf_keyset *ks)
{
    printf("initialised the TUF repository: root version 1, %d root keys, threshold %d\n",
           root->role[TUF_ROOT].n, root->role[TUF_ROOT].threshold);
    for (int i = 0; i < root->role[TUF_ROOT].n; i++)
        printf("  root key %s/root-%d.pem  keyid %s\n", cli->out_dir, i + 1,
               root->role[TUF_ROOT].keys[i].keyid);
    for (int r = TUF_TARGETS; r < TUF_NROLES; r++)
        printf("  %-9s key %s/%s  keyid %s\n", tuf_role_name((tuf_role)r), cli->cfg.keys_dir,
               tuf_key_file((tuf_role)r), ks->keyid[r]);
    printf("wrote %s/1.root.json; give agents that file (--trusted-root), then move %s to "
           "offline storage\n",
           cli->out_dir, cli->out_dir);
}

/* Everything after the checks: keys, root, first metadata, files, commit. */
static int init_repository(const config_cli *cli, rf_db *db, int n, int threshold)
{
    keys_set roots = {0};
    tuf_keyset *ks = NULL;
    tuf_root root;
    tuf_periods p;
    rf_buf body;
    rf_error e = {0};
    int64_t now_s = rf_now_ms() / 1000;
    const rf_key *signers[TUF_MAX_ROLE_KEYS];
    rf_err rc = check_fresh(cli, &e);
    int wrote_root = 0, wrote_online = 0;

    rf_buf_init(&body, TUF_META_CAP);
    tuf_periods_of(&cli->cfg, &p);
    if (rc == RF_OK)
        rc = new_online_keys(&ks, &e);
    if (rc == RF_OK)
        rc = keys_generate_root_dir(cli->out_dir, n, &roots, &e);
    wrote_root = rc == RF_OK;
    if (rc == RF_OK)
        rc = first_root(&roots, threshold, ks, now_s + p.s[TUF_ROOT], &root);
    for (int i = 0; i < roots.n; i++)
        signers[i] = roots.key[i];
    if (rc == RF_OK)
        rc = keys_sign_root(&root, signers, (size_t)roots.n, &body, &e);
    keys_set_cleanup(&roots); /* the root keys are not needed any more */
    if (rc == RF_OK && (rc = store_begin(db)) == RF_OK) {
        rc = tuf_publish_root(db, &root, &body, &e);
        if (rc == RF_OK)
            rc = tuf_publish_chain(db, ks, &p, now_s, TUF_TARGETS, &e);
        if (rc == RF_OK)
            rc = save_online_keys(cli->cfg.keys_dir, ks, &e);
        wrote_online = rc == RF_OK;
        if (rc == RF_OK)
            rc = keys_write_root_file(cli->out_dir, 1, &body, &e);
        if (rc == RF_OK)
            rc = store_commit(db);
        else
            store_rollback(db);
    }
    if (rc == RF_OK) {
        print_init(cli, &root, ks);
    } else {
        /* Remove exactly what this run wrote, so that init can run again. */
        keys_fail("keys init failed", &e);
        if (wrote_root)
            keys_remove_root_dir(cli->out_dir, n);
        if (wrote_online)
            remove_online_keys(cli->cfg.keys_dir, TUF_NROLES);
    }
    tuf_keyset_put(ks);
    rf_buf_cleanup(&body);
    return rc == RF_OK ? 0 : 1;
}

/* Creates the webhook master key when the keys directory has none (it is
 * never replaced: the secrets of existing webhooks derive from it). */
static int webhook_key_init(const config_cli *cli)
{
    webhook_key key;
    rf_error e = {0};
    int created = 0;
    rf_err rc = webhook_key_ensure(cli->cfg.keys_dir, &key, &created, &e);
    if (rc != RF_OK) {
        keys_fail("cannot create the webhook master key", &e);
        return 1;
    }
    if (created)
        printf("  webhook master key %s/%s (key id %s)\n", cli->cfg.keys_dir, WEBHOOK_KEY_FILE,
               key.id);
    webhook_key_wipe(&key);
    return 0;
}

int keys_cmd_init(const config_cli *cli)
{
    int n = keys_count(cli->root_keys, 3);
    int threshold = keys_count(cli->threshold, n < 2 ? n : 2);
    rf_store *store = NULL;
    rf_db *db = NULL;
    rf_error e = {0};
    tuf_heads h;
    int code = 1;

    if (threshold > n) {
        fprintf(stderr, "ringfenced: --threshold %d cannot be met by %d root keys\n", threshold, n);
        return 2;
    }
    if (keys_open_db(&cli->cfg, &store, &db))
        return 1;
    if (store_tuf_heads(db, &h, &e) != RF_OK) {
        keys_fail("cannot read the repository", &e);
        goto out;
    }
    if (h.role[TUF_ROOT].version > 0) {
        printf("the TUF repository is initialised already (root version %lld); nothing changed. "
               "`ringfenced keys show-root` prints the root.\n",
               h.role[TUF_ROOT].version);
        code = 0;
        goto out;
    }
    code = init_repository(cli, db, n, threshold);
out:
    keys_close_db(store, db);
    return code == 0 ? webhook_key_init(cli) : code;
}

int keys_cmd_show_root(const config_cli *cli)
{
    rf_store *store = NULL;
    rf_db *db = NULL;
    rf_error e = {0};
    rf_buf body;
    int code = 1;

    rf_buf_init(&body, TUF_META_CAP);
    if (keys_open_db(&cli->cfg, &store, &db))
        return 1;
    if (store_tuf_body(db, TUF_ROOT, 0, &body, NULL, &e) != RF_OK) {
        keys_fail(e.code == RF_ERR_NOT_FOUND ? "no root yet: run `ringfenced keys init --out DIR`"
                                             : "cannot read the root",
                  e.code == RF_ERR_NOT_FOUND ? NULL : &e);
        goto out;
    }
    /* Exactly the bytes served as N.root.json: a trust anchor is not reformatted. */
    code = fwrite(body.data, 1, body.len, stdout) == body.len && fflush(stdout) == 0 ? 0 : 1;
out:
    rf_buf_cleanup(&body);
    keys_close_db(store, db);
    return code;
}
