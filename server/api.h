/* Route handlers, one group per api_*.c file. Each maps JSON to domain structs
 * and back, checks the role first, and answers through resp. api_router.c
 * (the only dispatcher) calls them; parts[] is the path after "/v1". */
#ifndef RF_API_H
#define RF_API_H

#include "server.h"

/* api_agent.c — /v1/agent/... (enroll, assignment with long-poll, heartbeat) */
rf_http_result api_agent_enroll(rf_server *srv, rf_req *req, rf_resp *resp);
rf_http_result api_agent_assignment(rf_server *srv, rf_req *req, rf_resp *resp);
rf_http_result api_agent_heartbeat(rf_server *srv, rf_req *req, rf_resp *resp);

/* api_bundles.c — /v1/bundles[/ID[/content|/metadata]] */
rf_http_result api_bundles(rf_server *srv, rf_req *req, rf_resp *resp);

/* api_rings.c — /v1/rings[/ID] */
rf_http_result api_rings(rf_server *srv, rf_req *req, rf_resp *resp);

/* api_rollouts.c — /v1/rollouts[/ID[/health|/start|/promote|...]] */
rf_http_result api_rollouts(rf_server *srv, rf_req *req, rf_resp *resp);

/* api_devices.c — /v1/devices[/ID], /v1/events, /v1/fleet */
rf_http_result api_devices(rf_server *srv, rf_req *req, rf_resp *resp);
rf_http_result api_events(rf_server *srv, rf_req *req, rf_resp *resp);
rf_http_result api_fleet(rf_server *srv, rf_req *req, rf_resp *resp);

/* dashboard.c — GET / */
rf_http_result api_dashboard(rf_server *srv, rf_req *req, rf_resp *resp);

/* evaluator.c — the once-a-second health evaluator thread. */
rf_err rf_evaluator_start(rf_server *srv);
void rf_evaluator_stop(rf_server *srv);

#endif
