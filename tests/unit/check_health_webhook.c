/* Unit tests for the pure parts of webhook delivery: the signature header
 * (HMAC-SHA256 against the RFC 4231 test vector) and the retry back-off. */
#include "webhook.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(signature_matches_rfc4231)
{
    char sig[72];
    /* RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?" */
    const char *data = "what do ya want for nothing?";
    webhook_sign("Jefe", data, strlen(data), sig);
    ck_assert_str_eq(sig,
                     "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    webhook_sign("Jefe", data, strlen(data) - 1, sig);
    ck_assert_str_ne(sig,
                     "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
END_TEST

START_TEST(backoff_doubles_then_caps)
{
    const int want[] = {1, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300};
    for (int a = 0; a < (int)(sizeof(want) / sizeof(want[0])); a++)
        ck_assert_int_eq(webhook_backoff_s(a), want[a]);
    ck_assert_int_eq(webhook_backoff_s(1000), WEBHOOK_BACKOFF_MAX_S);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("health_webhook");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, signature_matches_rfc4231);
    tcase_add_test(tc, backoff_doubles_then_caps);
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
