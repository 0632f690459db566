"""A crash of the server at any moment leaves a consistent state: ringfenced is
SIGKILLed in the middle of a rollout and restarted; nothing acknowledged is lost,
agents carry on, and the rollout still halts a bad bundle afterwards."""
import time

import rf


def test(srv):
    srv.default_rings()
    fleet = rf.Fleet(srv, canary=2, broad=2).start()
    b = srv.push(b"v1\n", version="1")
    rid = int(srv.cli("rollout", "create", "--bundle", str(b), token="release").stdout)
    srv.cli("rollout", "start", str(rid), token="release")
    fleet.wait_running(fleet.canary, b)

    acked = int(srv.sql("SELECT count(*) FROM heartbeats")[0][0])
    events = int(srv.sql("SELECT count(*) FROM events")[0][0])
    srv.crash_and_restart()
    # everything acknowledged before the crash is still there
    assert int(srv.sql("SELECT count(*) FROM heartbeats")[0][0]) >= acked
    assert int(srv.sql("SELECT count(*) FROM events")[0][0]) >= events
    ro = srv.rollout(rid)
    assert ro["state"] == "active" and ro["stage"] == 0, ro

    # agents reconnect by themselves and keep reporting
    before = {a.name: int(srv.sql("SELECT last_seq FROM devices WHERE id = :'v1'", a.device_id)[0][0])
              for a in fleet.all}
    rf.wait_for("every agent heartbeating again", lambda: all(
        int(srv.sql("SELECT last_seq FROM devices WHERE id = :'v1'", a.device_id)[0][0]) > before[a.name]
        for a in fleet.all), timeout=30)

    # heartbeat sequence numbers end up gap-free per device: a retry reuses its
    # number, and a report that could not be sent is replayed from the agent's
    # journal (possibly after newer ones), so wait for the replay to finish
    def gap_free():
        for a in fleet.all:
            seqs = [int(r[0]) for r in srv.sql(
                "SELECT seq FROM heartbeats WHERE device_id = :'v1' ORDER BY seq", a.device_id)]
            if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
                return None
        return True
    rf.wait_for("every device's heartbeats gap-free", gap_free, timeout=30)

    srv.cli("rollout", "promote", str(rid), token="release")
    fleet.wait_running(fleet.all, b)

    # and the evaluator still works after the restart: a bad bundle halts
    ro = srv.cli_json("rollout", "promote", str(rid), token="release")
    assert ro["state"] == "completed", ro
    bad = srv.push(b"bad\n", version="2")
    r2 = int(srv.cli("rollout", "create", "--bundle", str(bad), token="release").stdout)
    srv.cli("rollout", "start", str(r2), token="release")
    fleet.wait_running(fleet.canary, bad)
    srv.crash_and_restart()
    t0 = time.monotonic()
    for a in fleet.canary:
        a.crash_at_boot()
    rf.wait_for("halt after the restart", lambda: srv.rollout(r2)["state"] == "reverted", timeout=30)
    rf.log(f"halted {time.monotonic() - t0:.2f} s after the crash, across a server restart")
    fleet.wait_running(fleet.canary, b)


if __name__ == "__main__":
    rf.main(test)
