"""The read API for dashboards, against a real server and real agents:
GET /metrics in the Prometheus text format (checked by promtool), the event
stream (Server-Sent Events: live delivery, Last-Event-ID resume, shutdown with a
stream open), cursor pagination and filters of the lists, the fleet summary per
ring × version × health, the per-stage health series, /v1/whoami, and the
dashboard's files with their security headers."""
import http.client
import re
import subprocess
import time

import rf

PROMTOOL = "/usr/bin/promtool"


def metrics(srv):
    r = srv.http("GET", "/metrics", token=None)
    assert r.status == 200, r
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
    return r.raw.decode()


def sample(text, name, **labels):
    """The value of the first sample of name whose labels include labels."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def check_metrics(srv, rid):
    text = metrics(srv)
    out = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0, f"promtool: {out.stdout}{out.stderr}"
    rf.log("promtool check metrics: ok,", len(text.splitlines()), "lines")
    assert sample(text, "ringfence_http_requests_total", route="/v1/agent/heartbeat",
                  method="POST", code="200") > 0
    assert sample(text, "ringfence_http_request_duration_seconds_count",
                  route="/v1/rollouts/{id}/start", method="POST") >= 1
    # route templates only: no raw id ever becomes a label
    routes = set(re.findall(r'route="([^"]*)"', text))
    assert all(not re.search(r"/\d+(/|$)", r) for r in routes), routes
    assert sample(text, "ringfence_heartbeats_total", result="stored") > 0
    assert sample(text, "ringfence_heartbeat_batch_size_count") > 0
    assert sample(text, "ringfence_evaluator_decisions_total", decision="hold") > 0
    assert sample(text, "ringfence_evaluator_tick_seconds_count") > 0
    assert sample(text, "ringfence_stage_failure_rate", rollout_id=str(rid), stage="0",
                  ring="canary") == 0
    assert sample(text, "ringfence_stage_halt_threshold", rollout_id=str(rid), stage="0") == 0.5
    assert sample(text, "ringfence_db_pool_size") >= 1
    assert sample(text, "ringfence_db_pool_connections", state="idle") is not None
    assert sample(text, "ringfence_db_pool_acquire_seconds_count") > 0
    # every agent holds an assignment long-poll most of the time
    rf.wait_for("long-polls in /metrics",
                lambda: sample(metrics(srv), "ringfence_longpoll_connections") >= 1)


class Stream:
    """GET /v1/events/stream over a raw connection, parsed as Server-Sent Events."""

    def __init__(self, srv, query="", headers=None, token="viewer"):
        self.conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        hdrs = {"Authorization": "Bearer " + srv.tokens[token]}
        hdrs.update(headers or {})
        self.conn.request("GET", "/v1/events/stream" + query, headers=hdrs)
        self.resp = self.conn.getresponse()
        self.buf = b""

    def next_event(self, timeout=10):
        """The next {"id", "data"} message (comments skipped), or None at the end."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\n\n" in self.buf:
                block, self.buf = self.buf.split(b"\n\n", 1)
                fields = dict(line.split(": ", 1) for line in block.decode().splitlines()
                              if ": " in line and not line.startswith(":"))
                if "data" in fields:
                    return {"id": int(fields["id"]), "data": rf.json.loads(fields["data"])}
            chunk = self.resp.read1(4096)
            if not chunk:
                return None
            self.buf += chunk
        raise AssertionError("no event within the timeout")

    def close(self):
        self.conn.close()


def check_stream(srv, rid):
    r = srv.http("GET", "/v1/events/stream", token=None)
    assert r.status == 401, r
    s = Stream(srv, "?after=0")
    assert s.resp.status == 200 and s.resp.getheader("Content-Type") == "text/event-stream"
    first = s.next_event()
    assert first["id"] == 1 and first["data"]["id"] == 1, first
    assert sample(metrics(srv), "ringfence_event_streams") == 1
    # live: a transition made now arrives on the open stream
    last = first["id"]
    while True:
        ev = s.next_event()
        last = ev["id"]
        if ev["data"]["kind"] == "rollout.started":
            break
    t0 = time.monotonic()
    srv.cli("rollout", "pause", str(rid), token="release")
    while True:
        ev = s.next_event(timeout=5)
        if ev["data"]["kind"] == "rollout.paused":
            break
    rf.log(f"rollout.paused arrived on the stream {time.monotonic() - t0:.2f} s after the pause")
    s.close()
    # resume after a given id with Last-Event-ID; filter by rollout
    s = Stream(srv, f"?rollout_id={rid}", headers={"Last-Event-ID": str(last)})
    ev = s.next_event()
    assert ev["id"] > last and ev["data"]["rollout_id"] == rid, ev
    s.close()
    bad = srv.http("GET", "/v1/events/stream?after=x", token="viewer")
    assert bad.status == 400 and "after" in bad.json["error"]["message"], bad
    srv.cli("rollout", "resume", str(rid), token="release")


def walk(srv, path, key, limit):
    """Every item of a list, page by page; checks pages are at most limit long."""
    items, cursor, pages = [], None, 0
    while True:
        sep = "&" if "?" in path else "?"
        q = f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        r = srv.http("GET", q, token="viewer")
        assert r.status == 200, r
        assert len(r.json[key]) <= limit, r.json
        items += r.json[key]
        pages += 1
        cursor = r.json["next"]
        if not cursor:
            return items, pages


def check_lists(srv, fleet, good):
    whole = srv.http("GET", "/v1/devices", token="viewer").json
    assert whole["next"] is None and len(whole["devices"]) == len(fleet.all), whole
    paged, pages = walk(srv, "/v1/devices", "devices", 2)
    assert [d["id"] for d in paged] == [d["id"] for d in whole["devices"]], paged
    assert pages == 2, pages
    canary = srv.http("GET", "/v1/devices?ring=canary", token="viewer").json["devices"]
    assert sorted(d["id"] for d in canary) == sorted(a.device_id for a in fleet.canary), canary
    broad = srv.http("GET", "/v1/devices?label=ring=broad", token="viewer").json["devices"]
    assert [d["hostname"] for d in broad] == ["broad0"], broad
    on_v1 = srv.http("GET", "/v1/devices?channel=content&version=1", token="viewer").json
    assert len(on_v1["devices"]) == len(fleet.canary), on_v1
    assert srv.http("GET", "/v1/devices?online=false", token="viewer").json["devices"] == []
    rolls = srv.http("GET", "/v1/rollouts?ring=canary&version=1&state=active", token="viewer").json
    assert [r["bundle_id"] for r in rolls["rollouts"]] == [good], rolls
    assert srv.http("GET", "/v1/rollouts?ring=nope", token="viewer").json["rollouts"] == []
    b = srv.http("GET", "/v1/bundles?version=1&limit=1", token="viewer").json
    assert [x["id"] for x in b["bundles"]] == [good] and b["next"] is None, b
    for q, what in (("/v1/devices?limit=0", "limit"), ("/v1/devices?cursor=zz", "cursor"),
                    ("/v1/rollouts?label=a=b", "label"), ("/v1/bundles?ring=x", "ring"),
                    ("/v1/devices?label=novalue", "label"),
                    ("/v1/rollouts?cursor=" + whole["devices"][0]["id"], "cursor")):
        r = srv.http("GET", q, token="viewer")
        assert r.status == 400 and what in r.json["error"]["message"], (q, r)


def check_device_pages(srv, fleet):
    """Filters reach the query: a label filter pages like the whole list."""
    canary = sorted(a.device_id for a in fleet.canary)
    paged, pages = walk(srv, "/v1/devices?label=ring=canary", "devices", 1)
    assert [d["id"] for d in paged] == canary and pages == len(canary), paged
    assert all(d["labels"]["ring"] == "canary" and "assigned_bundle_id" in d["channels"]["content"]
               for d in paged), paged
    paged, _ = walk(srv, "/v1/devices?ring=canary&label=ring=canary&online=true", "devices", 1)
    assert [d["id"] for d in paged] == canary, paged
    for q in ("label=ring=canary,ring=broad", "label=ring=none", "label=ring=canary&ring=broad",
              "channel=nope", "label=ring=canary&state=nope"):
        r = srv.http("GET", f"/v1/devices?{q}&limit=1", token="viewer").json
        assert r == {"devices": [], "next": None}, (q, r)
    everyone = [d["id"] for d in walk(srv, "/v1/devices", "devices", 1)[0]]
    assert everyone == sorted(a.device_id for a in fleet.all), everyone


def check_rollout_pages(srv, good, rid):
    """More rollouts than one query used to read, paged through completely."""
    drafts = []
    for _ in range(230):
        r = srv.http("POST", "/v1/rollouts", token="release", body={"bundle_id": good})
        assert r.status == 201, r
        drafts.append(r.json["id"])
    want = sorted(drafts + [rid], reverse=True)
    whole = srv.http("GET", "/v1/rollouts", token="viewer").json
    assert [r["id"] for r in whole["rollouts"]] == want and whole["next"] is None
    for limit in (1000, 97, 50):
        paged, pages = walk(srv, "/v1/rollouts", "rollouts", limit)
        ids = [r["id"] for r in paged]
        assert ids == want, (limit, len(ids), len(set(ids)))
        assert pages == -(-len(want) // limit), (limit, pages)
    paged, _ = walk(srv, "/v1/rollouts?state=draft&channel=content&version=1&ring=canary",
                    "rollouts", 64)
    assert [r["id"] for r in paged] == sorted(drafts, reverse=True)
    assert all(r["state"] == "draft" for r in paged)
    state = srv.rollout(rid)["state"]
    paged, pages = walk(srv, f"/v1/rollouts?state={state}", "rollouts", 1)
    assert [r["id"] for r in paged] == [rid] and pages == 1, paged
    b = walk(srv, "/v1/bundles?version=1", "bundles", 1)[0]
    assert [x["id"] for x in b] == [good], b
    bad = srv.http("GET", "/v1/rollouts?limit=1&cursor=72777777", token="viewer")  # "rwww"
    assert bad.status == 400 and "cursor" in bad.json["error"]["message"], bad


def check_fleet(srv, fleet, good):
    f = srv.http("GET", "/v1/fleet", token="viewer").json
    assert f["devices"] == len(fleet.all) and f["offline"] == f["devices"] - f["online"], f
    g = [x for x in f["groups"] if x["ring"] == "canary" and x["channel"] == "content"]
    assert g and all(x["bundle_id"] == good and x["version"] == "1" for x in g), f["groups"]
    assert sum(x["devices"] for x in g) == len(fleet.canary), g
    assert all(x["devices"] == x["online"] + x["offline"] for x in f["groups"]), f["groups"]
    assert {x["health"] for x in g} <= {"trial", "healthy"}, g


def check_series(srv, rid):
    s = rf.wait_for("health points of stage 0", lambda: (lambda j: j if j["stages"][0]["points"]
                    and j["stages"][0]["points"][-1]["exposed"] == 2 else None)(
        srv.http("GET", f"/v1/rollouts/{rid}/health/series", token="viewer").json))
    p = s["stages"][0]["points"][-1]
    assert p["threshold"] == 0.5 and p["failure_rate"] == 0 and p["control_devices"] >= 0, p
    assert s["halt"] is None and s["stages"][1]["points"] == [], s
    assert srv.http("GET", "/v1/rollouts/999/health/series", token="viewer").status == 404
    assert srv.http("GET", f"/v1/rollouts/{rid}/health/series", token=None).status == 401
    r = srv.http("GET", f"/v1/rollouts/{rid}/health/series?limit=1", token="viewer").json
    assert len(r["stages"][0]["points"]) == 1 and r["stages"][0]["points"][0] == p, r


def check_pages(srv):
    assert srv.http("GET", "/v1/whoami", token="release").json == {"name": "release-user",
                                                                   "role": "release"}
    r = srv.http("GET", "/", token=None)
    assert r.status == 200 and b"<script" in r.raw and b"uPlot" in r.raw, r
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, csp
    assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
    assert not re.search(rb"<script(?![^>]*\bsrc=)", r.raw), "inline script in the page"
    js = srv.http("GET", "/assets/app.js", token=None)
    assert js.status == 200 and js.headers["Content-Type"].startswith("text/javascript"), js
    again = srv.http("GET", "/assets/app.js", token=None, headers={"If-None-Match": js.headers["ETag"]})
    assert again.status == 304, again
    assert srv.http("GET", "/assets/uPlot.iife.min.js", token=None).status == 200
    assert srv.http("GET", "/assets/nope.js", token=None).status == 404


def test(srv):
    srv.default_rings()
    fleet = rf.Fleet(srv, canary=2, broad=1).start()
    good = srv.push(b"good content\n", version="1")
    rid = int(srv.cli("rollout", "create", "--bundle", str(good), token="release").stdout)
    srv.cli("rollout", "start", str(rid), token="release")
    fleet.wait_running(fleet.canary, good)
    check_pages(srv)
    check_series(srv, rid)
    check_metrics(srv, rid)
    check_fleet(srv, fleet, good)
    check_lists(srv, fleet, good)
    check_stream(srv, rid)
    check_device_pages(srv, fleet)
    check_rollout_pages(srv, good, rid)
    # shutdown with a stream open: the server ends it and stops cleanly
    s = Stream(srv, "?after=0")
    assert s.next_event()["id"] == 1
    for a in srv.agents:
        a.stop()
    t0 = time.monotonic()
    srv.stop()
    while s.resp.read1(65536):
        pass
    rf.log(f"server stopped with an event stream open in {time.monotonic() - t0:.2f} s")
    s.close()


if __name__ == "__main__":
    rf.main(test)
