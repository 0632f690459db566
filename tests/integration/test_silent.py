"""(c) A device that begins installing and then goes silent (killed, never
restarted) counts as failed, reason "silent", once its deadline passes."""
import time

import rf


def test(srv):
    srv.default_rings()
    fleet = rf.Fleet(srv, canary=3, broad=1).start()
    b = srv.push(b"content\n", version="7")
    # a high failure limit: this test is about counting, not halting
    rid = int(srv.cli("rollout", "create", "--bundle", str(b), "--max-failure-rate", "0.9",
                      "--min-failed", "3", token="release").stdout)
    srv.cli("rollout", "start", str(rid), token="release")
    fleet.wait_running(fleet.canary, b)

    victim = fleet.canary[0]
    killed_at = time.monotonic()
    victim.kill()  # gone for good: no clean shutdown, no report

    def silent_failure():
        h = srv.http("GET", f"/v1/rollouts/{rid}/health", token="viewer").json
        return [f for f in h["failures"] if f["device_id"] == victim.device_id]
    fails = rf.wait_for("the silent device to count as failed", silent_failure, timeout=30)
    waited = time.monotonic() - killed_at
    assert fails[0]["reason"] == "silent", fails
    # silence_intervals (3) × heartbeat interval (1 s): not before ~2 s, well before 15 s
    assert 2.0 <= waited <= 15.0, waited

    ro = srv.rollout(rid)
    st0 = ro["stages"][0]
    assert st0["failed"] == 1 and st0["exposed"] == 3, st0
    assert ro["state"] == "active", ro  # below its limit: still running

    # counted once, however long it stays silent
    time.sleep(3)
    assert srv.rollout(rid)["stages"][0]["failed"] == 1
    kinds = [e for e in srv.events(rollout_id=rid) if e["kind"] == "device.failed"]
    assert len(kinds) == 1 and kinds[0]["device_id"] == victim.device_id, kinds


if __name__ == "__main__":
    rf.main(test)
