/* The input rules of the webhook routes (see webhook_spec.h). A webhook URL
 * is something the server will POST to, so it is held to a narrow shape:
 * http or https, a plain host and port, visible ASCII, bounded; credentials
 * in it are refused because the signature is what authenticates ringfence.
 * Nothing here does I/O or reads a clock. */
#include "webhook_spec.h"
#include "rf_util.h"
#include "validate.h"

#include <ctype.h>
#include <string.h>

const char *const webhook_event_kinds[] = {
    "rollout.halted",    "rollout.reverted",
    "rollout.created",   "rollout.started",
    "rollout.promoted",  "rollout.approved",
    "rollout.paused",    "rollout.resumed",
    "rollout.completed", NULL,
};

static rf_err url_error(rf_error *err, const char *field, const char *why)
{
    return rf_error_set(err, RF_ERR_INVALID, "field '%s': %s", field, why);
}

/* Checks host[:port] (the authority without user info). */
static rf_err check_authority(const char *field, const char *a, size_t n, rf_error *err)
{
    size_t host_end = n, i = 0;
    if (n == 0)
        return url_error(err, field, "needs a host after the scheme");
    if (a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (close == NULL || close == a + 1)
            return url_error(err, field, "an IPv6 host must be written [address]");
        for (i = 1; a + i < close; i++)
            if (!isxdigit((unsigned char)a[i]) && a[i] != ':' && a[i] != '.')
                return url_error(err, field, "an IPv6 host must be written [address]");
        host_end = (size_t)(close - a) + 1;
    } else {
        const char *colon = memchr(a, ':', n);
        host_end = colon ? (size_t)(colon - a) : n;
        if (host_end == 0)
            return url_error(err, field, "needs a host after the scheme");
        for (i = 0; i < host_end; i++)
            if (!isalnum((unsigned char)a[i]) && a[i] != '.' && a[i] != '-' && a[i] != '_')
                return url_error(err, field,
                                 "the host may hold only letters, digits, '.', '-' and '_'");
    }
    if (host_end == n)
        return RF_OK;
    if (a[host_end] != ':' || n - host_end < 2 || n - host_end > 6)
        return url_error(err, field, "the port must be a number 1-65535");
    long long port = 0;
    for (i = host_end + 1; i < n; i++) {
        if (!isdigit((unsigned char)a[i]))
            return url_error(err, field, "the port must be a number 1-65535");
        port = port * 10 + (a[i] - '0');
    }
    if (port < 1 || port > 65535)
        return url_error(err, field, "the port must be a number 1-65535");
    return RF_OK;
}

rf_err webhook_url_check(const char *field, const char *url, rf_error *err)
{
    size_t len = url ? strlen(url) : 0, skip;
    if (url == NULL)
        return url_error(err, field, "must be a string (an http:// or https:// URL)");
    if (len == 0 || len > WEBHOOK_URL_MAX)
        return rf_error_set(err, RF_ERR_INVALID, "field '%s': must be 1-%d bytes long", field,
                            WEBHOOK_URL_MAX);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
            return url_error(err, field,
                             "must be visible ASCII: no spaces or control characters "
                             "(percent-encode anything else)");
    if (strncmp(url, "http://", 7) == 0)
        skip = 7;
    else if (strncmp(url, "https://", 8) == 0)
        skip = 8;
    else
        return url_error(err, field, "must start with http:// or https://");
    if (strchr(url, '#') != NULL)
        return url_error(err, field, "must not carry a fragment ('#')");
    const char *a = url + skip;
    size_t n = strcspn(a, "/?");
    if (memchr(a, '@', n) != NULL)
        return url_error(err, field,
                         "must not carry a user or password: the signature authenticates "
                         "ringfence to the receiver");
    return check_authority(field, a, n, err);
}

/* The index of kind in webhook_event_kinds, or -1. */
static int kind_index(const char *kind)
{
    for (int i = 0; webhook_event_kinds[i]; i++)
        if (strcmp(kind, webhook_event_kinds[i]) == 0)
            return i;
    return -1;
}

static rf_err parse_events(const json_t *v, webhook_spec *out, rf_error *err)
{
    int seen[WEBHOOK_MAX_EVENTS * 2] = {0};
    size_t n = json_array_size(v);
    if (!json_is_array(v) || n == 0 || n > WEBHOOK_MAX_EVENTS)
        return rf_error_set(err, RF_ERR_INVALID,
                            "field 'events': must be an array of 1-%d event kinds",
                            WEBHOOK_MAX_EVENTS);
    for (size_t i = 0; i < n; i++) {
        const char *k = json_string_value(json_array_get(v, i));
        int at = k ? kind_index(k) : -1;
        if (k == NULL)
            return rf_error_set(err, RF_ERR_INVALID, "field 'events[%zu]': must be a string", i);
        if (at < 0)
            return rf_error_set(err, RF_ERR_INVALID,
                                "field 'events[%zu]': '%.64s' is not an event kind a webhook can "
                                "receive (rollout.halted, reverted, created, started, promoted, "
                                "approved, paused, resumed or completed)",
                                i, k);
        if (seen[at])
            return rf_error_set(err, RF_ERR_INVALID, "field 'events[%zu]': '%s' is listed twice", i,
                                k);
        seen[at] = 1;
    }
    out->nevents = 0;
    for (int i = 0; webhook_event_kinds[i]; i++)
        if (seen[i])
            out->events[out->nevents++] = webhook_event_kinds[i];
    return RF_OK;
}

static rf_err parse_description(const json_t *v, webhook_spec *out, rf_error *err)
{
    const char *s = json_string_value(v);
    int ok = s != NULL && strlen(s) == json_string_length(v) &&
             json_string_length(v) <= WEBHOOK_DESCRIPTION_MAX;
    for (size_t i = 0; ok && s[i]; i++)
        ok = (unsigned char)s[i] >= 0x20 && s[i] != 0x7f;
    if (!ok)
        return rf_error_set(err, RF_ERR_INVALID,
                            "field 'description': must be a string of at most %d bytes without "
                            "control characters",
                            WEBHOOK_DESCRIPTION_MAX);
    rf_copy_str(out->description, sizeof(out->description), s);
    return RF_OK;
}

static void defaults(webhook_spec *out)
{
    memset(out, 0, sizeof(*out));
    out->events[0] = webhook_event_kinds[0];
    out->events[1] = webhook_event_kinds[1];
    out->nevents = 2;
    out->enabled = 1;
}

rf_err webhook_spec_parse(const json_t *body, int create, webhook_spec *out, rf_error *err)
{
    static const char *const allowed[] = {"url", "events", "description", "enabled", NULL};
    const json_t *url = json_object_get(body, "url"), *ev = json_object_get(body, "events");
    const json_t *desc = json_object_get(body, "description");
    const json_t *en = json_object_get(body, "enabled");
    rf_err rc;
    defaults(out);
    if (json_object_get(body, "secret") != NULL)
        return rf_error_set(err, RF_ERR_INVALID,
                            "field 'secret': cannot be set; the server derives each webhook's "
                            "secret, shows it once, and makes a new one on rotate-secret");
    if ((rc = validate_known_fields(body, allowed, err)) != RF_OK)
        return rc;
    if (create && url == NULL)
        return rf_error_set(err, RF_ERR_INVALID,
                            "field 'url': required (an http:// or https:// URL)");
    if (!create && !url && !ev && !desc && !en)
        return rf_error_set(err, RF_ERR_INVALID,
                            "body: give at least one of 'url', 'events', 'description', 'enabled'");
    if (url && (rc = webhook_url_check("url", json_string_value(url), err)) != RF_OK)
        return rc;
    if (url)
        rf_copy_str(out->url, sizeof(out->url), json_string_value(url));
    if (ev && (rc = parse_events(ev, out, err)) != RF_OK)
        return rc;
    if (desc && (rc = parse_description(desc, out, err)) != RF_OK)
        return rc;
    if (en && !json_is_boolean(en))
        return rf_error_set(err, RF_ERR_INVALID, "field 'enabled': must be true or false");
    out->enabled = en ? json_is_true(en) : 1;
    out->has_url = url != NULL;
    out->has_events = ev != NULL;
    out->has_description = desc != NULL;
    out->has_enabled = en != NULL;
    return RF_OK;
}

void webhook_spec_events_literal(const webhook_spec *spec, char *out, size_t n)
{
    size_t used = 0;
    if (n < 3) {
        if (n > 0)
            out[0] = '\0';
        return;
    }
    out[used++] = '{';
    for (int i = 0; i < spec->nevents; i++) {
        size_t k = strlen(spec->events[i]);
        if (used + k + 3 > n)
            break;
        if (i > 0)
            out[used++] = ',';
        memcpy(out + used, spec->events[i], k);
        used += k;
    }
    out[used++] = '}';
    out[used] = '\0';
}

void webhook_url_redact(const char *url, char *out, size_t n)
{
    const char *a = strstr(url, "://");
    size_t head, rest;
    if (n == 0)
        return;
    if (a == NULL) {
        rf_snprintf(out, n, "%s", "");
        return;
    }
    head = (size_t)(a + 3 - url) + strcspn(a + 3, "/?#");
    rest = strlen(url + head);
    if (rest == 0 || (rest == 1 && url[head] == '/'))
        rf_snprintf(out, n, "%s", url);
    else
        rf_snprintf(out, n, "%.*s/\xe2\x80\xa6", (int)head, url);
}
