"""(d) Bad input gets a clear error naming the problem, with the right status,
and changes nothing in the database."""
import json

import rf

TABLES = ["tokens", "devices", "device_channels", "bundles", "rings", "rollouts",
          "rollout_stages", "exposures", "heartbeats", "events"]


def snapshot(srv):
    snap = {}
    for t in TABLES:
        snap[t] = srv.sql(f"SELECT count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) "
                          f"FROM {t} x")[0]
    return snap


def enroll(srv, hostname):
    r = srv.http("POST", "/v1/agent/enroll", token=rf.ENROLL_KEY,
                 body={"hostname": hostname, "labels": {"ring": "canary"}})
    assert r.status == 201, r
    return r.json["device_id"], r.json["token"]


def test(srv):
    srv.default_rings()
    dev_a, tok_a = enroll(srv, "a")
    dev_b, _ = enroll(srv, "b")
    b = srv.push(b"bytes\n", version="1")
    rid = int(srv.cli("rollout", "create", "--bundle", str(b), token="release").stdout)
    hb_ok = {"seq": 1, "boot_id": "x", "uptime_s": 1, "heartbeat_interval_s": 5,
             "agent_version": "t", "channels": {}}
    before = snapshot(srv)
    big = b"{" + b" " * (2 * 1024 * 1024) + b"}"

    # (method, path, token, body, raw, expected status, substring of the message)
    cases = [
        ("POST", "/v1/rings", "release", "{not json", None, 400, "json"),
        ("POST", "/v1/rings", "release", "[1,2]", None, 400, "object"),
        ("POST", "/v1/rings", "release", {"name": 5, "order": 2}, None, 400, "name"),
        ("POST", "/v1/rings", "release", {"order": 2}, None, 400, "name"),
        ("POST", "/v1/rings", "release", {"name": "x", "order": 2, "colour": "red"}, None, 400, "colour"),
        ("POST", "/v1/rings", "release", {"name": "x", "order": "2"}, None, 400, "order"),
        ("POST", "/v1/rings", "release", {"name": "x", "order": 2, "buckets": [10, 5]}, None, 400, "buckets"),
        ("POST", "/v1/rings", "release", {"name": "x", "order": 2, "labels": {"k": 1}}, None, 400, "labels"),
        ("POST", "/v1/rings", "release", {"name": "canary", "order": 7}, None, 409, "canary"),
        ("POST", "/v1/rollouts", "release", {"bundle_id": "abc"}, None, 400, "bundle_id"),
        ("POST", "/v1/rollouts", "release", {"bundle_id": 999999}, None, None, "bundle"),
        ("POST", "/v1/rollouts", "release", {"bundle_id": b, "policy": {"max_failure_rate": 2}},
         None, 400, "max_failure_rate"),
        ("POST", "/v1/rollouts", "release", {"bundle_id": b, "policy": {"bogus": 1}}, None, 400, "bogus"),
        ("POST", "/v1/bundles?channel=BAD!&name=n&version=1", "release", None, b"x", 400, "channel"),
        ("POST", "/v1/bundles?channel=content&name=n", "release", None, b"x", 400, "version"),
        ("POST", f"/v1/rollouts/{rid}/promote", "release", None, None, 409, "draft"),
        ("POST", "/v1/rollouts/999999/start", "release", None, None, 404, "rollout"),
        ("POST", "/v1/agent/heartbeat", tok_a, dict(hb_ok, seq="x"), None, 400, "seq"),
        ("POST", "/v1/agent/heartbeat", tok_a, dict(hb_ok, seq=-1), None, 400, "seq"),
        ("POST", "/v1/agent/heartbeat", tok_a, dict(hb_ok, extra=1), None, 400, "extra"),
        ("POST", "/v1/agent/heartbeat", tok_a, dict(hb_ok, device_id=dev_b), None, 400, "device_id"),
        ("POST", "/v1/agent/heartbeat", tok_a,
         dict(hb_ok, channels={"content": {"bundle_id": "x", "state": "idle"}}), None, 400, "bundle_id"),
        ("POST", "/v1/agent/heartbeat", tok_a,
         dict(hb_ok, channels={"content": {"bundle_id": None, "state": "exploded"}}), None, 400, "state"),
        ("POST", "/v1/agent/enroll", rf.ENROLL_KEY, {"labels": {"ring": 7}}, None, 400, "labels"),
        # sizes
        ("POST", "/v1/rings", "release", None, big, 413, ""),
        ("POST", "/v1/agent/heartbeat", tok_a, None, big, 413, ""),
        ("POST", "/v1/bundles?channel=content&name=huge&version=1", "release", None,
         b"\0" * (3 * 1024 * 1024), 413, ""),
        # roles
        ("POST", "/v1/rings", "viewer", {"name": "y", "order": 5}, None, 403, "release"),
        ("POST", f"/v1/rollouts/{rid}/start", "viewer", None, None, 403, "release"),
        ("DELETE", "/v1/rings/1", "release", None, None, 403, "admin"),
        ("POST", "/v1/bundles?channel=content&name=v&version=9", "viewer", None, b"x", 403, "release"),
        # no token, unknown token, the wrong kind of token
        ("GET", "/v1/rings", None, None, None, 401, ""),
        ("POST", "/v1/agent/heartbeat", None, hb_ok, None, 401, ""),
        ("GET", "/v1/rings", "rfu_not-a-real-token", None, None, 401, ""),
        ("GET", "/v1/rings", tok_a, None, None, 403, ""),
        ("GET", "/v1/agent/assignment", "admin", None, None, 403, ""),
        ("POST", "/v1/agent/enroll", "admin", {}, None, 401, ""),
        ("POST", "/v1/agent/enroll", "wrong-enroll-key", {}, None, 401, ""),
        # a device token acting for another device
        ("GET", f"/v1/devices/{dev_b}", tok_a, None, None, 403, ""),
        # routes
        ("GET", "/v1/nothing-here", "admin", None, None, 404, ""),
        ("PATCH", "/v1/rings", "admin", None, None, 405, ""),
    ]
    failures = []
    for method, path, token, body, raw, status, needle in cases:
        r = srv.http(method, path, token=token, body=body, raw=raw)
        err = (r.json or {}).get("error") if isinstance(r.json, dict) else None
        problems = []
        if status is not None and r.status != status:
            problems.append(f"status {r.status}, want {status}")
        if status is None and r.status not in (400, 404):
            problems.append(f"status {r.status}, want 400 or 404")
        if not err or not err.get("code") or not err.get("message"):
            problems.append("no {error: {code, message}} body")
        elif needle and needle.lower() not in err["message"].lower():
            problems.append(f"message {err['message']!r} does not mention {needle!r}")
        if problems:
            failures.append(f"{method} {path} [{json.dumps(body)[:60] if body is not None else ''}]: "
                            + "; ".join(problems) + f" — got {r!r}")
    assert not failures, "\n".join(failures)

    # a device may read itself
    r = srv.http("GET", f"/v1/devices/{dev_a}", token=tok_a)
    assert r.status == 200, r
    after = snapshot(srv)
    changed = [t for t in TABLES if before[t] != after[t]]
    assert not changed, f"bad requests changed tables: {changed}"
    # the server is still serving
    assert srv.http("GET", "/healthz", token=None).status == 200


if __name__ == "__main__":
    rf.main(test, extra_env={"RINGFENCE_MAX_BUNDLE_BYTES": str(1024 * 1024)})
