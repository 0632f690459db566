/* Shared by store_heartbeat.c and store_hb_observe.c only: a heartbeat batch
 * as the ingest transaction sees it, job by job. */
#ifndef RF_STORE_HB_INTERNAL_H
#define RF_STORE_HB_INTERNAL_H

#include "ring_index.h"
#include "store_agent.h"

#include <jansson.h>
#include <stdint.h>

/* One job of the batch with what the transaction learned about its device. */
typedef struct hb_item {
    agent_hb_job *job; /* borrowed */
    int found;         /* the device exists (and its row is locked) */
    int inserted;      /* (device, seq) was new */
    int newest;        /* inserted, and no newer heartbeat of the device was stored before */
    long long last_seq;
    int64_t now_s;  /* the database clock */
    json_t *labels; /* owned */
    int bucket;
    int known[AGENT_MAX_HB_CHANNELS];      /* the channel's refusal was reported before */
    long long rids[AGENT_MAX_HB_CHANNELS]; /* the live rollout a channel's target belongs to */
} hb_item;

typedef struct hb_batch {
    hb_item *items; /* owned, n of them, one device each */
    int n;
    ring_index *ix; /* loaded on first need; owned */
} hb_batch;

/* The channel of hb named name, or NULL. */
const agent_hb_channel *hb_find_channel(const agent_heartbeat *hb, const char *name);

/* Folds the newest reports of the batch into their devices' exposures to the
 * live rollouts (active, paused, halted) of the channels reported, with
 * device.failed events; fills each item's rids. */
rf_err hb_observe_live(rf_db *db, hb_batch *b, rf_error *err);

#endif
