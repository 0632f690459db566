/* Cursor pagination and filters for the list routes (devices, rollouts,
 * bundles, webhooks and their deliveries): reads and checks `limit`, `cursor` and the filters named
 * in the query string, for the handler to hand to its store query (keyset pagination in SQL), and
 * shapes the answer. A cursor is opaque to clients (the hex form of the last item's key), so lists
 * may change their key later without breaking them; it stays valid when items are added or removed.
 * It never touches the database, and a list asked for without `limit` is answered whole, as before.
 */
#include "api_dash.h"
#include "rf_crypto.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

#define PAGE_MAX 1000
#define MAX_LABELS 8
#define LABELS_MAX_LEN 511

static const char kind_letter[] = {'d', 'r', 'b', 'w', 'l'};

/* Which filters each kind takes: channel, state, ring, label, version,
 * bundle_id, online. */
static const unsigned char allowed[5][7] = {
    {1, 1, 1, 1, 1, 1, 1}, /* devices */
    {1, 1, 1, 0, 1, 1, 0}, /* rollouts */
    {1, 0, 0, 0, 1, 0, 0}, /* bundles */
    {0, 0, 0, 0, 0, 0, 0}, /* webhooks */
    {0, 1, 0, 0, 0, 0, 0}, /* webhook deliveries */
};
static const char *const filter_names[7] = {"channel", "state",     "ring",  "label",
                                            "version", "bundle_id", "online"};

static rf_err label_error(rf_error *err)
{
    return rf_error_set(err, RF_ERR_INVALID,
                        "parameter 'label': must be KEY=VALUE[,KEY=VALUE] (at most %d)",
                        MAX_LABELS);
}

/* Adds one KEY=VALUE to the labels object; a key asked twice with two values,
 * or text no stored label can hold, matches nothing. */
static void add_label(json_t *obj, const char *k, const char *v, api_page_query *q)
{
    const json_t *have = json_object_get(obj, k);
    json_t *val;

    if (have) {
        if (strcmp(json_string_value(have), v) != 0)
            q->match_none = 1;
        return;
    }
    val = json_string(v);
    if (!val || json_object_set_new(obj, k, val) != 0)
        q->match_none = 1;
}

static rf_err parse_labels(const char *v, api_page_query *q, rf_error *err)
{
    char buf[LABELS_MAX_LEN + 1];
    char *p = buf;
    size_t len = strlen(v);
    int n = 0;
    json_t *obj;

    if (len > LABELS_MAX_LEN)
        return rf_error_set(err, RF_ERR_INVALID, "parameter 'label': too long");
    memcpy(buf, v, len + 1);
    obj = json_object();
    if (!obj)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    while (p && *p) {
        char *comma = strchr(p, ','), *eq;
        if (comma)
            *comma = '\0';
        eq = strchr(p, '=');
        if (!eq || eq == p || n == MAX_LABELS) {
            json_decref(obj);
            return label_error(err);
        }
        *eq = '\0';
        add_label(obj, p, eq + 1, q);
        n++;
        p = comma ? comma + 1 : NULL;
    }
    q->labels = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(obj);
    return q->labels ? RF_OK : rf_error_set(err, RF_ERR_NOMEM, "out of memory");
}

static rf_err parse_filters(const rf_req *req, api_page_kind kind, api_page_query *q, rf_error *err)
{
    const char *bundle_id = NULL, *online = NULL;
    const char **slots[7] = {&q->channel, &q->state,  &q->ring, NULL,
                             &q->version, &bundle_id, &online};
    for (int i = 0; i < 7; i++) {
        const char *v = req->query(req, filter_names[i]);
        if (!v)
            continue;
        if (!allowed[kind][i])
            return rf_error_set(err, RF_ERR_INVALID, "parameter '%s': not a filter of this list",
                                filter_names[i]);
        if (slots[i])
            *slots[i] = v;
        else if (parse_labels(v, q, err) != RF_OK)
            return RF_ERR_INVALID;
    }
    if (bundle_id && rf_parse_ll(bundle_id, 1, INT64_MAX, &q->bundle_id) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "parameter 'bundle_id': must be a bundle id");
    if (online && strcmp(online, "true") != 0 && strcmp(online, "false") != 0)
        return rf_error_set(err, RF_ERR_INVALID, "parameter 'online': must be true or false");
    q->online = online ? strcmp(online, "true") == 0 : -1;
    if (q->ring && rf_parse_ll(q->ring, 1, INT64_MAX, &q->ring_id) != RF_OK)
        q->ring_id = 0;
    return RF_OK;
}

static rf_err cursor_error(rf_error *err)
{
    return rf_error_set(err, RF_ERR_INVALID,
                        "parameter 'cursor': not a cursor of this list (use 'next' as given)");
}

/* The key of a cursor of this kind's list: devices a device id (hex),
 * rollouts and bundles an id. */
static rf_err decode_cursor(api_page_kind kind, const char *cur, api_page_query *q, rf_error *err)
{
    uint8_t raw[API_PAGE_KEY_MAX + 1];
    size_t n = strlen(cur), klen;

    if (n < 4 || n % 2 || n / 2 > API_PAGE_KEY_MAX || rf_hex_decode(cur, raw, n / 2) != RF_OK ||
        raw[0] != (uint8_t)kind_letter[kind])
        return cursor_error(err);
    klen = n / 2 - 1;
    memcpy(q->cursor, raw + 1, klen);
    q->cursor[klen] = '\0';
    for (size_t i = 0; i < klen; i++) {
        char c = q->cursor[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return cursor_error(err);
    }
    if (kind != API_PAGE_DEVICES && rf_parse_ll(q->cursor, 1, INT64_MAX, &q->cursor_id) != RF_OK)
        return cursor_error(err);
    return RF_OK;
}

rf_err api_page_parse(const rf_req *req, api_page_kind kind, api_page_query *q, rf_error *err)
{
    const char *v = req->query(req, "limit");
    const char *c = req->query(req, "cursor");
    rf_err rc;

    memset(q, 0, sizeof(*q));
    q->online = -1;
    rc = parse_filters(req, kind, q, err);
    if (rc != RF_OK)
        return rc;
    if (v && rf_parse_ll(v, 1, PAGE_MAX, &q->limit) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "parameter 'limit': must be an integer 1-%d",
                            PAGE_MAX);
    if (c && decode_cursor(kind, c, q, err) != RF_OK)
        return RF_ERR_INVALID;
    return RF_OK;
}

void api_page_query_cleanup(api_page_query *q)
{
    if (!q)
        return;
    free(q->labels);
    q->labels = NULL;
}

int api_page_ring_matches(const api_page_query *q, const char *ring, long long ring_id)
{
    if (!q->ring)
        return 1;
    if (ring && strcmp(ring, q->ring) == 0)
        return 1;
    return ring_id > 0 && q->ring_id == ring_id;
}

static char *encode_cursor(api_page_kind kind, const char *key)
{
    char raw[API_PAGE_KEY_MAX + 2];
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

void api_page_reply(rf_resp *resp, api_page_kind kind, const char *name, json_t *page,
                    const char *last_key)
{
    char *next = last_key ? encode_cursor(kind, last_key) : NULL;

    if (!page || (last_key && !next)) {
        json_decref(page);
        free(next);
        rf_resp_error(resp, RF_ERR_NOMEM, "out of memory");
        return;
    }
    rf_resp_json(
        resp, 200,
        json_pack("{s:o,s:o}", name, page, "next", next ? json_string(next) : json_null()));
    free(next);
}
