/* The two commands that keep talking to the server until told to stop:
 * `events --follow` (long-polls the event log and prints each new event
 * once) and `rollout watch` (redraws a rollout every second until it ends).
 * This is I/O glue only: what a line or a screen says is decided by pure
 * functions in cmd_*.c. Ctrl-C ends either cleanly, even in the middle of a
 * long-poll; neither ever retries a request that the server refused. */
#include "cmd.h"
#include "run.h"
#include "rf_util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LIVE_WAIT_S 25     /* long-poll length asked of the server */
#define LIVE_RETRY_MS 2000 /* pause before trying again after a failure */
#define LIVE_PAGE 500      /* events per request */
#define LIVE_BACKLOG 10    /* events shown before following, without --after */

static volatile sig_atomic_t live_stop;

static void on_signal(int sig)
{
    (void)sig;
    live_stop = 1;
}

/* Ctrl-C and SIGTERM set live_stop; no SA_RESTART, so sleeps end at once. */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGTERM, &sa, NULL);
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (!live_stop && nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A failure worth waiting out: no answer at all, or the server (or the
 * database behind it) briefly away. */
static int transient(long http_status)
{
    return http_status == 0 || http_status == 502 || http_status == 503 || http_status == 504;
}

/* ---- events --follow ---------------------------------------------------- */

/* Prints the events of one answer and advances *after past them. */
static int print_events(const cli_args *a, const json_t *answer, long long *after)
{
    const json_t *list = json_object_get(answer, "events");
    int status = CLI_EXIT_OK;
    rf_buf out;
    rf_buf_init(&out, CLI_MAX_OUTPUT);
    for (size_t i = 0; status == CLI_EXIT_OK && i < json_array_size(list); i++) {
        const json_t *e = json_array_get(list, i);
        long long id = cli_jint(e, "id", 0);
        if (id <= *after) {
            continue; /* never print one twice */
        }
        *after = id;
        rf_buf_reset(&out);
        if (a->json) {
            char *s = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
            status = s != NULL && rf_buf_append_str(&out, s) == RF_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
            free(s);
        } else if (cmd_event_line(e, &out) != RF_OK) {
            status = CLI_EXIT_FAIL;
        }
        if (status == CLI_EXIT_OK) {
            status = cli_emit(out.data ? out.data : "", out.len);
        }
    }
    rf_buf_cleanup(&out);
    return status;
}

/* Without --after: skips to the last LIVE_BACKLOG events, reading the log
 * page by page; *after ends just before them. */
static int find_start(cli_client *client, long long rollout, long long *after)
{
    long long ids[LIVE_BACKLOG] = {0};
    size_t seen = 0;
    long long pos = 0;
    int status = CLI_EXIT_OK;
    rf_buf path;
    rf_buf_init(&path, 1024);
    for (;;) {
        json_t *answer = NULL;
        status = cmd_events_path(&path, pos, LIVE_PAGE, 0, rollout) == RF_OK
                     ? cli_fetch(client, path.data, &answer, NULL)
                     : CLI_EXIT_FAIL;
        const json_t *list = json_object_get(answer, "events");
        size_t n = json_array_size(list);
        for (size_t i = 0; i < n; i++) {
            long long id = cli_jint(json_array_get(list, i), "id", 0);
            pos = id > pos ? id : pos;
            ids[seen++ % LIVE_BACKLOG] = id;
        }
        json_decref(answer);
        if (status != CLI_EXIT_OK || n < LIVE_PAGE || live_stop) {
            break;
        }
    }
    rf_buf_cleanup(&path);
    /* The oldest of the last LIVE_BACKLOG, minus one. */
    *after = seen == 0 ? 0 : ids[seen < LIVE_BACKLOG ? 0 : seen % LIVE_BACKLOG] - 1;
    return status;
}

/* One long-poll; transient failures are reported once and waited out. */
static int follow_once(const cli_args *a, cli_client *client, const char *path, long long *after,
                       int *failing)
{
    json_t *answer = NULL;
    long http = 0;
    int status = cli_fetch_ex(client, path, &answer, &http, *failing > 0);
    if (status == CLI_EXIT_OK) {
        if (*failing > 0) {
            fputs("ringfence: connected again\n", stderr);
        }
        *failing = 0;
        status = print_events(a, answer, after);
    } else if (transient(http) && !live_stop && (*failing >= 0 || http != 0)) {
        if (*failing <= 0) {
            fputs("ringfence: will keep trying every 2 s (Ctrl-C stops)\n", stderr);
        }
        *failing = 1;
        status = CLI_EXIT_OK;
        nap_ms(LIVE_RETRY_MS);
    }
    json_decref(answer);
    return status;
}

int cmd_events_run(const cli_command *cmd, const cli_args *a)
{
    if (!cli_opt_has(a, "follow")) {
        return cli_run_default(cmd, a);
    }
    rf_error err = {RF_OK, ""};
    long long rollout = 0, after = 0;
    int has_rollout = 0, has_after = 0;
    int failing = -1; /* until the first answer: a server not there at all is an error */
    if (cli_opt_ll(a, "rollout", 1, INT64_MAX, &rollout, &has_rollout, &err) != RF_OK ||
        cli_opt_ll(a, "after", 0, INT64_MAX, &after, &has_after, &err) != RF_OK) {
        return cli_usage_error(cmd, err.message);
    }
    if (cli_opt_has(a, "limit")) {
        return cli_usage_error(cmd, "--limit cannot be used with --follow");
    }
    cli_client *client = NULL;
    int status = cli_connect(cmd, a, &client);
    if (status != CLI_EXIT_OK) {
        return status;
    }
    catch_signals();
    cli_client_set_cancel(client, &live_stop);
    cli_client_set_timeout(client, (LIVE_WAIT_S + 20) * 1000L);
    if (!has_after) {
        status = find_start(client, rollout, &after);
    }
    rf_buf path;
    rf_buf_init(&path, 1024);
    while (status == CLI_EXIT_OK && !live_stop) {
        rf_buf_reset(&path);
        status = cmd_events_path(&path, after, LIVE_PAGE, LIVE_WAIT_S, rollout) == RF_OK
                     ? follow_once(a, client, path.data, &after, &failing)
                     : CLI_EXIT_FAIL;
    }
    rf_buf_cleanup(&path);
    cli_client_free(client);
    return live_stop ? CLI_EXIT_OK : status;
}

/* ---- rollout watch ------------------------------------------------------ */

#define CLEAR_HOME "\033[H\033[2J"

/* One look at the rollout: the text to show into out, *done once it ended. */
static int watch_once(const cli_args *a, cli_client *client, long long id, rf_buf *out, int *done,
                      long *http, int quiet)
{
    char path[64];
    json_t *rollout = NULL;
    (void)rf_snprintf(path, sizeof path, "/v1/rollouts/%lld", id);
    int status = cli_fetch_ex(client, path, &rollout, http, quiet);
    rf_error err = {RF_OK, ""};
    cli_view view = {a, rf_now_ms() / 1000};
    if (status == CLI_EXIT_OK) {
        *done = cmd_rollout_is_final(rollout);
        if (a->json) {
            char *s = json_dumps(rollout, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
            status = s != NULL && rf_buf_append_str(out, s) == RF_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
            free(s);
        } else if (cmd_rollout_status_render(rollout, &view, out, &err) != RF_OK) {
            fprintf(stderr, "ringfence: %s\n", err.message[0] ? err.message : "cannot format");
            status = CLI_EXIT_FAIL;
        }
    }
    json_decref(rollout);
    return status;
}

/* Shows a frame: on a terminal, redrawn in place with a footer; otherwise
 * a new block only when the text changed (headed by the time, unless it is
 * JSON, one line a change). */
static int watch_show(int tty, int json, const rf_buf *now, rf_buf *last, long long id, int done)
{
    const char *text = now->data ? now->data : "";
    char stamp[32];
    rf_time_iso(rf_now_ms() / 1000, stamp);
    if (!tty) {
        if (last->data != NULL && strcmp(last->data, text) == 0) {
            return CLI_EXIT_OK;
        }
        int first = last->data == NULL;
        rf_buf_reset(last);
        if (rf_buf_append_str(last, text) != RF_OK) {
            return CLI_EXIT_FAIL;
        }
        if (!json && printf("%s--- %s\n", first ? "" : "\n", stamp) < 0) {
            return CLI_EXIT_FAIL;
        }
        return cli_emit(text, now->len);
    }
    fputs(CLEAR_HOME, stdout);
    int status = cli_emit(text, now->len);
    if (status == CLI_EXIT_OK) {
        printf("\nrollout %lld at %s; %s\n", id, stamp,
               done ? "it has ended." : "redrawn every second, Ctrl-C stops.");
        status = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    }
    return status;
}

int cmd_rollout_watch_run(const cli_command *cmd, const cli_args *a)
{
    rf_error err = {RF_OK, ""};
    long long id = 0;
    if (cli_parse_id("ID", a->pos[0], &id, &err) != RF_OK) {
        return cli_usage_error(cmd, err.message);
    }
    cli_client *client = NULL;
    int status = cli_connect(cmd, a, &client);
    if (status != CLI_EXIT_OK) {
        return status;
    }
    catch_signals();
    cli_client_set_cancel(client, &live_stop);
    cli_client_set_timeout(client, 15000L);
    int tty = !a->json && isatty(STDOUT_FILENO);
    int done = 0;
    int failing = -1; /* until the first answer: a server not there at all is an error */
    rf_buf frame, last;
    rf_buf_init(&frame, CLI_MAX_OUTPUT);
    rf_buf_init(&last, CLI_MAX_OUTPUT);
    while (status == CLI_EXIT_OK && !done && !live_stop) {
        long http = 0;
        rf_buf_reset(&frame);
        status = watch_once(a, client, id, &frame, &done, &http, failing > 0);
        if (status == CLI_EXIT_OK) {
            if (failing > 0) {
                fputs("ringfence: connected again\n", stderr);
            }
            failing = 0;
            status = watch_show(tty, a->json, &frame, &last, id, done);
        } else if (transient(http) && !live_stop && (failing >= 0 || http != 0)) {
            if (failing <= 0) {
                fputs("ringfence: will keep trying every 2 s (Ctrl-C stops)\n", stderr);
            }
            failing = 1;
            status = CLI_EXIT_OK;
            nap_ms(LIVE_RETRY_MS - 1000);
        }
        if (status == CLI_EXIT_OK && !done) {
            nap_ms(1000);
        }
    }
    rf_buf_cleanup(&frame);
    rf_buf_cleanup(&last);
    cli_client_free(client);
    return live_stop ? CLI_EXIT_OK : status;
}
