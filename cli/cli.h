/* Shared types of the ringfence CLI: the command table, parsed arguments, the
 * request a command builds and the helpers that turn answers into text.
 * Everything declared here is pure (no I/O, no clock, no environment), so
 * argument handling, request building and output formatting are unit tested;
 * the network lives in client.c and the glue in run.c. Nothing here may ever
 * place the token in a string that is printed. */
#ifndef CLI_H
#define CLI_H

#include "rf_buf.h"
#include "rf_err.h"
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

#define CLI_DEFAULT_URL "http://127.0.0.1:8080"
#define CLI_MAX_ARGS 64                     /* positionals, and options, per command line */
#define CLI_MAX_RESPONSE ((size_t)16 << 20) /* bytes of an answer body we accept */
#define CLI_MAX_UPLOAD ((uint64_t)1 << 30)  /* largest bundle file we will send */
#define CLI_MAX_OUTPUT ((size_t)256 << 20)  /* cap on rendered text */
#define CLI_MAX_LABELS 32

/* ---- options and parsed arguments ------------------------------------- */

typedef enum cli_opt_kind {
    CLI_OPT_FLAG,  /* --json */
    CLI_OPT_VALUE, /* --channel C, given at most once */
    CLI_OPT_REPEAT /* --label k=v, any number of times */
} cli_opt_kind;

typedef struct cli_opt {
    const char *name; /* without the leading "--"; NULL ends a table */
    cli_opt_kind kind;
    const char *metavar; /* "C", "k=v"; NULL for flags */
    int required;
    const char *help;
} cli_opt;

typedef struct cli_args {
    const char *pos[CLI_MAX_ARGS]; /* borrowed from argv */
    size_t npos;
    const char *opt_name[CLI_MAX_ARGS]; /* borrowed from the cli_opt tables */
    const char *opt_val[CLI_MAX_ARGS];  /* borrowed from argv; NULL for flags */
    size_t nopts;
    const char *url;   /* --url, or NULL */
    const char *token; /* --token, or NULL */
    int json, help, version;
} cli_args;

/* ---- requests, views and commands ------------------------------------- */

struct cli_view;

/* Appends the human form of answer (borrowed; NULL for an empty body) to out. */
typedef rf_err (*cli_render_fn)(const json_t *answer, const struct cli_view *v, rf_buf *out,
                                rf_error *err);

typedef struct cli_request cli_request;
struct cli_args;

/* Completes a two-step request from the object read first (fetched,
 * borrowed): sets the path and body of a change, say. Pure. */
typedef rf_err (*cli_prepare_fn)(const struct cli_args *a, const json_t *fetched, cli_request *req,
                                 rf_error *err);

struct cli_request {
    const char *method; /* static string: "GET", "POST", "PUT", "DELETE" */
    rf_buf path;        /* "/v1/…?…", already escaped */
    json_t *body;       /* owned (new reference) or NULL for no body */
    const char *upload; /* bundle push: the file to send, borrowed from argv */
    char if_match[32];  /* the object version a change is based on; "" for none */
    /* A first step: when fetch_path is set it is read (GET) before the
     * request is sent; prepare (may be NULL) completes the request from it.
     * With guard, the object's "version" goes out as If-Match (unless
     * if_match is set), and a 409 shows the object as it is now through
     * state_render (or as JSON with --json). */
    char fetch_path[256];
    cli_prepare_fn prepare;
    int guard;
    cli_render_fn state_render;
    /* A plan file (JSON) whose stages become the body's "stages"; borrowed. */
    const char *plan_file;
};

void cli_request_init(cli_request *r);
void cli_request_cleanup(cli_request *r); /* NULL-safe */
/* The body as sent: compact JSON, keys sorted, reals with 15 significant
 * digits (so 0.3 stays "0.3"). Returns a malloc'd string, NULL if no body
 * or out of memory. */
char *cli_request_body(const cli_request *r);
/* Sets the method (a static string) and a printf-formed path. */
rf_err cli_request_set(cli_request *r, const char *method, rf_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Guards the change with the version of the object at the printf-formed
 * path, shown through state_render when the server answers 409. The
 * version is --if-version when a gives it (what the user last saw), else
 * the one read just before sending. */
rf_err cli_request_guard(cli_request *r, const struct cli_args *a, cli_render_fn state_render,
                         rf_error *err, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Reads the printf-formed path first and lets prepare complete the request. */
rf_err cli_request_fetch(cli_request *r, cli_prepare_fn prepare, rf_error *err, const char *fmt,
                         ...) __attribute__((format(printf, 4, 5)));
/* Makes sure the body is a JSON object (creates an empty one). */
rf_err cli_request_object(cli_request *r, rf_error *err);

/* What a renderer may know besides the answer: the arguments and the time. */
typedef struct cli_view {
    const cli_args *args;
    int64_t now_s; /* wall clock, seconds since the epoch, for "5s ago" */
} cli_view;

struct cli_command;

/* Turns arguments into a request; RF_ERR_INVALID with a message naming the
 * flag on bad input (a usage error). No I/O. */
typedef rf_err (*cli_build_fn)(const struct cli_command *cmd, const cli_args *a, cli_request *req,
                               rf_error *err);
/* A command that does its own talking (version now; later events --follow,
 * rollout watch). Returns the exit status. */
typedef int (*cli_run_fn)(const struct cli_command *cmd, const cli_args *a);

typedef struct cli_command {
    const char *group;    /* "ring"; or the whole command word ("devices") */
    const char *name;     /* "create"; NULL for one-word commands */
    const char *synopsis; /* positionals: "NAME", "ID", "FILE" or "" */
    size_t min_pos, max_pos;
    const cli_opt *opts; /* ended by a {NULL} entry; NULL for none */
    const char *summary; /* one line */
    const char *details; /* a few sentences for --help, or NULL */
    const char *example;
    cli_build_fn build;
    cli_render_fn render;
    cli_run_fn run; /* when set, replaces build/send/render */
} cli_command;

extern const cli_command cli_commands[];
extern const size_t cli_ncommands;
extern const cli_opt cli_global_opts[];

/* ---- args.c: the command line ----------------------------------------- */

typedef struct cli_parsed {
    const cli_command *cmd; /* NULL when only help or the version was asked for */
    const char *group;      /* with cmd NULL and help set: the group to explain */
    cli_args args;
} cli_parsed;

/* Finds the command named by the leading words of argv and parses the rest
 * against its options and the global ones (accepted before or after the
 * command). Checks required flags and the number of positionals unless help
 * was asked for. RF_ERR_INVALID with a message naming the flag or word. */
rf_err cli_parse(int argc, char *const argv[], const cli_command *cmds, size_t ncmds,
                 cli_parsed *out, rf_error *err);
/* The command's full name, "ring create", into out. */
void cli_command_name(const cli_command *cmd, char *out, size_t outlen);

/* ---- values.c: option values ------------------------------------------ */

const char *cli_opt_get(const cli_args *a, const char *name); /* last value or NULL */
int cli_opt_has(const cli_args *a, const char *name);
/* Integer option within [min, max]; *present = 0 and RF_OK when absent. */
rf_err cli_opt_ll(const cli_args *a, const char *name, long long min, long long max, long long *out,
                  int *present, rf_error *err);
/* A positive integer id given as positional `what` ("ID"). */
rf_err cli_parse_id(const char *what, const char *s, long long *out, rf_error *err);
/* A failure rate "0.25" or "25%" in (0, 1]. */
rf_err cli_parse_rate(const char *flag, const char *s, double *out, rf_error *err);
/* "k=v" into labels (an object, borrowed): key [a-z0-9._-]{1,64}, value up to
 * 128 printable characters, no duplicate keys, at most CLI_MAX_LABELS. */
rf_err cli_parse_label(const char *s, json_t *labels, rf_error *err);
/* 1 when s is a whole device id: 32 lowercase hex digits. */
int cli_device_id_ok(const char *s);
/* "LO-HI" with 0 <= LO <= HI <= 9999. */
rf_err cli_parse_buckets(const char *s, int *lo, int *hi, rf_error *err);
/* A JSON string for text given as `what` ("--reason", "NAME"); fails naming
 * it on invalid UTF-8. Returns a new reference in *out. */
rf_err cli_json_text(const char *what, const char *s, json_t **out, rf_error *err);

/* Where to connect and with what: flags win, then RINGFENCE_URL, then the
 * default; the token comes from --token, RINGFENCE_TOKEN, then
 * RINGFENCE_ADMIN_TOKEN. Empty values count as unset. Pointers are borrowed.
 * Fails when there is no token or it holds characters a header cannot. */
typedef struct cli_conf_in {
    const char *flag_url, *flag_token;
    const char *env_url, *env_token, *env_admin_token;
} cli_conf_in;
rf_err cli_resolve_conf(const cli_conf_in *in, const char **url, const char **token, rf_error *err);

/* ---- spec.c: durations, start windows, stage specs -------------------- */

#define CLI_MAX_BAKE_S (30LL * 86400) /* longest bake a stage may ask for */

/* "90", "90s", "10m", "2h", "1d", "1h30m" (units largest first, each once)
 * into seconds within [0, max_s]. flag names the option in messages. */
rf_err cli_parse_duration(const char *flag, const char *s, long long max_s, long long *out,
                          rf_error *err);
/* The two largest units: "45s", "12m", "1h5m", "2d3h"; "0s" for <= 0. */
void cli_duration_text(long long secs, char *out, size_t outlen);
/* "mon".."sun" for 0..6 (Monday first), "?" otherwise. Static string. */
const char *cli_day_name(int day);

/* A UTC start window: the days (bit 0 = Monday … bit 6 = Sunday) and the
 * hours [start_hour, end_hour); start > end runs past midnight. */
typedef struct cli_window {
    unsigned days;
    int start_hour; /* 0..23 */
    int end_hour;   /* 1..24 */
} cli_window;

/* "mon-fri 09-17", "sat,sun 00-24", "daily 22-06", "* 9-17", "fri-mon 09:00-17:00". */
rf_err cli_parse_window(const char *flag, const char *s, cli_window *out, rf_error *err);
/* The canonical form back: "mon-fri 09-17", "daily 22-06", "mon,wed 08-12". */
rf_err cli_window_text(const cli_window *w, rf_buf *out);

enum {
    CLI_STAGE_RING = 1u << 0,
    CLI_STAGE_PERCENT = 1u << 1,
    CLI_STAGE_BAKE = 1u << 2,
    CLI_STAGE_MIN_HEALTHY = 1u << 3,
    CLI_STAGE_RATE = 1u << 4,
    CLI_STAGE_PROMOTION = 1u << 5,
    CLI_STAGE_APPROVAL = 1u << 6
};

/* One --stage: which parts were given (set, CLI_STAGE_* bits) and their values. */
typedef struct cli_stage_spec {
    unsigned set;
    char ring[65]; /* a ring name, or its id in digits */
    int percent;   /* 1..100 */
    long long bake_s;
    long long min_healthy;
    double max_failure_rate; /* (0, 1] */
    int auto_promote;        /* promotion=auto */
    int approval;            /* needs an approval by someone other than the creator */
} cli_stage_spec;

/* "ring=canary,percent=100,bake=10m,min-healthy=2,max-failure-rate=0.2,
 * promotion=auto,approval": ring is required; every other part optional
 * and given at most once; bare "approval" means approval=yes. */
rf_err cli_parse_stage(const char *flag, const char *s, cli_stage_spec *out, rf_error *err);

/* A window as the server's JSON, appended to windows (an array, borrowed):
 * {"days": [...], "hours": [from, to]}; one past midnight becomes two. */
rf_err cli_window_json(const cli_window *w, json_t *windows, rf_error *err);
/* A ring's "windows" as text: "mon-fri 09-17; sat 10-12", "always" when empty. */
rf_err cli_windows_text(const json_t *windows, rf_buf *out);
/* A stage spec as the server's stage object (new reference in *out):
 * "ring_id" for digits, else "ring"; only the parts given. */
rf_err cli_stage_json(const cli_stage_spec *st, json_t **out, rf_error *err);
/* The stages of a plan file: a list of stages, or an object holding
 * "stages" (what 'channel plan show --json' prints). Display-only members
 * and nulls are dropped. New reference in *out. */
rf_err cli_plan_stages(const json_t *doc, json_t **out, rf_error *err);

/* ---- url.c: URLs ------------------------------------------------------ */

/* Percent-encodes every byte but ALPHA DIGIT - . _ ~ and appends it. */
rf_err cli_url_escape(rf_buf *out, const char *s);
/* Appends "?key=value" or "&key=value" (value escaped); no-op for value NULL. */
rf_err cli_query_add(rf_buf *path, const char *key, const char *value);
/* Checks an http(s) base URL (host present, no query, fragment, spaces or
 * control characters) and appends it without trailing slashes to out. */
rf_err cli_base_url(const char *url, rf_buf *out, rf_error *err);
/* Copies url with any "user:password@" replaced by "…@", for messages. */
void cli_url_redact(const char *url, char *out, size_t outlen);

/* ---- table.c: aligned tables ------------------------------------------ */

typedef struct cli_table {
    size_t ncols, ncells, alloc;
    char **cells;           /* row-major, owned; the header row first if any */
    unsigned right_aligned; /* bit i: column i is right-aligned */
    int has_header;
} cli_table;

/* headers: ncols strings, or NULL for a table without a header row. */
rf_err cli_table_init(cli_table *t, size_t ncols, const char *const *headers);
void cli_table_cleanup(cli_table *t); /* NULL-safe */
void cli_table_align_right(cli_table *t, size_t col);
/* Adds the next cell (rows fill left to right); s NULL shows as "-". */
rf_err cli_table_add(cli_table *t, const char *s);
rf_err cli_table_addf(cli_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Columns two spaces apart, no trailing blanks; control characters in cells
 * are shown as '?'. Fails if the last row is incomplete. */
rf_err cli_table_render(const cli_table *t, rf_buf *out);
/* Appends s with control characters (and, if ascii_only, non-ASCII bytes)
 * replaced by '?', at most maxlen bytes of s. */
rf_err cli_text_clean(rf_buf *out, const char *s, size_t maxlen, int ascii_only);
/* Display width of UTF-8 text: code points, not bytes. */
size_t cli_text_width(const char *s);

/* ---- render.c: JSON values as text ------------------------------------ */

/* Adds v (borrowed, may be NULL) as a cell: strings as-is, numbers, booleans
 * as yes/no, null or missing as "-". */
rf_err cli_table_add_json(cli_table *t, const json_t *v);
/* Scalar v as text into out ("-" for null/missing; objects compact JSON). */
rf_err cli_json_scalar_text(const json_t *v, rf_buf *out);
/* Appends scalar v as text with control characters shown as '?'. */
rf_err cli_json_clean_text(const json_t *v, rf_buf *out);
/* "k=v,k2=v2" with keys sorted; "-" when empty. */
rf_err cli_labels_text(const json_t *labels, rf_buf *out);
/* A ring's "buckets": [lo, hi] as "lo-hi"; "-" when missing. */
rf_err cli_buckets_text(const json_t *buckets, rf_buf *out);
/* "5s ago", "3m ago", "2h ago", "4d ago"; "just now" within a second. */
void cli_age_text(int64_t now_s, int64_t then_s, char *out, size_t outlen);
/* "512 B", "40.0 KiB", "3.2 MiB". */
void cli_size_text(long long bytes, char *out, size_t outlen);
/* Integer member of o, or def when missing or not an integer. */
long long cli_jint(const json_t *o, const char *key, long long def);
const char *cli_jstr(const json_t *o, const char *key); /* string member or NULL */
/* The array member key of answer, or RF_ERR_INVALID naming it. */
rf_err cli_answer_array(const json_t *answer, const char *key, const json_t **out, rf_error *err);
/* Answer key/value rows: the members named in keys (NULL-terminated) as an
 * aligned two-column table. */
rf_err cli_render_fields(const json_t *obj, const char *const *keys, rf_buf *out);
/* The answer's "id" alone on a line (bundle push, ring and rollout create). */
rf_err cli_render_id(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);

/* ---- help.c ------------------------------------------------------------ */

rf_err cli_help_top(const cli_command *cmds, size_t n, rf_buf *out);
rf_err cli_help_group(const cli_command *cmds, size_t n, const char *group, rf_buf *out);
rf_err cli_help_command(const cli_command *cmd, rf_buf *out);
/* Appends text with its words wrapped at width columns, then a newline. */
rf_err cli_wrap_text(rf_buf *out, const char *text, size_t width);

#endif
