/* The TUF re-signing task (tuf_refresh.c): a thread that, about once a
 * second, re-signs timestamp, snapshot and targets before they expire (when
 * less than half of each period is left), picks up online keys an operator
 * rotated, and warns when the offline root nears its expiry. */
#ifndef RF_TUF_REFRESH_H
#define RF_TUF_REFRESH_H

#include "server.h"
#include "store.h"

/* One pass, on the calling thread: the same work the thread does each tick.
 * Returns what failed (the thread only logs it). */
rf_err tuf_refresh_once(rf_server *srv, rf_error *err);

/* Makes sure the server's online keys are the ones the newest stored root
 * names: when that root is newer than the one the installed set was checked
 * against, loads the key files again and installs them if they match it.
 * RF_ERR_CONFLICT (naming the key) when they do not. Cheap when nothing
 * changed (one small query). */
rf_err tuf_keys_follow(rf_server *srv, rf_db *db, rf_error *err);

rf_err tuf_refresh_start(rf_server *srv);
void tuf_refresh_stop(rf_server *srv); /* waits for the thread; safe if not started */

#endif
