/* ringfence-agent: the endpoint agent's command line — `run` (the service), `bootguard`
 * (the early-boot oneshot),
 * `version` and `--help`. It parses and checks the configuration, sets up
 * logging and libcurl, and hands over to agent_run(); it holds no protocol
 * logic of its own and never prints the enrollment key. */
#include "agent.h"
#include "config.h"
#include "rf_log.h"

#include <curl/curl.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

static int cmd_run(int argc, char **argv, bool guard)
{
    agent_config cfg;
    rf_error err = {0};
    bool help = false;
    int status = 2;

    config_init(&cfg);
    if (config_from_args(&cfg, argc, argv, &help, &err) != RF_OK ||
        (!help && config_finish(&cfg, &err) != RF_OK)) {
        fprintf(stderr, "ringfence-agent: %s\n", err.message);
        goto out;
    }
    if (help) {
        fputs(config_usage(), stdout);
        status = 0;
        goto out;
    }
    rf_log_set_level(cfg.log_level);
    /* One malloc arena: the only other thread is libcurl's short-lived
     * resolver, which would otherwise leave an arena of its own behind. */
    mallopt(M_ARENA_MAX, 1);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "ringfence-agent: curl_global_init failed\n");
        status = 1;
        goto out;
    }
    status = guard ? bootguard_run(&cfg) : agent_run(&cfg);
    curl_global_cleanup();
out:
    config_cleanup(&cfg);
    return status;
}

int main(int argc, char **argv)
{
    rf_log_set_component("agent");
    if (argc < 2) {
        fputs(config_usage(), stderr);
        return 2;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("ringfence-agent %s\n", RF_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(config_usage(), stdout);
        return 0;
    }
    if (strcmp(argv[1], "run") == 0)
        return cmd_run(argc - 2, argv + 2, false);
    if (strcmp(argv[1], "bootguard") == 0)
        return cmd_run(argc - 2, argv + 2, true);
    fprintf(stderr, "ringfence-agent: unknown command '%s'\n\n%s", argv[1], config_usage());
    return 2;
}
