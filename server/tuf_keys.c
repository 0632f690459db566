/* Online key sets: loading the four key files, checking them against root,
 * and the reference counting that lets a rotation swap the set while request
 * threads are signing with the old one. One lock guards every count and the
 * server's pointer; it is never held while signing or doing I/O. */
#include "tuf_keys.h"
#include "rf_util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t keys_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *const files[TUF_NROLES] = {NULL, "targets.pem", "snapshot.pem", "timestamp.pem",
                                              "director.pem"};

const char *tuf_key_file(tuf_role r)
{
    return (unsigned)r < TUF_NROLES ? files[r] : NULL;
}

static void keyset_free(tuf_keyset *ks)
{
    for (int r = 0; r < TUF_NROLES; r++)
        rf_key_free(ks->key[r]);
    memset(ks, 0, sizeof(*ks));
    free(ks);
}

rf_err tuf_keyset_load(const char *dir, tuf_keyset **out, rf_error *err)
{
    tuf_keyset *ks = calloc(1, sizeof(*ks));
    char path[1024];
    rf_err rc = RF_OK;

    *out = NULL;
    if (ks == NULL)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    ks->refs = 1;
    for (int r = TUF_TARGETS; rc == RF_OK && r < TUF_NROLES; r++) {
        rc = rf_snprintf(path, sizeof(path), "%s/%s", dir, files[r]);
        if (rc != RF_OK) {
            rf_error_set(err, rc, "keys directory path too long");
            break;
        }
        rc = rf_key_load_private_pem(path, &ks->key[r], err);
        if (rc == RF_OK && rf_key_id(ks->key[r], ks->keyid[r]) != RF_OK)
            rc = rf_error_set(err, RF_ERR_INTERNAL, "%s: cannot compute its key id", path);
    }
    if (rc != RF_OK) {
        keyset_free(ks);
        return rc;
    }
    *out = ks;
    return RF_OK;
}

rf_err tuf_keyset_check(const tuf_keyset *ks, const tuf_root *root, rf_error *err)
{
    for (int r = TUF_TARGETS; r < TUF_NROLES; r++)
        if (!tuf_root_has_key(root, (tuf_role)r, ks->keyid[r]))
            return rf_error_set(err, RF_ERR_CONFLICT,
                                "%s (keyid %.8s) is not a %s key of root version %lld: this "
                                "server needs the key the last rotation made",
                                files[r], ks->keyid[r], tuf_role_name((tuf_role)r), root->version);
    return RF_OK;
}

void tuf_keyset_put(tuf_keyset *ks)
{
    int last;

    if (ks == NULL)
        return;
    pthread_mutex_lock(&keys_mu);
    last = --ks->refs == 0;
    pthread_mutex_unlock(&keys_mu);
    if (last)
        keyset_free(ks);
}

tuf_keyset *tuf_keys_get(rf_server *srv)
{
    tuf_keyset *ks;

    pthread_mutex_lock(&keys_mu);
    ks = srv->online_keys;
    if (ks != NULL)
        ks->refs++;
    pthread_mutex_unlock(&keys_mu);
    return ks;
}

void tuf_keys_install(rf_server *srv, tuf_keyset *ks)
{
    tuf_keyset *old;

    pthread_mutex_lock(&keys_mu);
    old = srv->online_keys;
    srv->online_keys = ks;
    pthread_mutex_unlock(&keys_mu);
    tuf_keyset_put(old);
}
