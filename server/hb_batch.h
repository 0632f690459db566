/* Heartbeat batching: concurrent heartbeat requests are gathered for a few
 * milliseconds and stored in one transaction (store_agent_heartbeats), then
 * every waiting request is answered. A request is told "stored" only after
 * the commit; it must never be answered before, nor wait forever. */
#ifndef RF_HB_BATCH_H
#define RF_HB_BATCH_H

#include "server.h"
#include "store_agent.h"

#define HB_BATCH_GATHER_MS 3 /* how long a batch waits for company */
#define HB_BATCH_MAX 256     /* heartbeats per transaction at most */
#define HB_BATCH_LEADERS 4   /* batches stored at once (connections) at most */

/* Stores hb of device_id (both borrowed until the call returns) with
 * whatever other heartbeats arrive meanwhile; fills *duplicate. Blocks until
 * the batch holding it has been committed or has failed. */
rf_err hb_batch_submit(rf_server *srv, const char *device_id, const agent_heartbeat *hb,
                       int *duplicate, rf_error *err);

#endif
