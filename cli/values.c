/* Option values: integers, ids, failure rates, labels, bucket ranges, and
 * where to connect. Pure functions over strings; each failure is a usage
 * error whose message names the flag and says what is expected. Checks here
 * mirror docs/api.md so a typo is caught before anything is sent, but the
 * server stays the authority. Nothing here may copy the token anywhere. */
#include "cli.h"
#include "rf_cohort.h"
#include "rf_util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *cli_opt_get(const cli_args *a, const char *name)
{
    const char *val = NULL;
    for (size_t i = 0; i < a->nopts; i++) {
        if (strcmp(a->opt_name[i], name) == 0) {
            val = a->opt_val[i];
        }
    }
    return val;
}

int cli_opt_has(const cli_args *a, const char *name)
{
    for (size_t i = 0; i < a->nopts; i++) {
        if (strcmp(a->opt_name[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

rf_err cli_opt_ll(const cli_args *a, const char *name, long long min, long long max, long long *out,
                  int *present, rf_error *err)
{
    const char *s = cli_opt_get(a, name);
    *present = s != NULL;
    if (s == NULL) {
        return RF_OK;
    }
    if (rf_parse_ll(s, min, max, out) != RF_OK) {
        return rf_error_set(err, RF_ERR_INVALID, "--%s: '%s' is not an integer from %lld to %lld",
                            name, s, min, max);
    }
    return RF_OK;
}

rf_err cli_parse_id(const char *what, const char *s, long long *out, rf_error *err)
{
    if (rf_parse_ll(s, 1, INT64_MAX, out) != RF_OK) {
        return rf_error_set(err, RF_ERR_INVALID, "%s: '%s' is not a positive integer", what, s);
    }
    return RF_OK;
}

rf_err cli_parse_rate(const char *flag, const char *s, double *out, rf_error *err)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    int ok = end != s && errno == 0 && isfinite(v);
    if (ok && *end == '%') {
        v /= 100.0;
        end++;
    }
    int lead_ok = (s[0] >= '0' && s[0] <= '9') || s[0] == '.';
    if (!ok || !lead_ok || *end != '\0' || !(v > 0.0 && v <= 1.0)) {
        return rf_error_set(err, RF_ERR_INVALID,
                            "--%s: '%s' is not a rate in (0, 1] such as 0.25 or 25%%", flag, s);
    }
    *out = v;
    return RF_OK;
}

static int label_key_ok(const char *k, size_t len)
{
    if (len < 1 || len > 64) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-')) {
            return 0;
        }
    }
    return 1;
}

/* Printable: no C0 controls or DEL; counts code points, not bytes. */
static int label_value_ok(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return 0;
        }
    }
    return cli_text_width(v) <= 128;
}

rf_err cli_parse_label(const char *s, json_t *labels, rf_error *err)
{
    const char *eq = strchr(s, '=');
    if (eq == NULL) {
        return rf_error_set(err, RF_ERR_INVALID, "--label: '%s' is not of the form key=value", s);
    }
    size_t klen = (size_t)(eq - s);
    if (!label_key_ok(s, klen)) {
        return rf_error_set(err, RF_ERR_INVALID,
                            "--label: key '%.*s' must be 1-64 characters of [a-z0-9._-]",
                            (int)(klen > 64 ? 64 : klen), s);
    }
    char key[65];
    memcpy(key, s, klen);
    key[klen] = '\0';
    if (json_object_get(labels, key) != NULL) {
        return rf_error_set(err, RF_ERR_INVALID, "--label: key '%s' given twice", key);
    }
    if (json_object_size(labels) >= CLI_MAX_LABELS) {
        return rf_error_set(err, RF_ERR_INVALID, "--label: at most %d labels", CLI_MAX_LABELS);
    }
    if (!label_value_ok(eq + 1)) {
        return rf_error_set(err, RF_ERR_INVALID,
                            "--label: value of '%s' must be up to 128 printable characters", key);
    }
    json_t *v = json_string(eq + 1);
    if (v == NULL) {
        return rf_error_set(err, RF_ERR_INVALID, "--label: value of '%s' is not valid UTF-8", key);
    }
    if (json_object_set_new(labels, key, v) != 0) {
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    }
    return RF_OK;
}

int cli_device_id_ok(const char *s)
{
    return strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

rf_err cli_parse_buckets(const char *s, int *lo, int *hi, rf_error *err)
{
    const char *dash = strchr(s, '-');
    char los[16];
    long long l = 0, h = 0;
    if (dash == NULL || (size_t)(dash - s) >= sizeof los) {
        goto bad;
    }
    memcpy(los, s, (size_t)(dash - s));
    los[dash - s] = '\0';
    if (rf_parse_ll(los, 0, (RF_BUCKETS - 1), &l) != RF_OK ||
        rf_parse_ll(dash + 1, 0, (RF_BUCKETS - 1), &h) != RF_OK || l > h) {
        goto bad;
    }
    *lo = (int)l;
    *hi = (int)h;
    return RF_OK;
bad:
    return rf_error_set(err, RF_ERR_INVALID,
                        "--buckets: '%s' is not a range LO-HI with 0 <= LO <= HI <= %d", s,
                        (RF_BUCKETS - 1));
}

rf_err cli_json_text(const char *what, const char *s, json_t **out, rf_error *err)
{
    *out = json_string(s);
    if (*out == NULL) {
        return rf_error_set(err, RF_ERR_INVALID, "%s: not valid UTF-8", what);
    }
    return RF_OK;
}

static const char *first_set(const char *a, const char *b, const char *c)
{
    if (a != NULL && a[0] != '\0') {
        return a;
    }
    if (b != NULL && b[0] != '\0') {
        return b;
    }
    if (c != NULL && c[0] != '\0') {
        return c;
    }
    return NULL;
}

rf_err cli_resolve_conf(const cli_conf_in *in, const char **url, const char **token, rf_error *err)
{
    *url = first_set(in->flag_url, in->env_url, CLI_DEFAULT_URL);
    *token = first_set(in->flag_token, in->env_token, in->env_admin_token);
    if (*token == NULL) {
        return rf_error_set(err, RF_ERR_INVALID,
                            "no token: pass --token or set RINGFENCE_TOKEN "
                            "(or RINGFENCE_ADMIN_TOKEN; 'source var/env' sets it)");
    }
    for (const unsigned char *p = (const unsigned char *)*token; *p != '\0'; p++) {
        if (*p <= 0x20 || *p >= 0x7f) {
            /* Never echo the token itself, not even in part. */
            return rf_error_set(err, RF_ERR_INVALID,
                                "the token holds a space or a non-printable character");
        }
    }
    return RF_OK;
}
