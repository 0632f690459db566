/* Pure request helpers: splitting a request path into route parts and
 * extracting a bearer token. No I/O and no libmicrohttpd here, so they can be
 * tested exhaustively. They never allocate and never read past the bounds
 * they are given. */
#include "http_internal.h"

#include <string.h>
#include <strings.h>

rf_err http_path_split(const char *path, char *buf, size_t buflen, const char **parts, int max,
                       int *nparts, int *is_v1)
{
    size_t len = path ? strlen(path) : 0;
    char *p;
    int n = 0;

    *nparts = 0;
    *is_v1 = 0;
    if (!path || path[0] != '/')
        return RF_ERR_NOT_FOUND;
    if (len > HTTP_PATH_MAX || len + 1 > buflen)
        return RF_ERR_INVALID;
    memcpy(buf, path, len + 1);
    if (strncmp(buf, "/v1", 3) != 0 || (buf[3] != '\0' && buf[3] != '/'))
        return RF_OK; /* not an API path; the router matches it whole */
    *is_v1 = 1;
    p = buf + 3;
    if (*p == '\0')
        return RF_OK;
    p++; /* skip the '/' after v1 */
    if (*p == '\0')
        return RF_OK; /* "/v1/" */
    while (p) {
        char *slash = strchr(p, '/');
        if (slash)
            *slash = '\0';
        if (*p == '\0')
            return RF_ERR_NOT_FOUND; /* empty segment: "//" or a trailing '/' */
        if (n >= max)
            return RF_ERR_NOT_FOUND;
        parts[n++] = p;
        p = slash ? slash + 1 : NULL;
    }
    *nparts = n;
    return RF_OK;
}

const char *http_bearer_token(const char *value, size_t *len)
{
    const char *t;
    size_t n;

    *len = 0;
    if (!value || strncasecmp(value, "Bearer ", 7) != 0)
        return NULL;
    t = value + 7;
    while (*t == ' ')
        t++;
    n = strcspn(t, " \t\r\n");
    if (n == 0 || n > 512 || t[n] != '\0')
        return NULL;
    *len = n;
    return t;
}
