/* The change listener: a thread with its own database connection that
 * LISTENs on the channel every rollout change NOTIFYs (store_transition.c)
 * and wakes this instance's long-polls when another instance (or this one)
 * commits a change, so a halt reaches agents connected anywhere at once. */
#ifndef RF_PG_LISTEN_H
#define RF_PG_LISTEN_H

#include "server.h"

#define PG_LISTEN_CHANNEL "ringfence_changes"

/* Starts the listener (one per process); RF_ERR_CONFLICT when running. */
rf_err pg_listen_start(rf_server *srv);
/* Stops it and waits for it (within about a quarter second). */
void pg_listen_stop(rf_server *srv);

#endif
