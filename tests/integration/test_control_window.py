"""The control group over the stage's window: control devices whose failures
were reported before the stage's window (crash counters still above zero)
are not counted as failed; a control device's new crash in the window is,
once however often it repeats the report; a failed install reported in the
window is; and the health answer, its time series and the rollout's
statistics show the window's start (control_since) — the stage's start until
something is exposed, then the first exposure."""
import time

import rf


def enroll(srv, ring):
    r = srv.http("POST", "/v1/agent/enroll", token=rf.ENROLL_KEY,
                 body={"hostname": f"fake-{ring}", "labels": {"ring": ring}})
    assert r.status == 201, r
    return r.json


class Dev:
    def __init__(self, srv, ring):
        self.srv = srv
        self.d = enroll(srv, ring)
        self.seq = 0

    def report(self, bundle, state="committed", crashes=0, target=None):
        self.seq += 1
        ch = {"bundle_id": bundle, "state": state, "target_bundle_id": target, "boots": 1,
              "unclean_shutdowns": 0, "crashes": crashes, "local_rollbacks": 0,
              "error": "hook failed" if state == "install_failed" else None}
        body = {"seq": self.seq, "boot_id": "boot-1", "uptime_s": 100 + self.seq,
                "heartbeat_interval_s": 600, "agent_version": "test", "channels": {"content": ch}}
        r = self.srv.http("POST", "/v1/agent/heartbeat", token=self.d["token"], body=body)
        assert r.status == 200, r
        return r


def stats(srv, rid):
    h = srv.http("GET", f"/v1/rollouts/{rid}/health", token="viewer")
    assert h.status == 200, h
    return h.json["stages"][0]["statistics"]


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def test(srv):
    srv.default_rings()
    canary = [Dev(srv, "canary") for _ in range(2)]
    control = [Dev(srv, "broad") for _ in range(5)]
    old = srv.push(b"old bundle\n", version="0")
    # Before the rollout: two control devices crashed on the old bundle.
    for i, d in enumerate(control):
        d.report(old, crashes=1 if i < 2 else 0)
    for d in canary:
        d.report(old)
    assert srv.sql("SELECT count(*) FROM device_channels WHERE last_failure_at IS NOT NULL") == [["2"]]
    time.sleep(1.2)  # the window starts in a later second than those reports

    bundle = srv.push(b"new bundle\n", version="1")
    r = srv.http("POST", "/v1/rollouts", token="release",
                 body={"bundle_id": bundle, "policy": {"max_failure_rate": 1.0}})
    assert r.status == 201, r
    rid = r.json["id"]
    r = srv.http("POST", f"/v1/rollouts/{rid}/start", token="release")
    assert r.status == 200, r
    started = srv.rollout(rid)["stages"][0]["started"]
    st = stats(srv, rid)
    # every device not exposed yet is in the control (the canary's too); the old failures
    # are outside the window (counted since activation they were 2 of 7)
    assert st["control_devices"] == 7 and st["control_failed"] == 0, st
    assert st["control_since"] == started, (st, started)

    time.sleep(1.1)
    canary[0].report(old, state="installing", target=bundle)
    exposed_at = int(srv.sql(f"SELECT floor(extract(epoch FROM exposed_at))::bigint FROM exposures "
                             f"WHERE rollout_id = {rid}")[0][0])
    st = stats(srv, rid)
    assert st["exposed"] == 1 and st["control_devices"] == 6, st
    assert st["control_since"] == iso(exposed_at) and st["control_since"] > started, st
    time.sleep(1.1)  # the control's new failures come after the first exposure's second

    control[0].report(old, crashes=1)  # the same crash, reported again: still outside
    assert stats(srv, rid)["control_failed"] == 0
    control[1].report(old, crashes=2)  # a new crash in the window
    control[1].report(old, crashes=2)  # reported again: one device, once
    st = stats(srv, rid)
    assert st["control_failed"] == 1 and abs(st["control_rate"] - 1 / 6) < 1e-9, st
    control[2].report(old, state="install_failed", target=bundle + 100)
    assert stats(srv, rid)["control_failed"] == 2
    control[2].report(old)  # a clean report clears it: the device shows no failure now
    assert stats(srv, rid)["control_failed"] == 1

    # the evaluator's series records the windowed figures
    def point():
        s = srv.http("GET", f"/v1/rollouts/{rid}/health/series", token="viewer").json
        pts = s["stages"][0]["points"]
        return pts and pts[-1]["control_failed"] == 1 and pts[-1]
    p = rf.wait_for("a series point with the windowed control", point, timeout=15)
    assert p["control_devices"] == 6, p
    assert srv.rollout(rid)["state"] == "active"


if __name__ == "__main__":
    rf.main(test)
