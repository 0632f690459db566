/* Shared by store_agent.c and store_heartbeat.c only: how a rollout's plan
 * is read for assignment and exposure bookkeeping (ring positions and share
 * of each stage), so that a device's stage is computed the same way in both. */
#ifndef RF_STORE_AGENT_INTERNAL_H
#define RF_STORE_AGENT_INTERNAL_H

#include "assign.h"
#include "ring_index.h"
#include "store.h"

/* SQL expression: the plan of rollout alias `r` as text, one
 * "ring_id:percent:cut_bucket:cut_device" per stage (cut_bucket -1 and an
 * empty cut_device for no cut), comma-separated, by stage index. */
#define AGENT_PLAN_SQL(r)                                                                          \
    "(SELECT string_agg(s.ring_id || ':' || s.percent || ':' || coalesce(s.cut_bucket, -1) || "    \
    "':' || coalesce(s.cut_device, ''), ',' ORDER BY s.idx) FROM rollout_stages s "                \
    "WHERE s.rollout_id = " r ".id)"

/* Fills r->nstages, r->stage_ring_pos and r->share from plan text (see
 * AGENT_PLAN_SQL; NULL: no stages). Returns the number of stages, or -1 (and
 * no stages) when the text is unreadable. */
int agent_plan_parse(const ring_index *ix, const char *text, assign_rollout *r);

/* The stage of r (after agent_plan_parse) that holds the device, or -1. */
int agent_device_stage(const ring_index *ix, const assign_rollout *r, const char *salt,
                       const char *device_id, const json_t *labels, int bucket);

#endif
