/* The read behind GET /: recent rollouts and, per stage, the ring and how
 * many devices were exposed, are healthy and have failed, counted from the
 * exposures table (one row per device and rollout). Read-only. */
#include "store_dashboard.h"
#include "store_internal.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

static void copy_str(char *dst, size_t n, const char *src)
{
    size_t len = src ? strlen(src) : 0;

    if (len >= n)
        len = n - 1;
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
}

static rf_err read_rollouts(rf_db *db, int limit, dash_rollout **out, size_t *n, rf_error *err)
{
    char lim[16];
    const char *p[] = {lim};
    PGresult *r = NULL;
    rf_err rc;
    int rows;

    rf_snprintf(lim, sizeof(lim), "%d", limit);
    rc = store_exec(db, "dashboard_rollouts",
                    "SELECT r.id, r.channel, b.name || ' ' || b.version, r.bundle_id, r.state, "
                    "r.stage, " STORE_ISO(
                        "r.created_at") ", COALESCE(r.halt->>'reason', '') "
                                        "FROM rollouts r JOIN bundles b ON b.id = r.bundle_id "
                                        "ORDER BY r.id DESC LIMIT $1",
                    1, p, &r, err);
    if (rc != RF_OK)
        return rc;
    rows = PQntuples(r);
    *out = calloc(rows ? (size_t)rows : 1, sizeof(**out));
    if (!*out) {
        PQclear(r);
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < rows; i++) {
        dash_rollout *d = &(*out)[i];
        d->id = store_get_ll(r, i, 0);
        copy_str(d->channel, sizeof(d->channel), store_get(r, i, 1));
        copy_str(d->bundle, sizeof(d->bundle), store_get(r, i, 2));
        d->bundle_id = store_get_ll(r, i, 3);
        copy_str(d->state, sizeof(d->state), store_get(r, i, 4));
        d->stage = (int)store_get_ll(r, i, 5);
        copy_str(d->created, sizeof(d->created), store_get(r, i, 6));
        copy_str(d->halt_reason, sizeof(d->halt_reason), store_get(r, i, 7));
    }
    *n = (size_t)rows;
    PQclear(r);
    return RF_OK;
}

static dash_rollout *find(dash_rollout *items, size_t n, long long id)
{
    for (size_t i = 0; i < n; i++)
        if (items[i].id == id)
            return &items[i];
    return NULL;
}

static rf_err read_stages(rf_db *db, dash_rollout *items, size_t n, rf_error *err)
{
    char lo[24];
    const char *p[] = {lo};
    PGresult *r = NULL;
    rf_err rc;
    int rows;

    /* items are newest first, so the last holds the smallest id. */
    rf_snprintf(lo, sizeof(lo), "%lld", items[n - 1].id);
    rc = store_exec(db, "dashboard_stages",
                    "SELECT s.rollout_id, s.idx, g.name, s.state, count(e.device_id), "
                    "count(e.device_id) FILTER (WHERE e.healthy_at IS NOT NULL "
                    "AND e.failed_at IS NULL), "
                    "count(e.device_id) FILTER (WHERE e.failed_at IS NOT NULL) "
                    "FROM rollout_stages s JOIN rings g ON g.id = s.ring_id "
                    "LEFT JOIN exposures e ON e.rollout_id = s.rollout_id AND e.stage = s.idx "
                    "WHERE s.rollout_id >= $1 GROUP BY s.rollout_id, s.idx, g.name, s.state "
                    "ORDER BY s.rollout_id, s.idx",
                    1, p, &r, err);
    if (rc != RF_OK)
        return rc;
    rows = PQntuples(r);
    for (int i = 0; i < rows; i++) {
        dash_rollout *d = find(items, n, store_get_ll(r, i, 0));
        dash_stage *st, *grown;
        if (!d)
            continue;
        grown = realloc(d->stages, (d->nstages + 1) * sizeof(*d->stages));
        if (!grown) {
            rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
            break;
        }
        d->stages = grown;
        st = &d->stages[d->nstages++];
        memset(st, 0, sizeof(*st));
        st->idx = (int)store_get_ll(r, i, 1);
        copy_str(st->ring, sizeof(st->ring), store_get(r, i, 2));
        copy_str(st->state, sizeof(st->state), store_get(r, i, 3));
        st->exposed = store_get_ll(r, i, 4);
        st->healthy = store_get_ll(r, i, 5);
        st->failed = store_get_ll(r, i, 6);
    }
    PQclear(r);
    return rc;
}

rf_err store_dashboard_rollouts(rf_db *db, int limit, dash_rollout **out, size_t *n, rf_error *err)
{
    rf_err rc;

    *out = NULL;
    *n = 0;
    rc = read_rollouts(db, limit, out, n, err);
    if (rc == RF_OK && *n > 0)
        rc = read_stages(db, *out, *n, err);
    if (rc != RF_OK) {
        store_dashboard_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

void store_dashboard_free(dash_rollout *items, size_t n)
{
    if (!items)
        return;
    for (size_t i = 0; i < n; i++)
        free(items[i].stages);
    free(items);
}
