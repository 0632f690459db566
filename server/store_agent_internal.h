/* Shared by store_agent.c and store_heartbeat.c only: the rings loaded as
 * selectors for rf_ring_of, and the mapping of a plan's ring ids to ring
 * positions. */
#ifndef RF_STORE_AGENT_INTERNAL_H
#define RF_STORE_AGENT_INTERNAL_H

#include "rf_cohort.h"
#include "rollout.h"
#include "store.h"

#define AGENT_MAX_RINGS_STR "1024"

/* The rings sorted by order, as selectors (labels owned here). */
typedef struct agent_rings {
    int n;
    rf_ring_sel *sel;
    json_t **labels;
} agent_rings;

rf_err agent_rings_load(rf_db *db, agent_rings *out, rf_error *err);
void agent_rings_cleanup(agent_rings *r); /* NULL-safe */
/* Position of ring_id in the order, or -1. */
int agent_rings_pos_of_id(const agent_rings *r, long long ring_id);
/* Fills pos[] with the position of each ring id of csv ("3,1,2", a plan's
 * ring ids in stage order); returns the number of stages, or -1 when csv is
 * not a list of ids. */
int agent_stage_positions(const agent_rings *r, const char *csv, int pos[ROLLOUT_MAX_STAGES]);

#endif
