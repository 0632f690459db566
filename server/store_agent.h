/* The agent side of the database (store_agent.c): enrollment, the inputs of a
 * device's assignment and its counter, and heartbeat ingest with exposure
 * bookkeeping. Decisions stay in assign.c and health.c; these functions load
 * their inputs and store their outcome. A device id always comes from the
 * caller's authenticated token, never from a request body. */
#ifndef RF_STORE_AGENT_H
#define RF_STORE_AGENT_H

#include "assign.h"
#include "health.h"
#include "store.h"

#define AGENT_MAX_HB_CHANNELS 16      /* channels in one heartbeat */
#define AGENT_MAX_ASSIGN_CHANNELS 256 /* channels in one assignment */

/* Inserts a device (token stored as the hex SHA-256 token_hash_hex) and
 * records device.enrolled, in one transaction. labels is borrowed. */
rf_err store_agent_enroll(rf_db *db, const char *device_id, const char *token_hash_hex,
                          const char *hostname, const json_t *labels, int bucket, rf_error *err);

typedef struct agent_bundle {
    long long id; /* 0: none */
    char name[65];
    char version[65];
    char sha256[65];
    long long length;
} agent_bundle;

/* One channel's latest started rollout, as seen by one device. */
typedef struct agent_channel_input {
    char channel[65];
    long long rollout_id;
    assign_rollout rollout;
    assign_device device;
    agent_bundle bundle;   /* the rollout's bundle */
    agent_bundle previous; /* the bundle to go back to (id 0: none) */
    agent_bundle pinned;   /* the bundle a pin holds the device at (id 0: none) */
} agent_channel_input;

typedef struct agent_assign_inputs {
    int n;
    agent_channel_input *ch; /* owned, n entries */
    /* The start windows of the device's ring; each ch[i].device.windows
     * points here, so the struct must not be copied or moved. */
    assign_window windows[ASSIGN_MAX_WINDOWS];
    int nwindows;
} agent_assign_inputs;

/* Loads everything assign_decide needs for device_id, for every channel with
 * a started rollout: the device's ring position (members, labels, buckets;
 * assign_ring_of over the rings by order) and its ring's start windows, each
 * channel's latest started rollout with its stages (ring positions and
 * shares) and the device's key in its salted order, whether the device was
 * exposed to it or failed it itself, what it reports running or installing,
 * its pin (a device pin, else its ring's) and its exclusion, and the
 * database's clock. RF_ERR_NOT_FOUND if the device does not exist. */
rf_err store_agent_assign_inputs(rf_db *db, const char *device_id, agent_assign_inputs *out,
                                 rf_error *err);
void store_agent_assign_inputs_cleanup(agent_assign_inputs *in); /* NULL-safe */

/* Returns in *counter the device's assignment counter after making sure it
 * belongs to digest_hex: bumped by one (atomically) only when the digest of
 * the channels differs from the one last served. */
rf_err store_agent_counter(rf_db *db, const char *device_id, const char *digest_hex,
                           long long *counter, rf_error *err);

typedef struct agent_hb_channel {
    char name[65];
    health_report rep;
    const char *error; /* borrowed; NULL for none */
} agent_hb_channel;

/* A validated heartbeat. */
typedef struct agent_heartbeat {
    long long seq;
    const char *boot_id; /* borrowed; NULL: not reported */
    int interval_s;      /* already clamped to 1..3600; 0: not reported */
    int n;
    agent_hb_channel ch[AGENT_MAX_HB_CHANNELS];
    const char *body; /* the heartbeat as compact JSON (borrowed), stored as received */
} agent_heartbeat;

/* Stores a heartbeat of device_id in one transaction. A (device, seq) seen
 * before sets *duplicate and changes nothing. Otherwise: the raw heartbeat,
 * the device's last_seen/seq/boot id/interval, and — when seq is the newest
 * the device has sent — its per-channel reports and its exposures to every
 * live rollout of those channels (health.c), with device.failed and
 * device.verify_failed events. Returns only once committed. */
rf_err store_agent_heartbeat(rf_db *db, const char *device_id, const agent_heartbeat *hb,
                             int *duplicate, rf_error *err);

/* One heartbeat of a batch: inputs borrowed, outputs filled in. */
typedef struct agent_hb_job {
    const char *device_id;
    const agent_heartbeat *hb;
    int duplicate;
    int changed; /* what the device runs, installs or is exposed to changed */
    rf_err rc;
    rf_error err;
} agent_hb_job;

/* The notification channel that names devices whose assignment inputs
 * changed (payload: device ids, comma-separated, at most
 * STORE_DEVICES_NOTIFY_MAX bytes), sent on commit of a heartbeat batch. */
#define STORE_DEVICES_CHANNEL "ringfence_devices"
#define STORE_DEVICES_NOTIFY_MAX 7000

/* Stores n heartbeats in one transaction, each as store_agent_heartbeat
 * would, inside its own savepoint: one that is refused (unknown device, bad
 * figures) leaves no trace and does not stop the others; duplicates change
 * nothing. Every job's rc is RF_OK only once the whole batch is committed;
 * when the commit (or the connection) fails, every job fails with it. Jobs
 * should be sorted by device id so concurrent batches lock in one order. */
rf_err store_agent_heartbeats(rf_db *db, int n, agent_hb_job *jobs);

#endif
