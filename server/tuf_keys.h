/* The server's online keys (tuf_keys.c): targets, snapshot, timestamp and
 * director, loaded from RINGFENCE_KEYS_DIR (files 0600), checked against the
 * root that names them, and shared by every thread through a reference-counted
 * key set that can be swapped when an operator rotates a key. The root keys
 * are never here: they stay offline. Private key material is wiped when the
 * last reference goes (rf_key_free). */
#ifndef RF_TUF_KEYS_H
#define RF_TUF_KEYS_H

#include "server.h"
#include "tuf_repo.h"

typedef struct tuf_keyset {
    rf_key *key[TUF_NROLES]; /* [TUF_ROOT] is always NULL */
    char keyid[TUF_NROLES][RF_SHA256_HEX_LEN + 1];
    /* The root version the set was checked against (0: unchecked); set before
     * the set is installed, never changed after. */
    long long root_version;
    int refs; /* guarded by tuf_keys.c's lock */
} tuf_keyset;

/* "targets.pem", "snapshot.pem", "timestamp.pem", "director.pem"; NULL for root. */
const char *tuf_key_file(tuf_role r);

/* Loads the four online keys from dir. *out has one reference. */
rf_err tuf_keyset_load(const char *dir, tuf_keyset **out, rf_error *err);
/* RF_OK when each online key is one of the keys root names for its role;
 * RF_ERR_CONFLICT naming the first that is not. */
rf_err tuf_keyset_check(const tuf_keyset *ks, const tuf_root *root, rf_error *err);
/* Drops one reference; the last frees and wipes the keys. NULL-safe. */
void tuf_keyset_put(tuf_keyset *ks);

/* The server's current key set with a new reference (tuf_keyset_put it), or
 * NULL before one is installed. Safe from any thread. */
tuf_keyset *tuf_keys_get(rf_server *srv);
/* Makes ks (whose reference the server takes) the server's key set and drops
 * the server's reference to the previous one; ks may be NULL (shut down). */
void tuf_keys_install(rf_server *srv, tuf_keyset *ks);

#endif
