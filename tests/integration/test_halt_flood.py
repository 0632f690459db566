"""Server side of the automatic halt, without agents: heartbeats sent at once
are all stored (batched) and answered only once committed, a repeated
(device, seq) is a duplicate; one device flooding crash reports counts once
and does not halt a rollout that needs two failed devices; the health route
shows the sequential test and its series; then more failing devices in the
stage halt it once the sequential test has enough evidence, with the
figures recorded."""
import json
import threading

import rf


def enroll(srv, ring):
    r = srv.http("POST", "/v1/agent/enroll", token=rf.ENROLL_KEY,
                 body={"hostname": f"fake-{ring}", "labels": {"ring": ring}})
    assert r.status == 201, r
    return r.json


def heartbeat(srv, dev, seq, bundle, crashes=0, state="trial"):
    ch = {"bundle_id": bundle, "state": state if bundle else "idle", "target_bundle_id": None,
          "boots": 1, "unclean_shutdowns": 0, "crashes": crashes, "local_rollbacks": 0,
          "error": None}
    body = {"seq": seq, "boot_id": "boot-1", "uptime_s": 100 + seq, "heartbeat_interval_s": 600,
            "agent_version": "test", "channels": {"content": ch}}
    return srv.http("POST", "/v1/agent/heartbeat", token=dev["token"], body=body)


def test(srv):
    srv.default_rings()
    canary = [enroll(srv, "canary") for _ in range(5)]
    broad = [enroll(srv, "broad") for _ in range(40)]

    # every device at once: all stored, none refused, one row each
    results = {}

    def send(dev):
        results[dev["device_id"]] = heartbeat(srv, dev, 1, None)

    threads = [threading.Thread(target=send, args=(d,)) for d in canary + broad]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.status == 200 and r.json == {"seq": 1, "duplicate": False}
               for r in results.values()), results
    assert srv.sql("SELECT count(*) FROM heartbeats") == [["45"]]
    again = heartbeat(srv, canary[0], 1, None)
    assert again.status == 200 and again.json["duplicate"] is True, again
    assert srv.sql("SELECT count(*) FROM heartbeats") == [["45"]]

    bundle = srv.push(b"flood test\n", version="1")
    r = srv.http("POST", "/v1/rollouts", token="release",
                 body={"bundle_id": bundle, "policy": {"min_failed_devices": 2, "alpha": 0.02,
                                               "max_failure_rate": 0.9}})
    assert r.status == 201, r
    rid = r.json["id"]
    assert r.json["policy"]["alpha"] == 0.02 and r.json["policy"]["min_ratio"] == 2.0, r.json
    assert srv.http("POST", f"/v1/rollouts/{rid}/start", token="release").status == 200

    seq = {d["device_id"]: 1 for d in canary + broad}

    def beat(dev, bundle_id, crashes=0):
        seq[dev["device_id"]] += 1
        r = heartbeat(srv, dev, seq[dev["device_id"]], bundle_id, crashes)
        assert r.status == 200, r

    for d in canary:
        beat(d, bundle)
    for d in broad:
        beat(d, None)
    # one canary device floods crash reports
    for k in range(1, 60):
        beat(canary[0], bundle, crashes=k)
    rf.time.sleep(2)  # several evaluator ticks
    ro = srv.rollout(rid)
    assert ro["state"] == "active", ro
    h = srv.http("GET", f"/v1/rollouts/{rid}/health", token="viewer")
    assert h.status == 200, h
    st = h.json["stages"][0]
    assert st["exposed"] == 5 and st["failed"] == 1, st
    assert st["would_halt"] is False, st
    stats = st["statistics"]
    assert stats["control_devices"] == 40 and stats["control_failed"] == 0, stats
    assert stats["verdict"] == "continue", stats
    assert abs(stats["statistic_threshold"] - 3.91202) < 1e-3, stats
    assert st["series"] and st["series"][-1]["failed"] == 1, st["series"]
    assert "verdict" in st["series"][-1] and "statistic" in st["series"][-1], st["series"]

    # a second distinct device fails: 2 of 5 against 0 of 40 is not yet
    # enough evidence (statistic 3.00 < ln 50); a third is (4.66): halted
    beat(canary[1], bundle, crashes=1)
    rf.time.sleep(1.5)
    assert srv.rollout(rid)["state"] == "active"
    st = srv.http("GET", f"/v1/rollouts/{rid}/health", token="viewer").json["stages"][0]
    assert st["failed"] == 2 and st["statistics"]["verdict"] == "continue", st["statistics"]
    assert abs(st["statistics"]["statistic"] - 2.9952) < 1e-3, st["statistics"]
    beat(canary[2], bundle, crashes=1)
    ro = rf.wait_for("the rollout to halt", lambda: (lambda r: r if r["state"] in
                     ("halted", "reverted") else None)(srv.rollout(rid)), timeout=15)
    assert ro["state"] == "reverted", ro
    assert ro["halt"]["statistics"]["failed"] == 3, ro["halt"]
    assert ro["halt"]["statistics"]["verdict"] == "harmful", ro["halt"]
    halted = [e for e in srv.events(rollout_id=rid) if e["kind"] == "rollout.halted"]
    assert halted and halted[0]["data"]["statistics"]["control_devices"] == 40, halted
    rf.log("halt figures: " + json.dumps(ro["halt"]["statistics"]))


if __name__ == "__main__":
    rf.main(test)
