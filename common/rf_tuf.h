/* rf_tuf: the client side of The Update Framework (specification 1.0.x,
 * section 5, "detailed client workflow"), over bytes the caller has already
 * downloaded. Every function here is pure: no I/O, no clock (the update's
 * fixed start time is a parameter), no global state. Each takes the trusted
 * state (plain structs) and new bytes and either moves the state forward or
 * leaves it untouched and says precisely why, e.g.
 * "tuf: timestamp version 3 is older than trusted 5 (rollback)".
 *
 * Rules enforced: fixed size limits on every file; signatures over the
 * canonical JSON of "signed"; a threshold of distinct keys of the role (a key
 * counts once however often it signs; signatures by keys outside the role are
 * ignored); root N+1 signed by the threshold of root N and of itself, with
 * version exactly N+1; no version going back (rollback); no expired
 * metadata (freeze); snapshot and targets matching the version, length and
 * hashes their parent lists (mix-and-match); targets by length and SHA-256.
 * Also the ringfence director check: assignments are signed by the
 * threshold of the "x-ringfence-director" keys of the trusted root.
 * Delegated targets roles are not followed: ringfence publishes every target
 * in the top-level targets role. */
#ifndef RF_TUF_H
#define RF_TUF_H

#include "rf_crypto.h"
#include "rf_err.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hard limits on what is downloaded (bytes). */
#define RF_TUF_ROOT_MAX_BYTES (512 * 1024)
#define RF_TUF_TIMESTAMP_MAX_BYTES (16 * 1024)
#define RF_TUF_SNAPSHOT_MAX_BYTES (1024 * 1024)
#define RF_TUF_TARGETS_MAX_BYTES (16 * 1024 * 1024)
#define RF_TUF_ASSIGNMENT_MAX_BYTES (256 * 1024)
/* Root versions followed in one update cycle (5.3.1's MAX_ROOT_ROTATIONS). */
#define RF_TUF_MAX_ROOT_ROTATIONS 32
#define RF_TUF_MAX_ROLE_KEYS 16  /* keys of one role */
#define RF_TUF_MAX_ROOT_KEYS 64  /* entries of root.signed.keys */
#define RF_TUF_MAX_SIGNATURES 64 /* entries of one document's "signatures" */
#define RF_TUF_PATH_MAX 255      /* target paths and file names */

/* The ringfence extension in root.signed naming the assignment signers. */
#define RF_TUF_DIRECTOR_FIELD "x-ringfence-director"

typedef enum rf_tuf_role {
    RF_TUF_ROOT = 0,
    RF_TUF_TIMESTAMP,
    RF_TUF_SNAPSHOT,
    RF_TUF_TARGETS,
    RF_TUF_DIRECTOR,
    RF_TUF_NROLES
} rf_tuf_role;

/* An Ed25519 key of a role. */
typedef struct rf_tuf_key {
    char keyid[RF_SHA256_HEX_LEN + 1];
    uint8_t pub[RF_ED25519_PUB_LEN];
} rf_tuf_key;

/* The keys of a role and how many of them must sign. */
typedef struct rf_tuf_keyset {
    int64_t threshold;
    uint32_t nkeys;
    rf_tuf_key keys[RF_TUF_MAX_ROLE_KEYS];
} rf_tuf_keyset;

/* A verified root, reduced to what the client needs. */
typedef struct rf_tuf_root {
    int64_t version;
    int64_t expires_s; /* seconds since the epoch */
    bool consistent_snapshot;
    rf_tuf_keyset roles[RF_TUF_NROLES];
} rf_tuf_root;

/* A METAFILES entry: version, and length and SHA-256 when listed. */
typedef struct rf_tuf_meta {
    int64_t version;
    int64_t length;                     /* 0: not listed */
    char sha256[RF_SHA256_HEX_LEN + 1]; /* "": not listed */
} rf_tuf_meta;

/* A target as the verified targets metadata describes it. */
typedef struct rf_tuf_target {
    int64_t length;
    char sha256[RF_SHA256_HEX_LEN + 1];
} rf_tuf_target;

/* The client's trusted state. root and the three versions are what must be
 * persisted between runs (the caller stores them; 0 = nothing trusted yet);
 * the rest belongs to the current update cycle. */
typedef struct rf_tuf_client {
    rf_tuf_root root;
    int64_t timestamp_version; /* of the trusted timestamp */
    int64_t snapshot_version;  /* the snapshot version the trusted timestamp names */
    int64_t targets_version;   /* the targets version the trusted snapshot names */

    /* This cycle (reset by rf_tuf_begin). */
    int step;                  /* 0 begun, 1 timestamp, 2 snapshot, 3 targets verified */
    rf_tuf_meta snapshot_meta; /* from this cycle's timestamp */
    rf_tuf_meta targets_meta;  /* from this cycle's snapshot */
    json_t *targets;           /* signed.targets of this cycle's targets; owned */
} rf_tuf_client;

/* Parses a root the caller trusts by installation (the --trusted-root file or
 * the copy kept from an earlier update): well-formed and signed by the
 * threshold of its own root keys. Its expiry is not judged here. */
rf_err rf_tuf_root_load(const void *data, size_t len, rf_tuf_root *out, rf_error *err);

/* Sets c to trust root (no versions yet). c must be cleaned up. */
void rf_tuf_client_init(rf_tuf_client *c, const rf_tuf_root *root);
void rf_tuf_client_cleanup(rf_tuf_client *c); /* NULL-safe */

/* 5.3.3-5.3.6, 5.3.11: data is the downloaded (N+1).root.json. On RF_OK it
 * becomes the trusted root; if it rotated the timestamp or snapshot keys, the
 * trusted timestamp and snapshot versions are forgotten. The caller persists
 * data as the new trusted root. */
rf_err rf_tuf_update_root(rf_tuf_client *c, const void *data, size_t len, rf_error *err);
/* 5.3.10: after the root chain, the trusted root must not be expired at now_s. */
rf_err rf_tuf_check_root(const rf_tuf_client *c, int64_t now_s, rf_error *err);

/* Starts an update cycle (forgets the previous cycle's snapshot and targets). */
void rf_tuf_begin(rf_tuf_client *c);
/* 5.4: timestamp.json. */
rf_err rf_tuf_update_timestamp(rf_tuf_client *c, const void *data, size_t len, int64_t now_s,
                               rf_error *err);
/* 5.5: the snapshot the verified timestamp names. */
rf_err rf_tuf_update_snapshot(rf_tuf_client *c, const void *data, size_t len, int64_t now_s,
                              rf_error *err);
/* 5.6: the targets metadata the verified snapshot names. */
rf_err rf_tuf_update_targets(rf_tuf_client *c, const void *data, size_t len, int64_t now_s,
                             rf_error *err);

/* Download caps: the length the parent lists, else the fixed limit. */
size_t rf_tuf_snapshot_cap(const rf_tuf_client *c);
size_t rf_tuf_targets_cap(const rf_tuf_client *c);
/* Remote file names: "N.root.json", and "V.snapshot.json" / "V.targets.json"
 * (or without "V." when the root turns consistent snapshots off). */
rf_err rf_tuf_root_file(int64_t version, char *out, size_t len);
rf_err rf_tuf_snapshot_file(const rf_tuf_client *c, char *out, size_t len);
rf_err rf_tuf_targets_file(const rf_tuf_client *c, char *out, size_t len);
/* The target file of path with its hash prefixed to the base name
 * ("content/<sha256>.sensor-2"), or path itself without consistent snapshots. */
rf_err rf_tuf_target_file(const rf_tuf_client *c, const char *path, const char *sha256, char *out,
                          size_t len);

/* 5.7: the target at path in this cycle's verified targets metadata;
 * RF_ERR_VERIFY when it is not listed. */
rf_err rf_tuf_target_get(const rf_tuf_client *c, const char *path, rf_tuf_target *out,
                         rf_error *err);
/* RF_OK when got bytes hashing to sha256 (hex) are exactly target t at path. */
rf_err rf_tuf_target_check(const rf_tuf_target *t, const char *path, int64_t got,
                           const char *sha256, rf_error *err);

/* Parses an assignment envelope and checks that its "signed" object has
 * _type "assignment" and carries signatures by the threshold of the
 * director keys of root. On RF_OK *doc is a new reference (json_decref it)
 * and *signed_obj borrowed from it. Device, counter and expiry are judged
 * by the caller. */
rf_err rf_tuf_assignment_verify(const rf_tuf_root *root, const void *data, size_t len, json_t **doc,
                                json_t **signed_obj, rf_error *err);

const char *rf_tuf_role_name(rf_tuf_role r);

#endif
