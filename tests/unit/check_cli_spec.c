/* Unit tests for the small languages of the CLI: durations (10m, 2h, 1d,
 * 1h30m), start windows ("mon-fri 09-17") and stage specs
 * ("ring=canary,percent=10,bake=10m,approval"). Table-driven: each row is an
 * input and either the exact value expected or a piece of the message. */
#include "cli.h"

#include <check.h>
#include <string.h>

/* ---- durations --------------------------------------------------------- */

typedef struct dur_case {
    const char *in;
    long long want; /* -1: must fail */
} dur_case;

static const dur_case dur_cases[] = {
    {"0", 0},
    {"90", 90},
    {"90s", 90},
    {"10m", 600},
    {"2h", 7200},
    {"1d", 86400},
    {"1h30m", 5400},
    {"1d2h3m4s", 93784},
    {"0m", 0},
    {"30d", 30LL * 86400},
    {"31d", -1}, /* over the maximum */
    {"720h", 30LL * 86400},
    {"721h", -1},
    {"99999999999999999999s", -1}, /* would overflow */
    {"", -1},
    {"m", -1},
    {"10", 10},
    {"10x", -1},
    {"10mm", -1},
    {"30m1h", -1}, /* units largest first */
    {"1h1h", -1},  /* each unit once */
    {"1h30", -1},  /* a bare number only alone */
    {"-5m", -1},
    {" 5m", -1},
    {"5m ", -1},
    {"1.5h", -1},
    {"+5", -1},
};

START_TEST(test_duration_parse)
{
    const dur_case *c = &dur_cases[_i];
    long long got = -7;
    rf_error err = {RF_OK, ""};
    rf_err rc = cli_parse_duration("--bake", c->in, CLI_MAX_BAKE_S, &got, &err);
    if (c->want < 0) {
        ck_assert_msg(rc == RF_ERR_INVALID, "'%s' was accepted as %lld", c->in, got);
        ck_assert_ptr_nonnull(strstr(err.message, "--bake: '"));
        ck_assert_ptr_nonnull(strstr(err.message, "is not a duration"));
        ck_assert_int_eq(got, -7); /* untouched on failure */
    } else {
        ck_assert_msg(rc == RF_OK, "'%s': %s", c->in, err.message);
        ck_assert_int_eq(got, c->want);
    }
}
END_TEST

typedef struct dur_text_case {
    long long secs;
    const char *want;
} dur_text_case;

static const dur_text_case dur_text_cases[] = {
    {-3, "0s"},      {0, "0s"},     {1, "1s"},       {59, "59s"},      {60, "1m"},
    {61, "1m1s"},    {600, "10m"},  {720, "12m"},    {3599, "59m59s"}, {3600, "1h"},
    {3660, "1h1m"},  {3601, "1h"}, /* seconds dropped past an hour */
    {5400, "1h30m"}, {86400, "1d"}, {93784, "1d2h"}, {172800, "2d"},
};

START_TEST(test_duration_text)
{
    const dur_text_case *c = &dur_text_cases[_i];
    char buf[32];
    cli_duration_text(c->secs, buf, sizeof buf);
    ck_assert_str_eq(buf, c->want);
    /* What we print reads back as the same or a smaller (truncated) value. */
    long long back = 0;
    ck_assert_int_eq(cli_parse_duration("x", buf, CLI_MAX_BAKE_S, &back, NULL), RF_OK);
    ck_assert_int_le(back, c->secs < 0 ? 0 : c->secs);
}
END_TEST

/* ---- windows ----------------------------------------------------------- */

#define MON 1u
#define TUE 2u
#define WED 4u
#define THU 8u
#define FRI 16u
#define SAT 32u
#define SUN 64u

typedef struct win_case {
    const char *in;
    unsigned days; /* 0: must fail */
    int start, end;
    const char *canon; /* cli_window_text of the result */
} win_case;

static const win_case win_cases[] = {
    {"mon-fri 09-17", MON | TUE | WED | THU | FRI, 9, 17, "mon-fri 09-17"},
    {"mon-fri 9-17", MON | TUE | WED | THU | FRI, 9, 17, "mon-fri 09-17"},
    {"mon-fri 09:00-17:00", MON | TUE | WED | THU | FRI, 9, 17, "mon-fri 09-17"},
    {"sat,sun 00-24", SAT | SUN, 0, 24, "sat,sun 00-24"},
    {"daily 22-06", 0x7f, 22, 6, "daily 22-06"},
    {"* 0-24", 0x7f, 0, 24, "daily 00-24"},
    {"fri-mon 08-12", FRI | SAT | SUN | MON, 8, 12, "mon,fri-sun 08-12"},
    {"mon-wed,fri 08-12", MON | TUE | WED | FRI, 8, 12, "mon-wed,fri 08-12"},
    {"mon,wed 01-02", MON | WED, 1, 2, "mon,wed 01-02"},
    {"tue 23-24", TUE, 23, 24, "tue 23-24"},
    {"mon-sun 09-17", 0x7f, 9, 17, "daily 09-17"},
    {"wed-wed 09-17", WED, 9, 17, "wed 09-17"},
    /* refused */
    {"mon-fri", 0, 0, 0, "is not DAYS HOURS"},
    {"09-17", 0, 0, 0, "is not DAYS HOURS"},
    {"monday 09-17", 0, 0, 0, "is not DAYS HOURS"},
    {"Mon-Fri 09-17", 0, 0, 0, "is not DAYS HOURS"},
    {"mon-fri, 09-17", 0, 0, 0, "is not DAYS HOURS"},
    {"mon,,fri 09-17", 0, 0, 0, "is not DAYS HOURS"},
    {"mon-fri 09-09", 0, 0, 0, "START != END"},
    {"mon-fri 24-06", 0, 0, 0, "START != END"},
    {"mon-fri 09-25", 0, 0, 0, "START != END"},
    {"mon-fri 09-00", 0, 0, 0, "START != END"},
    {"mon-fri 09:30-17", 0, 0, 0, "START != END"},
    {"mon-fri 0917", 0, 0, 0, "START != END"},
    {"mon-fri -1-17", 0, 0, 0, "START != END"},
    {"mon-fri 09-17 ", 0, 0, 0, "START != END"},
};

START_TEST(test_window_parse)
{
    const win_case *c = &win_cases[_i];
    cli_window w;
    rf_error err = {RF_OK, ""};
    rf_err rc = cli_parse_window("--window", c->in, &w, &err);
    if (c->days == 0) {
        ck_assert_msg(rc == RF_ERR_INVALID, "'%s' was accepted", c->in);
        ck_assert_msg(strstr(err.message, c->canon) != NULL, "%s", err.message);
        ck_assert_ptr_nonnull(strstr(err.message, "--window"));
        return;
    }
    ck_assert_msg(rc == RF_OK, "'%s': %s", c->in, err.message);
    ck_assert_uint_eq(w.days, c->days);
    ck_assert_int_eq(w.start_hour, c->start);
    ck_assert_int_eq(w.end_hour, c->end);
    rf_buf b;
    rf_buf_init(&b, 256);
    ck_assert_int_eq(cli_window_text(&w, &b), RF_OK);
    ck_assert_str_eq(b.data, c->canon);
    /* The canonical text parses back to the same window. */
    cli_window w2;
    ck_assert_int_eq(cli_parse_window("--window", b.data, &w2, NULL), RF_OK);
    ck_assert_uint_eq(w2.days, w.days);
    ck_assert_int_eq(w2.start_hour, w.start_hour);
    ck_assert_int_eq(w2.end_hour, w.end_hour);
    rf_buf_cleanup(&b);
}
END_TEST

/* ---- stage specs ------------------------------------------------------- */

typedef struct stage_case {
    const char *in;
    const char *error; /* substring of the message; NULL for success */
    unsigned set;
    const char *ring;
    int percent;
    long long bake_s, min_healthy;
    double rate;
    int auto_promote, approval;
} stage_case;

#define ALL_SET                                                                                    \
    (CLI_STAGE_RING | CLI_STAGE_PERCENT | CLI_STAGE_BAKE | CLI_STAGE_MIN_HEALTHY |                 \
     CLI_STAGE_RATE | CLI_STAGE_PROMOTION | CLI_STAGE_APPROVAL)

static const stage_case stage_cases[] = {
    {"ring=canary,percent=100,bake=10m,min-healthy=2,max-failure-rate=0.2,promotion=auto,approval",
     NULL, ALL_SET, "canary", 100, 600, 2, 0.2, 1, 1},
    {"ring=canary", NULL, CLI_STAGE_RING, "canary", 0, 0, 0, 0, 0, 0},
    {"ring=3,percent=5", NULL, CLI_STAGE_RING | CLI_STAGE_PERCENT, "3", 5, 0, 0, 0, 0, 0},
    {"bake=2h,ring=broad", NULL, CLI_STAGE_RING | CLI_STAGE_BAKE, "broad", 0, 7200, 0, 0, 0, 0},
    {"ring=early,promotion=manual", NULL, CLI_STAGE_RING | CLI_STAGE_PROMOTION, "early", 0, 0, 0, 0,
     0, 0},
    {"ring=early,approval=no", NULL, CLI_STAGE_RING | CLI_STAGE_APPROVAL, "early", 0, 0, 0, 0, 0,
     0},
    {"ring=early,approval=yes", NULL, CLI_STAGE_RING | CLI_STAGE_APPROVAL, "early", 0, 0, 0, 0, 0,
     1},
    {"ring=early,max-failure-rate=25%", NULL, CLI_STAGE_RING | CLI_STAGE_RATE, "early", 0, 0, 0,
     0.25, 0, 0},
    {"ring=early,min-healthy=0", NULL, CLI_STAGE_RING | CLI_STAGE_MIN_HEALTHY, "early", 0, 0, 0, 0,
     0, 0},
    /* refused, each naming what is wrong */
    {"percent=10", "names no ring", 0, NULL, 0, 0, 0, 0, 0, 0},
    {"", "empty part", 0, NULL, 0, 0, 0, 0, 0, 0},
    {"ring=a,,percent=1", "empty part", 0, NULL, 0, 0, 0, 0, 0, 0},
    {"ring=a,", "empty part", 0, NULL, 0, 0, 0, 0, 0, 0},
    {"ring=", "is not key=value", 0, NULL, 0, 0, 0, 0, 0, 0},
    {"ring", "unknown part 'ring'", 0, NULL, 0, 0, 0, 0, 0, 0},
    {"ring=Canary", "ring 'Canary' is not an id or a name", 0, NULL, 0, 0, 0, 0, 0, 0},
    {"ring=a,ring=b", "'ring' given twice", 0, NULL, 0, 0, 0, 0, 0, 0},
    {"ring=a,percent=0", "--stage percent: '0' is not a whole percent", 0, NULL, 0, 0, 0, 0, 0, 0},
    {"ring=a,percent=101", "is not a whole percent", 0, NULL, 0, 0, 0, 0, 0, 0},
    {"ring=a,percent=5.5", "is not a whole percent", 0, NULL, 0, 0, 0, 0, 0, 0},
    {"ring=a,bake=10y", "--stage bake: '10y' is not a duration", 0, NULL, 0, 0, 0, 0, 0, 0},
    {"ring=a,bake=31d", "is not a duration", 0, NULL, 0, 0, 0, 0, 0, 0},
    {"ring=a,min-healthy=-1", "--stage min-healthy: '-1' is not a device count", 0, NULL, 0, 0, 0,
     0, 0, 0},
    {"ring=a,max-failure-rate=2", "--stage max-failure-rate: '2' is not a rate", 0, NULL, 0, 0, 0,
     0, 0, 0},
    {"ring=a,promotion=sometimes", "--stage promotion: 'sometimes' is not auto or manual", 0, NULL,
     0, 0, 0, 0, 0, 0},
    {"ring=a,approval=maybe", "is not yes or no", 0, NULL, 0, 0, 0, 0, 0, 0},
    {"ring=a,approval,approval", "'approval' given twice", 0, NULL, 0, 0, 0, 0, 0, 0},
    {"ring=a,bake", "unknown part 'bake'", 0, NULL, 0, 0, 0, 0, 0, 0},
    {"ring=a,speed=fast", "unknown part 'speed'", 0, NULL, 0, 0, 0, 0, 0, 0},
};

START_TEST(test_stage_parse)
{
    const stage_case *c = &stage_cases[_i];
    cli_stage_spec st;
    rf_error err = {RF_OK, ""};
    rf_err rc = cli_parse_stage("--stage", c->in, &st, &err);
    if (c->error != NULL) {
        ck_assert_msg(rc == RF_ERR_INVALID, "'%s' was accepted", c->in);
        ck_assert_msg(strstr(err.message, c->error) != NULL, "'%s': %s", c->in, err.message);
        return;
    }
    ck_assert_msg(rc == RF_OK, "'%s': %s", c->in, err.message);
    ck_assert_uint_eq(st.set, c->set);
    ck_assert_str_eq(st.ring, c->ring);
    ck_assert_int_eq(st.percent, c->percent);
    ck_assert_int_eq(st.bake_s, c->bake_s);
    ck_assert_int_eq(st.min_healthy, c->min_healthy);
    ck_assert_double_eq_tol(st.max_failure_rate, c->rate, 1e-12);
    ck_assert_int_eq(st.auto_promote, c->auto_promote);
    ck_assert_int_eq(st.approval, c->approval);
}
END_TEST

static Suite *spec_suite(void)
{
    Suite *s = suite_create("cli_spec");
    TCase *tc = tcase_create("spec");
    tcase_add_loop_test(tc, test_duration_parse, 0, sizeof dur_cases / sizeof dur_cases[0]);
    tcase_add_loop_test(tc, test_duration_text, 0,
                        sizeof dur_text_cases / sizeof dur_text_cases[0]);
    tcase_add_loop_test(tc, test_window_parse, 0, sizeof win_cases / sizeof win_cases[0]);
    tcase_add_loop_test(tc, test_stage_parse, 0, sizeof stage_cases / sizeof stage_cases[0]);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(spec_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
