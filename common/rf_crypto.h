/* SHA-256, Ed25519 and randomness through OpenSSL 3; the only file that
 * includes OpenSSL headers is common/crypto.c. Private key material is wiped
 * with OPENSSL_cleanse when freed. Hex is lower case everywhere. */
#ifndef RF_CRYPTO_H
#define RF_CRYPTO_H

#include "rf_err.h"
#include <stddef.h>
#include <stdint.h>

#define RF_SHA256_LEN 32
#define RF_SHA256_HEX_LEN 64
#define RF_ED25519_SIG_LEN 64
#define RF_ED25519_PUB_LEN 32

typedef struct rf_key rf_key; /* an Ed25519 key pair or public key */

/* The SHA-256 functions cannot fail short of memory exhaustion, which aborts
 * the process (a wrong digest would be worse). */
void rf_sha256(const void *data, size_t len, uint8_t out[RF_SHA256_LEN]);
/* out gets 64 hex digits and a NUL. */
void rf_sha256_hex(const void *data, size_t len, char out[RF_SHA256_HEX_LEN + 1]);
/* HMAC-SHA256 of data under key (same failure rule as rf_sha256). */
void rf_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                    uint8_t out[RF_SHA256_LEN]);

/* Incremental SHA-256 for streams (bundle downloads). rf_sha256_new returns
 * NULL when out of memory; after final_hex the context starts a new digest. */
typedef struct rf_sha256_ctx rf_sha256_ctx;
rf_sha256_ctx *rf_sha256_new(void);
void rf_sha256_update(rf_sha256_ctx *c, const void *data, size_t len);
void rf_sha256_final_hex(rf_sha256_ctx *c, char out[RF_SHA256_HEX_LEN + 1]);
void rf_sha256_free(rf_sha256_ctx *c); /* NULL-safe */

void rf_hex_encode(const uint8_t *in, size_t len, char *out /* 2*len+1 */);
/* Decodes exactly 2*outlen lower-case hex digits; RF_ERR_INVALID otherwise. */
rf_err rf_hex_decode(const char *hex, uint8_t *out, size_t outlen);

/* Fills buf with cryptographically strong random bytes. */
rf_err rf_random(void *buf, size_t len);
/* A random token: prefix (may be NULL) followed by 43 base64url characters
 * (32 bytes); RF_ERR_TOO_LARGE if outlen cannot hold it and the NUL. */
rf_err rf_token_new(const char *prefix, char *out, size_t outlen);
/* Constant-time comparison of two equal-length byte strings: 1 if equal, else 0. */
int rf_ct_equal(const void *a, const void *b, size_t len);

rf_err rf_key_generate(rf_key **out);
/* A key pair from a raw 32-byte Ed25519 secret (RFC 8032); for tests and
 * known-answer checks — keys at rest are PEM. */
rf_err rf_key_from_raw_private(const uint8_t seed[32], rf_key **out);
/* PEM (PKCS#8 private, SubjectPublicKeyInfo public). Loading a public PEM
 * gives a key that can only verify. */
rf_err rf_key_load_private_pem(const char *path, rf_key **out, rf_error *err);
rf_err rf_key_load_public_pem(const char *path, rf_key **out, rf_error *err);
rf_err rf_key_public_from_pem(const char *pem, size_t len, rf_key **out, rf_error *err);
/* Writes the private key to path with mode 0600 (atomically). */
rf_err rf_key_save_private_pem(const rf_key *k, const char *path, rf_error *err);
/* Returns a malloc'd NUL-terminated PEM of the public key (NULL on failure). */
char *rf_key_public_pem(const rf_key *k);
/* Raw 32-byte public key as 64 hex digits. */
rf_err rf_key_public_hex(const rf_key *k, char out[2 * RF_ED25519_PUB_LEN + 1]);
/* keyid: hex SHA-256 of the canonical JSON of the TUF key object
 * {"keytype":"ed25519","scheme":"ed25519","keyval":{"public":"<hex>"}}. */
rf_err rf_key_id(const rf_key *k, char out[RF_SHA256_HEX_LEN + 1]);
void rf_key_free(rf_key *k); /* NULL-safe; wipes private material */

/* RF_ERR_INVALID if k holds no private key. */
rf_err rf_ed25519_sign(const rf_key *k, const void *msg, size_t len,
                       uint8_t sig[RF_ED25519_SIG_LEN]);
/* RF_OK if sig is a valid signature of msg by k, RF_ERR_VERIFY otherwise. */
rf_err rf_ed25519_verify(const rf_key *k, const void *msg, size_t len,
                         const uint8_t sig[RF_ED25519_SIG_LEN]);

#endif
