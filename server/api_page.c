/* Cursor pagination and filters for the list routes (devices, rollouts,
 * bundles), applied to the list a handler built: the filters named in
 * the query string keep the matching items, then `limit` items after the
 * `cursor` make the page. A cursor is opaque to clients (the hex form of the
 * last item's key), so lists may change their key later without breaking
 * them; it stays valid when items are added or removed. It never changes what
 * an item looks like, and a list asked for without `limit` is answered whole,
 * as before. */
#include "api_dash.h"
#include "rf_crypto.h"
#include "rf_util.h"
#include "store_dashboard.h"
#include "validate.h"

#include <stdlib.h>
#include <string.h>

#define PAGE_MAX 1000
#define MAX_LABELS 8
#define KEY_MAX 64

static const char kind_letter[] = {'d', 'r', 'b'};

typedef struct filters {
    const char *channel, *state, *ring, *version, *bundle_id, *online;
    const char *label_k[MAX_LABELS], *label_v[MAX_LABELS];
    char label_buf[512];
    int nlabels;
    long long bundle_id_v;
    json_t *version_ids; /* bundle ids of `version` (devices, rollouts) */
} filters;

/* Which filters each kind takes: channel, state, ring, label, version,
 * bundle_id, online. */
static const unsigned char allowed[3][7] = {
    {1, 1, 1, 1, 1, 1, 1}, /* devices */
    {1, 1, 1, 0, 1, 1, 0}, /* rollouts */
    {1, 0, 0, 0, 1, 0, 0}, /* bundles */
};
static const char *const filter_names[7] = {"channel", "state",     "ring",  "label",
                                            "version", "bundle_id", "online"};

static rf_err parse_labels(const char *v, filters *f, rf_error *err)
{
    char *p;
    size_t len = strlen(v);

    if (len >= sizeof(f->label_buf))
        return rf_error_set(err, RF_ERR_INVALID, "parameter 'label': too long");
    memcpy(f->label_buf, v, len + 1);
    p = f->label_buf;
    while (p && *p) {
        char *comma = strchr(p, ','), *eq;
        if (comma)
            *comma = '\0';
        eq = strchr(p, '=');
        if (!eq || eq == p || f->nlabels == MAX_LABELS)
            return rf_error_set(err, RF_ERR_INVALID,
                                "parameter 'label': must be KEY=VALUE[,KEY=VALUE] (at most %d)",
                                MAX_LABELS);
        *eq = '\0';
        f->label_k[f->nlabels] = p;
        f->label_v[f->nlabels++] = eq + 1;
        p = comma ? comma + 1 : NULL;
    }
    return RF_OK;
}

static rf_err parse_filters(const rf_req *req, api_page_kind kind, filters *f, rf_error *err)
{
    const char **slots[7] = {&f->channel, &f->state,     &f->ring,  NULL,
                             &f->version, &f->bundle_id, &f->online};
    for (int i = 0; i < 7; i++) {
        const char *v = req->query(req, filter_names[i]);
        if (!v)
            continue;
        if (!allowed[kind][i])
            return rf_error_set(err, RF_ERR_INVALID, "parameter '%s': not a filter of this list",
                                filter_names[i]);
        if (slots[i])
            *slots[i] = v;
        else if (parse_labels(v, f, err) != RF_OK)
            return RF_ERR_INVALID;
    }
    if (f->bundle_id && rf_parse_ll(f->bundle_id, 1, INT64_MAX, &f->bundle_id_v) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "parameter 'bundle_id': must be a bundle id");
    if (f->online && strcmp(f->online, "true") != 0 && strcmp(f->online, "false") != 0)
        return rf_error_set(err, RF_ERR_INVALID, "parameter 'online': must be true or false");
    return RF_OK;
}

static int str_eq(const json_t *j, const char *s)
{
    return json_is_string(j) && strcmp(json_string_value(j), s) == 0;
}

static int id_in(const json_t *ids, long long id)
{
    for (size_t i = 0; i < json_array_size(ids); i++)
        if (json_integer_value(json_array_get(ids, i)) == id)
            return 1;
    return 0;
}

/* A ring filter matches a ring's name or its id. */
static int ring_matches(const json_t *name, const json_t *id, const char *want)
{
    long long x;

    if (str_eq(name, want))
        return 1;
    return json_is_integer(id) && rf_parse_ll(want, 1, INT64_MAX, &x) == RF_OK &&
           json_integer_value(id) == x;
}

static int labels_match(const filters *f, const json_t *labels)
{
    for (int i = 0; i < f->nlabels; i++)
        if (!str_eq(json_object_get(labels, f->label_k[i]), f->label_v[i]))
            return 0;
    return 1;
}

/* One reported channel of a device against channel-level filters. */
static int channel_matches(const filters *f, const json_t *ch)
{
    const json_t *bid = json_object_get(ch, "bundle_id");

    if (f->state && !str_eq(json_object_get(ch, "state"), f->state))
        return 0;
    if (f->bundle_id && !(json_is_integer(bid) && json_integer_value(bid) == f->bundle_id_v))
        return 0;
    if (f->version && !(json_is_integer(bid) && id_in(f->version_ids, json_integer_value(bid))))
        return 0;
    return 1;
}

static int device_matches(const filters *f, const json_t *d)
{
    const json_t *chans = json_object_get(d, "channels"), *ch;
    const char *name;
    int per_channel = f->state || f->bundle_id || f->version;

    if (f->ring &&
        !ring_matches(json_object_get(d, "ring"), json_object_get(d, "ring_id"), f->ring))
        return 0;
    if (f->online && json_is_true(json_object_get(d, "online")) != (strcmp(f->online, "true") == 0))
        return 0;
    if (!labels_match(f, json_object_get(d, "labels")))
        return 0;
    if (f->channel) {
        ch = json_object_get(chans, f->channel);
        return ch && (!per_channel || channel_matches(f, ch));
    }
    if (!per_channel)
        return 1;
    json_object_foreach((json_t *)chans, name, ch)
    {
        if (channel_matches(f, ch))
            return 1;
    }
    return 0;
}

static int rollout_matches(const filters *f, const json_t *r)
{
    const json_t *stages = json_object_get(r, "stages");
    long long bid = json_integer_value(json_object_get(r, "bundle_id"));
    int found = !f->ring;

    if (f->channel && !str_eq(json_object_get(r, "channel"), f->channel))
        return 0;
    if (f->state && !str_eq(json_object_get(r, "state"), f->state))
        return 0;
    if (f->bundle_id && bid != f->bundle_id_v)
        return 0;
    if (f->version && !id_in(f->version_ids, bid))
        return 0;
    for (size_t i = 0; !found && i < json_array_size(stages); i++) {
        const json_t *s = json_array_get(stages, i);
        found = ring_matches(json_object_get(s, "ring"), json_object_get(s, "ring_id"), f->ring);
    }
    return found;
}

static int item_matches(api_page_kind kind, const filters *f, const json_t *it)
{
    switch (kind) {
    case API_PAGE_DEVICES:
        return device_matches(f, it);
    case API_PAGE_ROLLOUTS:
        return rollout_matches(f, it);
    case API_PAGE_BUNDLES:
    default:
        return (!f->channel || str_eq(json_object_get(it, "channel"), f->channel)) &&
               (!f->version || str_eq(json_object_get(it, "version"), f->version));
    }
}

/* The key of an item as text: its id (devices: the hex id). */
static void item_key(const json_t *it, char out[KEY_MAX])
{
    const json_t *k = json_object_get(it, "id");

    if (json_is_string(k))
        rf_snprintf(out, KEY_MAX, "%s", json_string_value(k));
    else
        rf_snprintf(out, KEY_MAX, "%lld", (long long)json_integer_value(k));
}

/* 1 when item key `k` comes after the cursor key `c` in the list's order. */
static int after_cursor(api_page_kind kind, const char *k, const char *c)
{
    long long a, b;

    if (kind == API_PAGE_DEVICES)
        return strcmp(k, c) > 0;
    if (rf_parse_ll(k, INT64_MIN, INT64_MAX, &a) != RF_OK ||
        rf_parse_ll(c, INT64_MIN, INT64_MAX, &b) != RF_OK)
        return 0;
    return a < b; /* newest first */
}

static char *encode_cursor(api_page_kind kind, const char *key)
{
    char raw[KEY_MAX + 2];
    size_t n;
    char *out;

    raw[0] = kind_letter[kind];
    rf_snprintf(raw + 1, sizeof(raw) - 1, "%s", key);
    n = strlen(raw);
    out = malloc(2 * n + 1);
    if (out)
        rf_hex_encode((const uint8_t *)raw, n, out);
    return out;
}

static rf_err decode_cursor(api_page_kind kind, const char *cur, char key[KEY_MAX], rf_error *err)
{
    uint8_t raw[KEY_MAX + 1];
    size_t n = strlen(cur);

    if (n < 4 || n % 2 || n / 2 > KEY_MAX || rf_hex_decode(cur, raw, n / 2) != RF_OK ||
        raw[0] != (uint8_t)kind_letter[kind])
        return rf_error_set(err, RF_ERR_INVALID,
                            "parameter 'cursor': not a cursor of this list (use 'next' as given)");
    memcpy(key, raw + 1, n / 2 - 1);
    key[n / 2 - 1] = '\0';
    return RF_OK;
}

static rf_err page_params(const rf_req *req, api_page_kind kind, long long *limit,
                          char cursor[KEY_MAX], rf_error *err)
{
    const char *v = req->query(req, "limit");
    const char *c = req->query(req, "cursor");

    *limit = 0;
    cursor[0] = '\0';
    if (v && rf_parse_ll(v, 1, PAGE_MAX, limit) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "parameter 'limit': must be an integer 1-%d",
                            PAGE_MAX);
    if (c && decode_cursor(kind, c, cursor, err) != RF_OK)
        return RF_ERR_INVALID;
    return RF_OK;
}

rf_err api_page_apply(rf_db *db, const rf_req *req, api_page_kind kind, json_t *items, json_t **out,
                      char **next, rf_error *err)
{
    filters f;
    long long limit = 0;
    char cursor[KEY_MAX], key[KEY_MAX] = "";
    rf_err rc;

    *out = NULL;
    *next = NULL;
    memset(&f, 0, sizeof(f));
    rc = parse_filters(req, kind, &f, err);
    if (rc == RF_OK)
        rc = page_params(req, kind, &limit, cursor, err);
    if (rc == RF_OK && f.version && kind != API_PAGE_BUNDLES)
        rc = store_dash_bundles_of_version(db, f.version, f.channel, &f.version_ids, err);
    if (rc != RF_OK)
        return rc;
    *out = json_array();
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        if (!item_matches(kind, &f, it))
            continue;
        item_key(it, key);
        if (cursor[0] && !after_cursor(kind, key, cursor))
            continue;
        if (limit > 0 && (long long)json_array_size(*out) == limit) {
            /* One more matches: the page is full and there is a next one. */
            item_key(json_array_get(*out, json_array_size(*out) - 1), key);
            *next = encode_cursor(kind, key);
            break;
        }
        json_array_append(*out, it);
    }
    json_decref(f.version_ids);
    return RF_OK;
}

void api_page_answer(rf_db *db, const rf_req *req, rf_resp *resp, api_page_kind kind,
                     const char *name, json_t *items)
{
    json_t *page = NULL;
    char *next = NULL;
    rf_error e = {0};

    if (api_page_apply(db, req, kind, items, &page, &next, &e) != RF_OK) {
        rf_resp_error_e(resp, &e);
    } else {
        rf_resp_json(
            resp, 200,
            json_pack("{s:o,s:o}", name, page, "next", next ? json_string(next) : json_null()));
    }
    free(next);
    json_decref(items);
}
