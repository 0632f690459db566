"""A bundle that sends its devices into a boot loop: the machines die before the
agent can say anything, so `ringfence-agent bootguard` (the early-boot oneshot)
counts the unclean boots and, at the limit (3), switches back to the previous
slot through the revert hook before the bundle is used again; a crash record
since the install does the same at once. The agents report the local rollback
when they run again, the server counts it as a failure and halts, and the bad
bundle is never installed again."""
import os
import subprocess
import uuid

import rf


def bootguard(a):
    """One early-boot run of the guard on agent a's data dir (same settings)."""
    out = subprocess.run(
        [os.path.join(rf.BIN, "ringfence-agent"), "bootguard", "--server", a.server.url,
         "--data-dir", a.data, "--trusted-root", a.server.trusted_root, "--install-hook", a.hook,
         "--boot-id-file", a.boot_id_file, "--crash-dir", a.crash_dir],
        capture_output=True, text=True, timeout=30)
    with open(a.log_path, "a") as f:
        f.write(out.stdout + out.stderr)
    assert out.returncode == 0, (a.name, out.returncode, out.stderr)
    return out.stderr + out.stdout


def reboot(a, crash_record=False, clean=False):
    """The machine died (or, clean, shut down) and boots again: new boot id, then the guard."""
    if clean:
        a.stop()
    a.kill()
    with open(a.boot_id_file, "w") as f:
        f.write(str(uuid.uuid4()) + "\n")
    if crash_record:
        with open(os.path.join(a.crash_dir, f"dmesg-{uuid.uuid4().hex[:8]}"), "w") as f:
            f.write("Oops: sensor driver\n")
    return bootguard(a)


def current_slot(a):
    link = os.path.join(a.data, "channels", "content", "current")
    return os.readlink(link) if os.path.islink(link) else None


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
    # wait for every agent to commit the good bundle: the guard then has nothing to do
    rf.wait_for("the good bundle committed", lambda: all(
        srv.http("GET", f"/v1/devices/{a.device_id}", token="viewer").json["channels"]["content"]
        ["state"] == "committed" for a in fleet.all), timeout=30)
    for a in fleet.all:
        assert "nothing to do" in reboot(a, clean=True), a.name  # nothing on trial
        a.start()

    # never alongside a running agent: the guard belongs to early boot
    rf.wait_for("broad0 running", lambda: os.path.exists(os.path.join(fleet.broad[0].data, "lock")))
    rf.time.sleep(0.5)
    assert "the agent is running" in bootguard(fleet.broad[0])

    bad = srv.push(b"content that loops the boot\n", version="2")
    # at least both canary devices must have failed before the halt, so the
    # figures do not depend on which of the two reports reaches the server first
    r2 = int(srv.cli("rollout", "create", "--bundle", str(bad), "--min-failed", "2",
                     token="release").stdout)
    srv.cli("rollout", "start", str(r2), token="release")
    fleet.wait_running(fleet.canary, bad)
    looper, crasher = fleet.canary
    bad_slot = current_slot(looper)

    # the looper: three boots that never get as far as the agent
    started = rf.time.monotonic()
    for attempt in (1, 2):
        out = reboot(looper)
        assert "rolling back" not in out, out
        assert current_slot(looper) == bad_slot
    out = reboot(looper)
    assert "rolling back" in out, out
    assert current_slot(looper) != bad_slot
    # the crasher: one boot with a crash record is enough
    out = reboot(crasher, crash_record=True)
    assert "rolling back" in out and "crash record" in out, out
    rf.log(f"bootguard rolled both canary devices back in {rf.time.monotonic() - started:.2f} s")
    for a in (looper, crasher):
        calls = a.hook_calls()
        assert calls[-1][0] == "revert" and calls[-1][3] == str(good), (a.name, calls)
        st = rf.json.load(open(os.path.join(a.data, "state.json")))
        assert "rolled_back" in rf.json.dumps(st) or any(
            c.get("local_rollbacks") for c in st["channels"].values()), st
    # a repeated run in the same boot does nothing more
    assert "nothing to do" in bootguard(looper)

    # the network is back: the agents report it and the server counts it
    for a in (looper, crasher):
        a.start()
    for a in (looper, crasher):
        def reported(a=a):
            d = srv.http("GET", f"/v1/devices/{a.device_id}", token="viewer").json
            ch = d["channels"]["content"]
            return ch if ch["state"] == "rolled_back" or ch.get("local_rollbacks") else None
        ch = rf.wait_for(f"{a.name} to report the local rollback", reported, timeout=20)
        assert ch["bundle_id"] == good, ch
    ro = rf.wait_for("the rollout to halt",
                     lambda: (lambda r: r if r["state"] in ("halted", "reverted") else None)(
                         srv.rollout(r2)), timeout=30)
    assert ro["halt"] and ro["halt"]["failed"] >= 2, ro
    h = srv.http("GET", f"/v1/rollouts/{r2}/health", token="viewer").json
    reasons = {f["device_id"]: f["reason"] for f in h["failures"]}
    rf.log(f"failure reasons: {reasons}")
    for a in (looper, crasher):
        assert reasons.get(a.device_id) == "rolled_back", (a.name, reasons)
    rows = srv.sql("SELECT count(DISTINCT h.device_id) FROM heartbeats h, "
                   "jsonb_each(h.body->'channels') c WHERE c.value->>'state' = 'rolled_back' "
                   "AND c.value->>'target_bundle_id' = :'v1'", bad)
    assert rows == [["2"]], rows

    # the bad bundle is never installed again on these devices
    rf.time.sleep(3)
    for a in (looper, crasher):
        installs = [c for c in a.hook_calls() if c[0] == "install" and c[3] == str(bad)]
        assert len(installs) == 1, (a.name, a.hook_calls())
        assert a.running() == good
    for a in fleet.broad:
        assert all(c[3] != str(bad) for c in a.hook_calls()), (a.name, a.hook_calls())


if __name__ == "__main__":
    rf.main(test)
