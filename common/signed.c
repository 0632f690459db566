/* Signed envelopes shaped like TUF metadata, and key ids.
 * The signature always covers the canonical JSON of the "signed" member, never
 * the bytes as received, so any conforming TUF client computes the same bytes.
 * This file must never report success unless a signature by the caller's key
 * was found and every such signature verified. */
#include "rf_signed.h"
#include "rf_cjson.h"

#include <string.h>

/* Canonical JSON of signed metadata is bounded like any other input. */
#define RF_SIGNED_MAX (16 * 1024 * 1024)

rf_err rf_key_id(const rf_key *k, char out[RF_SHA256_HEX_LEN + 1])
{
    char pub[2 * RF_ED25519_PUB_LEN + 1];
    rf_buf b;
    rf_buf_init(&b, 1024);
    json_t *obj = NULL;
    rf_err rc = rf_key_public_hex(k, pub);
    if (rc != RF_OK)
        goto out;
    obj = json_pack("{s:s, s:s, s:{s:s}}", "keytype", "ed25519", "scheme", "ed25519", "keyval",
                    "public", pub);
    if (obj == NULL) {
        rc = RF_ERR_NOMEM;
        goto out;
    }
    rc = rf_cjson_encode(obj, &b, NULL);
    if (rc != RF_OK)
        goto out;
    rf_sha256_hex(b.data, b.len, out);
out:
    json_decref(obj);
    rf_buf_cleanup(&b);
    return rc;
}

json_t *rf_signed_wrap(json_t *signed_obj, const rf_key *k, rf_error *err)
{
    json_t *env = NULL;
    rf_buf b;
    rf_buf_init(&b, RF_SIGNED_MAX);
    uint8_t sig[RF_ED25519_SIG_LEN];
    char sig_hex[2 * RF_ED25519_SIG_LEN + 1], keyid[RF_SHA256_HEX_LEN + 1];
    if (!json_is_object(signed_obj)) {
        rf_error_set(err, RF_ERR_INVALID, "signed: must be an object");
        goto out;
    }
    if (rf_cjson_encode_at(signed_obj, "signed", &b, err) != RF_OK)
        goto out;
    rf_err rc = rf_ed25519_sign(k, b.data, b.len, sig);
    if (rc != RF_OK) {
        rf_error_set(err, rc, "signing failed: %s", rf_err_name(rc));
        goto out;
    }
    rc = rf_key_id(k, keyid);
    if (rc != RF_OK) {
        rf_error_set(err, rc, "cannot compute the key id: %s", rf_err_name(rc));
        goto out;
    }
    rf_hex_encode(sig, sizeof(sig), sig_hex);
    env = json_pack("{s:O, s:[{s:s, s:s}]}", "signed", signed_obj, "signatures", "keyid", keyid,
                    "sig", sig_hex);
    if (env == NULL)
        rf_error_set(err, RF_ERR_NOMEM, "out of memory");
out:
    rf_buf_cleanup(&b);
    return env;
}

/* Checks one signature entry's shape; returns its keyid and sig strings. */
static rf_err sig_entry(const json_t *e, size_t i, const char **keyid, const char **sig,
                        rf_error *err)
{
    if (!json_is_object(e))
        return rf_error_set(err, RF_ERR_INVALID, "signatures[%zu]: must be an object", i);
    json_t *kid = json_object_get(e, "keyid"), *s = json_object_get(e, "sig");
    if (!json_is_string(kid))
        return rf_error_set(err, RF_ERR_INVALID, "signatures[%zu].keyid: must be a string", i);
    if (!json_is_string(s))
        return rf_error_set(err, RF_ERR_INVALID, "signatures[%zu].sig: must be a string", i);
    *keyid = json_string_value(kid);
    *sig = json_string_value(s);
    return RF_OK;
}

/* Verifies every signature by keyid over msg; counts them in *found. */
static rf_err check_sigs(const json_t *sigs, const char *keyid, const rf_key *k, const rf_buf *msg,
                         size_t *found, rf_error *err)
{
    for (size_t i = 0; i < json_array_size(sigs); i++) {
        const char *kid = NULL, *hex = NULL;
        uint8_t sig[RF_ED25519_SIG_LEN];
        rf_err rc = sig_entry(json_array_get(sigs, i), i, &kid, &hex, err);
        if (rc != RF_OK)
            return rc;
        if (strcmp(kid, keyid) != 0)
            continue; /* another key's signature: not ours to judge */
        (*found)++;
        if (rf_hex_decode(hex, sig, sizeof(sig)) != RF_OK)
            return rf_error_set(err, RF_ERR_VERIFY, "signatures[%zu].sig: not %d hex bytes", i,
                                RF_ED25519_SIG_LEN);
        if (rf_ed25519_verify(k, msg->data, msg->len, sig) != RF_OK)
            return rf_error_set(err, RF_ERR_VERIFY, "bad signature by key %.8s", keyid);
    }
    return RF_OK;
}

rf_err rf_signed_verify(const json_t *envelope, const rf_key *k, json_t **signed_out, rf_error *err)
{
    rf_err rc = RF_OK;
    char keyid[RF_SHA256_HEX_LEN + 1];
    size_t found = 0;
    rf_buf b;
    rf_buf_init(&b, RF_SIGNED_MAX);
    json_t *sd = json_object_get(envelope, "signed");
    json_t *sigs = json_object_get(envelope, "signatures");
    if (!json_is_object(envelope)) {
        rc = rf_error_set(err, RF_ERR_INVALID, "envelope: must be an object");
        goto out;
    }
    if (!json_is_object(sd)) {
        rc = rf_error_set(err, RF_ERR_INVALID, "signed: missing or not an object");
        goto out;
    }
    if (!json_is_array(sigs)) {
        rc = rf_error_set(err, RF_ERR_INVALID, "signatures: missing or not an array");
        goto out;
    }
    rc = rf_key_id(k, keyid);
    if (rc != RF_OK) {
        rc = rf_error_set(err, rc, "cannot compute the key id: %s", rf_err_name(rc));
        goto out;
    }
    rc = rf_cjson_encode_at(sd, "signed", &b, err);
    if (rc != RF_OK)
        goto out;
    rc = check_sigs(sigs, keyid, k, &b, &found, err);
    if (rc == RF_OK && found == 0)
        rc = rf_error_set(err, RF_ERR_VERIFY, "no signature by key %.8s", keyid);
out:
    rf_buf_cleanup(&b);
    if (rc == RF_OK && signed_out != NULL)
        *signed_out = sd;
    return rc;
}
