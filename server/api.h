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

/* api_bundles.c — /v1/bundles[/ID[/content]] */
rf_http_result api_bundles(rf_server *srv, rf_req *req, rf_resp *resp);

/* api_rings.c — /v1/rings[/ID], /v1/rings/preview */
rf_http_result api_rings(rf_server *srv, rf_req *req, rf_resp *resp);

/* api_rollouts.c — /v1/rollouts[/ID[/health|/start|/promote|/approve|...]] */
rf_http_result api_rollouts(rf_server *srv, rf_req *req, rf_resp *resp);

/* api_channels.c — /v1/channels, /v1/channels/NAME/plan */
rf_http_result api_channels(rf_server *srv, rf_req *req, rf_resp *resp);

/* api_holds.c — /v1/pins[/ID], /v1/exclusions[/DEVICE_ID] */
rf_http_result api_holds(rf_server *srv, rf_req *req, rf_resp *resp);

/* api_devices.c — /v1/devices[/ID], /v1/events, /v1/fleet */
rf_http_result api_devices(rf_server *srv, rf_req *req, rf_resp *resp);
rf_http_result api_events(rf_server *srv, rf_req *req, rf_resp *resp);
rf_http_result api_fleet(rf_server *srv, rf_req *req, rf_resp *resp);

/* api_tuf.c — GET /tuf/metadata/… and /tuf/targets/…, no authentication */
rf_http_result api_tuf(rf_server *srv, rf_req *req, rf_resp *resp);

/* dashboard.c — GET / and GET /assets/… (the web dashboard, no authentication) */
rf_http_result api_dashboard(rf_server *srv, rf_req *req, rf_resp *resp);

/* api_metrics.c — GET /metrics (Prometheus text format, no authentication) */
rf_http_result api_metrics(rf_server *srv, rf_req *req, rf_resp *resp);

/* api_stream.c — GET /v1/events/stream (Server-Sent Events) */
rf_http_result api_events_stream(rf_server *srv, rf_req *req, rf_resp *resp);

/* api_whoami.c — GET /v1/whoami (the caller's token name and role) */
rf_http_result api_whoami(rf_server *srv, rf_req *req, rf_resp *resp);

/* api_series.c — GET /v1/rollouts/ID/health/series (per-stage time series) */
rf_http_result api_rollout_series(rf_server *srv, rf_req *req, rf_resp *resp);

/* The route template a request matches (such as "events/stream" or "/metrics";
 * static), or NULL for none: the label of its metrics. */
const char *rf_api_route_of(const rf_req *req);

/* evaluator.c — the once-a-second health evaluator thread. */
rf_err rf_evaluator_start(rf_server *srv);
void rf_evaluator_stop(rf_server *srv);

#endif
