/* bootguard: the pure decision of `ringfence-agent bootguard`, the early-boot
 * oneshot that keeps a bundle on trial from being used once it has failed to
 * boot too often or left a crash record — plus its small record file
 * (DATA/bootguard.json: the last boot it saw and, per channel, the bundle on
 * trial and its failed boot attempts) mapped to and from JSON. No I/O and no
 * clock here; bootguard_run.c reads the files and switches the slots. */
#ifndef AGENT_BOOTGUARD_H
#define AGENT_BOOTGUARD_H

#include "proto.h"
#include "rf_err.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define BOOTGUARD_FILE "bootguard.json"
#define BOOTGUARD_DEFAULT_LIMIT 3

typedef struct bootguard_chan {
    char name[PROTO_NAME_MAX + 1];
    int64_t bundle_id; /* the bundle on trial when counted */
    int64_t attempts;  /* its boots that did not end with a clean shutdown */
} bootguard_chan;

typedef struct bootguard_record {
    char boot_id[PROTO_BOOT_ID_MAX + 1]; /* "" = never ran */
    uint32_t n;
    bootguard_chan ch[PROTO_MAX_CHANNELS];
} bootguard_record;

typedef enum bootguard_verdict {
    BOOTGUARD_NONE = 0, /* nothing on trial, or this boot was counted already */
    BOOTGUARD_COUNTED,  /* a boot attempt of the bundle on trial, below the limit */
    BOOTGUARD_ROLLBACK  /* switch back to the previous slot before the bundle is used */
} bootguard_verdict;

/* What the guard knows about one channel at this boot. */
typedef struct bootguard_input {
    bool on_trial;         /* state.json: run == trial with a bundle active */
    int64_t bundle_id;     /* that bundle */
    int64_t rec_bundle_id; /* the record's bundle for the channel (0: none) */
    int64_t rec_attempts;  /* the record's attempts for it */
    bool new_boot;         /* this boot id differs from the record's */
    bool prev_clean;       /* the boot that ended had a clean shutdown */
    int64_t crashes;       /* crash records since the install (counted + new on disk) */
    int64_t limit;         /* failed boot attempts tolerated (>= 1) */
} bootguard_input;

/* Decides for one channel; *attempts gets the count to record and why (len
 * bytes) the reason of a rollback. Rules: nothing on trial → NONE (0); a
 * crash record since the install → ROLLBACK; the same boot seen again → NONE
 * (count kept); otherwise a boot that ended uncleanly adds one attempt of the
 * same bundle (a clean one resets the count) and reaching limit → ROLLBACK. */
bootguard_verdict bootguard_decide(const bootguard_input *in, int64_t *attempts, char *why,
                                   size_t len);

/* The record's entry for channel name (NULL: none). */
const bootguard_chan *bootguard_find(const bootguard_record *r, const char *name);
/* Sets the entry for name (added when missing; false when full or the name is invalid). */
bool bootguard_set(bootguard_record *r, const char *name, int64_t bundle_id, int64_t attempts);

json_t *bootguard_encode(const bootguard_record *r); /* new reference; NULL: no memory */
/* Strict: unknown or missing fields and bad values are errors naming the field. */
rf_err bootguard_decode(const json_t *root, bootguard_record *r, rf_error *err);

#endif
