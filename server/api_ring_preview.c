/* POST /v1/rings/preview: what a candidate ring set, or one ring added,
 * replaced or deleted, would do to the fleet — devices per ring, devices
 * selected by more than one ring, devices that would move — and whether
 * saving it would be refused now. Nothing is written. Membership is decided
 * by the same ring_index/assign.c code the assignments use. */
#include "api_common.h"
#include "api_ring.h"
#include "rf_util.h"
#include "store_device.h"

#include <stdlib.h>
#include <string.h>

#define PREVIEW_MAX_RINGS 1024
#define PAIRS_MAX_RINGS 128 /* per-pair overlaps are counted up to this many rings */
#define ALL_DEVICES 100000000

/* A copy of g sharing its JSON values (new references). */
static store_ring share(const store_ring *g)
{
    store_ring c = *g;
    c.labels = json_incref(g->labels);
    c.members = json_incref(g->members);
    c.windows = json_incref(g->windows);
    return c;
}

static int cmp_order(const void *a, const void *b)
{
    const store_ring *x = a, *y = b;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int find(const store_ring_list *l, long long id)
{
    for (size_t i = 0; id > 0 && i < l->n; i++)
        if (l->items[i].id == id)
            return (int)i;
    return -1;
}

/* The candidate after the body's change; *refused gets the first reason
 * saving it would be refused now ("" if none). */
typedef struct candidate {
    store_ring_list list;
    char refused[256];
} candidate;

static void note_refusal(rf_db *db, candidate *c, const store_ring *have, const store_ring *want)
{
    rf_error e = {0};
    if (c->refused[0] != '\0')
        return;
    rf_err rc = api_ring_save_check(db, have, want, &e);
    if (rc == RF_OK && want == NULL && store_ring_check_unused(db, have->id, 1, &e) != RF_OK)
        rc = RF_ERR_CONFLICT;
    if (rc != RF_OK)
        rf_snprintf(c->refused, sizeof(c->refused), "%s", e.message);
}

static rf_err add(candidate *c, store_ring g, rf_error *err)
{
    if (c->list.n >= PREVIEW_MAX_RINGS) {
        store_ring_cleanup(&g);
        return rf_error_set(err, RF_ERR_INVALID, "at most %d rings", PREVIEW_MAX_RINGS);
    }
    c->list.items[c->list.n++] = g;
    return RF_OK;
}

static rf_err from_set(rf_db *db, const store_ring_list *cur, const json_t *rings, candidate *c,
                       rf_error *err)
{
    char path[48];
    if (!json_is_array(rings) || json_array_size(rings) > PREVIEW_MAX_RINGS)
        return rf_error_set(err, RF_ERR_INVALID,
                            "field 'rings': must be a list of at most %d rings", PREVIEW_MAX_RINGS);
    for (size_t i = 0; i < json_array_size(rings); i++) {
        store_ring g;
        rf_snprintf(path, sizeof(path), "rings[%zu].", i);
        rf_err rc = api_ring_parse(json_array_get(rings, i), path, 1, &g, err);
        if (rc != RF_OK)
            return rc;
        int at = find(cur, g.id);
        if (g.id > 0 && at < 0) {
            store_ring_cleanup(&g);
            return rf_error_set(err, RF_ERR_INVALID, "field 'rings[%zu].id': no ring %lld", i,
                                g.id);
        }
        note_refusal(db, c, at >= 0 ? &cur->items[at] : NULL, &g);
        if ((rc = add(c, g, err)) != RF_OK)
            return rc;
    }
    for (size_t i = 0; i < cur->n; i++)
        if (find(&c->list, cur->items[i].id) < 0)
            note_refusal(db, c, &cur->items[i], NULL);
    return RF_OK;
}

static rf_err from_one(rf_db *db, const store_ring_list *cur, const json_t *ring, long long del,
                       candidate *c, rf_error *err)
{
    store_ring g = {0};
    int at = -1;
    if (ring != NULL) {
        rf_err rc = api_ring_parse(ring, "ring.", 1, &g, err);
        if (rc != RF_OK)
            return rc;
        at = find(cur, g.id);
        if (g.id > 0 && at < 0) {
            store_ring_cleanup(&g);
            return rf_error_set(err, RF_ERR_INVALID, "field 'ring.id': no ring %lld", g.id);
        }
    } else if ((at = find(cur, del)) < 0) {
        return rf_error_set(err, RF_ERR_INVALID, "field 'delete': no ring %lld", del);
    }
    note_refusal(db, c, at >= 0 ? &cur->items[at] : NULL, ring ? &g : NULL);
    for (size_t i = 0; i < cur->n; i++) {
        rf_err rc = RF_OK;
        if ((int)i != at)
            rc = add(c, share(&cur->items[i]), err);
        else if (ring != NULL)
            rc = add(c, g, err), g.labels = g.members = g.windows = NULL;
        if (rc != RF_OK)
            return rc;
    }
    if (ring != NULL && at < 0)
        return add(c, g, err);
    store_ring_cleanup(&g);
    return RF_OK;
}

/* Names and orders must stay unique within the candidate. */
static rf_err check_unique(const store_ring_list *l, rf_error *err)
{
    for (size_t i = 0; i < l->n; i++)
        for (size_t j = 0; j < i; j++) {
            if (l->items[i].order == l->items[j].order)
                return rf_error_set(err, RF_ERR_INVALID, "order %d is used by '%s' and '%s'",
                                    l->items[i].order, l->items[j].name, l->items[i].name);
            if (strcmp(l->items[i].name, l->items[j].name) == 0)
                return rf_error_set(err, RF_ERR_INVALID, "name '%s' is used twice",
                                    l->items[i].name);
        }
    return RF_OK;
}

static rf_err build(rf_db *db, const json_t *body, const store_ring_list *cur, candidate *c,
                    rf_error *err)
{
    static const char *const keys[] = {"rings", "ring", "delete"};
    const json_t *v[3];
    int given = 0;
    long long del = 0;
    for (int k = 0; k < 3; k++)
        given += (v[k] = json_object_get(body, keys[k])) != NULL;
    if (given != 1 || json_object_size(body) != 1)
        return rf_error_set(err, RF_ERR_INVALID,
                            "body: give exactly one of 'rings' (a whole ring set), 'ring' (one "
                            "ring to add or replace) or 'delete' (a ring id)");
    c->list.items = calloc(PREVIEW_MAX_RINGS, sizeof(*c->list.items));
    if (c->list.items == NULL)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    rf_err rc;
    if (v[0] != NULL)
        rc = from_set(db, cur, v[0], c, err);
    else if (v[1] != NULL)
        rc = from_one(db, cur, v[1], 0, c, err);
    else if (!json_is_integer(v[2]) || (del = json_integer_value(v[2])) < 1)
        rc = rf_error_set(err, RF_ERR_INVALID, "field 'delete': must be a ring id");
    else
        rc = from_one(db, cur, NULL, del, c, err);
    if (rc == RF_OK)
        rc = check_unique(&c->list, err);
    if (rc == RF_OK)
        qsort(c->list.items, c->list.n, sizeof(*c->list.items), cmp_order);
    return rc;
}

/* Per-ring and per-pair figures over every device. */
typedef struct figures {
    long long *devices, *now, *selected, *pairs;
    long long total, unassigned, moved, overlapping;
} figures;

static void count_device(const ring_index *cur, const ring_index *cand, const store_device *d,
                         figures *f)
{
    size_t n = cand->rings.n;
    int was = ring_index_of(cur, d->id, d->labels, d->bucket);
    int will = ring_index_of(cand, d->id, d->labels, d->bucket);
    long long was_id = was >= 0 ? cur->rings.items[was].id : -1;
    long long will_id = will >= 0 ? cand->rings.items[will].id : -1;
    int sel[PAIRS_MAX_RINGS], nsel = 0, many = 0;
    f->total++;
    if (was >= 0)
        f->now[was]++;
    if (will >= 0)
        f->devices[will]++;
    else
        f->unassigned++;
    f->moved += will_id == 0 || was_id != will_id;
    for (size_t i = 0; i < n; i++) {
        if (!assign_ring_selects(&cand->sel[i], d->id, d->labels, (uint32_t)d->bucket))
            continue;
        f->selected[i]++;
        many++;
        if (n <= PAIRS_MAX_RINGS) {
            for (int k = 0; k < nsel; k++)
                f->pairs[(size_t)sel[k] * n + i]++;
            sel[nsel++] = (int)i;
        }
    }
    f->overlapping += many > 1;
}

static json_t *figures_json(const ring_index *cur, const ring_index *cand, const figures *f,
                            const char *refused)
{
    size_t n = cand->rings.n;
    json_t *rings = json_array(), *pairs = json_array();
    for (size_t i = 0; i < n; i++) {
        const store_ring *g = &cand->rings.items[i];
        int was = ring_index_pos(cur, g->id);
        json_array_append_new(
            rings, json_pack("{s:o, s:s, s:i, s:I, s:o, s:I}", "id",
                             g->id > 0 ? json_integer(g->id) : json_null(), "name", g->name,
                             "order", g->order, "devices", (json_int_t)f->devices[i], "devices_now",
                             g->id > 0 && was >= 0 ? json_integer(f->now[was]) : json_null(),
                             "selected", (json_int_t)f->selected[i]));
    }
    for (size_t i = 0; n <= PAIRS_MAX_RINGS && i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (f->pairs[i * n + j] > 0)
                json_array_append_new(pairs, json_pack("{s:[s,s], s:I}", "rings",
                                                       cand->rings.items[i].name,
                                                       cand->rings.items[j].name, "devices",
                                                       (json_int_t)f->pairs[i * n + j]));
    return json_pack("{s:I, s:I, s:I, s:I, s:o, s:o, s:o}", "total", (json_int_t)f->total,
                     "unassigned", (json_int_t)f->unassigned, "moved", (json_int_t)f->moved,
                     "overlapping_devices", (json_int_t)f->overlapping, "rings", rings, "overlaps",
                     pairs, "refused", refused[0] ? json_string(refused) : json_null());
}

static rf_err compute(rf_db *db, const ring_index *cur, const ring_index *cand, const char *refused,
                      json_t **out, rf_error *err)
{
    size_t n = cand->rings.n ? cand->rings.n : 1, m = cur->rings.n ? cur->rings.n : 1;
    figures f = {0};
    store_device_list devs = {0};
    f.devices = calloc(n, sizeof(long long));
    f.selected = calloc(n, sizeof(long long));
    f.now = calloc(m, sizeof(long long));
    f.pairs = n <= PAIRS_MAX_RINGS ? calloc(n * n, sizeof(long long)) : NULL;
    rf_err rc = f.devices && f.selected && f.now && (f.pairs || n > PAIRS_MAX_RINGS)
                    ? store_device_list_all(db, ALL_DEVICES, 0, &devs, err)
                    : rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    for (size_t d = 0; rc == RF_OK && d < devs.n; d++)
        count_device(cur, cand, &devs.items[d], &f);
    if (rc == RF_OK && (*out = figures_json(cur, cand, &f, refused)) == NULL)
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    store_device_list_cleanup(&devs);
    free(f.devices);
    free(f.selected);
    free(f.now);
    free(f.pairs);
    return rc;
}

void api_ring_preview(rf_req *req, rf_resp *resp, rf_db *db)
{
    ring_index cur = {0}, cand = {0};
    candidate c = {0};
    rf_error e = {0};
    json_t *out = NULL;
    json_t *body = rf_req_json_object(req, resp);
    if (body == NULL)
        return;
    rf_err rc = ring_index_load(db, &cur, &e);
    if (rc == RF_OK)
        rc = build(db, body, &cur.rings, &c, &e);
    if (rc == RF_OK)
        rc = ring_index_take(&cand, &c.list, &e);
    if (rc == RF_OK)
        rc = compute(db, &cur, &cand, c.refused, &out, &e);
    if (rc == RF_OK)
        rf_resp_json(resp, 200, out);
    else
        api_fail(resp, rc, &e);
    store_ring_list_cleanup(&c.list);
    ring_index_cleanup(&cand);
    ring_index_cleanup(&cur);
    json_decref(body);
}
