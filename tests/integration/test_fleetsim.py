"""A short fleet simulation: a few thousand simulated devices (ringfence-fleetsim,
driving the agent's own protocol state machine) against a real ringfenced. A
healthy bundle is rolled out everywhere, then a bundle that makes devices reboot
uncleanly shortly after activation: the rollout must halt by itself, the bad
bundle must never leave the canary ring, and every exposed device that is still
reachable must run the previous bundle again."""
import json
import os
import signal
import subprocess

import rf

DEVICES = int(os.environ.get("RF_FLEETSIM_DEVICES", "1000"))
CANARY = 100
SCENARIO = {
    "rings": [
        {"name": "canary", "size": CANARY, "labels": {"ring": "canary"}},
        {"name": "broad", "size": DEVICES - CANARY, "labels": {"ring": "broad"}},
    ],
    "bundles": [{"version": "2", "mode": "crash_later", "after_s": 2}],
    "heartbeat_interval_s": 5,
    "health_window_s": 10,
    "poll_interval_s": 5,
    "max_connections": 64,
    "enroll_per_s": 400,
    "seed": 7,
}


def status(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def running(path, bundle):
    st = status(path)
    return st["running"].get(str(bundle), 0) if st else 0


def test(srv):
    srv.default_rings()
    scen = os.path.join(srv.dir, "scenario.json")
    with open(scen, "w") as f:
        json.dump(SCENARIO, f)
    st_path = os.path.join(srv.dir, "fleetsim-status.json")
    report_path = os.path.join(srv.dir, "fleetsim-report.json")
    log = open(os.path.join(srv.dir, "fleetsim.log"), "w")
    sim = subprocess.Popen(
        [os.path.join(rf.BIN, "ringfence-fleetsim"), "--server", srv.url, "--trusted-root",
         srv.trusted_root, "--enroll-key", rf.ENROLL_KEY, "--scenario", scen, "--status-file",
         st_path, "--report", report_path, "--server-pid", str(srv.proc.pid), "--duration", "240"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        rf.wait_for("every simulated device enrolled",
                    lambda: (status(st_path) or {}).get("enrolled") == DEVICES, timeout=60)

        good = srv.push(b"good content\n", version="1")
        r1 = int(srv.cli("rollout", "create", "--bundle", str(good), token="release").stdout)
        srv.cli("rollout", "start", str(r1), token="release")
        rf.wait_for("the canary ring on the good bundle",
                    lambda: running(st_path, good) >= CANARY, timeout=60)
        srv.cli("rollout", "promote", str(r1), token="release")
        rf.wait_for("the whole fleet on the good bundle",
                    lambda: running(st_path, good) == DEVICES, timeout=90)
        assert srv.cli_json("rollout", "promote", str(r1), token="release")["state"] == "completed"

        bad = srv.push(b"content that reboots the device\n", version="2")
        r2 = int(srv.cli("rollout", "create", "--bundle", str(bad), token="release").stdout)
        srv.cli("rollout", "start", str(r2), token="release")
        ro = rf.wait_for("the bad rollout to halt by itself",
                         lambda: (lambda r: r if r["state"] in ("halted", "reverted") else None)(
                             srv.rollout(r2)), timeout=60)
        assert ro["halt"] and ro["halt"]["stage"] == 0, ro
        rf.wait_for("no simulated device on the bad bundle",
                    lambda: status(st_path) and running(st_path, bad) == 0, timeout=60)
    finally:
        sim.send_signal(signal.SIGTERM)
        rc = sim.wait(timeout=60)
        log.close()
    assert rc == 0, f"fleetsim exited {rc}"
    with open(report_path) as f:
        rep = json.load(f)
    rf.log(json.dumps({k: v for k, v in rep.items() if k != "rollouts"}))
    bad_ro = [r for r in rep["rollouts"] if r["rollout_id"] == r2]
    assert len(bad_ro) == 1, rep["rollouts"]
    bad_ro = bad_ro[0]
    rf.log(json.dumps(bad_ro))
    assert bad_ro["halted"], bad_ro
    assert bad_ro["installed_outside_first_ring"] == 0, bad_ro
    assert bad_ro["rings"]["broad"]["installed"] == 0, bad_ro
    assert 0 < bad_ro["blast_radius"] <= CANARY, bad_ro
    ex = bad_ro["exposure"]
    assert ex["reachable"] > 0 and ex["not_reverted"] == 0, ex
    assert rep["false_halts"] == 0, rep
    rows = srv.sql("SELECT count(*) FROM exposures WHERE rollout_id = :'v1' AND stage <> 0", r2)
    assert rows == [["0"]], rows


if __name__ == "__main__":
    # Heartbeat requests wait for their batch to commit on an HTTP worker
    # thread: more threads let more of them share one commit.
    rf.main(test, extra_env={"RINGFENCE_THREADS": "32"})
