/* The webhook master key (webhook_key.c) and the secrets derived from it.
 * The key is 32 random bytes kept as 64 hex digits in
 * RINGFENCE_KEYS_DIR/webhook.key (mode 0600), created by `ringfenced keys
 * init` or on first use by POST /v1/webhooks, never overwritten. A webhook's
 * secret is never stored: it is "rfw_" and the hex of HMAC-SHA256(key,
 * "ringfence webhook secret:<id>:<generation>"), so rotating it is bumping
 * the generation. Key material is wiped when it is no longer needed. */
#ifndef RF_WEBHOOK_KEY_H
#define RF_WEBHOOK_KEY_H

#include "rf_err.h"
#include <stdint.h>

#define WEBHOOK_KEY_FILE "webhook.key"
#define WEBHOOK_KEY_LEN 32
#define WEBHOOK_KEY_ID_LEN 16       /* hex digits */
#define WEBHOOK_SECRET_LEN (4 + 64) /* "rfw_" + 64 hex digits */

typedef struct webhook_key {
    uint8_t key[WEBHOOK_KEY_LEN];
    char id[WEBHOOK_KEY_ID_LEN + 1]; /* names the key, reveals nothing of it */
    int loaded;
} webhook_key;

/* Reads KEYS_DIR/webhook.key into *out. RF_ERR_NOT_FOUND when there is none;
 * RF_ERR_INVALID (naming the file) when it is not 64 hex digits, or is
 * readable or writable by anyone but its owner. */
rf_err webhook_key_load(const char *keys_dir, webhook_key *out, rf_error *err);
/* Like webhook_key_load, but first creates the file (0600, from fresh random
 * bytes) when it does not exist; of several processes creating it at once one
 * wins and all read its key. *created (may be NULL) tells whether this call
 * made it. */
rf_err webhook_key_ensure(const char *keys_dir, webhook_key *out, int *created, rf_error *err);
/* Wipes *k (NULL-safe). */
void webhook_key_wipe(webhook_key *k);

/* The id of a raw key: the first 16 hex digits of HMAC-SHA256(key,
 * "ringfence webhook key id"). Pure. */
void webhook_key_id_of(const uint8_t key[WEBHOOK_KEY_LEN], char out[WEBHOOK_KEY_ID_LEN + 1]);
/* The secret of webhook id at generation under key (see above). Pure. */
void webhook_secret_derive(const uint8_t key[WEBHOOK_KEY_LEN], long long id, int generation,
                           char out[WEBHOOK_SECRET_LEN + 1]);

#endif
