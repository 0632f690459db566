# Unit tests for server/ (rf_server): one Check binary per module.
# Each engineer appends their entries below the marker of their part.

# --- rollout logic: state machine, health, assignment ---
rf_unit_test(check_rollout SOURCES unit/check_rollout.c LIBS rf_server)
rf_unit_test(check_health SOURCES unit/check_health.c LIBS rf_server)
rf_unit_test(check_assign SOURCES unit/check_assign.c LIBS rf_server)
