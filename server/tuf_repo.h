/* The TUF repository's pure half (tuf_repo.c): plain structs for root, targets,
 * snapshot and timestamp, the builders of their "signed" bodies, the signing
 * of an envelope over canonical JSON, the parse of a stored root back into a
 * struct and the decision of what to re-sign when. No SQL, no files, no clock
 * reads: every time is a parameter, so unit tests can drive all of it. It must
 * never emit metadata an off-the-shelf TUF 1.0.x client would read differently
 * from the bytes that were signed. */
#ifndef RF_TUF_REPO_H
#define RF_TUF_REPO_H

#include "rf_buf.h"
#include "rf_crypto.h"
#include <jansson.h>
#include <stdint.h>

#define TUF_SPEC_VERSION "1.0.31"
#define TUF_MAX_ROLE_KEYS 16
#define TUF_TARGET_PATH_MAX 200 /* "<channel>/<name>-<version>", each part <= 64 */
#define TUF_DIRECTOR_FIELD "x-ringfence-director"

/* The four top-level roles, plus the director key set that root carries in
 * its "x-ringfence-director" field. The order is the signing chain's. */
typedef enum tuf_role {
    TUF_ROOT = 0,
    TUF_TARGETS,
    TUF_SNAPSHOT,
    TUF_TIMESTAMP,
    TUF_DIRECTOR,
    TUF_NROLES
} tuf_role;

/* "root", "targets", "snapshot", "timestamp", "director" (static). */
const char *tuf_role_name(tuf_role r);
/* 0 and *out set when s names a role; -1 otherwise. */
int tuf_role_parse(const char *s, tuf_role *out);

typedef struct tuf_pubkey {
    char keyid[RF_SHA256_HEX_LEN + 1];
    char public_hex[2 * RF_ED25519_PUB_LEN + 1];
} tuf_pubkey;

typedef struct tuf_role_keys {
    int threshold;
    int n;
    tuf_pubkey keys[TUF_MAX_ROLE_KEYS];
} tuf_role_keys;

typedef struct tuf_root {
    long long version;
    int64_t expires_s;
    tuf_role_keys role[TUF_NROLES]; /* every entry, the director's included */
} tuf_root;

typedef struct tuf_target {
    char path[TUF_TARGET_PATH_MAX + 1];
    char channel[65];
    char name[65];
    char version[65];
    char sha256[RF_SHA256_HEX_LEN + 1];
    long long length;
    long long bundle_id;
} tuf_target;

/* Metadata lifetimes in seconds, by role (TUF_ROOT..TUF_TIMESTAMP). */
typedef struct tuf_periods {
    int64_t s[TUF_DIRECTOR];
} tuf_periods;

/* The newest stored version of each role and its expiry; version 0: none. */
typedef struct tuf_head {
    long long version;
    int64_t expires_s;
} tuf_head;

typedef struct tuf_heads {
    tuf_head role[TUF_DIRECTOR];
} tuf_heads;

/* keyid of an Ed25519 public key given as 64 hex digits: hex SHA-256 of the
 * canonical JSON of {"keytype":"ed25519","keyval":{"public":…},"scheme":"ed25519"}. */
rf_err tuf_keyid_of_hex(const char *public_hex, char out[RF_SHA256_HEX_LEN + 1]);
/* The public half of k as a tuf_pubkey. */
rf_err tuf_pubkey_of(const rf_key *k, tuf_pubkey *out);
/* 1 when keyid is one of role r's keys in root. */
int tuf_root_has_key(const tuf_root *root, tuf_role r, const char *keyid);

/* "<channel>/<name>-<version>" into out (TUF_TARGET_PATH_MAX + 1 bytes).
 * RF_ERR_INVALID for "." or ".." as the channel (no directory may climb). */
rf_err tuf_target_path(const char *channel, const char *name, const char *version,
                       char out[TUF_TARGET_PATH_MAX + 1], rf_error *err);

/* The "signed" bodies. Each returns a new reference, or NULL with err set
 * (a root whose roles are empty or whose thresholds cannot be met is refused). */
json_t *tuf_root_signed(const tuf_root *root, rf_error *err);
json_t *tuf_targets_signed(long long version, int64_t expires_s, const tuf_target *targets,
                           size_t n, rf_error *err);
json_t *tuf_snapshot_signed(long long version, int64_t expires_s, long long targets_version,
                            rf_error *err);
json_t *tuf_timestamp_signed(long long version, int64_t expires_s, long long snapshot_version,
                             long long snapshot_length, const char *snapshot_sha256, rf_error *err);

/* Signs the canonical JSON of signed_obj (borrowed) with each of keys[0..n)
 * (a key given twice signs once) and writes into out (reset first) the
 * canonical JSON of {"signatures":[{"keyid","sig"}…],"signed":…}, signatures
 * sorted by keyid: the exact bytes the repository stores and serves. */
rf_err tuf_sign(const json_t *signed_obj, const rf_key *const *keys, size_t n, rf_buf *out,
                rf_error *err);

/* Reads a root envelope (as tuf_sign wrote it) back into *out: every role's
 * keys and threshold, the director's included. Checks shape, types, that
 * every keyid is the hash of its key, and bounds; it does not check
 * signatures (the repository trusts what it stored itself). */
rf_err tuf_root_parse(const char *text, size_t len, tuf_root *out, rf_error *err);

/* What the repository must re-sign at now_s, given the newest stored heads:
 * TUF_TARGETS (targets, then snapshot, then timestamp), TUF_SNAPSHOT (snapshot
 * and timestamp), TUF_TIMESTAMP (timestamp alone) or TUF_NROLES (nothing).
 * A role is due when it is missing or less than half of its period is left. */
tuf_role tuf_plan_refresh(const tuf_heads *h, const tuf_periods *p, int64_t now_s);

/* 1 when root (expiring at expires_s) should be renewed by a root ceremony
 * soon: less than a quarter of its period, or 30 days, whichever is less, left. */
int tuf_root_expiring(int64_t expires_s, int64_t period_s, int64_t now_s);

#endif
