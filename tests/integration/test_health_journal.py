"""An agent offline for a while keeps its heartbeats in its on-disk journal and
replays them in order once the server is back: nothing lost, nothing counted
twice. While the server is away the agent is killed with SIGKILL at random
points (a power cut) and restarted, new crash records appear, and every report
it wrote to DATA/journal must reach the server exactly once."""
import os
import random
import subprocess
import uuid

import rf


def journal_seqs(a):
    d = os.path.join(a.data, "journal")
    seqs = []
    for n in os.listdir(d) if os.path.isdir(d) else []:
        if n.startswith("hb-") and n.endswith(".json"):
            seqs.append(int(n[3:-5]))
    return sorted(seqs)


def server_away(srv):
    srv.proc.kill()
    srv.proc.wait()


def server_back(srv):
    portfile = os.path.join(srv.dir, "port2")
    srv.proc = subprocess.Popen(
        [os.path.join(rf.BIN, "ringfenced"), "serve", "--listen", f"127.0.0.1:{srv.port}",
         "--port-file", portfile],
        env=srv.env, stdout=srv.log_file, stderr=subprocess.STDOUT)
    rf.wait_for("server /readyz after restart",
                lambda: srv.http("GET", "/readyz", token=None).status == 200)


def test(srv):
    rng = random.Random(int(os.environ.get("RF_SEED", "0")) or None)
    srv.default_rings()
    a = rf.Agent(srv, "offline0", labels=["ring=canary"], health_window=600).start()
    rf.wait_for("enrolled", a.enrolled)
    b = srv.push(b"content\n", version="1")
    # a lenient rollout: this test is about reports, not halting
    rid = int(srv.cli("rollout", "create", "--bundle", str(b), "--max-failure-rate", "0.99",
                      "--min-failed", "5", token="release").stdout)
    srv.cli("rollout", "start", str(rid), token="release")
    rf.wait_for("bundle running", lambda: a.running() == b)
    dev = a.device_id
    before = {int(r[0]) for r in srv.sql("SELECT seq FROM heartbeats WHERE device_id = :'v1'", dev)}

    server_away(srv)
    crashes = 0
    for _ in range(6):
        with open(os.path.join(a.crash_dir, f"core-{uuid.uuid4().hex[:8]}"), "w") as f:
            f.write("segfault\n")
        crashes += 1
        rf.time.sleep(rng.uniform(0.05, 1.2))
        a.kill()  # a power cut at a random point
        a.start()
    rf.time.sleep(2.5)
    a.kill()
    journalled = journal_seqs(a)
    rf.log(f"journal holds seqs {journalled} after {a.starts} starts")
    # a restart or a crash record is a new report (one killed before it wrote
    # anything is folded into the next)
    assert len(journalled) >= 3, journalled
    assert not set(journalled) & before, (journalled, before)

    server_back(srv)
    a.start()
    rf.time.sleep(rng.uniform(0.0, 0.4))
    a.kill()  # and once more in the middle of the replay
    a.start()
    rf.wait_for("the journal replayed", lambda: not set(journal_seqs(a)) & set(journalled),
                timeout=30)
    rows = srv.sql("SELECT seq, received_at FROM heartbeats WHERE device_id = :'v1' "
                   "ORDER BY received_at, seq", dev)
    seqs = [int(r[0]) for r in rows]
    assert len(seqs) == len(set(seqs)), seqs  # nothing counted twice
    missing = set(journalled) - set(seqs)
    assert not missing, (missing, seqs)  # nothing lost
    replayed = [s for s in seqs if s in set(journalled)]
    assert replayed == sorted(replayed), replayed  # replayed in order

    # the newest report carries every crash record, counted once
    def newest():
        r = srv.sql("SELECT body->'channels'->'content'->>'crashes', "
                    "body->'channels'->'content'->>'bundle_id' FROM heartbeats "
                    "WHERE device_id = :'v1' ORDER BY seq DESC LIMIT 1", dev)
        return r[0] if r and r[0][0] == str(crashes) else None
    ch = rf.wait_for(f"the newest report to count {crashes} crashes", newest, timeout=20)
    assert ch[1] == str(b), ch
    h = srv.http("GET", f"/v1/rollouts/{rid}/health", token="viewer").json
    fails = [f for f in h["failures"] if f["device_id"] == dev]
    assert len(fails) == 1, fails  # the device counts once however many reports arrive


if __name__ == "__main__":
    rf.main(test)
