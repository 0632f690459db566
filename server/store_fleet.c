/* Which devices each stage holds: the fleet as ring_index sees it (members,
 * labels, buckets, first ring by order) and the share of each stage
 * (assign.c), used to count a stage's devices and to fix a stage's share
 * cut when it starts. Reads every device, so only views and transitions call
 * it, never the per-second evaluator. It writes nothing but a stage's cut. */
#include "ring_index.h"
#include "store_device.h"
#include "store_internal.h"
#include "store_rollout.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

#define FLEET_MAX_DEVICES 10000000

typedef struct fleet {
    ring_index ix;
    store_device_list devs;
    int *pos; /* ring position of each device */
} fleet;

static void fleet_cleanup(fleet *f)
{
    free(f->pos);
    store_device_list_cleanup(&f->devs);
    ring_index_cleanup(&f->ix);
    memset(f, 0, sizeof(*f));
}

static rf_err fleet_load(rf_db *db, fleet *f, rf_error *err)
{
    memset(f, 0, sizeof(*f));
    rf_err rc = ring_index_load(db, &f->ix, err);
    if (rc == RF_OK)
        rc = store_device_list_all(db, FLEET_MAX_DEVICES, 0, &f->devs, err);
    if (rc == RF_OK && (f->pos = calloc(f->devs.n ? f->devs.n : 1, sizeof(int))) == NULL)
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == RF_OK && i < f->devs.n; i++) {
        const store_device *d = &f->devs.items[i];
        f->pos[i] = ring_index_of(&f->ix, d->id, d->labels, d->bucket);
    }
    if (rc != RF_OK)
        fleet_cleanup(f);
    return rc;
}

/* r's plan as assign.c sees it; *partial says whether any stage is a share
 * of its ring below 100 %. */
static void to_assign(const fleet *f, const store_rollout *r, assign_rollout *a, int *partial)
{
    memset(a, 0, sizeof(*a));
    *partial = 0;
    a->state = r->sm.state;
    a->stage = r->sm.stage;
    a->nstages = r->sm.nstages;
    for (int s = 0; s < r->sm.nstages; s++) {
        a->stage_ring_pos[s] = ring_index_pos(&f->ix, r->sm.stages[s].ring_id);
        a->share[s].percent = r->sm.stages[s].percent;
        a->share[s].has_cut = r->info[s].has_cut;
        a->share[s].cut = r->info[s].cut;
        *partial |= r->sm.stages[s].percent > 0 && r->sm.stages[s].percent < 100;
    }
}

static void count_row(const fleet *f, store_rollout *r, unsigned char *partial_ring)
{
    assign_rollout a;
    int partial = 0;
    to_assign(f, r, &a, &partial);
    /* Only devices of rings with a partial stage need their salted key. */
    memset(partial_ring, 0, f->ix.rings.n + 1);
    for (int s = 0; s < r->sm.nstages; s++)
        if (a.stage_ring_pos[s] >= 0 && a.share[s].percent > 0 && a.share[s].percent < 100)
            partial_ring[a.stage_ring_pos[s]] = 1;
    for (int s = 0; s < r->sm.nstages; s++) {
        int p = a.stage_ring_pos[s];
        r->info[s].devices = 0;
        r->info[s].window_open =
            p < 0 || assign_windows_open(f->ix.sel[p].windows, f->ix.sel[p].nwindows, r->now_s);
    }
    for (size_t i = 0; i < f->devs.n; i++) {
        assign_device d;
        memset(&d, 0, sizeof(d));
        d.ring_pos = f->pos[i];
        if (d.ring_pos < 0)
            continue;
        int keyed = partial && partial_ring[d.ring_pos];
        if (keyed)
            assign_key_make(r->salt, f->devs.items[i].id, &d.key);
        int s = keyed ? assign_stage_of(&a, &d) : assign_device_stage(&a, d.ring_pos);
        if (s >= 0)
            r->info[s].devices++;
    }
}

rf_err store_fleet_stage_devices(rf_db *db, store_rollout *rows, int n, rf_error *err)
{
    fleet f;
    if (n <= 0)
        return RF_OK;
    rf_err rc = fleet_load(db, &f, err);
    if (rc != RF_OK)
        return rc;
    unsigned char *partial_ring = malloc(f.ix.rings.n + 1);
    if (partial_ring == NULL)
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    for (int k = 0; rc == RF_OK && k < n; k++)
        count_row(&f, &rows[k], partial_ring);
    free(partial_ring);
    fleet_cleanup(&f);
    return rc;
}

static rf_err write_cut(rf_db *db, long long id, int idx, const assign_key *cut, rf_error *err)
{
    char ids[24], ix[16], b[16];
    const char *p[] = {ids, ix, b, cut->id};
    PGresult *res = NULL;
    rf_snprintf(ids, sizeof(ids), "%lld", id);
    rf_snprintf(ix, sizeof(ix), "%d", idx);
    rf_snprintf(b, sizeof(b), "%u", (unsigned)cut->salted);
    rf_err rc = store_exec(db, "stage_cut_write",
                           "UPDATE rollout_stages SET cut_bucket = $3::int, cut_device = $4 "
                           "WHERE rollout_id = $1 AND idx = $2",
                           4, p, &res, err);
    PQclear(res);
    return rc;
}

rf_err store_fleet_fix_cut(rf_db *db, const store_rollout *r, const rollout_sm *sm_after,
                           rf_error *err)
{
    int idx = sm_after->stage;
    fleet f;
    assign_key *keys = NULL, cut;
    size_t nk = 0;
    if (idx < 0 || idx >= sm_after->nstages || sm_after->stages[idx].state != STAGE_ACTIVE)
        return RF_OK;
    const rollout_stage *st = &sm_after->stages[idx];
    if (st->percent <= 0 || st->percent >= 100)
        return RF_OK;
    rf_err rc = fleet_load(db, &f, err);
    if (rc != RF_OK)
        return rc;
    int ring = ring_index_pos(&f.ix, st->ring_id);
    keys = calloc(f.devs.n ? f.devs.n : 1, sizeof(*keys));
    if (keys == NULL) {
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; ring >= 0 && i < f.devs.n; i++)
        if (f.pos[i] == ring)
            assign_key_make(r->salt, f.devs.items[i].id, &keys[nk++]);
    const assign_key *floor = NULL;
    if (idx > 0 && sm_after->stages[idx - 1].ring_id == st->ring_id && r->info[idx - 1].has_cut)
        floor = &r->info[idx - 1].cut;
    if (assign_share_cut(keys, nk, st->percent, floor, &cut))
        rc = write_cut(db, r->id, idx, &cut, err);
out:
    free(keys);
    fleet_cleanup(&f);
    return rc;
}
