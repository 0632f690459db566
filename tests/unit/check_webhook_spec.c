/* Unit tests for the webhook routes' pure parts and the master key: the URL
 * rules (table-driven, each refusal with its message), the create and patch
 * bodies, the event filter's canonical order and its text[] literal, the URL
 * as the audit trail shows it, the secret and key-id derivations against
 * values computed independently (Python's hmac), and the key file: created
 * 0600 on first use, never replaced, refused when others may read it. */
#include "webhook_key.h"
#include "webhook_spec.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct url_case {
    const char *url;
    const char *want; /* NULL: accepted; else a part of the message */
} url_case;

static char long_url[WEBHOOK_URL_MAX + 2];

static const url_case url_cases[] = {
    {"http://example.com", NULL},
    {"https://example.com/hook", NULL},
    {"https://example.com:8443/a/b?x=1&y=%20", NULL},
    {"http://127.0.0.1:9/", NULL},
    {"http://[::1]:8080/hook", NULL},
    {"http://[fe80::1]/", NULL},
    {"http://my_host.internal/", NULL},
    {"http://h:65535/", NULL},
    {"", "must be 1-512 bytes long"},
    {"ftp://example.com/", "must start with http:// or https://"},
    {"HTTP://example.com/", "must start with http:// or https://"},
    {"example.com/hook", "must start with http:// or https://"},
    {"http://", "needs a host"},
    {"http:///path", "needs a host"},
    {"http://:80/", "needs a host"},
    {"http://user@example.com/", "must not carry a user or password"},
    {"http://u:p@example.com/", "must not carry a user or password"},
    {"http://example.com/a@b", NULL}, /* an @ in the path is not user info */
    {"http://example.com:0/", "the port must be a number 1-65535"},
    {"http://example.com:65536/", "the port must be a number 1-65535"},
    {"http://example.com:/", "the port must be a number 1-65535"},
    {"http://example.com:8o/", "the port must be a number 1-65535"},
    {"http://example.com:1234567/", "the port must be a number 1-65535"},
    {"http://[::1/", "an IPv6 host must be written [address]"},
    {"http://[]/", "an IPv6 host must be written [address]"},
    {"http://[::g]/", "an IPv6 host must be written [address]"},
    {"http://[::1]x/", "the port must be a number 1-65535"},
    {"http://exa mple.com/", "must be visible ASCII"},
    {"http://example.com/\t", "must be visible ASCII"},
    {"http://example.com/\x7f", "must be visible ASCII"},
    {"http://example.com/caf\xc3\xa9", "must be visible ASCII"},
    {"http://example.com/#top", "must not carry a fragment"},
    {"http://ex!ample.com/", "the host may hold only letters"},
    {"http://ex%41mple.com/", "the host may hold only letters"},
};

START_TEST(url_rules)
{
    for (size_t i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
        const url_case *c = &url_cases[i];
        rf_error e = {0};
        rf_err rc = webhook_url_check("url", c->url, &e);
        if (c->want == NULL) {
            ck_assert_msg(rc == RF_OK, "%s refused: %s", c->url, e.message);
        } else {
            ck_assert_msg(rc == RF_ERR_INVALID, "%s accepted", c->url);
            ck_assert_msg(strstr(e.message, c->want) != NULL, "%s: %s", c->url, e.message);
            ck_assert_msg(strncmp(e.message, "field 'url': ", 13) == 0, "%s", e.message);
        }
    }
}
END_TEST

START_TEST(url_length_bounds)
{
    rf_error e = {0};
    memset(long_url, 'a', sizeof(long_url) - 1);
    long_url[sizeof(long_url) - 1] = '\0';
    memcpy(long_url, "http://h/", 9);
    ck_assert_int_eq(strlen(long_url), WEBHOOK_URL_MAX + 1);
    ck_assert_int_eq(webhook_url_check("url", long_url, &e), RF_ERR_INVALID);
    long_url[WEBHOOK_URL_MAX] = '\0';
    ck_assert_int_eq(webhook_url_check("url", long_url, &e), RF_OK);
    ck_assert_int_eq(webhook_url_check("url", NULL, &e), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.message, "must be a string"));
}
END_TEST

typedef struct body_case {
    const char *json;
    int create;
    const char *want; /* NULL: accepted */
} body_case;

static const body_case body_cases[] = {
    {"{\"url\": \"http://h/\"}", 1, NULL},
    {"{}", 1, "field 'url': required"},
    {"{}", 0, "body: give at least one of"},
    {"{\"url\": 3}", 1, "field 'url': must be a string"},
    {"{\"url\": \"http://h/\", \"x\": 1}", 1, "field 'x': unknown field"},
    {"{\"url\": \"http://h/\", \"secret\": \"s\"}", 1, "field 'secret': cannot be set"},
    {"{\"secret\": \"s\"}", 0, "field 'secret': cannot be set"},
    {"{\"events\": []}", 0, "field 'events': must be an array of 1-16"},
    {"{\"events\": {}}", 0, "field 'events': must be an array"},
    {"{\"events\": [1]}", 0, "field 'events[0]': must be a string"},
    {"{\"events\": [\"rollout.halted\", \"nope\"]}", 0, "field 'events[1]': 'nope' is not"},
    {"{\"events\": [\"device.failed\"]}", 0, "field 'events[0]': 'device.failed' is not"},
    {"{\"events\": [\"webhook.test\"]}", 0, "field 'events[0]': 'webhook.test' is not"},
    {"{\"events\": [\"rollout.paused\", \"rollout.paused\"]}", 0,
     "field 'events[1]': 'rollout.paused' is listed twice"},
    {"{\"description\": 5}", 0, "field 'description': must be a string"},
    {"{\"description\": \"a\\u0001b\"}", 0, "field 'description'"},
    {"{\"description\": \"nul\\u0000in\"}", 0, "field 'description'"},
    {"{\"description\": \"caf\\u00e9 on-call\"}", 0, NULL},
    {"{\"enabled\": 1}", 0, "field 'enabled': must be true or false"},
    {"{\"enabled\": false}", 0, NULL},
};

START_TEST(bodies)
{
    for (size_t i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]); i++) {
        const body_case *c = &body_cases[i];
        webhook_spec s;
        rf_error e = {0};
        json_t *j = json_loads(c->json, JSON_ALLOW_NUL, NULL);
        ck_assert_msg(j != NULL, "%s", c->json);
        rf_err rc = webhook_spec_parse(j, c->create, &s, &e);
        if (c->want == NULL)
            ck_assert_msg(rc == RF_OK, "%s refused: %s", c->json, e.message);
        else
            ck_assert_msg(rc == RF_ERR_INVALID && strstr(e.message, c->want) != NULL, "%s: %s",
                          c->json, e.message);
        json_decref(j);
    }
}
END_TEST

START_TEST(defaults_and_patch_fields)
{
    webhook_spec s;
    rf_error e = {0};
    char lit[256];
    json_t *j = json_pack("{s:s}", "url", "https://h/x");
    ck_assert_int_eq(webhook_spec_parse(j, 1, &s, &e), RF_OK);
    ck_assert_str_eq(s.url, "https://h/x");
    ck_assert_int_eq(s.nevents, 2);
    ck_assert_str_eq(s.events[0], "rollout.halted");
    ck_assert_str_eq(s.events[1], "rollout.reverted");
    ck_assert_int_eq(s.enabled, 1);
    ck_assert_str_eq(s.description, "");
    ck_assert(s.has_url && !s.has_events && !s.has_description && !s.has_enabled);
    json_decref(j);

    /* the filter comes back in one canonical order, whatever order it was given in */
    j = json_loads("{\"events\": [\"rollout.completed\", \"rollout.started\", \"rollout.halted\"],"
                   " \"enabled\": false}",
                   0, NULL);
    ck_assert_int_eq(webhook_spec_parse(j, 0, &s, &e), RF_OK);
    ck_assert(!s.has_url && s.has_events && s.has_enabled && !s.enabled);
    webhook_spec_events_literal(&s, lit, sizeof(lit));
    ck_assert_str_eq(lit, "{rollout.halted,rollout.started,rollout.completed}");
    webhook_spec_events_literal(&s, lit, 3); /* too small: an empty array, still terminated */
    ck_assert_str_eq(lit, "{}");
    json_decref(j);
}
END_TEST

START_TEST(redaction)
{
    static const char *const cases[][2] = {
        {"https://hooks.example.com/services/T00/B00/XXXX",
         "https://hooks.example.com/\xe2\x80\xa6"},
        {"http://h:8080/?token=abc", "http://h:8080/\xe2\x80\xa6"},
        {"http://h:8080?token=abc", "http://h:8080/\xe2\x80\xa6"},
        {"http://h:8080/", "http://h:8080/"},
        {"http://h", "http://h"},
        {"http://[::1]:9/x", "http://[::1]:9/\xe2\x80\xa6"},
    };
    char out[WEBHOOK_REDACTED_MAX];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        webhook_url_redact(cases[i][0], out, sizeof(out));
        ck_assert_str_eq(out, cases[i][1]);
    }
}
END_TEST

START_TEST(derivations)
{
    uint8_t key[WEBHOOK_KEY_LEN];
    char id[WEBHOOK_KEY_ID_LEN + 1], s1[WEBHOOK_SECRET_LEN + 1], s2[WEBHOOK_SECRET_LEN + 1];
    for (int i = 0; i < WEBHOOK_KEY_LEN; i++)
        key[i] = (uint8_t)i;
    webhook_key_id_of(key, id);
    ck_assert_str_eq(id, "35d8ca774de26bce");
    webhook_secret_derive(key, 7, 1, s1);
    ck_assert_str_eq(s1, "rfw_d4fc4a8b59b532556580af49eeeb30e41bc526995ad65f6a1c3f98d4e01a944d");
    webhook_secret_derive(key, 7, 2, s2);
    ck_assert_str_eq(s2, "rfw_3efdca61220aec9f3508c8df9739036eaf08c3f396d5e0cb669904f3e25f3968");
    webhook_secret_derive(key, 8, 1, s2);
    ck_assert_str_ne(s1, s2);
    key[0] ^= 1;
    webhook_secret_derive(key, 7, 1, s2);
    ck_assert_str_ne(s1, s2);
}
END_TEST

START_TEST(key_file)
{
    char dir[] = "/tmp/rf-webhook-key-XXXXXX", sub[128], path[160];
    webhook_key a, b;
    rf_error e = {0};
    int created = -1;
    struct stat st;
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(sub, sizeof(sub), "%s/keys", dir);
    snprintf(path, sizeof(path), "%s/%s", sub, WEBHOOK_KEY_FILE);
    ck_assert_int_eq(webhook_key_load(sub, &a, &e), RF_ERR_NOT_FOUND);
    ck_assert_int_eq(webhook_key_ensure(sub, &a, &created, &e), RF_OK);
    ck_assert_int_eq(created, 1);
    ck_assert(a.loaded && strlen(a.id) == WEBHOOK_KEY_ID_LEN);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(st.st_size, 65);
    /* a second ensure reads the same key and replaces nothing */
    ck_assert_int_eq(webhook_key_ensure(sub, &b, &created, &e), RF_OK);
    ck_assert_int_eq(created, 0);
    ck_assert_int_eq(memcmp(a.key, b.key, WEBHOOK_KEY_LEN), 0);
    ck_assert_str_eq(a.id, b.id);
    /* others may read it: refused, and nothing is loaded */
    ck_assert_int_eq(chmod(path, 0640), 0);
    ck_assert_int_eq(webhook_key_load(sub, &b, &e), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.message, "mode 0600"));
    ck_assert_int_eq(b.loaded, 0);
    ck_assert_int_eq(webhook_key_ensure(sub, &b, &created, &e), RF_ERR_INVALID);
    /* not a key */
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("not hex at all\n", f);
    fclose(f);
    ck_assert_int_eq(chmod(path, 0600), 0);
    ck_assert_int_eq(webhook_key_load(sub, &b, &e), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.message, "not a webhook key"));
    webhook_key_wipe(&a);
    ck_assert_int_eq(a.loaded, 0);
    webhook_key_wipe(NULL);
    ck_assert_int_eq(webhook_key_load("", &b, &e), RF_ERR_INVALID);
    unlink(path);
    rmdir(sub);
    rmdir(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("webhook_spec");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, url_rules);
    tcase_add_test(tc, url_length_bounds);
    tcase_add_test(tc, bodies);
    tcase_add_test(tc, defaults_and_patch_fields);
    tcase_add_test(tc, redaction);
    tcase_add_test(tc, derivations);
    tcase_add_test(tc, key_file);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
