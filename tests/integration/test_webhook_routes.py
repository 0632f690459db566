"""Webhooks managed through the REST API: only admins may use the routes;
every bad input is refused with a message naming the field and changes
nothing; a created webhook shows its secret once, and a halt reaches it
signed with that secret (verified here) beside an environment URL signed
with the environment's secret; list, patch (If-Match), the delivery logs, a
test delivery, secret rotation (the old secret stops verifying), disable and
delete, each recorded as an audit event that never shows the secret nor the
URL's path and query. Last, a second instance whose keys directory lacks the
webhook master key leaves the API's deliveries alone until it gets the key
as a 0600 file."""
import hashlib
import hmac
import http.server
import json
import os
import shutil
import stat
import threading
import time

import rf

ENV_SECRET = "environment-secret"


class Receiver(http.server.BaseHTTPRequestHandler):
    got = []  # (path, headers, body bytes)
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with Receiver.lock:
            Receiver.got.append((self.path, dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def received(path, kind=None):
    with Receiver.lock:
        return [(h, b) for p, h, b in Receiver.got
                if p == path and (kind is None or h.get("X-Ringfence-Event") == kind)]


def signed_by(headers, body, secret):
    want = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers.get("X-Ringfence-Signature", ""), want)


def webhook_events(srv):
    return [e for e in srv.events() if e["kind"].startswith("webhook.")]


BAD = [
    ("not json", None, "body"),
    ({}, 400, "field 'url': required"),
    ({"url": 5}, 400, "field 'url': must be a string"),
    ({"url": "ftp://example.com/x"}, 400, "field 'url': must start with http:// or https://"),
    ({"url": "http://"}, 400, "field 'url': needs a host"),
    ({"url": "https://user:pw@example.com/"}, 400, "field 'url': must not carry a user or password"),
    ({"url": "http://example.com:0/"}, 400, "field 'url': the port must be a number 1-65535"),
    ({"url": "http://example.com:99999/"}, 400, "field 'url': the port must be a number 1-65535"),
    ({"url": "http://exa mple.com/"}, 400, "field 'url': must be visible ASCII"),
    ({"url": "http://example.com/\u00e9"}, 400, "field 'url': must be visible ASCII"),
    ({"url": "http://example.com/#x"}, 400, "field 'url': must not carry a fragment"),
    ({"url": "http://[zz]/"}, 400, "field 'url': an IPv6 host must be written [address]"),
    ({"url": "http://ex!ample.com/"}, 400, "field 'url': the host may hold only"),
    ({"url": "http://e.com/" + "a" * 500}, 400, "field 'url': must be 1-512 bytes long"),
    ({"url": "http://e.com/", "events": []}, 400, "field 'events': must be an array of 1-16"),
    ({"url": "http://e.com/", "events": "rollout.halted"}, 400, "field 'events': must be an array"),
    ({"url": "http://e.com/", "events": ["device.failed"]}, 400,
     "field 'events[0]': 'device.failed' is not an event kind a webhook can receive"),
    ({"url": "http://e.com/", "events": ["rollout.halted", 3]}, 400,
     "field 'events[1]': must be a string"),
    ({"url": "http://e.com/", "events": ["rollout.halted", "rollout.halted"]}, 400,
     "field 'events[1]': 'rollout.halted' is listed twice"),
    ({"url": "http://e.com/", "description": "x" * 201}, 400, "field 'description': must be a string of at most 200"),
    ({"url": "http://e.com/", "description": "a\nb"}, 400, "field 'description'"),
    ({"url": "http://e.com/", "enabled": "yes"}, 400, "field 'enabled': must be true or false"),
    ({"url": "http://e.com/", "secret": "mine"}, 400, "field 'secret': cannot be set"),
    ({"url": "http://e.com/", "extra": 1}, 400, "field 'extra': unknown field"),
]


def check_roles(srv, device_token, hid):
    routes = [("GET", "/v1/webhooks"), ("POST", "/v1/webhooks"), ("GET", "/v1/webhooks/deliveries"),
              ("GET", f"/v1/webhooks/{hid}"), ("PATCH", f"/v1/webhooks/{hid}"),
              ("DELETE", f"/v1/webhooks/{hid}"), ("GET", f"/v1/webhooks/{hid}/deliveries"),
              ("POST", f"/v1/webhooks/{hid}/test"), ("POST", f"/v1/webhooks/{hid}/rotate-secret")]
    for method, path in routes:
        body = {"url": "http://e.com/"} if method in ("POST", "PATCH") else None
        for token, want in (("viewer", 403), ("release", 403), (device_token, 403),
                            ("rfu_not-a-token", 401), (None, 401)):
            r = srv.http(method, path, token=token, body=body)
            assert r.status == want, (method, path, token, r)


def test_bad_input(srv):
    before = srv.http("GET", "/v1/webhooks").json["webhooks"]
    for body, status, msg in BAD:
        if status is None:
            r = srv.http("POST", "/v1/webhooks", raw=b"{not json", headers={"Content-Type": "application/json"})
            assert r.status == 400, r
            continue
        r = srv.http("POST", "/v1/webhooks", body=body)
        assert r.status == status and msg in r.json["error"]["message"], (body, r)
    assert srv.http("GET", "/v1/webhooks").json["webhooks"] == before
    assert webhook_events(srv) == []
    assert not os.path.exists(os.path.join(srv.keys, "webhook.key.tmp"))


def halt_one(srv, version):
    bundle = srv.push(f"hook {version}\n".encode(), version=version)
    rid = srv.http("POST", "/v1/rollouts", token="release",
                   body={"bundle_id": bundle, "policy": {"on_halt": "pause"}}).json["id"]
    assert srv.http("POST", f"/v1/rollouts/{rid}/start", token="release").status == 200
    assert srv.http("POST", f"/v1/rollouts/{rid}/halt", token="release",
                    body={"reason": "hook test"}).status == 200
    assert srv.http("POST", f"/v1/rollouts/{rid}/revert", token="release").status == 200
    return rid


def test_create_and_deliver(srv, base):
    url_a = f"{base}/hook/a?token=receiver-own-secret"
    r = srv.http("POST", "/v1/webhooks", body={"url": url_a, "description": "on-call"})
    assert r.status == 201, r
    hook = r.json
    secret = hook["secret"]
    assert secret.startswith("rfw_") and len(secret) == 68, hook
    assert hook["events"] == ["rollout.halted", "rollout.reverted"] and hook["enabled"] is True
    assert hook["secret_generation"] == 1 and hook["version"] == 1, hook
    assert hook["created_by"] == "admin-user" and r.headers.get("ETag") == '"1"', r
    got = srv.http("GET", f"/v1/webhooks/{hook['id']}")
    assert got.status == 200 and "secret" not in got.json, got
    assert got.json["url"] == url_a
    key = os.path.join(srv.keys, "webhook.key")
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    dup = srv.http("POST", "/v1/webhooks", body={"url": url_a})
    assert dup.status == 409 and "another webhook already posts" in dup.json["error"]["message"], dup

    rid = halt_one(srv, "1")
    rf.wait_for("the halt at the API webhook", lambda: received("/hook/a?token=receiver-own-secret",
                                                                 "rollout.reverted"), timeout=20)
    rf.wait_for("the halt at the environment URL", lambda: received("/env", "rollout.reverted"), timeout=20)
    for h, b in received("/hook/a?token=receiver-own-secret"):
        assert signed_by(h, b, secret) and not signed_by(h, b, ENV_SECRET), h
        ev = json.loads(b)["event"]
        assert ev["rollout_id"] == rid and ev["kind"] in ("rollout.halted", "rollout.reverted"), ev
    kinds = sorted(h["X-Ringfence-Event"] for h, _ in received("/hook/a?token=receiver-own-secret"))
    assert kinds == ["rollout.halted", "rollout.reverted"], kinds
    for h, b in received("/env"):
        assert signed_by(h, b, ENV_SECRET) and not signed_by(h, b, secret), h
    return hook, secret


def test_list_patch(srv, base, hook):
    hid = hook["id"]
    b = srv.http("POST", "/v1/webhooks", body={"url": f"{base}/b", "events": ["rollout.started"],
                                               "enabled": False})
    assert b.status == 201 and b.json["events"] == ["rollout.started"] and not b.json["enabled"], b
    page1 = srv.http("GET", "/v1/webhooks?limit=1")
    assert page1.status == 200 and [w["id"] for w in page1.json["webhooks"]] == [hid], page1
    assert page1.json["next"], page1
    page2 = srv.http("GET", "/v1/webhooks?limit=1&cursor=" + page1.json["next"]).json
    assert [w["id"] for w in page2["webhooks"]] == [b.json["id"]] and page2["next"] is None, page2
    assert [w["id"] for w in srv.http("GET", "/v1/webhooks").json["webhooks"]] == [hid, b.json["id"]]
    for q, msg in (("limit=0", "parameter 'limit'"), ("cursor=zz", "parameter 'cursor'"),
                   ("channel=x", "parameter 'channel': not a filter of this list")):
        r = srv.http("GET", "/v1/webhooks?" + q)
        assert r.status == 400 and msg in r.json["error"]["message"], (q, r)

    n_events = len(webhook_events(srv))
    for body, status, msg in ((None, 400, "body"), ({}, 400, "give at least one of"),
                              ({"url": f"{base}/b"}, 409, "another webhook already posts"),
                              ({"events": ["x"]}, 400, "field 'events[0]'"),
                              ({"url": "gopher://x/"}, 400, "field 'url'"),
                              ({"enabled": 1}, 400, "field 'enabled'")):
        r = srv.http("PATCH", f"/v1/webhooks/{hid}", body=body) if body is not None else \
            srv.http("PATCH", f"/v1/webhooks/{hid}", raw=b"[]", headers={"Content-Type": "application/json"})
        assert r.status == status and msg in r.json["error"]["message"], (body, r)
    stale = srv.http("PATCH", f"/v1/webhooks/{hid}", body={"description": "x"}, headers={"If-Match": '"7"'})
    assert stale.status == 409 and stale.json["current"]["version"] == 1, stale
    assert srv.http("PATCH", "/v1/webhooks/999", body={"description": "x"}).status == 404
    assert srv.http("PATCH", "/v1/webhooks/abc", body={"description": "x"}).status == 404
    assert srv.http("GET", f"/v1/webhooks/{hid}").json["version"] == 1
    assert len(webhook_events(srv)) == n_events, "a refused change left an event"
    ok = srv.http("PATCH", f"/v1/webhooks/{hid}", body={"description": "pager", "events": [
        "rollout.reverted", "rollout.halted", "rollout.started"]}, headers={"If-Match": '"1"'})
    assert ok.status == 200 and ok.json["version"] == 2 and ok.json["description"] == "pager", ok
    assert ok.json["events"] == ["rollout.halted", "rollout.reverted", "rollout.started"], ok
    assert ok.json["updated_by"] == "admin-user" and ok.headers.get("ETag") == '"2"'
    return b.json["id"]


def test_deliveries(srv, hid):
    log = srv.http("GET", f"/v1/webhooks/{hid}/deliveries")
    assert log.status == 200 and log.json["next"] is None, log
    ds = log.json["deliveries"]
    assert [d["kind"] for d in ds] == ["rollout.reverted", "rollout.halted"], ds  # newest first
    assert all(d["webhook_id"] == hid and d["state"] == "delivered" and d["attempts"] == 1
               and d["last_status"] == 204 for d in ds), ds
    one = srv.http("GET", f"/v1/webhooks/{hid}/deliveries?limit=1").json
    assert len(one["deliveries"]) == 1 and one["next"], one
    two = srv.http("GET", f"/v1/webhooks/{hid}/deliveries?limit=1&cursor={one['next']}").json
    assert [d["id"] for d in one["deliveries"] + two["deliveries"]] == [d["id"] for d in ds], two
    every = srv.http("GET", "/v1/webhooks/deliveries").json["deliveries"]
    assert {d["webhook_id"] for d in every} == {hid, None}, every  # the environment URL's too
    assert srv.http("GET", "/v1/webhooks/deliveries?state=pending").json["deliveries"] == []
    bad = srv.http("GET", f"/v1/webhooks/{hid}/deliveries?cursor=" + srv.http(
        "GET", "/v1/webhooks?limit=1").json["next"])
    assert bad.status == 400 and "parameter 'cursor'" in bad.json["error"]["message"], bad
    assert srv.http("GET", "/v1/webhooks/999/deliveries").status == 404


def test_test_and_rotate(srv, hid, path, secret):
    r = srv.http("POST", f"/v1/webhooks/{hid}/test")
    assert r.status == 202 and r.json["delivery"]["kind"] == "webhook.test", r
    got = rf.wait_for("the test delivery", lambda: received(path, "webhook.test"), timeout=20)
    assert signed_by(got[0][0], got[0][1], secret), got[0][0]
    assert json.loads(got[0][1])["event"]["data"]["webhook_id"] == hid
    bad = srv.http("POST", f"/v1/webhooks/{hid}/rotate-secret", body={"secret": "x"})
    assert bad.status == 400 and "field 'secret'" in bad.json["error"]["message"], bad
    rot = srv.http("POST", f"/v1/webhooks/{hid}/rotate-secret", headers={"If-Match": '"2"'})
    assert rot.status == 200 and rot.json["secret_generation"] == 2 and rot.json["version"] == 3, rot
    new = rot.json["secret"]
    assert new != secret and new.startswith("rfw_"), rot
    assert srv.http("POST", f"/v1/webhooks/{hid}/test").status == 202
    got = rf.wait_for("a second test delivery", lambda: len(received(path, "webhook.test")) >= 2
                      and received(path, "webhook.test"), timeout=20)
    assert signed_by(got[1][0], got[1][1], new) and not signed_by(got[1][0], got[1][1], secret)
    return new


def test_disable_delete(srv, hid, other):
    off = srv.http("PATCH", f"/v1/webhooks/{hid}", body={"enabled": False})
    assert off.status == 200 and off.json["enabled"] is False, off
    t = srv.http("POST", f"/v1/webhooks/{hid}/test")
    assert t.status == 409 and "disabled" in t.json["error"]["message"], t
    stale = srv.http("DELETE", f"/v1/webhooks/{other}", headers={"If-Match": '"9"'})
    assert stale.status == 409 and stale.json["current"]["id"] == other, stale
    gone = srv.http("DELETE", f"/v1/webhooks/{other}")
    assert gone.status == 200 and gone.json["id"] == other, gone
    assert srv.http("GET", f"/v1/webhooks/{other}").status == 404
    assert srv.http("DELETE", f"/v1/webhooks/{other}").status == 404
    on = srv.http("PATCH", f"/v1/webhooks/{hid}", body={"enabled": True})
    assert on.status == 200 and on.json["enabled"] is True


def test_audit(srv, hid, secrets):
    evs = webhook_events(srv)
    kinds = [e["kind"] for e in evs]
    for k in ("webhook.created", "webhook.updated", "webhook.secret_rotated", "webhook.deleted",
              "webhook.test"):
        assert k in kinds, kinds
    created = [e for e in evs if e["kind"] == "webhook.created" and e["data"]["webhook_id"] == hid][0]
    assert created["actor"] == "admin-user" and created["data"]["before"] is None, created
    after = created["data"]["after"]
    assert after["url"].endswith("/\u2026") and "receiver-own-secret" not in json.dumps(evs), after
    assert len(after["url_sha256"]) == 16
    upd = [e for e in evs if e["kind"] == "webhook.updated"][0]["data"]
    assert upd["before"]["version"] == 1 and upd["after"]["version"] == 2, upd
    deleted = [e for e in evs if e["kind"] == "webhook.deleted"][0]["data"]
    assert deleted["before"] is not None and deleted["after"] is None, deleted
    dump = "\n".join("\t".join(row) for table in ("webhooks", "webhook_deliveries", "events")
                     for row in srv.sql(f"SELECT row_to_json(t)::text FROM {table} t"))
    for s in secrets:
        assert s not in dump and s[4:] not in dump, "a secret is in the database"
    assert ENV_SECRET not in dump


def test_second_instance(srv, hid, path, secret):
    """Only an instance holding the right master key signs for API webhooks."""
    keys_b = os.path.join(srv.dir, "keys-b")
    os.makedirs(keys_b, mode=0o700)
    for f in os.listdir(srv.keys):
        if f.endswith(".pem"):
            shutil.copy2(os.path.join(srv.keys, f), keys_b)
    srv.stop()  # the instance with the key goes away
    b = srv.second_instance(RINGFENCE_KEYS_DIR=keys_b, RINGFENCE_WEBHOOK_URLS="")
    try:
        n = len(received(path, "webhook.test"))
        r = b.http("POST", f"/v1/webhooks/{hid}/test")
        assert r.status == 202, r
        did = r.json["delivery"]["id"]
        # no key file: the delivery waits; a key file others can read: still waits
        key_b = os.path.join(keys_b, "webhook.key")
        time.sleep(2)
        shutil.copyfile(os.path.join(srv.keys, "webhook.key"), key_b)
        os.chmod(key_b, 0o644)
        time.sleep(2)
        assert len(received(path, "webhook.test")) == n, "delivered without the right key"
        state = b.sql(f"SELECT state, attempts FROM webhook_deliveries WHERE id = {did}")
        assert state == [["pending", "0"]], state
        os.chmod(key_b, 0o600)
        got = rf.wait_for("delivery by the second instance", lambda: len(
            received(path, "webhook.test")) > n and received(path, "webhook.test"), timeout=20)
        assert signed_by(got[-1][0], got[-1][1], secret)
        assert "master key unusable" in open(b.log_path).read()
    finally:
        b.stop()
        b.log_file.close()


def test(srv):
    base = srv.receiver_base
    srv.default_rings()
    dev = srv.http("POST", "/v1/agent/enroll", token=rf.ENROLL_KEY,
                   body={"hostname": "one", "labels": {"ring": "canary"}}).json
    assert stat.S_IMODE(os.stat(os.path.join(srv.keys, "webhook.key")).st_mode) == 0o600
    os.remove(os.path.join(srv.keys, "webhook.key"))  # made by keys init: made again on first use
    check_roles(srv, dev["token"], 1)
    test_bad_input(srv)
    hook, secret = test_create_and_deliver(srv, base)
    hid = hook["id"]
    other = test_list_patch(srv, base, hook)
    test_deliveries(srv, hid)
    path = "/hook/a?token=receiver-own-secret"
    new = test_test_and_rotate(srv, hid, path, secret)
    test_disable_delete(srv, hid, other)
    test_audit(srv, hid, [secret, new])
    test_second_instance(srv, hid, path, new)


if __name__ == "__main__":
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    rf.Server.receiver_base = base
    try:
        rf.main(test, extra_env={"RINGFENCE_WEBHOOK_URLS": base + "/env",
                                 "RINGFENCE_WEBHOOK_SECRET": ENV_SECRET})
    finally:
        server.shutdown()
