"""docs/openapi.yaml against the real thing: @redocly/cli (an off-the-shelf
validator from npm) lints it; every route docs/api.md names is in it; and real
answers of a running server — successes and errors, from every role, agents
included — validate against its response schemas (ajv). Also checks that the
answers exercised cover the spec's operations."""
import json
import os
import urllib.parse

import e2e
import rf

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SPEC = os.path.join(ROOT, "docs", "openapi.yaml")
API_MD = os.path.join(ROOT, "docs", "api.md")

# Operations no answer here exercises, and why.
NOT_EXERCISED = {
    ("get", "/tuf/targets/{channel}/{file}"): "test_tuf_js fetches targets with a TUF client",
}


class Recorder:
    """Calls the server and keeps (method, template, status, content type, body)."""

    def __init__(self, srv):
        self.srv = srv
        self.answers = []

    def call(self, method, template, path=None, token="admin", expect=None, **kw):
        r = self.srv.http(method, path or template, token=token, **kw)
        if expect is not None:
            assert r.status == expect, (method, path or template, r)
        body = None
        ctype = (r.headers.get("Content-Type") or "").split(";")[0]
        if ctype == "application/json" and r.raw:
            body = json.loads(r.raw)
        self.answers.append({"method": method.lower(), "path": template, "status": r.status,
                             "content_type": ctype, "body": body})
        return r


def exercise_webhooks(c):
    """The admin's webhook routes, successes and refusals."""
    r = c("POST", "/v1/webhooks", body={"url": "http://127.0.0.1:9/spec"}, expect=201)
    hid = r.json["id"]
    c("POST", "/v1/webhooks", body={"url": "ftp://x/"}, expect=400)
    c("POST", "/v1/webhooks", token="release", body={"url": "http://127.0.0.1:9/x"}, expect=403)
    c("GET", "/v1/webhooks", expect=200)
    c("GET", "/v1/webhooks", "/v1/webhooks?limit=1", expect=200)
    c("GET", "/v1/webhooks/{id}", f"/v1/webhooks/{hid}", expect=200)
    c("GET", "/v1/webhooks/{id}", "/v1/webhooks/9999", expect=404)
    c("PATCH", "/v1/webhooks/{id}", f"/v1/webhooks/{hid}", body={"description": "spec"},
      expect=200)
    c("PATCH", "/v1/webhooks/{id}", f"/v1/webhooks/{hid}", body={"description": "x"},
      headers={"If-Match": '"1"'}, expect=409)
    c("PATCH", "/v1/webhooks/{id}", f"/v1/webhooks/{hid}", body={}, expect=400)
    c("POST", "/v1/webhooks/{id}/rotate-secret", f"/v1/webhooks/{hid}/rotate-secret", expect=200)
    c("POST", "/v1/webhooks/{id}/test", f"/v1/webhooks/{hid}/test", expect=202)
    c("GET", "/v1/webhooks/{id}/deliveries", f"/v1/webhooks/{hid}/deliveries?limit=5", expect=200)
    c("GET", "/v1/webhooks/{id}/deliveries", f"/v1/webhooks/{hid}/deliveries?cursor=x",
      expect=400)
    c("GET", "/v1/webhooks/deliveries", "/v1/webhooks/deliveries?state=pending&limit=2",
      expect=200)
    c("DELETE", "/v1/webhooks/{id}", f"/v1/webhooks/{hid}", expect=200)
    c("POST", "/v1/webhooks/{id}/test", f"/v1/webhooks/{hid}/test", expect=404)


def exercise(srv, rec):
    c = rec.call
    fleet = rf.Fleet(srv, canary=1, broad=1).start()
    srv.default_rings()
    dev = fleet.canary[0].device_id
    c("GET", "/healthz", token=None, expect=200)
    c("GET", "/readyz", token=None, expect=200)
    c("GET", "/metrics", token=None, expect=200)
    c("GET", "/", token=None, expect=200)
    c("GET", "/assets/{name}", "/assets/app.js", token=None, expect=200)
    c("GET", "/assets/{name}", "/assets/missing.js", token=None, expect=404)
    c("GET", "/v1/whoami", token="viewer", expect=200)
    c("GET", "/v1/whoami", token=None, expect=401)
    c("GET", "/v1/webhooks/deliveries", token="admin", expect=200)
    c("GET", "/v1/webhooks/deliveries", token="viewer", expect=403)
    exercise_webhooks(c)
    # enrollment with the key, and a refusal
    r = c("POST", "/v1/agent/enroll", token=rf.ENROLL_KEY, body={"hostname": "spec-1"},
          expect=201)
    dtok = r.json["token"]
    c("POST", "/v1/agent/enroll", token="viewer", body={}, expect=401)
    c("GET", "/v1/agent/assignment", "/v1/agent/assignment?wait=0", token=dtok, expect=200)
    c("POST", "/v1/agent/heartbeat", token=dtok, expect=200,
      body={"seq": 1, "boot_id": "b1", "uptime_s": 5, "heartbeat_interval_s": 10,
            "agent_version": "0.1.0", "channels": {}})
    c("POST", "/v1/agent/heartbeat", token=dtok, body={"seq": "x"}, expect=400)
    # bundles
    raw = b"spec bundle\n"
    q = urllib.parse.urlencode({"channel": "content", "name": "spec", "version": "1"})
    r = c("POST", "/v1/bundles", f"/v1/bundles?{q}", token="release", raw=raw,
          headers={"Content-Type": "application/octet-stream"}, expect=201)
    bid = r.json["id"]
    c("POST", "/v1/bundles", f"/v1/bundles?{q}", token="viewer", raw=raw, expect=403)
    c("GET", "/v1/bundles", token="viewer", expect=200)
    c("GET", "/v1/bundles", "/v1/bundles?limit=1&channel=content", token="viewer", expect=200)
    c("GET", "/v1/bundles/{id}", f"/v1/bundles/{bid}", token="viewer", expect=200)
    c("GET", "/v1/bundles/{id}", "/v1/bundles/9999", token="viewer", expect=404)
    c("GET", "/v1/bundles/{id}/content", f"/v1/bundles/{bid}/content", token=dtok, expect=200)
    # TUF repository
    c("GET", "/tuf/metadata/{file}", "/tuf/metadata/1.root.json", token=None, expect=200)
    c("GET", "/tuf/metadata/{file}", "/tuf/metadata/timestamp.json", token=None, expect=200)
    # rings
    c("GET", "/v1/rings", token="viewer", expect=200)
    r = c("POST", "/v1/rings", token="release", expect=201,
          body={"name": "early", "order": 5, "labels": {"ring": "early"}, "buckets": [0, 4999]})
    early = r.json["id"]
    c("POST", "/v1/rings", token="release", body={"name": "early", "order": 6}, expect=409)
    c("POST", "/v1/rings", token="release", body={"name": 7}, expect=400)
    c("GET", "/v1/rings/{id}", f"/v1/rings/{early}", token="viewer", expect=200)
    c("PUT", "/v1/rings/{id}", f"/v1/rings/{early}", token="release", expect=200,
      body={"name": "early", "order": 5, "labels": {"ring": "early"},
            "windows": [{"days": ["mon"], "hours": [0, 24]}]})
    c("POST", "/v1/rings/preview", token="viewer", body={"delete": early}, expect=200)
    c("DELETE", "/v1/rings/{id}", f"/v1/rings/{early}", token="release", expect=403)
    c("DELETE", "/v1/rings/{id}", f"/v1/rings/{early}", token="admin", expect=200)
    # channels and plans
    c("GET", "/v1/channels", token="viewer", expect=200)
    c("GET", "/v1/channels/{name}/plan", "/v1/channels/content/plan", token="viewer", expect=200)
    c("PUT", "/v1/channels/{name}/plan", "/v1/channels/content/plan", token="release",
      expect=200, body={"stages": [{"ring": "canary", "bake_s": 0}, {"ring": "broad"}]})
    c("PUT", "/v1/channels/{name}/plan", "/v1/channels/content/plan", token="release",
      expect=400, body={"stages": [{"ring": "broad"}]})
    c("DELETE", "/v1/channels/{name}/plan", "/v1/channels/content/plan", token="release",
      expect=200)
    # rollouts
    r = c("POST", "/v1/rollouts", token="release", body={"bundle_id": bid}, expect=201)
    rid = r.json["id"]
    c("POST", "/v1/rollouts", token="release", body={"bundle_id": 9999}, expect=404)
    c("POST", "/v1/rollouts/{id}/start", f"/v1/rollouts/{rid}/start", token="release",
      expect=200)
    c("POST", "/v1/rollouts/{id}/start", f"/v1/rollouts/{rid}/start", token="release",
      expect=409)
    fleet.wait_running(fleet.canary, bid)
    c("GET", "/v1/rollouts", token="viewer", expect=200)
    c("GET", "/v1/rollouts", "/v1/rollouts?state=active&ring=canary&limit=5", token="viewer",
      expect=200)
    c("GET", "/v1/rollouts", "/v1/rollouts?label=a=b", token="viewer", expect=400)
    c("GET", "/v1/rollouts/{id}", f"/v1/rollouts/{rid}", token="viewer", expect=200)
    c("GET", "/v1/rollouts/{id}/health", f"/v1/rollouts/{rid}/health", token="viewer",
      expect=200)
    rf.wait_for("a health point", lambda: srv.http(
        "GET", f"/v1/rollouts/{rid}/health/series", token="viewer").json["stages"][0]["points"])
    c("GET", "/v1/rollouts/{id}/health/series", f"/v1/rollouts/{rid}/health/series",
      token="viewer", expect=200)
    c("POST", "/v1/rollouts/{id}/approve", f"/v1/rollouts/{rid}/approve", token="release2",
      expect=409)
    c("POST", "/v1/rollouts/{id}/pause", f"/v1/rollouts/{rid}/pause", token="release",
      expect=200)
    c("POST", "/v1/rollouts/{id}/promote", f"/v1/rollouts/{rid}/promote", token="viewer",
      expect=403)
    c("POST", "/v1/rollouts/{id}/resume", f"/v1/rollouts/{rid}/resume", token="release",
      expect=200, body={"reason": "spec"})
    c("POST", "/v1/rollouts/{id}/promote", f"/v1/rollouts/{rid}/promote", token="release",
      expect=409, headers={"If-Match": '"1"'})
    c("POST", "/v1/rollouts/{id}/promote", f"/v1/rollouts/{rid}/promote", token="release",
      expect=200)
    c("POST", "/v1/rollouts/{id}/halt", f"/v1/rollouts/{rid}/halt", token="release",
      expect=200)
    c("POST", "/v1/rollouts/{id}/revert", f"/v1/rollouts/{rid}/revert", token="release",
      expect=200)
    r2 = c("POST", "/v1/rollouts", token="release", body={"bundle_id": bid}, expect=201).json["id"]
    c("POST", "/v1/rollouts/{id}/abort", f"/v1/rollouts/{r2}/abort", token="release",
      expect=409)
    # holds
    r = c("POST", "/v1/pins", token="release", expect=201,
          body={"channel": "content", "device_id": dev, "bundle_id": bid})
    c("GET", "/v1/pins", token="viewer", expect=200)
    c("DELETE", "/v1/pins/{id}", f"/v1/pins/{r.json['id']}", token="release", expect=200)
    c("POST", "/v1/exclusions", token="release", body={"device_id": dev, "reason": "spec"},
      expect=201)
    c("GET", "/v1/exclusions", token="viewer", expect=200)
    c("DELETE", "/v1/exclusions/{device_id}", f"/v1/exclusions/{dev}", token="release",
      expect=200)
    # devices, events, fleet
    c("GET", "/v1/devices", token="viewer", expect=200)
    c("GET", "/v1/devices", "/v1/devices?ring=canary&limit=1", token="viewer", expect=200)
    c("GET", "/v1/devices/{id}", f"/v1/devices/{dev}", token="viewer", expect=200)
    c("GET", "/v1/devices/{id}", f"/v1/devices/{dev}", token=dtok, expect=403)
    c("GET", "/v1/events", "/v1/events?limit=50", token="viewer", expect=200)
    c("GET", "/v1/events", "/v1/events?limit=0", token="viewer", expect=400)
    c("GET", "/v1/events/stream", token=None, expect=401)
    c("GET", "/v1/fleet", token="viewer", expect=200)
    # the router's own answers: no operation, the common error shape
    c("GET", None, "/v1/nowhere", token="viewer", expect=404)
    c("DELETE", None, "/v1/fleet", token="viewer", expect=405)
    fleet.stop()


def test(srv):
    e2e.ensure_installed()
    rec = Recorder(srv)
    exercise(srv, rec)
    answers = os.path.join(srv.dir, "answers.json")
    with open(answers, "w") as f:
        json.dump({"answers": rec.answers,
                   "not_exercised": [list(k) for k in NOT_EXERCISED]}, f)
    res = e2e.node("openapi-check.mjs", SPEC, API_MD, answers, timeout=180)
    for line in res["steps"]:
        rf.log("openapi:", line)


if __name__ == "__main__":
    rf.main(test)
