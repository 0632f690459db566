/* The request a command builds: method, path, JSON body, and the optional
 * first step (read an object, take its version for If-Match, or complete
 * the request from what was read). Pure helpers over cli_request; run.c
 * carries them out. Nothing here talks to the network or reads files. */
#include "cli.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void cli_request_init(cli_request *r)
{
    memset(r, 0, sizeof *r);
    rf_buf_init(&r->path, 8192);
}

void cli_request_cleanup(cli_request *r)
{
    if (r == NULL) {
        return;
    }
    rf_buf_cleanup(&r->path);
    json_decref(r->body);
    r->body = NULL;
    r->method = NULL;
    r->upload = NULL;
    r->plan_file = NULL;
    r->prepare = NULL;
    r->state_render = NULL;
}

char *cli_request_body(const cli_request *r)
{
    if (r->body == NULL) {
        return NULL;
    }
    return json_dumps(r->body, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
}

static rf_err vset_path(char *buf, size_t len, rf_error *err, const char *fmt, va_list ap)
{
    int n = vsnprintf(buf, len, fmt, ap);
    if (n < 0 || (size_t)n >= len) {
        buf[0] = '\0';
        return rf_error_set(err, RF_ERR_TOO_LARGE, "the request URL is too long");
    }
    return RF_OK;
}

rf_err cli_request_set(cli_request *r, const char *method, rf_error *err, const char *fmt, ...)
{
    char path[1024];
    va_list ap;
    va_start(ap, fmt);
    rf_err rc = vset_path(path, sizeof path, err, fmt, ap);
    va_end(ap);
    r->method = method;
    rf_buf_reset(&r->path);
    if (rc == RF_OK && rf_buf_append_str(&r->path, path) != RF_OK) {
        rc = rf_error_set(err, RF_ERR_TOO_LARGE, "the request URL is too long");
    }
    return rc;
}

rf_err cli_request_guard(cli_request *r, const cli_args *a, cli_render_fn state_render,
                         rf_error *err, const char *fmt, ...)
{
    long long v = 0;
    int has = 0;
    va_list ap;
    va_start(ap, fmt);
    rf_err rc = vset_path(r->fetch_path, sizeof r->fetch_path, err, fmt, ap);
    va_end(ap);
    r->guard = rc == RF_OK;
    r->state_render = state_render;
    rc = rc ? rc : cli_opt_ll(a, "if-version", 0, INT32_MAX, &v, &has, err);
    if (rc == RF_OK && has) {
        (void)snprintf(r->if_match, sizeof r->if_match, "%lld", v);
    }
    return rc;
}

rf_err cli_request_fetch(cli_request *r, cli_prepare_fn prepare, rf_error *err, const char *fmt,
                         ...)
{
    va_list ap;
    va_start(ap, fmt);
    rf_err rc = vset_path(r->fetch_path, sizeof r->fetch_path, err, fmt, ap);
    va_end(ap);
    r->prepare = prepare;
    return rc;
}

rf_err cli_request_object(cli_request *r, rf_error *err)
{
    if (r->body == NULL && (r->body = json_object()) == NULL) {
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    }
    return RF_OK;
}
