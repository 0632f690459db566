"""Webhooks: a halt is POSTed to the configured URL as JSON with an
HMAC-SHA256 signature of the body; a receiver that fails the first attempt
gets it again after a back-off; the delivery log shows each delivery, its
attempts and its last status."""
import hashlib
import hmac
import http.server
import json
import threading

import rf

SECRET = "webhook-test-secret"


class Receiver(http.server.BaseHTTPRequestHandler):
    got = []
    calls = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.calls += 1
        if Receiver.calls == 1:  # the first attempt fails: it must come again
            self.send_response(500)
            self.end_headers()
            return
        want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        Receiver.got.append((self.headers.get("X-Ringfence-Signature") == want,
                             self.headers.get("X-Ringfence-Event"), json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test(srv):
    srv.default_rings()
    dev = srv.http("POST", "/v1/agent/enroll", token=rf.ENROLL_KEY,
                   body={"hostname": "one", "labels": {"ring": "canary"}}).json
    assert dev["device_id"]
    bundle = srv.push(b"webhook\n", version="1")
    rid = srv.http("POST", "/v1/rollouts", token="release",
                   body={"bundle_id": bundle, "policy": {"on_halt": "pause"}}).json["id"]
    assert srv.http("POST", f"/v1/rollouts/{rid}/start", token="release").status == 200
    r = srv.http("POST", f"/v1/rollouts/{rid}/halt", token="release", body={"reason": "hook test"})
    assert r.status == 200, r

    got = rf.wait_for("the webhook delivery", lambda: Receiver.got or None, timeout=20)
    ok, kind, payload = got[0]
    assert ok, "bad signature"
    assert kind == "rollout.halted", kind
    assert payload["event"]["kind"] == "rollout.halted", payload
    assert payload["event"]["rollout_id"] == rid, payload
    assert Receiver.calls >= 2

    log = srv.http("GET", "/v1/webhooks/deliveries", token="admin")
    assert log.status == 200, log
    d = [x for x in log.json["deliveries"] if x["kind"] == "rollout.halted"][0]
    assert d["state"] == "delivered" and d["attempts"] == 2 and d["last_status"] == 204, d
    assert srv.http("GET", "/v1/webhooks/deliveries", token="viewer").status == 403


if __name__ == "__main__":
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        rf.main(test, extra_env={"RINGFENCE_WEBHOOK_URLS": url, "RINGFENCE_WEBHOOK_SECRET": SECRET})
    finally:
        server.shutdown()
