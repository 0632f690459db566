/* The fixture of the TUF client's unit tests (check_common_tuf.c and
 * check_common_tuf_meta.c): fixed Ed25519 test keys, builders of signed
 * roots, timestamps, snapshots and targets, and a client C that trusts ROOT1
 * (root keys R1-R3, threshold 2; one key per online role). Test code only. */
#ifndef TUF_FIXTURE_H
#define TUF_FIXTURE_H

#include "rf_tuf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOW 1800000000LL /* 2027-01-15: the update's fixed start time */
#define DAY 86400LL
#define TARGET_BYTES "bundle bytes v2\n" /* the one target, content/sensor-2 */

enum { K_R1, K_R2, K_R3, K_TS, K_SNAP, K_TARG, K_DIR, K_EVIL, K_N1, K_N2, K_N3, K_TS2, NKEYS };

extern rf_key *KEYS[NKEYS];
extern char KID[NKEYS][65];
extern rf_tuf_client C; /* trusts ROOT1; set up by client_setup */

/* An encoded envelope: signed by the keys listed (-1 ends the list). */
typedef struct blob {
    char *data;
    size_t len;
} blob;

/* A root: root keys rk (threshold rt), one key per online role. */
typedef struct root_spec {
    int64_t version;
    int64_t expires;
    int rk[4];
    int rt;
    int ts, snap, targ, dir;
} root_spec;

extern const root_spec ROOT1;

json_t *key_obj(int k); /* the TUF key object of key k (new reference) */
char *iso(int64_t t);   /* "YYYY-MM-DDTHH:MM:SSZ" in a rotating static buffer */
/* An envelope around signed_obj (stolen) signed by signers (-1 ends them; a
 * non-canonical object is sent unsigned); free() .data. */
blob sign_with(json_t *signed_obj, const int *signers);
json_t *role(const int *keys, int threshold);
json_t *root_signed(const root_spec *s);
void client_setup(void); /* Check fixture */
void client_teardown(void);
/* rc/e against want (NULL: accepted; else a substring of the message). */
void expect(rf_err rc, const rf_error *e, const char *want, const char *name);

/* A METAFILES entry for version, listing of's length and/or hash. */
json_t *meta_entry(int64_t version, const blob *of, bool length, bool hash);
json_t *meta_signed(const char *type, int64_t version, int64_t expires, const char *name,
                    json_t *entry);
json_t *targets_signed(int64_t version, int64_t expires);
/* Trusted so far: timestamp 5 naming snapshot 5, snapshot naming targets 5. */
void trust_versions(void);
/* Has C verify a timestamp (version 6) naming snapshot version v, listing of. */
void accept_timestamp(int64_t v, const blob *of, bool length, bool hash);
/* ... and a snapshot (version 6) naming targets version tv, listing of. */
void accept_snapshot(int64_t tv, const blob *of, bool length, bool hash);

#endif
