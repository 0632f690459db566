"""A bundle crashes its canary devices at boot and the agents never come back:
nothing is ever reported about the crash, yet the silence past the deadline
counts as failure and the rollout halts by itself; no device outside the
canary ring is ever assigned the bundle."""
import os
import uuid

import rf


def test(srv):
    srv.default_rings()
    fleet = rf.Fleet(srv, canary=2, broad=2).start()
    good = srv.push(b"good content\n", version="1")
    r1 = int(srv.cli("rollout", "create", "--bundle", str(good), token="release").stdout)
    srv.cli("rollout", "start", str(r1), token="release")
    fleet.wait_running(fleet.canary, good)
    srv.cli("rollout", "promote", str(r1), token="release")
    fleet.wait_running(fleet.all, good)
    assert srv.cli_json("rollout", "promote", str(r1), token="release")["state"] == "completed"

    bad = srv.push(b"content that kills the machine at boot\n", version="2")
    r2 = int(srv.cli("rollout", "create", "--bundle", str(bad), token="release").stdout)
    srv.cli("rollout", "start", str(r2), token="release")
    fleet.wait_running(fleet.canary, bad)

    gone = rf.time.monotonic()
    for a in fleet.canary:
        # the machine crashes and reboots into a hang: new boot id, a crash record
        # nobody reads, and no agent ever again
        a.kill()
        with open(a.boot_id_file, "w") as f:
            f.write(str(uuid.uuid4()) + "\n")
        with open(os.path.join(a.crash_dir, f"dmesg-{uuid.uuid4().hex[:8]}"), "w") as f:
            f.write("Oops\n")

    ro = rf.wait_for("the rollout to halt on silence",
                     lambda: (lambda r: r if r["state"] in ("halted", "reverted") else None)(
                         srv.rollout(r2)), timeout=40)
    rf.log(f"halted {rf.time.monotonic() - gone:.2f} s after the canary devices went silent")
    assert ro["halt"] and ro["halt"]["stage"] == 0 and ro["halt"]["failed"] >= 1, ro
    h = srv.http("GET", f"/v1/rollouts/{r2}/health", token="viewer").json
    reasons = {f["device_id"]: f["reason"] for f in h["failures"]}
    canary = {a.device_id for a in fleet.canary}
    assert reasons and set(reasons) <= canary, reasons  # only the silent ones failed
    assert set(reasons.values()) == {"silent"}, reasons  # silence alone, nothing reported
    for a in fleet.broad:
        assert a.device_id not in reasons, reasons
        assert all(c[3] != str(bad) for c in a.hook_calls()), (a.name, a.hook_calls())
        assert a.running() == good
    rows = srv.sql("SELECT count(*) FROM exposures WHERE rollout_id = :'v1' AND stage <> 0", r2)
    assert rows == [["0"]], rows


if __name__ == "__main__":
    rf.main(test)
