/* The fleet summary of GET /v1/fleet for dashboards: devices counted per
 * ring × channel × running bundle × health, online and offline. Ring
 * membership is decided by ring_index.c, as everywhere else; health by
 * fleet_health_of from the device's own report. Read-only, one scan. */
#include "rf_util.h"
#include "api_dash.h"
#include "ring_index.h"
#include "store_dashboard.h"

#include <stdlib.h>
#include <string.h>

#define MAX_GROUPS 20000

typedef struct group {
    int ring; /* position in the ring index, -1: none */
    char channel[65];
    int has_channel;
    long long bundle_id;
    char version[65];
    const char *health; /* static */
    long long online, offline;
} group;

typedef struct scan {
    const ring_index *ix;
    group *g;
    size_t n, cap;
} scan;

const char *fleet_health_of(const char *state, long long bundle_id, long long crashes,
                            long long unclean_shutdowns, long long local_rollbacks)
{
    const char *st = state ? state : "";

    if (strcmp(st, "install_failed") == 0 || strcmp(st, "rolled_back") == 0 ||
        strcmp(st, "verify_failed") == 0 || crashes > 0 || unclean_shutdowns > 0 ||
        local_rollbacks > 0)
        return "failed";
    if (strcmp(st, "installing") == 0)
        return "installing";
    if (bundle_id <= 0)
        return "none";
    if (strcmp(st, "trial") == 0)
        return "trial";
    return "healthy";
}

static group *find_group(scan *sc, const group *key)
{
    for (size_t i = sc->n; i-- > 0;) {
        group *g = &sc->g[i];
        if (g->ring == key->ring && g->has_channel == key->has_channel &&
            g->bundle_id == key->bundle_id && g->health == key->health &&
            strcmp(g->channel, key->channel) == 0)
            return g;
    }
    if (sc->n == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 64;
        group *grown = sc->cap < MAX_GROUPS ? realloc(sc->g, cap * sizeof(*grown)) : NULL;
        if (!grown)
            return NULL;
        sc->g = grown;
        sc->cap = cap;
    }
    sc->g[sc->n] = *key;
    return &sc->g[sc->n++];
}

static rf_err on_row(void *arg, const dash_fleet_row *row, rf_error *err)
{
    scan *sc = arg;
    group key, *g;

    memset(&key, 0, sizeof(key));
    key.ring = ring_index_of(sc->ix, row->device_id, row->labels, row->bucket);
    key.has_channel = row->channel != NULL;
    rf_copy_str(key.channel, sizeof(key.channel), row->channel);
    key.bundle_id = row->bundle_id;
    rf_copy_str(key.version, sizeof(key.version), row->version);
    key.health = row->channel ? fleet_health_of(row->state, row->bundle_id, row->crashes,
                                                row->unclean_shutdowns, row->local_rollbacks)
                              : "none";
    g = find_group(sc, &key);
    if (!g)
        return rf_error_set(err, RF_ERR_NOMEM, "too many fleet groups");
    if (row->online)
        g->online++;
    else
        g->offline++;
    return RF_OK;
}

/* Ring order (rings first, by order; no ring last), channel, bundle, health. */
static int cmp_group(const void *a, const void *b)
{
    const group *x = a, *y = b;
    int rx = x->ring < 0 ? 1 << 30 : x->ring, ry = y->ring < 0 ? 1 << 30 : y->ring;
    int c;

    if (rx != ry)
        return rx < ry ? -1 : 1;
    if ((c = strcmp(x->channel, y->channel)) != 0)
        return c;
    if (x->bundle_id != y->bundle_id)
        return x->bundle_id < y->bundle_id ? -1 : 1;
    return strcmp(x->health, y->health);
}

static json_t *group_json(const ring_index *ix, const group *g)
{
    const store_ring *ring = g->ring >= 0 ? &ix->rings.items[g->ring] : NULL;

    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:s,s:I,s:I,s:I}", "ring",
                     ring ? json_string(ring->name) : json_null(), "ring_id",
                     ring ? json_integer(ring->id) : json_null(), "channel",
                     g->has_channel ? json_string(g->channel) : json_null(), "bundle_id",
                     g->bundle_id > 0 ? json_integer(g->bundle_id) : json_null(), "version",
                     g->version[0] ? json_string(g->version) : json_null(), "health", g->health,
                     "devices", (json_int_t)(g->online + g->offline), "online",
                     (json_int_t)g->online, "offline", (json_int_t)g->offline);
}

rf_err api_fleet_add_groups(rf_db *db, json_t *fleet, rf_error *err)
{
    ring_index ix;
    scan sc = {&ix, NULL, 0, 0};
    json_t *groups;
    rf_err rc = ring_index_load(db, &ix, err);

    if (rc != RF_OK)
        return rc;
    rc = store_dash_fleet_scan(db, on_row, &sc, err);
    if (rc == RF_OK) {
        qsort(sc.g, sc.n, sizeof(*sc.g), cmp_group);
        groups = json_array();
        for (size_t i = 0; i < sc.n; i++)
            json_array_append_new(groups, group_json(&ix, &sc.g[i]));
        json_object_set_new(fleet, "groups", groups);
        json_object_set_new(fleet, "offline",
                            json_integer(json_integer_value(json_object_get(fleet, "devices")) -
                                         json_integer_value(json_object_get(fleet, "online"))));
    }
    free(sc.g);
    ring_index_cleanup(&ix);
    return rc;
}
