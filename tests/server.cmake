# Unit tests for server/ (rf_server): one Check binary per module.
# Each engineer appends their entries below the marker of their part.

# --- core: HTTP seams, router, input rules, configuration ---
rf_unit_test(check_http SOURCES unit/check_http.c LIBS rf_server)
rf_unit_test(check_validate SOURCES unit/check_validate.c LIBS rf_server)
rf_unit_test(check_config SOURCES unit/check_config.c LIBS rf_server)
rf_unit_test(check_ticker SOURCES unit/check_ticker.c LIBS rf_server)
rf_unit_test(check_hb_partition SOURCES unit/check_hb_partition.c LIBS rf_server)
rf_unit_test(check_caches SOURCES unit/check_caches.c LIBS rf_server)

# rollout engineer: add below

# --- rollout logic: state machine, health, assignment ---
rf_unit_test(check_rollout SOURCES unit/check_rollout.c LIBS rf_server)
rf_unit_test(check_health SOURCES unit/check_health.c LIBS rf_server)
rf_unit_test(check_health_stat SOURCES unit/check_health_stat.c LIBS rf_server)
rf_unit_test(check_health_halt SOURCES unit/check_health_halt.c LIBS rf_server)
rf_unit_test(check_health_webhook SOURCES unit/check_health_webhook.c LIBS rf_server)
rf_unit_test(check_health_window SOURCES unit/check_health_window.c LIBS rf_server)
rf_unit_test(check_webhook_spec SOURCES unit/check_webhook_spec.c LIBS rf_server)
rf_unit_test(check_assign SOURCES unit/check_assign.c LIBS rf_server)
rf_unit_test(check_plan SOURCES unit/check_plan.c LIBS rf_server)

# --- trust chain: the TUF repository's pure builders ---
rf_unit_test(check_tuf_repo SOURCES unit/check_tuf_repo.c LIBS rf_server)

# --- dashboards: metrics text, fleet health, health points, embedded web files ---
rf_unit_test(check_metrics SOURCES unit/check_metrics.c LIBS rf_server)
