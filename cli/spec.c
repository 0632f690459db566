/* The small languages a release engineer types: durations ("10m", "2h",
 * "1d", "1h30m"), start windows ("mon-fri 09-17") and stage specs
 * ("ring=canary,percent=10,bake=10m,approval"). Pure: strings in, plain
 * structs out, and every failure is a usage error that names the flag and
 * the part at fault. The server stays the authority on what a plan may be;
 * these checks only catch typos before anything is sent. */
#include "cli.h"
#include "rf_util.h"

#include <string.h>

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

const char *cli_day_name(int day)
{
    return day >= 0 && day < 7 ? day_names[day] : "?";
}

/* ---- durations ---------------------------------------------------------- */

static long long unit_seconds(char u)
{
    switch (u) {
    case 's':
        return 1;
    case 'm':
        return 60;
    case 'h':
        return 3600;
    case 'd':
        return 86400;
    default:
        return 0;
    }
}

rf_err cli_parse_duration(const char *flag, const char *s, long long max_s, long long *out,
                          rf_error *err)
{
    long long total = 0;
    long long last_unit = 0; /* units must go from large to small, each once */
    const char *p = s;
    if (s == NULL || *s == '\0') {
        goto bad;
    }
    while (*p != '\0') {
        long long n = 0;
        const char *digits = p;
        while (*p >= '0' && *p <= '9') {
            if (n > max_s) {
                goto bad; /* already too large; also keeps n from overflowing */
            }
            n = n * 10 + (*p - '0');
            p++;
        }
        if (p == digits) {
            goto bad;
        }
        long long u = *p == '\0' && digits == s ? 1 : unit_seconds(*p);
        if (u == 0 || (last_unit != 0 && u >= last_unit) || n > max_s / u) {
            goto bad;
        }
        if (*p != '\0') {
            p++;
        }
        last_unit = u;
        total += n * u;
        if (total > max_s) {
            goto bad;
        }
    }
    *out = total;
    return RF_OK;
bad:
    return rf_error_set(err, RF_ERR_INVALID,
                        "%s: '%s' is not a duration such as 90s, 10m, 2h, 1d or 1h30m "
                        "(at most %lld seconds)",
                        flag, s ? s : "", max_s);
}

void cli_duration_text(long long secs, char *out, size_t outlen)
{
    static const struct {
        long long s;
        char u;
    } units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
    if (secs <= 0) {
        (void)rf_snprintf(out, outlen, "0s");
        return;
    }
    /* The two largest units are enough to read at a glance: "1h5m", "2d3h". */
    size_t k = 0;
    while (secs < units[k].s) {
        k++;
    }
    long long a = secs / units[k].s;
    long long rest = secs % units[k].s;
    if (k + 1 < sizeof units / sizeof units[0] && rest / units[k + 1].s > 0) {
        (void)rf_snprintf(out, outlen, "%lld%c%lld%c", a, units[k].u, rest / units[k + 1].s,
                          units[k + 1].u);
    } else {
        (void)rf_snprintf(out, outlen, "%lld%c", a, units[k].u);
    }
}

/* ---- start windows ------------------------------------------------------ */

static int day_index(const char *s, size_t len)
{
    for (int d = 0; d < 7; d++) {
        if (len == 3 && strncmp(s, day_names[d], 3) == 0) {
            return d;
        }
    }
    return -1;
}

/* "mon-fri", "sat,sun", "mon-wed,fri", "fri-mon" (wraps), "daily" or "*". */
static int parse_days(const char *s, size_t len, unsigned *mask)
{
    *mask = 0;
    if ((len == 5 && strncmp(s, "daily", 5) == 0) || (len == 1 && s[0] == '*')) {
        *mask = 0x7f;
        return 1;
    }
    const char *end = s + len;
    while (s < end) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        size_t item = (size_t)((comma != NULL ? comma : end) - s);
        int a = -1, b = -1;
        if (item == 3) {
            a = b = day_index(s, 3);
        } else if (item == 7 && s[3] == '-') {
            a = day_index(s, 3);
            b = day_index(s + 4, 3);
        }
        if (a < 0 || b < 0) {
            return 0;
        }
        for (int d = a;; d = (d + 1) % 7) {
            *mask |= 1u << d;
            if (d == b) {
                break;
            }
        }
        s += item;
        if (s < end) {
            s++; /* the comma */
            if (s == end) {
                return 0;
            }
        }
    }
    return *mask != 0;
}

/* "9", "09" or "09:00"; 0..24. */
static int parse_hour(const char *s, size_t len, int *out)
{
    char buf[8];
    if (len == 5 && s[2] == ':' && s[3] == '0' && s[4] == '0') {
        len = 2;
    }
    if (len == 0 || len > 2) {
        return 0;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    long long h = 0;
    if (buf[0] == '-' || rf_parse_ll(buf, 0, 24, &h) != RF_OK) {
        return 0;
    }
    *out = (int)h;
    return 1;
}

rf_err cli_parse_window(const char *flag, const char *s, cli_window *out, rf_error *err)
{
    const char *sp = strchr(s, ' ');
    const char *hours = sp ? sp + 1 : NULL;
    const char *dash = hours ? strchr(hours, '-') : NULL;
    memset(out, 0, sizeof *out);
    if (sp == NULL || !parse_days(s, (size_t)(sp - s), &out->days)) {
        return rf_error_set(err, RF_ERR_INVALID,
                            "%s: '%s' is not DAYS HOURS in UTC such as 'mon-fri 09-17', "
                            "'sat,sun 00-24' or 'daily 22-06'",
                            flag, s);
    }
    if (dash == NULL || !parse_hour(hours, (size_t)(dash - hours), &out->start_hour) ||
        !parse_hour(dash + 1, strlen(dash + 1), &out->end_hour) || out->start_hour > 23 ||
        out->end_hour < 1 || out->start_hour == out->end_hour) {
        return rf_error_set(err, RF_ERR_INVALID,
                            "%s: hours in '%s' must be START-END in UTC, e.g. 09-17 "
                            "(0 <= START <= 23, 1 <= END <= 24, START != END)",
                            flag, s);
    }
    return RF_OK;
}

rf_err cli_window_text(const cli_window *w, rf_buf *out)
{
    rf_err rc = RF_OK;
    if (w->days == 0x7f) {
        rc = rf_buf_append_str(out, "daily");
    }
    /* Runs of consecutive days as "mon-fri", single days as "sat". */
    int first = 1;
    for (int d = 0; d < 7 && rc == RF_OK && w->days != 0x7f; d++) {
        if (!(w->days & (1u << d))) {
            continue;
        }
        int e = d;
        while (e + 1 < 7 && (w->days & (1u << (e + 1)))) {
            e++;
        }
        rc = rf_buf_printf(out, "%s%s", first ? "" : ",", day_names[d]);
        if (rc == RF_OK && e > d) {
            rc = rf_buf_printf(out, "%s%s", e > d + 1 ? "-" : ",", day_names[e]);
        }
        first = 0;
        d = e;
    }
    return rc ? rc : rf_buf_printf(out, " %02d-%02d", w->start_hour, w->end_hour);
}

/* ---- stage specs -------------------------------------------------------- */

/* One "key=value" (or bare "approval") of a stage spec into st. */
static rf_err stage_item(const char *flag, const char *item, size_t len, cli_stage_spec *st,
                         rf_error *err)
{
    char key[32], val[80];
    const char *eq = memchr(item, '=', len);
    size_t klen = eq ? (size_t)(eq - item) : len;
    size_t vlen = eq ? len - klen - 1 : 0;
    if (klen == 0 || klen >= sizeof key || vlen >= sizeof val || (eq != NULL && vlen == 0)) {
        return rf_error_set(err, RF_ERR_INVALID, "%s: '%.*s' is not key=value", flag,
                            (int)(len > 64 ? 64 : len), item);
    }
    memcpy(key, item, klen);
    key[klen] = '\0';
    memcpy(val, eq ? eq + 1 : "", vlen);
    val[vlen] = '\0';
    char what[64];
    (void)rf_snprintf(what, sizeof what, "%s %s", flag, key);
    unsigned bit = 0;
    rf_err rc = RF_OK;
    long long n = 0;
    if (strcmp(key, "ring") == 0 && eq != NULL) {
        bit = CLI_STAGE_RING;
        if (vlen > 64 || strspn(val, "abcdefghijklmnopqrstuvwxyz0123456789._-") != vlen) {
            return rf_error_set(err, RF_ERR_INVALID,
                                "%s: ring '%s' is not an id or a name of 1-64 characters "
                                "[a-z0-9._-]",
                                flag, val);
        }
        memcpy(st->ring, val, vlen + 1);
    } else if (strcmp(key, "percent") == 0 && eq != NULL) {
        bit = CLI_STAGE_PERCENT;
        if (rf_parse_ll(val, 1, 100, &n) != RF_OK) {
            rc = rf_error_set(err, RF_ERR_INVALID, "%s: '%s' is not a whole percent from 1 to 100",
                              what, val);
        }
        st->percent = (int)n;
    } else if (strcmp(key, "bake") == 0 && eq != NULL) {
        bit = CLI_STAGE_BAKE;
        rc = cli_parse_duration(what, val, CLI_MAX_BAKE_S, &st->bake_s, err);
    } else if (strcmp(key, "min-healthy") == 0 && eq != NULL) {
        bit = CLI_STAGE_MIN_HEALTHY;
        if (rf_parse_ll(val, 0, 1000000000, &st->min_healthy) != RF_OK) {
            rc = rf_error_set(err, RF_ERR_INVALID, "%s: '%s' is not a device count", what, val);
        }
    } else if (strcmp(key, "max-failure-rate") == 0 && eq != NULL) {
        bit = CLI_STAGE_RATE;
        rc = cli_parse_rate(what + 2, val, &st->max_failure_rate, err);
    } else if (strcmp(key, "promotion") == 0 && eq != NULL) {
        bit = CLI_STAGE_PROMOTION;
        st->auto_promote = strcmp(val, "auto") == 0;
        if (!st->auto_promote && strcmp(val, "manual") != 0) {
            rc = rf_error_set(err, RF_ERR_INVALID, "%s: '%s' is not auto or manual", what, val);
        }
    } else if (strcmp(key, "approval") == 0) {
        bit = CLI_STAGE_APPROVAL;
        st->approval = eq == NULL || strcmp(val, "yes") == 0 || strcmp(val, "true") == 0;
        if (eq != NULL && !st->approval && strcmp(val, "no") != 0 && strcmp(val, "false") != 0) {
            rc = rf_error_set(err, RF_ERR_INVALID, "%s: '%s' is not yes or no", what, val);
        }
    } else {
        return rf_error_set(err, RF_ERR_INVALID,
                            "%s: unknown part '%s' (known: ring=, percent=, bake=, min-healthy=, "
                            "max-failure-rate=, promotion=auto|manual, approval)",
                            flag, key);
    }
    if (rc == RF_OK && (st->set & bit)) {
        rc = rf_error_set(err, RF_ERR_INVALID, "%s: '%s' given twice", flag, key);
    }
    st->set |= bit;
    return rc;
}

rf_err cli_parse_stage(const char *flag, const char *s, cli_stage_spec *out, rf_error *err)
{
    memset(out, 0, sizeof *out);
    const char *p = s;
    rf_err rc = RF_OK;
    while (rc == RF_OK) {
        size_t len = strcspn(p, ",");
        if (len == 0) {
            return rf_error_set(err, RF_ERR_INVALID, "%s: empty part in '%s'", flag, s);
        }
        rc = stage_item(flag, p, len, out, err);
        if (p[len] == '\0') {
            break;
        }
        p += len + 1;
    }
    if (rc == RF_OK && !(out->set & CLI_STAGE_RING)) {
        rc = rf_error_set(err, RF_ERR_INVALID, "%s: '%s' names no ring (ring=NAME or ring=ID)",
                          flag, s);
    }
    return rc;
}

/* ---- to and from the server's JSON ------------------------------------- */

static rf_err nomem(rf_error *err)
{
    return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
}

static json_t *days_json(unsigned mask)
{
    json_t *days = json_array();
    for (int d = 0; d < 7 && days != NULL; d++) {
        if ((mask & (1u << d)) && json_array_append_new(days, json_string(day_names[d])) != 0) {
            json_decref(days);
            return NULL;
        }
    }
    return days;
}

rf_err cli_window_json(const cli_window *w, json_t *windows, rf_error *err)
{
    /* The server's windows never pass midnight: "mon 22-06" is Monday
     * 22-24 plus Tuesday 00-06. */
    int wraps = w->start_hour > w->end_hour;
    unsigned next = ((w->days << 1) | (w->days >> 6)) & 0x7fu;
    json_t *a = json_pack("{s:o,s:[ii]}", "days", days_json(w->days), "hours", w->start_hour,
                          wraps ? 24 : w->end_hour);
    json_t *b =
        wraps ? json_pack("{s:o,s:[ii]}", "days", days_json(next), "hours", 0, w->end_hour) : NULL;
    rf_err rc = a != NULL && (!wraps || b != NULL) ? RF_OK : nomem(err);
    if (rc == RF_OK &&
        (json_array_append(windows, a) != 0 || (b != NULL && json_array_append(windows, b) != 0))) {
        rc = nomem(err);
    }
    json_decref(a);
    json_decref(b);
    return rc;
}

rf_err cli_windows_text(const json_t *windows, rf_buf *out)
{
    if (!json_is_array(windows) || json_array_size(windows) == 0) {
        return rf_buf_append_str(out, "always");
    }
    rf_err rc = RF_OK;
    for (size_t i = 0; i < json_array_size(windows) && rc == RF_OK; i++) {
        const json_t *jw = json_array_get(windows, i);
        const json_t *days = json_object_get(jw, "days");
        const json_t *hours = json_object_get(jw, "hours");
        cli_window w = {0, (int)json_integer_value(json_array_get(hours, 0)),
                        (int)json_integer_value(json_array_get(hours, 1))};
        for (size_t k = 0; k < json_array_size(days); k++) {
            const char *d = json_string_value(json_array_get(days, k));
            int idx = d != NULL ? day_index(d, strlen(d)) : -1;
            w.days |= idx >= 0 ? 1u << idx : 0;
        }
        rc = i > 0 ? rf_buf_append_str(out, "; ") : RF_OK;
        rc = rc ? rc : cli_window_text(&w, out);
    }
    return rc;
}

rf_err cli_stage_json(const cli_stage_spec *st, json_t **out, rf_error *err)
{
    long long id = 0;
    json_t *s = json_object();
    int ok = s != NULL;
    if (ok && rf_parse_ll(st->ring, 1, INT64_MAX, &id) == RF_OK) {
        ok = json_object_set_new(s, "ring_id", json_integer(id)) == 0;
    } else if (ok) {
        ok = json_object_set_new(s, "ring", json_string(st->ring)) == 0;
    }
    if (ok && (st->set & CLI_STAGE_PERCENT)) {
        ok = json_object_set_new(s, "percent", json_integer(st->percent)) == 0;
    }
    if (ok && (st->set & CLI_STAGE_BAKE)) {
        ok = json_object_set_new(s, "bake_s", json_integer(st->bake_s)) == 0;
    }
    if (ok && (st->set & CLI_STAGE_MIN_HEALTHY)) {
        ok = json_object_set_new(s, "min_healthy", json_integer(st->min_healthy)) == 0;
    }
    if (ok && (st->set & CLI_STAGE_RATE)) {
        ok = json_object_set_new(s, "max_failure_rate", json_real(st->max_failure_rate)) == 0;
    }
    if (ok && (st->set & CLI_STAGE_PROMOTION)) {
        ok = json_object_set_new(s, "auto_promote", json_boolean(st->auto_promote)) == 0;
    }
    if (ok && (st->set & CLI_STAGE_APPROVAL)) {
        ok = json_object_set_new(s, "require_approval", json_boolean(st->approval)) == 0;
    }
    if (!ok) {
        json_decref(s);
        return nomem(err);
    }
    *out = s;
    return RF_OK;
}

/* Members of a stage that only describe a running stage (as `channel plan
 * show --json` or a rollout prints them); dropped when a plan is sent. */
static int output_only(const char *key)
{
    static const char *const keys[] = {"index",       "state",       "started", "approved_by",
                                       "approved_at", "window_open", "exposed", "healthy",
                                       "failed",      "silent",      "devices", NULL};
    for (size_t i = 0; keys[i] != NULL; i++) {
        if (strcmp(keys[i], key) == 0) {
            return 1;
        }
    }
    return 0;
}

/* One stage of a plan file, cleaned: output-only members and nulls
 * dropped, "ring" dropped when "ring_id" is there. Unknown members stay, so
 * the server names them. */
static rf_err plan_stage(const json_t *in, size_t i, json_t *stages, rf_error *err)
{
    if (!json_is_object(in)) {
        return rf_error_set(err, RF_ERR_INVALID, "stages[%zu] is not an object", i);
    }
    json_t *s = json_object();
    const char *key;
    json_t *val;
    rf_err rc = s != NULL ? RF_OK : nomem(err);
    int has_id = json_is_integer(json_object_get(in, "ring_id"));
    json_object_foreach((json_t *)in, key, val)
    {
        if (rc != RF_OK || json_is_null(val) || output_only(key) ||
            (has_id && strcmp(key, "ring") == 0)) {
            continue;
        }
        rc = json_object_set(s, key, val) == 0 ? RF_OK : nomem(err);
    }
    if (rc == RF_OK && json_array_append(stages, s) != 0) {
        rc = nomem(err);
    }
    json_decref(s);
    return rc;
}

rf_err cli_plan_stages(const json_t *doc, json_t **out, rf_error *err)
{
    const json_t *list = json_is_array(doc) ? doc : json_object_get(doc, "stages");
    *out = NULL;
    if (!json_is_array(list) || json_array_size(list) == 0) {
        return rf_error_set(err, RF_ERR_INVALID,
                            "expected a list of stages, or an object with a non-empty "
                            "\"stages\" list (as 'channel plan show --json' prints)");
    }
    json_t *stages = json_array();
    rf_err rc = stages != NULL ? RF_OK : nomem(err);
    for (size_t i = 0; rc == RF_OK && i < json_array_size(list); i++) {
        rc = plan_stage(json_array_get(list, i), i, stages, err);
    }
    if (rc != RF_OK) {
        json_decref(stages);
        return rc;
    }
    *out = stages;
    return RF_OK;
}
