/* Named queries for agents: enrollment, the inputs of a device's assignment
 * (rings, the device, each channel's latest started rollout) and the
 * assignment counter. The assignment itself is decided by assign.c; this file
 * only loads what it needs. It never takes a device id from anywhere but its
 * caller, who took it from the device's token. */
#include "store_agent.h"
#include "store_agent_internal.h"
#include "store_internal.h"
#include "rf_cohort.h"
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

void agent_rings_cleanup(agent_rings *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < r->n; i++)
        json_decref(r->labels[i]);
    free(r->labels);
    free(r->sel);
    memset(r, 0, sizeof(*r));
}

rf_err agent_rings_load(rf_db *db, agent_rings *out, rf_error *err)
{
    PGresult *res = NULL;
    memset(out, 0, sizeof(*out));
    rf_err rc = store_exec(db, "agent_rings",
                           "SELECT id, ord, labels::text, bucket_lo, bucket_hi FROM rings "
                           "ORDER BY ord LIMIT " AGENT_MAX_RINGS_STR,
                           0, NULL, &res, err);
    if (rc != RF_OK)
        goto out;
    int n = PQntuples(res);
    out->sel = calloc(n > 0 ? (size_t)n : 1, sizeof(*out->sel));
    out->labels = calloc(n > 0 ? (size_t)n : 1, sizeof(*out->labels));
    if (out->sel == NULL || out->labels == NULL) {
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        json_t *l = json_loads(store_get(res, i, 2) ? store_get(res, i, 2) : "{}", 0, NULL);
        out->labels[i] = json_is_object(l) ? l : json_object();
        if (!json_is_object(l))
            json_decref(l);
        out->sel[i].id = store_get_ll(res, i, 0);
        out->sel[i].order = (int)store_get_ll(res, i, 1);
        out->sel[i].labels = out->labels[i];
        out->sel[i].bucket_lo = (int)store_get_ll(res, i, 3);
        out->sel[i].bucket_hi = (int)store_get_ll(res, i, 4);
        out->n++;
    }
out:
    PQclear(res);
    if (rc != RF_OK)
        agent_rings_cleanup(out);
    return rc;
}

int agent_rings_pos_of_id(const agent_rings *r, long long ring_id)
{
    for (int i = 0; i < r->n; i++)
        if (r->sel[i].id == ring_id)
            return i;
    return -1;
}

int agent_stage_positions(const agent_rings *r, const char *csv, int pos[ROLLOUT_MAX_STAGES])
{
    int n = 0;
    const char *p = csv ? csv : "";
    while (*p != '\0' && n < ROLLOUT_MAX_STAGES) {
        char num[24];
        size_t len = strcspn(p, ",");
        long long id = 0;
        if (len >= sizeof(num) || len == 0)
            return -1;
        memcpy(num, p, len);
        num[len] = '\0';
        if (rf_parse_ll(num, 1, 0x7fffffffffffffffLL, &id) != RF_OK)
            return -1;
        pos[n++] = agent_rings_pos_of_id(r, id);
        p += len;
        if (*p == ',')
            p++;
    }
    return n;
}

void store_agent_assign_inputs_cleanup(agent_assign_inputs *in)
{
    if (in == NULL)
        return;
    free(in->ch);
    in->ch = NULL;
    in->n = 0;
}

/* The device's labels and bucket, and its ring position. */
static rf_err device_ring_pos(rf_db *db, const char *device_id, const agent_rings *rings, int *pos,
                              rf_error *err)
{
    const char *p[] = {device_id};
    PGresult *res = NULL;
    rf_err rc = store_exec(db, "agent_device",
                           "SELECT labels::text, bucket FROM devices "
                           "WHERE id = $1",
                           1, p, &res, err);
    if (rc == RF_OK && PQntuples(res) != 1)
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "device %s not found", device_id);
    if (rc == RF_OK) {
        json_t *labels = json_loads(store_get(res, 0, 0) ? store_get(res, 0, 0) : "{}", 0, NULL);
        *pos = rf_ring_of(rings->sel, (size_t)rings->n, labels, (uint32_t)store_get_ll(res, 0, 1));
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
    copy_str(b->name, sizeof(b->name), store_get(res, i, col + 1));
    copy_str(b->version, sizeof(b->version), store_get(res, i, col + 2));
    copy_str(b->sha256, sizeof(b->sha256), store_get(res, i, col + 3));
    b->length = store_get_ll(res, i, col + 4);
}

/* The channel's latest started rollout: by start time, then id. A device is
 * exposed when it has an exposure row or reports installing or running the
 * bundle; it failed the bundle itself when it rolled it back or failed to
 * install it (recorded, or in its latest report). */
#define LATEST_ROLLOUTS_SQL                                                                        \
    "SELECT r.id, r.channel, r.state, r.stage, coalesce(r.policy->>'on_halt', 'revert'), "         \
    "b.id, b.name, b.version, b.sha256, b.length, "                                                \
    "p.id, p.name, p.version, p.sha256, p.length, "                                                \
    "(SELECT string_agg(s.ring_id::text, ',' ORDER BY s.idx) FROM rollout_stages s "               \
    " WHERE s.rollout_id = r.id), "                                                                \
    "EXISTS (SELECT 1 FROM exposures e WHERE e.rollout_id = r.id AND e.device_id = $1) OR "        \
    "EXISTS (SELECT 1 FROM device_channels c WHERE c.device_id = $1 AND c.channel = r.channel "    \
    " AND (c.bundle_id = r.bundle_id OR (c.target_bundle_id = r.bundle_id AND c.state IN "         \
    " ('installing', 'install_failed', 'rolled_back')))), "                                        \
    "EXISTS (SELECT 1 FROM exposures e WHERE e.rollout_id = r.id AND e.device_id = $1 "            \
    " AND e.failure IN ('install_failed', 'rolled_back')) OR "                                     \
    "EXISTS (SELECT 1 FROM device_channels c WHERE c.device_id = $1 AND c.channel = r.channel "    \
    " AND c.target_bundle_id = r.bundle_id AND c.state IN ('install_failed', 'rolled_back')) "     \
    "FROM (SELECT DISTINCT ON (channel) * FROM rollouts WHERE state <> 'draft' "                   \
    " ORDER BY channel, started_at DESC NULLS LAST, id DESC) r "                                   \
    "JOIN bundles b ON b.id = r.bundle_id LEFT JOIN bundles p ON p.id = r.previous_bundle_id "     \
    "ORDER BY r.channel LIMIT 256"

static void parse_channel(const PGresult *res, int i, const agent_rings *rings, int ring_pos,
                          agent_channel_input *c)
{
    memset(c, 0, sizeof(*c));
    c->rollout_id = store_get_ll(res, i, 0);
    copy_str(c->channel, sizeof(c->channel), store_get(res, i, 1));
    if (rollout_state_parse(store_get(res, i, 2), &c->rollout.state) != 0)
        c->rollout.state = ROLLOUT_REVERTED; /* unreachable (CHECK); the safe reading */
    c->rollout.stage = (int)store_get_ll(res, i, 3);
    const char *on_halt = store_get(res, i, 4);
    c->rollout.on_halt_revert = on_halt == NULL || strcmp(on_halt, "pause") != 0;
    parse_bundle(res, i, 5, &c->bundle);
    parse_bundle(res, i, 10, &c->previous);
    c->rollout.bundle_id = c->bundle.id;
    c->rollout.previous_bundle_id = c->previous.id;
    int n = agent_stage_positions(rings, store_get(res, i, 15), c->rollout.stage_ring_pos);
    c->rollout.nstages = n < 0 ? 0 : n; /* an unreadable plan offers nothing */
    c->device.ring_pos = ring_pos;
    c->device.exposed = (int)store_get_ll(res, i, 16);
    c->device.failed_itself = (int)store_get_ll(res, i, 17);
}

rf_err store_agent_assign_inputs(rf_db *db, const char *device_id, agent_assign_inputs *out,
                                 rf_error *err)
{
    agent_rings rings;
    PGresult *res = NULL;
    int pos = -1;
    memset(out, 0, sizeof(*out));
    rf_err rc = agent_rings_load(db, &rings, err);
    if (rc != RF_OK)
        return rc;
    rc = device_ring_pos(db, device_id, &rings, &pos, err);
    if (rc != RF_OK)
        goto out;
    const char *p[] = {device_id};
    rc = store_exec(db, "agent_latest_rollouts", LATEST_ROLLOUTS_SQL, 1, p, &res, err);
    if (rc != RF_OK)
        goto out;
    int n = PQntuples(res);
    out->ch = calloc(n > 0 ? (size_t)n : 1, sizeof(*out->ch));
    if (out->ch == NULL) {
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n && i < AGENT_MAX_ASSIGN_CHANNELS; i++)
        parse_channel(res, i, &rings, pos, &out->ch[out->n++]);
out:
    PQclear(res);
    agent_rings_cleanup(&rings);
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
