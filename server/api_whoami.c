/* GET /v1/whoami: the caller's token name and role, so a dashboard can show
 * only the controls the token may use (the API still checks every action).
 * Any user token; device tokens and the enrollment key are refused. */
#include "api.h"

static const char *role_name(rf_role r)
{
    switch (r) {
    case RF_ROLE_ADMIN:
        return "admin";
    case RF_ROLE_RELEASE:
        return "release";
    case RF_ROLE_VIEWER:
        return "viewer";
    default:
        return "none";
    }
}

rf_http_result api_whoami(rf_server *srv, rf_req *req, rf_resp *resp)
{
    (void)srv;
    if (!rf_require_role(req, resp, RF_ROLE_VIEWER))
        return RF_HTTP_DONE;
    rf_resp_json(resp, 200,
                 json_pack("{s:s,s:s}", "name", req->who.name, "role", role_name(req->who.role)));
    return RF_HTTP_DONE;
}
