/* Unit tests for the server's HTTP seams that need no socket and no
 * database: path splitting, bearer parsing, the rf_err → status table, error
 * bodies, JSON body parsing, the role and device gates, the router's 404/405
 * answers and the dashboard's HTML escaping. */
#include "dashboard.h"
#include "http.h"
#include "http_internal.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* ---- path splitting ---- */

typedef struct path_case {
    const char *path;
    rf_err rc;
    int is_v1;
    int nparts;
    const char *parts[4];
} path_case;

static const path_case path_cases[] = {
    {"/v1/bundles", RF_OK, 1, 1, {"bundles"}},
    {"/v1/bundles/12/content", RF_OK, 1, 3, {"bundles", "12", "content"}},
    {"/v1/rollouts/4/start", RF_OK, 1, 3, {"rollouts", "4", "start"}},
    {"/v1", RF_OK, 1, 0, {0}},
    {"/v1/", RF_OK, 1, 0, {0}},
    {"/healthz", RF_OK, 0, 0, {0}},
    {"/", RF_OK, 0, 0, {0}},
    {"/v10/bundles", RF_OK, 0, 0, {0}},
    {"/v1x", RF_OK, 0, 0, {0}},
    {"/v1/bundles/", RF_ERR_NOT_FOUND, 1, 0, {0}},
    {"/v1//bundles", RF_ERR_NOT_FOUND, 1, 0, {0}},
    {"/v1/a/b/c/d/e/f/g/h", RF_OK, 1, 8, {"a", "b", "c", "d"}},
    {"/v1/a/b/c/d/e/f/g/h/i", RF_ERR_NOT_FOUND, 1, 0, {0}},
    {"bundles", RF_ERR_NOT_FOUND, 0, 0, {0}},
    {"", RF_ERR_NOT_FOUND, 0, 0, {0}},
};

START_TEST(test_path_split)
{
    const path_case *c = &path_cases[_i];
    char buf[HTTP_PATH_MAX + 1];
    const char *parts[RF_MAX_PATH_PARTS] = {0};
    int n = -1, v1 = -1;
    rf_err rc = http_path_split(c->path, buf, sizeof(buf), parts, RF_MAX_PATH_PARTS, &n, &v1);

    ck_assert_msg(rc == c->rc, "%s: rc %d, want %d", c->path, rc, c->rc);
    if (rc != RF_OK)
        return;
    ck_assert_int_eq(v1, c->is_v1);
    ck_assert_int_eq(n, c->nparts);
    for (int i = 0; i < n && i < 4; i++)
        ck_assert_str_eq(parts[i], c->parts[i]);
}
END_TEST

START_TEST(test_path_too_long)
{
    char path[HTTP_PATH_MAX + 2];
    char buf[HTTP_PATH_MAX + 1];
    const char *parts[RF_MAX_PATH_PARTS];
    int n, v1;

    memset(path, 'a', sizeof(path) - 1);
    memcpy(path, "/v1/", 4);
    path[sizeof(path) - 1] = '\0'; /* 513 bytes */
    ck_assert_int_eq(http_path_split(path, buf, sizeof(buf), parts, RF_MAX_PATH_PARTS, &n, &v1),
                     RF_ERR_INVALID);
    path[HTTP_PATH_MAX] = '\0'; /* exactly 512 bytes: accepted */
    ck_assert_int_eq(http_path_split(path, buf, sizeof(buf), parts, RF_MAX_PATH_PARTS, &n, &v1),
                     RF_OK);
    ck_assert_int_eq(n, 1);
}
END_TEST

/* ---- bearer tokens ---- */

START_TEST(test_bearer)
{
    size_t len = 99;
    const char *t;

    t = http_bearer_token("Bearer rfu_abc", &len);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(len, 7);
    ck_assert_int_eq(strncmp(t, "rfu_abc", len), 0);
    t = http_bearer_token("bearer   xyz", &len);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(len, 3);
    ck_assert_ptr_null(http_bearer_token("Basic dXNlcjpwYXNz", &len));
    ck_assert_ptr_null(http_bearer_token("Bearer ", &len));
    ck_assert_ptr_null(http_bearer_token("Bearer a b", &len));
    ck_assert_ptr_null(http_bearer_token("Bearerabc", &len));
    ck_assert_ptr_null(http_bearer_token(NULL, &len));
    ck_assert_uint_eq(len, 0);
}
END_TEST

/* ---- the status table and error bodies ---- */

static const struct {
    rf_err err;
    int status;
    const char *code;
} status_cases[] = {
    {RF_ERR_INVALID, 400, "invalid"},
    {RF_ERR_UNAUTHORIZED, 401, "unauthorized"},
    {RF_ERR_FORBIDDEN, 403, "forbidden"},
    {RF_ERR_NOT_FOUND, 404, "not_found"},
    {RF_ERR_CONFLICT, 409, "conflict"},
    {RF_ERR_TOO_LARGE, 413, "too_large"},
    {RF_ERR_UNAVAILABLE, 503, "unavailable"},
    {RF_ERR_INTERNAL, 500, "internal"},
    {RF_ERR_IO, 500, "internal"},
    {RF_ERR_VERIFY, 400, "invalid"},
};

static json_t *body_of(const rf_resp *r)
{
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    ck_assert_ptr_nonnull(j);
    return j;
}

static const char *header(const rf_resp *r, const char *name)
{
    for (int i = 0; i < r->nheaders; i++)
        if (strcmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

START_TEST(test_status_table)
{
    rf_resp resp = {0};
    json_t *j;

    ck_assert_int_eq(rf_http_status_of(status_cases[_i].err), status_cases[_i].status);
    rf_resp_error(&resp, status_cases[_i].err, "field 'x': bad");
    ck_assert_int_eq(resp.status, status_cases[_i].status);
    ck_assert_str_eq(resp.content_type, "application/json");
    j = body_of(&resp);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
                     status_cases[_i].code);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
                     "field 'x': bad");
    if (status_cases[_i].err == RF_ERR_UNAVAILABLE)
        ck_assert_str_eq(header(&resp, "Retry-After"), "1");
    else
        ck_assert_ptr_null(header(&resp, "Retry-After"));
    json_decref(j);
    free(resp.body);
}
END_TEST

START_TEST(test_resp_error_e)
{
    rf_resp resp = {0};
    rf_error e = {0};

    rf_error_set(&e, RF_ERR_CONFLICT, "cannot promote: rollout is halted");
    rf_resp_error_e(&resp, &e);
    ck_assert_int_eq(resp.status, 409);
    ck_assert_ptr_nonnull(strstr(resp.body, "cannot promote: rollout is halted"));
    free(resp.body);
}
END_TEST

/* ---- JSON bodies ---- */

static rf_req req_with_body(const char *body)
{
    rf_req r;
    memset(&r, 0, sizeof(r));
    r.method = "POST";
    r.path = "/v1/rings";
    r.body = body;
    r.body_len = body ? strlen(body) : 0;
    return r;
}

START_TEST(test_json_object)
{
    static const struct {
        const char *body;
        const char *want; /* NULL: accepted */
    } cases[] = {
        {"{\"a\":1}", NULL},
        {NULL, "body: missing"},
        {"", "body: missing"},
        {"[1,2]", "body: must be a JSON object"},
        {"\"s\"", "body: must be a JSON object"},
        {"{\"a\":", "body: malformed JSON at line 1 column"},
        {"{\n\"a\": tru}", "body: malformed JSON at line 2 column"},
        {"{\"a\":1,\"a\":2}", "body: malformed JSON"},
        {"{\"a\":1} x", "body: malformed JSON"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rf_req req = req_with_body(cases[i].body);
        rf_resp resp = {0};
        json_t *j = rf_req_json_object(&req, &resp);
        if (!cases[i].want) {
            ck_assert_ptr_nonnull(j);
            ck_assert_ptr_null(resp.body);
        } else {
            ck_assert_ptr_null(j);
            ck_assert_int_eq(resp.status, 400);
            ck_assert_msg(strstr(resp.body, cases[i].want) != NULL, "case %zu: %s", i, resp.body);
        }
        json_decref(j);
        free(resp.body);
    }
}
END_TEST

/* ---- role and device gates ---- */

static rf_req req_as(rf_principal_kind kind, rf_role role)
{
    rf_req r = req_with_body(NULL);
    r.who.kind = kind;
    r.who.role = role;
    memcpy(r.who.name, "alice", 6);
    return r;
}

START_TEST(test_require_role)
{
    /* For each principal and each needed role: the expected status (0 = allowed). */
    static const struct {
        rf_principal_kind kind;
        rf_role role;
        int want[3]; /* needs viewer, release, admin */
    } cases[] = {
        {RF_PRINCIPAL_ANON, RF_ROLE_NONE, {401, 401, 401}},
        {RF_PRINCIPAL_BAD, RF_ROLE_NONE, {401, 401, 401}},
        {RF_PRINCIPAL_DEVICE, RF_ROLE_NONE, {403, 403, 403}},
        {RF_PRINCIPAL_ENROLL, RF_ROLE_NONE, {403, 403, 403}},
        {RF_PRINCIPAL_USER, RF_ROLE_VIEWER, {0, 403, 403}},
        {RF_PRINCIPAL_USER, RF_ROLE_RELEASE, {0, 0, 403}},
        {RF_PRINCIPAL_USER, RF_ROLE_ADMIN, {0, 0, 0}},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int k = 0; k < 3; k++) {
            rf_req req = req_as(cases[i].kind, cases[i].role);
            rf_resp resp = {0};
            int ok = rf_require_role(&req, &resp, (rf_role)(RF_ROLE_VIEWER + k));
            ck_assert_int_eq(ok, cases[i].want[k] == 0);
            ck_assert_int_eq(resp.status, cases[i].want[k]);
            free(resp.body);
        }
    }
}
END_TEST

START_TEST(test_require_role_message)
{
    rf_req req = req_as(RF_PRINCIPAL_USER, RF_ROLE_VIEWER);
    rf_resp resp = {0};

    ck_assert_int_eq(rf_require_role(&req, &resp, RF_ROLE_RELEASE), 0);
    ck_assert_ptr_nonnull(strstr(resp.body, "this route needs role release; token 'alice' has "
                                            "viewer"));
    free(resp.body);
    req = req_as(RF_PRINCIPAL_ANON, RF_ROLE_NONE);
    memset(&resp, 0, sizeof(resp));
    ck_assert_int_eq(rf_require_role(&req, &resp, RF_ROLE_VIEWER), 0);
    ck_assert_ptr_nonnull(strstr(resp.body, "missing or unknown token"));
    ck_assert_str_eq(header(&resp, "WWW-Authenticate"), "Bearer");
    free(resp.body);
}
END_TEST

START_TEST(test_require_device)
{
    static const struct {
        rf_principal_kind kind;
        int want;
    } cases[] = {
        {RF_PRINCIPAL_DEVICE, 0}, {RF_PRINCIPAL_ANON, 401},   {RF_PRINCIPAL_BAD, 401},
        {RF_PRINCIPAL_USER, 403}, {RF_PRINCIPAL_ENROLL, 403},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rf_req req = req_as(cases[i].kind, RF_ROLE_ADMIN);
        rf_resp resp = {0};
        ck_assert_int_eq(rf_require_device(&req, &resp), cases[i].want == 0);
        ck_assert_int_eq(resp.status, cases[i].want);
        free(resp.body);
    }
}
END_TEST

/* ---- the router's own answers (no handler, no database) ---- */

static rf_resp route(const char *method, const char *path)
{
    static char buf[HTTP_PATH_MAX + 1];
    rf_server srv;
    rf_req req = req_with_body(NULL);
    rf_resp resp = {0};
    int v1;

    memset(&srv, 0, sizeof(srv));
    req.method = method;
    req.path = path;
    ck_assert_int_eq(
        http_path_split(path, buf, sizeof(buf), req.parts, RF_MAX_PATH_PARTS, &req.nparts, &v1),
        RF_OK);
    ck_assert_int_eq(rf_api_dispatch(&srv, &req, &resp), RF_HTTP_DONE);
    return resp;
}

START_TEST(test_router)
{
    static const struct {
        const char *method, *path;
        int status;
        const char *allow;
    } cases[] = {
        {"GET", "/healthz", 200, NULL},
        {"POST", "/healthz", 405, "GET"},
        {"GET", "/nothing", 404, NULL},
        {"GET", "/v1/nothing", 404, NULL},
        {"GET", "/v1", 404, NULL},
        {"DELETE", "/v1/bundles", 405, "GET, POST"},
        {"POST", "/v1/bundles/3", 405, "GET"},
        {"PATCH", "/v1/rings/1", 405, "GET, PUT, DELETE"},
        {"GET", "/v1/rollouts/1/start", 405, "POST"},
        {"GET", "/v1/rollouts/1/explode", 404, NULL},
        {"GET", "/v1/agent/heartbeat", 405, "POST"},
        {"GET", "/v1/bundles/1/content/x", 404, NULL},
        {"PUT", "/", 405, "GET"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rf_resp resp = route(cases[i].method, cases[i].path);
        ck_assert_msg(resp.status == cases[i].status, "%s %s: %d", cases[i].method, cases[i].path,
                      resp.status);
        if (cases[i].allow)
            ck_assert_str_eq(header(&resp, "Allow"), cases[i].allow);
        if (resp.status == 405)
            ck_assert_ptr_nonnull(strstr(resp.body, "method_not_allowed"));
        free(resp.body);
    }
}
END_TEST

/* ---- HTML escaping ---- */

START_TEST(test_escape)
{
    rf_buf b;

    rf_buf_init(&b, 1024);
    ck_assert_int_eq(dashboard_escape(&b, "<a href=\"x\">Tom & 'Jerry'</a>\x01\n"), RF_OK);
    ck_assert_str_eq(b.data, "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
    rf_buf_cleanup(&b);
    rf_buf_init(&b, 8);
    ck_assert_int_eq(dashboard_escape(&b, "<<<<<<<<"), RF_ERR_TOO_LARGE);
    rf_buf_cleanup(&b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_path_split, 0, sizeof(path_cases) / sizeof(path_cases[0]));
    tcase_add_test(tc, test_path_too_long);
    tcase_add_test(tc, test_bearer);
    tcase_add_loop_test(tc, test_status_table, 0, sizeof(status_cases) / sizeof(status_cases[0]));
    tcase_add_test(tc, test_resp_error_e);
    tcase_add_test(tc, test_json_object);
    tcase_add_test(tc, test_require_role);
    tcase_add_test(tc, test_require_role_message);
    tcase_add_test(tc, test_require_device);
    tcase_add_test(tc, test_router);
    tcase_add_test(tc, test_escape);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
