/* Named queries for agents: enrollment, the inputs of a device's assignment
 * (rings, the device, each channel's latest started rollout, its pins and
 * exclusion) and the assignment counter. The assignment itself is decided by assign.c; this file
 * only loads what it needs. It never takes a device id from anywhere but its
 * caller, who took it from the device's token. */
#include "store_agent.h"
#include "store_agent_internal.h"
#include "store_internal.h"
#include "rf_cohort.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

rf_err store_agent_enroll(rf_db *db, const char *device_id, const char *token_hash_hex,
                          const char *hostname, const json_t *labels, int bucket, rf_error *err)
{
    char b[16];
    json_t *empty = labels ? NULL : json_object();
    const json_t *l = labels ? labels : empty;
    char *lab = l ? json_dumps(l, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    PGresult *res = NULL;
    json_t *data = NULL;
    if (lab == NULL) {
        json_decref(empty);
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    }
    rf_snprintf(b, sizeof(b), "%d", bucket);
    const char *p[] = {device_id, token_hash_hex, hostname ? hostname : "", lab, b};
    rf_err rc = store_begin(db);
    if (rc == RF_OK)
        rc = store_exec(db, "agent_enroll",
                        "INSERT INTO devices (id, token_hash, hostname, labels, bucket) "
                        "VALUES ($1, decode($2, 'hex'), $3, $4::jsonb, $5)",
                        5, p, &res, err);
    if (rc == RF_OK) {
        data = json_pack("{s:s, s:O, s:i}", "hostname", hostname ? hostname : "", "labels", l,
                         "bucket", bucket);
        rc = store_event_add(db, "device.enrolled", "enrollment", 0, device_id, data);
    }
    if (rc == RF_OK)
        rc = store_commit(db);
    if (rc != RF_OK)
        store_rollback(db);
    json_decref(data);
    json_decref(empty);
    PQclear(res);
    free(lab);
    return rc;
}

/* Parses one "ring:percent:cut_bucket:cut_device" item of len bytes. */
static int parse_stage_item(const ring_index *ix, const char *p, size_t len, int i,
                            assign_rollout *r)
{
    char item[160], *f[4] = {0};
    long long ring = 0, pct = 0, cut = 0;
    if (len == 0 || len >= sizeof(item))
        return -1;
    memcpy(item, p, len);
    item[len] = '\0';
    f[0] = item;
    for (int k = 1; k < 4; k++) {
        char *c = strchr(f[k - 1], ':');
        if (c == NULL)
            return -1;
        *c = '\0';
        f[k] = c + 1;
    }
    if (rf_parse_ll(f[0], 1, 0x7fffffffffffffffLL, &ring) != RF_OK ||
        rf_parse_ll(f[1], 1, 100, &pct) != RF_OK || rf_parse_ll(f[2], -1, 9999, &cut) != RF_OK ||
        strlen(f[3]) > 32)
        return -1;
    r->stage_ring_pos[i] = ring_index_pos(ix, ring);
    memset(&r->share[i], 0, sizeof(r->share[i]));
    r->share[i].percent = (int)pct;
    if (cut >= 0 && f[3][0] != '\0') {
        r->share[i].has_cut = 1;
        r->share[i].cut.salted = (uint32_t)cut;
        memcpy(r->share[i].cut.id, f[3], strlen(f[3]) + 1);
    }
    return 0;
}

int agent_plan_parse(const ring_index *ix, const char *text, assign_rollout *r)
{
    int n = 0;
    const char *p = text ? text : "";
    r->nstages = 0;
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        if (n >= ROLLOUT_MAX_STAGES || parse_stage_item(ix, p, len, n, r) != 0) {
            r->nstages = 0; /* an unreadable plan offers nothing */
            return -1;
        }
        n++;
        p += len;
        if (*p == ',')
            p++;
    }
    r->nstages = n;
    return n;
}

int agent_device_stage(const ring_index *ix, const assign_rollout *r, const char *salt,
                       const char *device_id, const json_t *labels, int bucket)
{
    assign_device d;
    memset(&d, 0, sizeof(d));
    d.ring_pos = ring_index_of(ix, device_id, labels, bucket);
    assign_key_make(salt, device_id, &d.key);
    return assign_stage_of(r, &d);
}

void store_agent_assign_inputs_cleanup(agent_assign_inputs *in)
{
    if (in == NULL)
        return;
    free(in->ch);
    in->ch = NULL;
    in->n = 0;
}

/* What the device is, where it stands, and the database clock. */
typedef struct dev_facts {
    const char *id;
    int ring_pos;
    long long ring_id;
    int excluded;
    int64_t now_s;
} dev_facts;

static rf_err device_facts(rf_db *db, const ring_index *ix, dev_facts *f, rf_error *err)
{
    const char *p[] = {f->id};
    PGresult *res = NULL;
    rf_err rc = store_exec(db, "agent_device",
                           "SELECT labels::text, bucket, floor(extract(epoch FROM now()))::bigint, "
                           "EXISTS (SELECT 1 FROM exclusions x WHERE x.device_id = d.id) "
                           "FROM devices d WHERE id = $1",
                           1, p, &res, err);
    if (rc == RF_OK && PQntuples(res) != 1)
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "device %s not found", f->id);
    if (rc == RF_OK) {
        json_t *labels = json_loads(store_get(res, 0, 0) ? store_get(res, 0, 0) : "{}", 0, NULL);
        f->ring_pos = ring_index_of(ix, f->id, labels, (int)store_get_ll(res, 0, 1));
        f->ring_id = f->ring_pos >= 0 ? ix->rings.items[f->ring_pos].id : 0;
        f->now_s = store_get_ll(res, 0, 2);
        f->excluded = store_get(res, 0, 3) != NULL && store_get(res, 0, 3)[0] == 't';
        json_decref(labels);
    }
    PQclear(res);
    return rc;
}

static void parse_bundle(const PGresult *res, int i, int col, agent_bundle *b)
{
    memset(b, 0, sizeof(*b));
    if (store_is_null(res, i, col))
        return;
    b->id = store_get_ll(res, i, col);
    rf_copy_str(b->name, sizeof(b->name), store_get(res, i, col + 1));
    rf_copy_str(b->version, sizeof(b->version), store_get(res, i, col + 2));
    rf_copy_str(b->sha256, sizeof(b->sha256), store_get(res, i, col + 3));
    b->length = store_get_ll(res, i, col + 4);
}

/* The channel's latest started rollout: by start time, then id. A device is
 * exposed when it has an exposure row or reports installing or running the
 * bundle; it failed the bundle itself when it rolled it back or failed to
 * install it (recorded, or in its latest report). Then what the device
 * reports on the channel, and its pin: a device pin before a ring pin. */
#define LATEST_ROLLOUTS_SQL                                                                        \
    "SELECT r.id, r.channel, r.state, r.stage, coalesce(r.policy->>'on_halt', 'revert'), "         \
    "b.id, b.name, b.version, b.sha256, b.length, "                                                \
    "p.id, p.name, p.version, p.sha256, p.length, " AGENT_PLAN_SQL(                                \
        "r") ", "                                                                                  \
             "EXISTS (SELECT 1 FROM exposures e WHERE e.rollout_id = r.id AND e.device_id = $1) "  \
             "OR "                                                                                 \
             "EXISTS (SELECT 1 FROM device_channels c WHERE c.device_id = $1 AND c.channel = "     \
             "r.channel "                                                                          \
             " AND (c.bundle_id = r.bundle_id OR (c.target_bundle_id = r.bundle_id AND c.state "   \
             "IN "                                                                                 \
             " ('installing', 'install_failed', 'rolled_back')))), "                               \
             "EXISTS (SELECT 1 FROM exposures e WHERE e.rollout_id = r.id AND e.device_id = $1 "   \
             " AND e.failure IN ('install_failed', 'rolled_back')) OR "                            \
             "EXISTS (SELECT 1 FROM device_channels c WHERE c.device_id = $1 AND c.channel = "     \
             "r.channel "                                                                          \
             " AND c.target_bundle_id = r.bundle_id AND c.state IN ('install_failed', "            \
             "'rolled_back')), "                                                                   \
             "r.salt, coalesce(dc.bundle_id, 0), "                                                 \
             "CASE WHEN dc.state = 'installing' THEN coalesce(dc.target_bundle_id, 0) ELSE 0 "     \
             "END, "                                                                               \
             "q.id, q.name, q.version, q.sha256, q.length, "                                       \
             "coalesce((r.halt->>'stage')::int, -1) "                                              \
             "FROM (SELECT DISTINCT ON (channel) * FROM rollouts WHERE state <> 'draft' "          \
             " ORDER BY channel, started_at DESC NULLS LAST, id DESC) r "                          \
             "JOIN bundles b ON b.id = r.bundle_id LEFT JOIN bundles p ON p.id = "                 \
             "r.previous_bundle_id "                                                               \
             "LEFT JOIN device_channels dc ON dc.device_id = $1 AND dc.channel = r.channel "       \
             "LEFT JOIN LATERAL (SELECT pn.bundle_id FROM pins pn WHERE pn.channel = r.channel "   \
             "AND "                                                                                \
             " (pn.device_id = $1 OR pn.ring_id = $2::bigint) ORDER BY pn.device_id IS NULL "      \
             "LIMIT 1) pin "                                                                       \
             " ON true LEFT JOIN bundles q ON q.id = pin.bundle_id "                               \
             "ORDER BY r.channel LIMIT 256"

static void parse_channel(const PGresult *res, int i, const ring_index *ix, const dev_facts *f,
                          agent_assign_inputs *in, agent_channel_input *c)
{
    memset(c, 0, sizeof(*c));
    c->rollout_id = store_get_ll(res, i, 0);
    rf_copy_str(c->channel, sizeof(c->channel), store_get(res, i, 1));
    if (rollout_state_parse(store_get(res, i, 2), &c->rollout.state) != 0)
        c->rollout.state = ROLLOUT_REVERTED; /* unreachable (CHECK); the safe reading */
    c->rollout.stage = (int)store_get_ll(res, i, 3);
    const char *on_halt = store_get(res, i, 4);
    c->rollout.on_halt_revert = on_halt == NULL || strcmp(on_halt, "revert") == 0;
    c->rollout.on_halt_revert_stage = on_halt != NULL && strcmp(on_halt, "revert_stage") == 0;
    c->rollout.halted_stage = (int)store_get_ll(res, i, 26);
    parse_bundle(res, i, 5, &c->bundle);
    parse_bundle(res, i, 10, &c->previous);
    parse_bundle(res, i, 21, &c->pinned);
    c->rollout.bundle_id = c->bundle.id;
    c->rollout.previous_bundle_id = c->previous.id;
    agent_plan_parse(ix, store_get(res, i, 15), &c->rollout);
    c->device.ring_pos = f->ring_pos;
    c->device.exposed = (int)store_get_ll(res, i, 16);
    c->device.failed_itself = (int)store_get_ll(res, i, 17);
    assign_key_make(store_get(res, i, 18), f->id, &c->device.key);
    c->device.current_bundle_id = store_get_ll(res, i, 19);
    c->device.installing_bundle_id = store_get_ll(res, i, 20);
    c->device.pin_bundle_id = c->pinned.id;
    c->device.excluded = f->excluded;
    c->device.windows = in->windows;
    c->device.nwindows = in->nwindows;
    c->device.now_s = f->now_s;
}

rf_err store_agent_assign_inputs(rf_db *db, const char *device_id, agent_assign_inputs *out,
                                 rf_error *err)
{
    ring_index ix;
    PGresult *res = NULL;
    dev_facts f = {.id = device_id, .ring_pos = -1};
    char ring[24];
    memset(out, 0, sizeof(*out));
    rf_err rc = ring_index_load(db, &ix, err);
    if (rc != RF_OK)
        return rc;
    rc = device_facts(db, &ix, &f, err);
    if (rc != RF_OK)
        goto out;
    if (f.ring_pos >= 0) {
        const assign_ring *g = &ix.sel[f.ring_pos];
        out->nwindows = g->nwindows < ASSIGN_MAX_WINDOWS ? g->nwindows : ASSIGN_MAX_WINDOWS;
        if (out->nwindows > 0)
            memcpy(out->windows, g->windows, (size_t)out->nwindows * sizeof(*g->windows));
    }
    rf_snprintf(ring, sizeof(ring), "%lld", f.ring_id);
    const char *p[] = {device_id, ring};
    rc = store_exec(db, "agent_latest_rollouts", LATEST_ROLLOUTS_SQL, 2, p, &res, err);
    if (rc != RF_OK)
        goto out;
    int n = PQntuples(res);
    out->ch = calloc(n > 0 ? (size_t)n : 1, sizeof(*out->ch));
    if (out->ch == NULL) {
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n && i < AGENT_MAX_ASSIGN_CHANNELS; i++)
        parse_channel(res, i, &ix, &f, out, &out->ch[out->n++]);
out:
    PQclear(res);
    ring_index_cleanup(&ix);
    if (rc != RF_OK)
        store_agent_assign_inputs_cleanup(out);
    return rc;
}

rf_err store_agent_counter(rf_db *db, const char *device_id, const char *digest_hex,
                           long long *counter, rf_error *err)
{
    const char *p[] = {device_id, digest_hex};
    PGresult *res = NULL;
    *counter = 0;
    rf_err rc = store_exec(db, "agent_counter_bump",
                           "UPDATE devices SET assign_counter = assign_counter + 1, "
                           "assign_digest = $2 WHERE id = $1 AND assign_digest <> $2 "
                           "RETURNING assign_counter",
                           2, p, &res, err);
    if (rc == RF_OK && PQntuples(res) == 1) {
        *counter = store_get_ll(res, 0, 0);
        goto out;
    }
    PQclear(res);
    res = NULL;
    if (rc == RF_OK)
        rc = store_exec(db, "agent_counter_get", "SELECT assign_counter FROM devices WHERE id = $1",
                        1, p, &res, err);
    if (rc == RF_OK && PQntuples(res) != 1)
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "device %s not found", device_id);
    if (rc == RF_OK)
        *counter = store_get_ll(res, 0, 0);
out:
    PQclear(res);
    return rc;
}
