/* URLs the CLI sends: the checked base URL, paths with escaped query values,
 * and a redacted form for messages. Pure string work, kept out of client.c
 * so it is unit tested without a network. Every query value a user typed is
 * percent-encoded here; nothing is ever spliced into a URL raw. */
#include "cli.h"
#include "rf_util.h"

#include <string.h>

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

rf_err cli_url_escape(rf_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    rf_err rc = RF_OK;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0' && rc == RF_OK; p++) {
        if (unreserved(*p)) {
            rc = rf_buf_append(out, p, 1);
        } else {
            char enc[3] = {'%', hex[*p >> 4], hex[*p & 0x0f]};
            rc = rf_buf_append(out, enc, sizeof enc);
        }
    }
    return rc;
}

rf_err cli_query_add(rf_buf *path, const char *key, const char *value)
{
    if (value == NULL) {
        return RF_OK;
    }
    int has_query = path->data != NULL && strchr(path->data, '?') != NULL;
    rf_err rc = rf_buf_append_str(path, has_query ? "&" : "?");
    if (rc == RF_OK) {
        rc = cli_url_escape(path, key);
    }
    if (rc == RF_OK) {
        rc = rf_buf_append_str(path, "=");
    }
    if (rc == RF_OK) {
        rc = cli_url_escape(path, value);
    }
    return rc;
}

rf_err cli_base_url(const char *url, rf_buf *out, rf_error *err)
{
    const char *rest = NULL;
    if (strncmp(url, "http://", 7) == 0) {
        rest = url + 7;
    } else if (strncmp(url, "https://", 8) == 0) {
        rest = url + 8;
    } else {
        return rf_error_set(err, RF_ERR_INVALID, "--url: must start with http:// or https://");
    }
    if (rest[0] == '\0' || rest[0] == '/' || rest[0] == ':') {
        return rf_error_set(err, RF_ERR_INVALID, "--url: no host name");
    }
    for (const unsigned char *p = (const unsigned char *)url; *p != '\0'; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '?' || *p == '#') {
            return rf_error_set(err, RF_ERR_INVALID,
                                "--url: spaces, '?', '#' and non-ASCII are not allowed");
        }
    }
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/') {
        len--;
    }
    rf_err rc = rf_buf_append(out, url, len);
    if (rc != RF_OK) {
        return rf_error_set(err, rc, "--url: too long");
    }
    return RF_OK;
}

void cli_url_redact(const char *url, char *out, size_t outlen)
{
    if (outlen == 0) {
        return;
    }
    const char *scheme_end = strstr(url, "://");
    const char *host = scheme_end ? scheme_end + 3 : url;
    size_t authority = strcspn(host, "/?#");
    const char *at = memchr(host, '@', authority);
    if (at == NULL) {
        (void)rf_snprintf(out, outlen, "%s", url);
        return;
    }
    /* Keep "scheme://", hide the user information, keep the rest. */
    (void)rf_snprintf(out, outlen, "%.*s...%s", (int)(host - url), url, at);
}
