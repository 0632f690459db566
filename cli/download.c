/* `ringfence bundle download ID --output FILE`: fetches a bundle's bytes
 * into a file. The bundle's record is read first; the bytes are streamed
 * into a temporary file next to FILE, checked against the record's length
 * and SHA-256, and only then renamed into place, so FILE is either the
 * whole, verified bundle or untouched. It never writes more than the
 * bundle's length and never overwrites FILE with unverified bytes. */
#include "cmd.h"
#include "run.h"
#include "rf_util.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ringfence: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_EXIT_FAIL;
}

/* Streams /v1/bundles/ID/content into fd and checks it against bundle. */
static int fetch_bytes(cli_client *client, long long id, const json_t *bundle, int fd)
{
    char path[64], hex[RF_SHA256_HEX_LEN + 1];
    const char *want = cli_jstr(bundle, "sha256");
    long long len = cli_jint(bundle, "length", -1);
    cli_sink sink = {fd, rf_sha256_new(), len < 0 ? 0 : (uint64_t)len, 0, 0};
    cli_http_req hr = {"GET", path, NULL, 0, NULL, NULL, &sink};
    cli_response resp;
    rf_error err = {RF_OK, ""};
    int status = CLI_EXIT_OK;
    cli_response_init(&resp);
    (void)rf_snprintf(path, sizeof path, "/v1/bundles/%lld/content", id);
    if (sink.sha == NULL || want == NULL || len < 0) {
        status = fail("the server's bundle record has no sha256 or length");
    } else if (cli_client_send(client, &hr, &resp, &err) != RF_OK) {
        status = fail("%s", err.message);
    } else if (resp.status < 200 || resp.status > 299) {
        status = cli_print_server_error(&resp);
    } else {
        rf_sha256_final_hex(sink.sha, hex);
        if (sink.written != (uint64_t)len || strcmp(hex, want) != 0) {
            status = fail("the bytes received do not match the bundle's length %lld and sha256 "
                          "%s; nothing was written",
                          len, want);
        }
    }
    rf_sha256_free(sink.sha);
    cli_response_cleanup(&resp);
    return status;
}

/* "FILE.partXXXXXX" next to FILE, opened for writing. */
static int open_temp(const char *file, char *tmp, size_t tmplen, int *fd)
{
    if (rf_snprintf(tmp, tmplen, "%s.partXXXXXX", file) != RF_OK) {
        return fail("--output: '%s' is too long", file);
    }
    *fd = mkstemp(tmp);
    if (*fd < 0) {
        return fail("cannot create a file next to %s: %s", file, strerror(errno));
    }
    return CLI_EXIT_OK;
}

/* Prints what was written: the bundle record with --json, else a line. */
static int report(const cli_args *a, const json_t *bundle, const char *file)
{
    if (a->json) {
        char *s = json_dumps(bundle, JSON_COMPACT | JSON_SORT_KEYS);
        int status = s != NULL ? cli_emit(s, strlen(s)) : CLI_EXIT_FAIL;
        free(s);
        return status;
    }
    rf_buf out;
    rf_buf_init(&out, 4096);
    rf_err rc = rf_buf_append_str(&out, "wrote ");
    rc = rc ? rc : cli_json_clean_text(json_object_get(bundle, "length"), &out);
    rc = rc ? rc : rf_buf_append_str(&out, " bytes of bundle ");
    rc = rc ? rc : cli_json_clean_text(json_object_get(bundle, "id"), &out);
    rc = rc ? rc : rf_buf_append_str(&out, " (sha256 verified) to ");
    rc = rc ? rc : cli_text_clean(&out, file, 4096, 0);
    int status = rc == RF_OK ? cli_emit(out.data, out.len) : CLI_EXIT_FAIL;
    rf_buf_cleanup(&out);
    return status;
}

int cmd_bundle_download_run(const cli_command *cmd, const cli_args *a)
{
    rf_error err = {RF_OK, ""};
    long long id = 0;
    const char *file = cli_opt_get(a, "output");
    char path[64], tmp[4200] = "";
    int fd = -1;
    json_t *bundle = NULL;
    cli_client *client = NULL;
    if (cli_parse_id("ID", a->pos[0], &id, &err) != RF_OK) {
        return cli_usage_error(cmd, err.message);
    }
    (void)rf_snprintf(path, sizeof path, "/v1/bundles/%lld", id);
    int status = cli_connect(cmd, a, &client);
    if (status == CLI_EXIT_OK) {
        cli_client_set_timeout(client, 0); /* a large bundle may take a while */
        status = cli_fetch(client, path, &bundle, NULL);
    }
    status = status ? status : open_temp(file, tmp, sizeof tmp, &fd);
    status = status ? status : fetch_bytes(client, id, bundle, fd);
    if (status == CLI_EXIT_OK && fsync(fd) != 0) {
        status = fail("cannot write %s: %s", tmp, strerror(errno));
    }
    if (fd >= 0 && close(fd) != 0 && status == CLI_EXIT_OK) {
        status = fail("cannot write %s: %s", tmp, strerror(errno));
    }
    if (status == CLI_EXIT_OK && rename(tmp, file) != 0) {
        status = fail("cannot rename the download to %s: %s", file, strerror(errno));
    }
    if (status != CLI_EXIT_OK && fd >= 0) {
        (void)unlink(tmp); /* only ever the file mkstemp made */
    }
    if (status == CLI_EXIT_OK) {
        status = report(a, bundle, file);
    }
    json_decref(bundle);
    cli_client_free(client);
    return status;
}
