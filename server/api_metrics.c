/* GET /metrics: the process's metrics (metrics.c) in the Prometheus text
 * format, with the pool's figures read now. It needs no token, like /healthz:
 * it shows counts, rates and rollout ids, never a token, a key, a device id or
 * a raw request path; restrict it at the proxy when even that is too much. It
 * never touches the database, so a scrape works while the database is away. */
#include "api.h"
#include "metrics.h"

#define METRICS_MAX_BYTES (8u << 20)

rf_http_result api_metrics(rf_server *srv, rf_req *req, rf_resp *resp)
{
    metrics_pool pool = {0, 0};
    rf_buf b;

    (void)req;
    store_pool_stats(srv->store, &pool.size, &pool.in_use);
    rf_buf_init(&b, METRICS_MAX_BYTES);
    if (metrics_render(&b, &pool) != RF_OK) {
        rf_buf_cleanup(&b);
        rf_resp_error(resp, RF_ERR_INTERNAL, "cannot render the metrics");
        return RF_HTTP_DONE;
    }
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp->body = rf_buf_steal(&b, &resp->body_len);
    return RF_HTTP_DONE;
}
