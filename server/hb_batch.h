/* Heartbeat batching: heartbeat requests are queued and a few writer threads
 * store them, as many as have arrived (one per device), in one transaction
 * each (store_agent_heartbeats), then tell every request its outcome. The
 * HTTP worker that queued a heartbeat is free meanwhile (the request is
 * parked, see rf_park in http.h), so batches grow with the load instead of
 * being capped by the number of HTTP threads. A job is told "stored" only
 * after the commit; it must never be answered before, nor wait forever. */
#ifndef RF_HB_BATCH_H
#define RF_HB_BATCH_H

#include "server.h"
#include "store_agent.h"

#define HB_BATCH_GATHER_MS 2 /* how long a writer waits for company when the load is up */
#define HB_BATCH_MAX 512     /* heartbeats per transaction at most */
#define HB_BATCH_WRITERS 4   /* writer threads, each with its own connection per batch */

/* Called once the job's rc / duplicate / err are final (from a writer thread). */
typedef void (*hb_done_fn)(void *ctx);

/* Starts the writer threads. */
rf_err hb_batch_start(rf_server *srv);
/* Stores what is queued, then stops the writers. Call after the HTTP server
 * has stopped; later jobs fail at once with RF_ERR_UNAVAILABLE. */
void hb_batch_stop(void);

/* Queues job (job->device_id and job->hb borrowed until done runs); done(ctx)
 * is called exactly once, possibly before hb_batch_enqueue returns. */
void hb_batch_enqueue(agent_hb_job *job, hb_done_fn done, void *ctx);

#endif
