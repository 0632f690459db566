/* Internal seams of the protocol state machine, shared by proto.c (device-wide
 * events and the choice of the next action) and proto_channel.c (one channel's
 * install, revert and refusal logic). Nothing here does I/O or reads a clock;
 * no other file may include this header. */
#ifndef AGENT_PROTO_INTERNAL_H
#define AGENT_PROTO_INTERNAL_H

#include "proto.h"

/* Result of one planning step: nothing to do, an action was filled in, or the
 * state changed (persist it and plan again). */
typedef enum proto_stepr { STEPR_NOTHING = 0, STEPR_ACTED, STEPR_CHANGED } proto_stepr;

#define PROTO_IO_BACKOFF_MIN_MS 5000LL
#define PROTO_IO_BACKOFF_MAX_MS 300000LL
#define PROTO_VERIFY_BACKOFF_MIN_MS 60000LL
#define PROTO_VERIFY_BACKOFF_MAX_MS 3600000LL

void proto_notef(proto *p, rf_log_level lvl, const char *what, const proto_channel *c,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A heartbeat-visible change: bumps the report generation and marks dirty. */
void proto_touch(proto *p);
/* Doubles *cur within [min, max] and returns the new delay. */
int64_t proto_backoff(int64_t *cur, int64_t min, int64_t max);
/* Adds n crash records to every channel whose active slot holds a bundle. */
void proto_add_crashes(proto *p, int64_t n, const char *why);

void chan_set_want(proto *p, proto_channel *c, const proto_want *w);
proto_stepr chan_activation(proto *p, proto_channel *c, int64_t now, proto_action *act);
proto_stepr chan_plan(proto *p, proto_channel *c, int64_t now, proto_action *act);
void chan_installing_acked(proto *p, proto_channel *c);
void chan_on_refreshed(proto *p, proto_channel *c, int64_t now, const proto_event *ev);
void chan_on_downloaded(proto *p, proto_channel *c, int64_t now, const proto_event *ev);
void chan_on_installed(proto *p, proto_channel *c, int64_t now, const proto_event *ev);
void chan_on_reverted(proto *p, proto_channel *c, int64_t now, const proto_event *ev);
void chan_reconcile(proto *p, proto_channel *c, int64_t now, const proto_slot *actual,
                    proto_boot_class cls);
/* Earliest future time at which c has something to do (INT64_MAX: none). */
int64_t chan_deadline(const proto *p, const proto_channel *c, int64_t now);

#endif
