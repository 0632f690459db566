/* The glue between a command and the server: reads the environment, builds
 * the request, opens and size-checks a bundle file, sends through client.c,
 * and prints either the server's JSON unchanged or the rendered table.
 * Errors go to stderr as "ringfence: <message> (HTTP <status>)". It must
 * never print the token, and never read a bundle file over 1 GiB. */
#include "run.h"
#include "client.h"
#include "rf_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_usage_error(const cli_command *cmd, const char *msg)
{
    char name[64] = "";
    if (cmd != NULL) {
        cli_command_name(cmd, name, sizeof name);
    }
    fprintf(stderr, "ringfence: %s\nRun 'ringfence %s%s--help' for usage.\n", msg, name,
            name[0] ? " " : "");
    return CLI_EXIT_USAGE;
}

static int fail(const char *msg)
{
    fprintf(stderr, "ringfence: %s\n", msg);
    return CLI_EXIT_FAIL;
}

/* Writes text to stdout; a failed write (full disk, closed pipe) fails. */
int cli_emit(const char *data, size_t len)
{
    if ((len > 0 && fwrite(data, 1, len, stdout) != len) ||
        (len > 0 && data[len - 1] != '\n' && fputc('\n', stdout) == EOF) || fflush(stdout) != 0) {
        return fail("cannot write the output");
    }
    return CLI_EXIT_OK;
}

int cli_print_server_error(const cli_response *r)
{
    rf_buf msg;
    rf_buf_init(&msg, 4096);
    json_t *j = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
    const char *text = cli_jstr(json_object_get(j, "error"), "message");
    if (text != NULL) {
        (void)cli_text_clean(&msg, text, 1024, 0);
    } else if (r->body.data != NULL && r->body.len > 0) {
        /* Not our server's JSON (a proxy, say): show the start of it. */
        size_t first_line = strcspn(r->body.data, "\r\n");
        (void)rf_buf_append_str(&msg, "the server answered: ");
        (void)cli_text_clean(&msg, r->body.data, first_line < 200 ? first_line : 200, 1);
    } else {
        (void)rf_buf_append_str(&msg, "the server answered with an error and no message");
    }
    fprintf(stderr, "ringfence: %s (HTTP %ld%s%s)\n", msg.data ? msg.data : "", r->status,
            r->retry_after[0] ? ", retry after " : "", r->retry_after);
    json_decref(j);
    rf_buf_cleanup(&msg);
    return CLI_EXIT_FAIL;
}

/* Opens a bundle file and checks it before a byte is read. */
static int upload_open(const char *path, cli_upload *up)
{
    struct stat st;
    up->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (up->fd < 0 || fstat(up->fd, &st) != 0) {
        fprintf(stderr, "ringfence: cannot open %s: %s\n", path, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "ringfence: %s is not a regular file\n", path);
        return CLI_EXIT_FAIL;
    }
    if ((uint64_t)st.st_size > CLI_MAX_UPLOAD) {
        fprintf(stderr, "ringfence: %s is %lld bytes; bundles over 1 GiB are refused\n", path,
                (long long)st.st_size);
        return CLI_EXIT_FAIL;
    }
    if (st.st_size == 0) {
        fprintf(stderr, "ringfence: %s is empty\n", path);
        return CLI_EXIT_FAIL;
    }
    up->size = (uint64_t)st.st_size;
    up->sha = rf_sha256_new();
    return up->sha ? CLI_EXIT_OK : fail("out of memory");
}

/* The server's bundle must be exactly the bytes we sent. */
static int upload_verify(const cli_upload *up, const json_t *answer, const char *path)
{
    char hex[RF_SHA256_HEX_LEN + 1];
    rf_sha256_final_hex(up->sha, hex);
    const char *sha = cli_jstr(answer, "sha256");
    long long len = cli_jint(answer, "length", -1);
    if (sha == NULL || strcmp(sha, hex) != 0 || len != (long long)up->size) {
        fprintf(stderr,
                "ringfence: the server's bundle does not match %s (%llu bytes, sha256 %s)\n", path,
                (unsigned long long)up->size, hex);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* A 2xx answer: the raw JSON with --json, otherwise the command's table. */
static int print_answer(const cli_command *cmd, const cli_args *a, const cli_response *r,
                        const json_t *answer)
{
    if (a->json) {
        return r->body.len > 0 ? cli_emit(r->body.data, r->body.len) : cli_emit("{}\n", 3);
    }
    rf_error err = {RF_OK, ""};
    cli_view view = {a, rf_now_ms() / 1000};
    rf_buf out;
    rf_buf_init(&out, CLI_MAX_OUTPUT);
    rf_err rc = cmd->render(answer, &view, &out, &err);
    int status = rc == RF_OK ? cli_emit(out.data ? out.data : "", out.len)
                             : fail(err.message[0] ? err.message : "cannot format the answer");
    rf_buf_cleanup(&out);
    return status;
}

static int handle_answer(const cli_command *cmd, const cli_args *a, const cli_response *r,
                         const cli_upload *up, const char *upload_path)
{
    if (r->status < 200 || r->status > 299) {
        return cli_print_server_error(r);
    }
    json_t *answer = NULL;
    json_error_t jerr;
    if (r->body.len > 0 && (answer = json_loadb(r->body.data, r->body.len, 0, &jerr)) == NULL) {
        fprintf(stderr, "ringfence: the server's answer is not JSON: %s (HTTP %ld)\n", jerr.text,
                r->status);
        return CLI_EXIT_FAIL;
    }
    int status = CLI_EXIT_OK;
    if (up != NULL) {
        status = upload_verify(up, answer, upload_path);
    }
    if (status == CLI_EXIT_OK) {
        status = print_answer(cmd, a, r, answer);
    }
    json_decref(answer);
    return status;
}

int cli_fetch(cli_client *client, const char *path, json_t **answer, long *http_status)
{
    return cli_fetch_ex(client, path, answer, http_status, 0);
}

int cli_fetch_ex(cli_client *client, const char *path, json_t **answer, long *http_status,
                 int quiet)
{
    rf_error err = {RF_OK, ""};
    cli_http_req hr = {"GET", path, NULL, 0, NULL, NULL, NULL};
    cli_response resp;
    cli_response_init(&resp);
    json_error_t jerr;
    int status = CLI_EXIT_OK;
    *answer = NULL;
    rf_err sent = cli_client_send(client, &hr, &resp, &err);
    if (http_status != NULL) {
        *http_status = sent == RF_OK ? resp.status : 0;
    }
    if (sent != RF_OK) {
        /* An empty message: the transfer was cancelled on purpose (Ctrl-C). */
        status = err.message[0] != '\0' && !quiet ? fail(err.message) : CLI_EXIT_FAIL;
    } else if (resp.status < 200 || resp.status > 299) {
        status = quiet ? CLI_EXIT_FAIL : cli_print_server_error(&resp);
    } else if ((*answer = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0,
                                     &jerr)) == NULL) {
        fprintf(stderr, "ringfence: the server's answer is not JSON: %s (HTTP %ld)\n", jerr.text,
                resp.status);
        status = CLI_EXIT_FAIL;
    }
    cli_response_cleanup(&resp);
    return status;
}

/* The first step of a two-step request: reads req->fetch_path, takes the
 * version for If-Match when guarded, and lets prepare complete the request. */
static int first_step(const cli_args *a, cli_client *client, cli_request *req)
{
    rf_error err = {RF_OK, ""};
    json_t *obj = NULL;
    int status = cli_fetch(client, req->fetch_path, &obj, NULL);
    const json_t *v = json_object_get(obj, "version");
    if (status == CLI_EXIT_OK && req->guard && req->if_match[0] == '\0') {
        if (!json_is_integer(v)) {
            status = fail("the server's answer carries no version to send as If-Match");
        } else {
            (void)rf_snprintf(req->if_match, sizeof req->if_match, "%" JSON_INTEGER_FORMAT,
                              json_integer_value(v));
        }
    }
    if (status == CLI_EXIT_OK && req->prepare != NULL && req->prepare(a, obj, req, &err) != RF_OK) {
        status = fail(err.message[0] ? err.message : "cannot prepare the request");
    }
    json_decref(obj);
    return status;
}

/* Reads a plan file (at most 1 MiB of JSON) into the body's "stages". */
static int read_plan(cli_request *req)
{
    rf_error err = {RF_OK, ""};
    rf_buf text;
    rf_buf_init(&text, (size_t)1 << 20);
    json_t *doc = NULL, *stages = NULL;
    json_error_t jerr;
    int status = CLI_EXIT_OK;
    if (rf_file_read(req->plan_file, &text, &err) != RF_OK) {
        fprintf(stderr, "ringfence: --plan %s: %s\n", req->plan_file, err.message);
        status = CLI_EXIT_FAIL;
    } else if ((doc = json_loadb(text.data ? text.data : "", text.len, 0, &jerr)) == NULL) {
        fprintf(stderr, "ringfence: --plan %s: not JSON: %s (line %d)\n", req->plan_file, jerr.text,
                jerr.line);
        status = CLI_EXIT_FAIL;
    } else if (cli_plan_stages(doc, &stages, &err) != RF_OK) {
        fprintf(stderr, "ringfence: --plan %s: %s\n", req->plan_file, err.message);
        status = CLI_EXIT_FAIL;
    } else if (cli_request_object(req, &err) != RF_OK ||
               json_object_set_new(req->body, "stages", stages) != 0) {
        status = fail("out of memory");
    }
    json_decref(doc);
    rf_buf_cleanup(&text);
    return status;
}

/* After a 409 on a guarded change: the object as it is now, from the
 * answer's "current" or, failing that, read again. */
static void show_current(const cli_args *a, cli_client *client, const cli_request *req,
                         const cli_response *r)
{
    json_t *err_body = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
    json_t *obj = json_incref(json_object_get(err_body, "current"));
    json_decref(err_body);
    if (!json_is_object(obj) && cli_fetch(client, req->fetch_path, &obj, NULL) != CLI_EXIT_OK) {
        return;
    }
    if (a->json || req->state_render == NULL) {
        char *s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
        if (s != NULL) {
            (void)cli_emit(s, strlen(s));
        }
        free(s);
    } else {
        rf_error err = {RF_OK, ""};
        cli_view view = {a, rf_now_ms() / 1000};
        rf_buf out;
        rf_buf_init(&out, CLI_MAX_OUTPUT);
        if (rf_buf_append_str(&out, "Current state:\n") == RF_OK &&
            req->state_render(obj, &view, &out, &err) == RF_OK) {
            (void)cli_emit(out.data ? out.data : "", out.len);
        }
        rf_buf_cleanup(&out);
    }
    json_decref(obj);
}

/* Sends the completed request and handles its answer. */
static int send_request(const cli_command *cmd, const cli_args *a, cli_client *client,
                        const cli_request *req)
{
    rf_error err = {RF_OK, ""};
    cli_upload up = {-1, 0, NULL};
    cli_response resp;
    cli_response_init(&resp);
    char *body = cli_request_body(req);
    cli_http_req hr = {req->method, req->path.data,
                       body,        body ? strlen(body) : 0,
                       NULL,        req->if_match[0] ? req->if_match : NULL,
                       NULL};
    int status = req->body && !body ? fail("out of memory") : CLI_EXIT_OK;
    if (status == CLI_EXIT_OK && req->upload != NULL) {
        status = upload_open(req->upload, &up);
        hr.upload = &up;
    }
    if (status == CLI_EXIT_OK && cli_client_send(client, &hr, &resp, &err) != RF_OK) {
        status = fail(err.message);
    } else if (status == CLI_EXIT_OK && resp.status == 409 && req->guard) {
        status = cli_print_server_error(&resp);
        show_current(a, client, req, &resp);
    } else if (status == CLI_EXIT_OK) {
        status = handle_answer(cmd, a, &resp, req->upload ? &up : NULL, req->upload);
    }
    if (up.fd >= 0) {
        close(up.fd);
    }
    rf_sha256_free(up.sha);
    free(body);
    cli_response_cleanup(&resp);
    return status;
}

int cli_exchange(const cli_command *cmd, const cli_args *a, cli_client *client, cli_request *req)
{
    int status = CLI_EXIT_OK;
    /* With the version given (--if-version) and nothing to complete, there
     * is nothing to read first. */
    if (req->fetch_path[0] != '\0' && (req->prepare != NULL || req->if_match[0] == '\0')) {
        status = first_step(a, client, req);
    }
    if (status == CLI_EXIT_OK && req->plan_file != NULL) {
        status = read_plan(req);
    }
    return status == CLI_EXIT_OK ? send_request(cmd, a, client, req) : status;
}

int cli_connect(const cli_command *cmd, const cli_args *a, cli_client **client)
{
    rf_error err = {RF_OK, ""};
    const char *url = NULL, *token = NULL;
    cli_conf_in conf = {a->url, a->token, getenv("RINGFENCE_URL"), getenv("RINGFENCE_TOKEN"),
                        getenv("RINGFENCE_ADMIN_TOKEN")};
    rf_buf base;
    rf_buf_init(&base, 4096);
    int status = CLI_EXIT_OK;
    *client = NULL;
    if (cli_resolve_conf(&conf, &url, &token, &err) != RF_OK ||
        cli_base_url(url, &base, &err) != RF_OK) {
        status = cli_usage_error(cmd, err.message);
    } else if (cli_client_new(base.data, token, client, &err) != RF_OK) {
        status = fail(err.message);
    }
    rf_buf_cleanup(&base);
    return status;
}

int cli_run(const cli_command *cmd, const cli_args *a)
{
    return cmd->run != NULL ? cmd->run(cmd, a) : cli_run_default(cmd, a);
}

int cli_run_default(const cli_command *cmd, const cli_args *a)
{
    rf_error err = {RF_OK, ""};
    cli_client *client = NULL;
    cli_request req;
    cli_request_init(&req);
    /* Bad flags are reported before the environment is even looked at. */
    int status = cmd->build(cmd, a, &req, &err) == RF_OK ? cli_connect(cmd, a, &client)
                                                         : cli_usage_error(cmd, err.message);
    if (status == CLI_EXIT_OK) {
        status = cli_exchange(cmd, a, client, &req);
    }
    cli_client_free(client);
    cli_request_cleanup(&req);
    return status;
}
