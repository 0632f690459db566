/* GET /tuf/…: the TUF repository as any TUF 1.0.x client fetches it, without
 * authentication (everything here is signed, so caches and mirrors may serve
 * it). /tuf/metadata/N.root.json, N.snapshot.json, N.targets.json and
 * timestamp.json are the stored bytes; /tuf/targets/<channel>/<sha256>.<file>
 * are the bundle bytes at their consistent-snapshot path. It never signs and
 * never serves anything the repository did not publish. */
#include "api.h"
#include "store_tuf.h"
#include "tuf_publish.h"
#include "validate.h"

#include <stdio.h>
#include <string.h>

#define TUF_DB_WAIT_MS 5000
#define IMMUTABLE "public, max-age=31536000, immutable"

static void answer_error(rf_resp *resp, const rf_error *e)
{
    if (e->code == RF_ERR_NOT_FOUND)
        rf_resp_error(resp, RF_ERR_NOT_FOUND, "no such TUF file");
    else if (e->code == RF_ERR_UNAVAILABLE)
        rf_resp_error(resp, RF_ERR_UNAVAILABLE, "database unavailable");
    else
        rf_resp_error_e(resp, e);
}

/* "N.role.json" → role and version (N: 1..2^53 without leading zeros). */
static int parse_versioned(const char *file, tuf_role *role, long long *version)
{
    char num[24], rest[32];
    size_t digits = strspn(file, "0123456789");

    if (digits == 0 || digits >= sizeof(num) || file[0] == '0' || file[digits] != '.')
        return 0;
    memcpy(num, file, digits);
    num[digits] = '\0';
    if (!validate_path_id(num, version))
        return 0;
    if (strlen(file + digits + 1) >= sizeof(rest))
        return 0;
    memcpy(rest, file + digits + 1, strlen(file + digits + 1) + 1);
    if (strcmp(rest, "root.json") == 0)
        *role = TUF_ROOT;
    else if (strcmp(rest, "snapshot.json") == 0)
        *role = TUF_SNAPSHOT;
    else if (strcmp(rest, "targets.json") == 0)
        *role = TUF_TARGETS;
    else
        return 0;
    return 1;
}

static void metadata(rf_db *db, const char *file, rf_resp *resp)
{
    tuf_role role = TUF_TIMESTAMP;
    long long version = 0;
    rf_error e = {0};
    rf_buf b;
    size_t len = 0;

    if (strcmp(file, "timestamp.json") != 0 && !parse_versioned(file, &role, &version)) {
        rf_resp_error(resp, RF_ERR_NOT_FOUND, "no such TUF file");
        return;
    }
    rf_buf_init(&b, TUF_META_CAP);
    if (store_tuf_body(db, role, version, &b, NULL, &e) != RF_OK) {
        rf_buf_cleanup(&b);
        answer_error(resp, &e);
        return;
    }
    resp->status = 200;
    resp->content_type = "application/json";
    resp->body = rf_buf_steal(&b, &len);
    resp->body_len = len;
    /* timestamp.json changes under one name: caches must ask every time. */
    rf_resp_add_header(resp, "Cache-Control", version == 0 ? "no-cache" : IMMUTABLE);
}

/* "<channel>/<64 hex>.<name>-<version>" → the target path and the digest. */
static int parse_target(const char *rest, char path[TUF_TARGET_PATH_MAX + 1],
                        char sha[RF_SHA256_HEX_LEN + 1])
{
    const char *slash = strchr(rest, '/');
    const char *file;
    char channel[65];
    size_t clen;

    if (slash == NULL || strchr(slash + 1, '/') != NULL)
        return 0;
    clen = (size_t)(slash - rest);
    if (clen == 0 || clen >= sizeof(channel))
        return 0;
    memcpy(channel, rest, clen);
    channel[clen] = '\0';
    file = slash + 1;
    if (validate_slug("channel", channel, NULL) != RF_OK || strlen(file) < RF_SHA256_HEX_LEN + 2 ||
        file[RF_SHA256_HEX_LEN] != '.')
        return 0;
    for (int i = 0; i < RF_SHA256_HEX_LEN; i++)
        if (!((file[i] >= '0' && file[i] <= '9') || (file[i] >= 'a' && file[i] <= 'f')))
            return 0;
    memcpy(sha, file, RF_SHA256_HEX_LEN);
    sha[RF_SHA256_HEX_LEN] = '\0';
    return snprintf(path, TUF_TARGET_PATH_MAX + 1, "%s/%s", channel,
                    file + RF_SHA256_HEX_LEN + 1) <= TUF_TARGET_PATH_MAX;
}

static void target(rf_db *db, const char *rest, rf_resp *resp)
{
    char path[TUF_TARGET_PATH_MAX + 1], sha[RF_SHA256_HEX_LEN + 1], etag[80];
    char *data = NULL;
    size_t len = 0;
    rf_error e = {0};

    if (!parse_target(rest, path, sha)) {
        rf_resp_error(resp, RF_ERR_NOT_FOUND, "no such TUF file");
        return;
    }
    if (store_tuf_target_content(db, path, sha, &data, &len, &e) != RF_OK) {
        answer_error(resp, &e);
        return;
    }
    resp->status = 200;
    resp->content_type = "application/octet-stream";
    resp->body = data;
    resp->body_len = len;
    snprintf(etag, sizeof(etag), "\"%s\"", sha);
    rf_resp_add_header(resp, "ETag", etag);
    rf_resp_add_header(resp, "Cache-Control", IMMUTABLE);
}

rf_http_result api_tuf(rf_server *srv, rf_req *req, rf_resp *resp)
{
    static const char meta[] = "/tuf/metadata/", targets[] = "/tuf/targets/";
    const char *p = req->path;
    rf_db *db = NULL;

    if (strncmp(p, meta, sizeof(meta) - 1) != 0 && strncmp(p, targets, sizeof(targets) - 1) != 0) {
        rf_resp_error(resp, RF_ERR_NOT_FOUND, "no such TUF file");
        return RF_HTTP_DONE;
    }
    if (store_acquire(srv->store, TUF_DB_WAIT_MS, &db) != RF_OK) {
        rf_resp_error(resp, RF_ERR_UNAVAILABLE, "database unavailable");
        return RF_HTTP_DONE;
    }
    if (strncmp(p, meta, sizeof(meta) - 1) == 0)
        metadata(db, p + sizeof(meta) - 1, resp);
    else
        target(db, p + sizeof(targets) - 1, resp);
    store_release(srv->store, db);
    return RF_HTTP_DONE;
}
