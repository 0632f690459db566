/* SHA-256, Ed25519, randomness and key files through OpenSSL 3.
 * This is the only file in ringfence that includes OpenSSL headers; everything
 * else sees rf_key as an opaque handle. It must never leave private key bytes
 * behind in memory it frees, and never read or write a key file non-atomically. */
#include "rf_crypto.h"
#include "rf_util.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <pthread.h>

#define RF_PEM_MAX (64 * 1024)

struct rf_key {
    EVP_PKEY *pkey;
    int has_private;
};

struct rf_sha256_ctx {
    EVP_MD_CTX *md;
};

/* The reason of OpenSSL's last error, for messages; clears the queue so a
 * stale entry never shows up in an unrelated later failure. */
static const char *ossl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_peek_last_error();
    if (e == 0)
        rf_snprintf(buf, len, "unknown error");
    else
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

/* SHA-256 fetched once: an implicit fetch on every digest takes the
 * provider store's locks each time. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *sha256_alg(void)
{
    pthread_once(&sha256_once, sha256_fetch);
    return sha256_md != NULL ? sha256_md : EVP_sha256();
}

void rf_sha256(const void *data, size_t len, uint8_t out[RF_SHA256_LEN])
{
    unsigned int n = 0;
    /* EVP_Digest fails only when memory is exhausted; a wrong hash would be
     * worse than stopping, so that is fatal. */
    if (EVP_Digest(data, len, out, &n, sha256_alg(), NULL) != 1 || n != RF_SHA256_LEN)
        abort();
}

void rf_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                    uint8_t out[RF_SHA256_LEN])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (keylen > INT_MAX || HMAC(EVP_sha256(), key, (int)keylen, data, len, mac, &n) == NULL ||
        n != RF_SHA256_LEN)
        abort();
    memcpy(out, mac, RF_SHA256_LEN);
    OPENSSL_cleanse(mac, sizeof(mac));
}

void rf_sha256_hex(const void *data, size_t len, char out[RF_SHA256_HEX_LEN + 1])
{
    uint8_t d[RF_SHA256_LEN];
    rf_sha256(data, len, d);
    rf_hex_encode(d, sizeof(d), out);
}

rf_sha256_ctx *rf_sha256_new(void)
{
    rf_sha256_ctx *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->md = EVP_MD_CTX_new();
    if (c->md == NULL || EVP_DigestInit_ex(c->md, sha256_alg(), NULL) != 1) {
        rf_sha256_free(c);
        ERR_clear_error();
        return NULL;
    }
    return c;
}

void rf_sha256_update(rf_sha256_ctx *c, const void *data, size_t len)
{
    if (EVP_DigestUpdate(c->md, data, len) != 1)
        abort(); /* cannot fail for SHA-256 once initialised */
}

void rf_sha256_final_hex(rf_sha256_ctx *c, char out[RF_SHA256_HEX_LEN + 1])
{
    uint8_t d[RF_SHA256_LEN];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(c->md, d, &n) != 1 || n != RF_SHA256_LEN)
        abort();
    rf_hex_encode(d, sizeof(d), out);
    /* Start over so the context can hash the next stream. */
    if (EVP_DigestInit_ex(c->md, sha256_alg(), NULL) != 1)
        abort();
}

void rf_sha256_free(rf_sha256_ctx *c)
{
    if (c == NULL)
        return;
    EVP_MD_CTX_free(c->md);
    free(c);
}

void rf_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

rf_err rf_hex_decode(const char *hex, uint8_t *out, size_t outlen)
{
    if (hex == NULL || strnlen(hex, 2 * outlen + 1) != 2 * outlen)
        return RF_ERR_INVALID;
    for (size_t i = 0; i < outlen; i++) {
        int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return RF_ERR_INVALID;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return RF_OK;
}

rf_err rf_random(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        int n = len > INT_MAX ? INT_MAX : (int)len;
        if (RAND_bytes(p, n) != 1) {
            ERR_clear_error();
            return RF_ERR_INTERNAL;
        }
        p += n;
        len -= (size_t)n;
    }
    return RF_OK;
}

/* base64url without padding; out needs 4 * ceil(len / 3) + 1 bytes. */
static void base64url(const uint8_t *in, size_t len, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = a[(v >> 18) & 63];
        out[o++] = a[(v >> 12) & 63];
        if (i + 1 < len)
            out[o++] = a[(v >> 6) & 63];
        if (i + 2 < len)
            out[o++] = a[v & 63];
    }
    out[o] = '\0';
}

rf_err rf_token_new(const char *prefix, char *out, size_t outlen)
{
    uint8_t raw[32];
    char enc[48];
    const char *p = prefix != NULL ? prefix : "";
    rf_err rc = rf_random(raw, sizeof(raw));
    if (rc != RF_OK)
        goto out;
    base64url(raw, sizeof(raw), enc);
    rc = rf_snprintf(out, outlen, "%s%s", p, enc);
out:
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(enc, sizeof(enc));
    if (rc != RF_OK && outlen > 0)
        OPENSSL_cleanse(out, outlen); /* never hand back part of a token */
    return rc;
}

int rf_ct_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

static rf_err key_wrap(EVP_PKEY *pkey, int has_private, rf_key **out)
{
    rf_key *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        EVP_PKEY_free(pkey);
        return RF_ERR_NOMEM;
    }
    k->pkey = pkey;
    k->has_private = has_private;
    *out = k;
    return RF_OK;
}

rf_err rf_key_generate(rf_key **out)
{
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (pkey == NULL) {
        ERR_clear_error();
        return RF_ERR_INTERNAL;
    }
    return key_wrap(pkey, 1, out);
}

rf_err rf_key_from_raw_private(const uint8_t seed[32], rf_key **out)
{
    EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    if (pkey == NULL) {
        ERR_clear_error();
        return RF_ERR_INVALID;
    }
    return key_wrap(pkey, 1, out);
}

/* Refuses to prompt for a passphrase: key files are never encrypted here. */
static int no_passphrase_cb(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* The value of base64 digit c, or -1. */
static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* The public key PEM this project writes for Ed25519 (tuf_doc.c, and what
 * OpenSSL writes): one line of 60 base64 digits holding the 44-byte
 * SubjectPublicKeyInfo. It is read without OpenSSL's generic decoder, which
 * walks every decoder and key type on each call: the agent checks a signature
 * on every assignment poll, and that walk alone keeps about 320 KiB more of
 * libcrypto resident. Returns NULL for anything else, which then goes the
 * generic way: this only ever accepts a subset of what the decoder accepts,
 * and yields the same key. */
static EVP_PKEY *ed25519_spki_pem(const char *pem, size_t len)
{
    static const char head[] = "-----BEGIN PUBLIC KEY-----\n";
    static const char tail[] = "\n-----END PUBLIC KEY-----";
    static const uint8_t prefix[12] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                       0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
    const size_t hl = sizeof(head) - 1, tl = sizeof(tail) - 1, digits = 60;
    uint8_t der[45];
    size_t o = 0;

    if (len == hl + digits + tl + 1 && pem[len - 1] == '\n')
        len--;
    if (len != hl + digits + tl || memcmp(pem, head, hl) != 0 ||
        memcmp(pem + hl + digits, tail, tl) != 0 || pem[hl + digits - 1] != '=')
        return NULL;
    for (size_t i = 0; i < digits; i += 4) {
        const char *q = pem + hl + i;
        int v[4];
        for (int j = 0; j < 4; j++)
            v[j] = i + j == digits - 1 ? 0 : b64_value(q[j]);
        if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0)
            return NULL;
        der[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
        der[o++] = (uint8_t)((v[1] & 15) << 4 | v[2] >> 2);
        der[o++] = (uint8_t)((v[2] & 3) << 6 | v[3]);
    }
    /* 44 bytes: the last digit before '=' must not carry stray bits. */
    if (der[44] != 0 || memcmp(der, prefix, sizeof(prefix)) != 0)
        return NULL;
    return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der + sizeof(prefix),
                                       RF_ED25519_PUB_LEN);
}

static rf_err pem_parse(const char *pem, size_t len, int private, const char *what, rf_key **out,
                        rf_error *err)
{
    char why[160];
    if (len > RF_PEM_MAX)
        return rf_error_set(err, RF_ERR_TOO_LARGE, "%s: larger than %d bytes", what, RF_PEM_MAX);
    EVP_PKEY *fast = private ? NULL : ed25519_spki_pem(pem, len);
    if (fast != NULL) {
        if (key_wrap(fast, 0, out) != RF_OK)
            return rf_error_set(err, RF_ERR_NOMEM, "%s: out of memory", what);
        return RF_OK;
    }
    ERR_clear_error();
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL)
        return rf_error_set(err, RF_ERR_NOMEM, "%s: out of memory", what);
    EVP_PKEY *pkey = private ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase_cb, NULL)
                             : PEM_read_bio_PUBKEY(bio, NULL, no_passphrase_cb, NULL);
    BIO_free(bio);
    if (pkey == NULL)
        return rf_error_set(err, RF_ERR_INVALID, "%s: not a PEM %s key (%s)", what,
                            private ? "private" : "public", ossl_reason(why, sizeof(why)));
    if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(pkey);
        return rf_error_set(err, RF_ERR_INVALID, "%s: not an Ed25519 key", what);
    }
    if (key_wrap(pkey, private, out) != RF_OK)
        return rf_error_set(err, RF_ERR_NOMEM, "%s: out of memory", what);
    return RF_OK;
}

static rf_err pem_load(const char *path, int private, rf_key **out, rf_error *err)
{
    rf_buf b;
    rf_buf_init(&b, RF_PEM_MAX);
    rf_err rc = rf_file_read(path, &b, err);
    if (rc == RF_OK)
        rc = pem_parse(b.data, b.len, private, path, out, err);
    if (b.data != NULL)
        OPENSSL_cleanse(b.data, b.alloc);
    rf_buf_cleanup(&b);
    return rc;
}

rf_err rf_key_load_private_pem(const char *path, rf_key **out, rf_error *err)
{
    return pem_load(path, 1, out, err);
}

rf_err rf_key_load_public_pem(const char *path, rf_key **out, rf_error *err)
{
    return pem_load(path, 0, out, err);
}

rf_err rf_key_public_from_pem(const char *pem, size_t len, rf_key **out, rf_error *err)
{
    return pem_parse(pem, len, 0, "public key", out, err);
}

rf_err rf_key_save_private_pem(const rf_key *k, const char *path, rf_error *err)
{
    rf_err rc = RF_OK;
    char why[160];
    char *data = NULL;
    if (k == NULL || !k->has_private)
        return rf_error_set(err, RF_ERR_INVALID, "%s: no private key to save", path);
    /* A secure-memory BIO clears its buffer when it grows and when freed. */
    BIO *bio = BIO_new(BIO_s_secmem());
    if (bio == NULL)
        return rf_error_set(err, RF_ERR_NOMEM, "%s: out of memory", path);
    if (PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
        rc = rf_error_set(err, RF_ERR_INTERNAL, "%s: cannot encode the key (%s)", path,
                          ossl_reason(why, sizeof(why)));
        goto out;
    }
    long len = BIO_get_mem_data(bio, &data);
    if (len <= 0) {
        rc = rf_error_set(err, RF_ERR_INTERNAL, "%s: cannot encode the key", path);
        goto out;
    }
    rc = rf_file_write_atomic(path, data, (size_t)len, 0600, err);
out:
    BIO_free(bio);
    return rc;
}

char *rf_key_public_pem(const rf_key *k)
{
    char *pem = NULL, *data = NULL;
    if (k == NULL)
        return NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        return NULL;
    if (PEM_write_bio_PUBKEY(bio, k->pkey) != 1)
        goto out;
    long len = BIO_get_mem_data(bio, &data);
    if (len <= 0)
        goto out;
    pem = malloc((size_t)len + 1);
    if (pem == NULL)
        goto out;
    memcpy(pem, data, (size_t)len);
    pem[len] = '\0';
out:
    ERR_clear_error();
    BIO_free(bio);
    return pem;
}

rf_err rf_key_public_hex(const rf_key *k, char out[2 * RF_ED25519_PUB_LEN + 1])
{
    uint8_t pub[RF_ED25519_PUB_LEN];
    size_t len = sizeof(pub);
    if (k == NULL)
        return RF_ERR_INVALID;
    if (EVP_PKEY_get_raw_public_key(k->pkey, pub, &len) != 1 || len != sizeof(pub)) {
        ERR_clear_error();
        return RF_ERR_INTERNAL;
    }
    rf_hex_encode(pub, sizeof(pub), out);
    return RF_OK;
}

void rf_key_free(rf_key *k)
{
    if (k == NULL)
        return;
    /* OpenSSL clears the private scalar itself when the last reference to the
     * EVP_PKEY goes (its ECX key lives in secure memory, freed with
     * OPENSSL_secure_clear_free); the handle is wiped here as well. */
    EVP_PKEY_free(k->pkey);
    OPENSSL_cleanse(k, sizeof(*k));
    free(k);
}

rf_err rf_ed25519_sign(const rf_key *k, const void *msg, size_t len,
                       uint8_t sig[RF_ED25519_SIG_LEN])
{
    rf_err rc = RF_OK;
    size_t siglen = RF_ED25519_SIG_LEN;
    if (k == NULL || !k->has_private)
        return RF_ERR_INVALID;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return RF_ERR_NOMEM;
    /* Ed25519 is one-shot: no digest, then a single EVP_DigestSign. */
    if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) != 1 ||
        EVP_DigestSign(ctx, sig, &siglen, msg, len) != 1 || siglen != RF_ED25519_SIG_LEN) {
        ERR_clear_error();
        rc = RF_ERR_INTERNAL;
    }
    EVP_MD_CTX_free(ctx);
    return rc;
}

rf_err rf_ed25519_verify(const rf_key *k, const void *msg, size_t len,
                         const uint8_t sig[RF_ED25519_SIG_LEN])
{
    rf_err rc = RF_ERR_VERIFY;
    if (k == NULL)
        return RF_ERR_VERIFY;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return RF_ERR_VERIFY;
    if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
        EVP_DigestVerify(ctx, sig, RF_ED25519_SIG_LEN, msg, len) == 1)
        rc = RF_OK;
    ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    return rc;
}
