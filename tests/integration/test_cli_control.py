"""The release engineer's CLI against a real server and real agents: rings
with members and start windows, ring preview, a ring update refused while a
live rollout uses the ring, channel plans from --stage specs and from a
plan file, a staged rollout created with --stage, the two-person rule
through `rollout approve`, two concurrent `rollout promote --if-version`
(one wins, the other exits 1 showing the rollout as it is now), pins and
exclusions by short device id, `events --follow` streaming as things
happen, `rollout watch` without a terminal ending when the rollout ends,
and `bundle download` checking the bytes."""
import json
import os
import subprocess
import threading

import rf


def cli_proc(srv, *args, token="admin"):
    """A long-running ringfence (events --follow, rollout watch) with pipes."""
    env = dict(os.environ, RINGFENCE_URL=srv.url, RINGFENCE_TOKEN=srv.tokens[token])
    env.pop("RINGFENCE_ADMIN_TOKEN", None)
    return subprocess.Popen([os.path.join(rf.BIN, "ringfence"), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def rings_and_preview(srv, fleet):
    srv.cli("ring", "create", "canary", "--order", "0", "--label", "ring=canary",
            "--window", "daily 00-24", token="release")
    lab = fleet.broad[0].device_id
    srv.cli("ring", "create", "broad", "--order", "2", token="release")
    # a new ring between them, previewed first: nothing is saved
    out = srv.cli("ring", "preview", "early", "--order", "1", "--member", lab).stdout
    assert "early (new)" in out and "Nothing was saved." in out, out
    assert len(srv.cli_json("ring", "list")["rings"]) == 2
    rid = int(srv.cli("ring", "create", "early", "--order", "1", "--member", lab,
                      token="release").stdout)
    ring = srv.cli_json("ring", "show", str(rid))
    assert ring["members"] == [lab] and ring["members_only"] is True, ring
    out = srv.cli("ring", "list").stdout
    assert "1 member only" in out and "daily 00-24 (open)" in out, out
    return rid


def plans(srv):
    out = srv.cli("channel", "plan", "set", "content",
                  "--stage", "ring=canary,bake=1s,min-healthy=1,promotion=auto,approval",
                  "--stage", "ring=early,promotion=auto,min-healthy=0",
                  "--stage", "ring=broad,bake=0", token="release").stdout
    assert "plan stored  version 1" in out and "required" in out, out
    # a plan that skips a ring is refused with the server's message
    bad = srv.cli("channel", "plan", "set", "content", "--stage", "ring=canary",
                  "--stage", "ring=broad", token="release", check=False)
    assert bad.returncode == 1 and "skips ring 'early'" in bad.stderr, bad.stderr
    # show --json round-trips through --plan
    path = os.path.join(srv.dir, "plan.json")
    with open(path, "w") as f:
        f.write(srv.cli("channel", "plan", "show", "content", "--json").stdout)
    plan = srv.cli_json("channel", "plan", "set", "content", "--plan", path, token="release")
    assert plan["version"] == 2 and len(plan["stages"]) == 3, plan
    # a stale --if-version is refused and the plan shown as it is
    stale = srv.cli("channel", "plan", "reset", "content", "--if-version", "1",
                    token="release", check=False)
    assert stale.returncode == 1 and "HTTP 409" in stale.stderr, stale.stderr
    assert "Current state:" in stale.stdout and "version 2" in stale.stdout, stale.stdout


def holds(srv, fleet):
    pinned, excluded = fleet.broad[1], fleet.broad[2]
    out = srv.cli("device", "pin", pinned.device_id[:8], "--channel", "content", "--bundle",
                  str(srv.b1), "--reason", "known good", token="release").stdout
    assert f"holds device {pinned.device_id} at bundle {srv.b1}" in out, out
    out = srv.cli("device", "exclude", excluded.device_id[:10], "--reason", "lab",
                  token="release").stdout
    assert "excluded from every rollout" in out, out
    assert srv.cli_json("device", "show", pinned.device_id[:8])["pins"], "pin not shown"
    ids = [a.device_id for a in fleet.all]
    absent = next(p for p in ("ffff", "fffe", "fffd") if not any(i.startswith(p) for i in ids))
    short = srv.cli("device", "pin", absent, "--channel", "content", check=False)
    assert short.returncode == 2 and f"no device id starts with '{absent}'" in short.stderr, short
    return pinned, excluded


def approve_and_promote(srv, rid):
    own = srv.cli("rollout", "approve", str(rid), token="release", check=False)
    assert own.returncode == 1 and "two-person rule" in own.stderr, own.stderr
    out = srv.cli("rollout", "approve", str(rid), "--reason", "canary fine", token="release2")
    assert "by release-2" in out.stdout, out.stdout
    ro = rf.wait_for("promotion to early after the approval",
                     lambda: (lambda r: r if r["stage"] >= 1 else None)(srv.rollout(rid)))
    # early has no bake and promotes itself; broad waits for a person
    ro = rf.wait_for("stage 2 (broad) active",
                     lambda: (lambda r: r if r["stage"] == 2 else None)(srv.rollout(rid)))
    status = srv.cli("rollout", "status", str(rid), token="viewer").stdout
    for text in ("Gates of stage 2 (broad)", "Next:", "Pinned", "Excluded devices"):
        assert text in status, (text, status)
    # two promotes at once from the version both saw: one wins, one is refused
    version = str(ro["version"])
    results = []

    def promote(token):
        results.append(srv.cli("rollout", "promote", rid_s, "--if-version", version,
                               token=token, check=False))
    rid_s = str(rid)
    threads = [threading.Thread(target=promote, args=(t,)) for t in ("release", "release2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.returncode for r in results)
    assert codes == [0, 1], [(r.returncode, r.stderr) for r in results]
    lost = [r for r in results if r.returncode == 1][0]
    assert "HTTP 409" in lost.stderr and "Current state:" in lost.stdout, lost
    assert "state completed" in lost.stdout, lost.stdout


def test(srv):
    fleet = rf.Fleet(srv, canary=1, broad=3).start()
    srv.b1 = srv.push(b"content v1\n", version="1")
    b2 = srv.push(b"content v2\n" * 100, version="2")
    rings_and_preview(srv, fleet)
    plans(srv)
    pinned, excluded = holds(srv, fleet)

    # a ring update that would change membership under a live rollout is refused
    follow = cli_proc(srv, "events", "--follow", "--json", "--after", "0", token="viewer")
    rid = int(srv.cli("rollout", "create", "--bundle", str(b2), "--health-window", "2",
                      "--stage", "ring=canary,min-healthy=1,promotion=auto,approval",
                      "--stage", "ring=early,min-healthy=0,promotion=auto",
                      "--stage", "ring=broad,min-healthy=0", token="release").stdout)
    watch = cli_proc(srv, "rollout", "watch", str(rid), token="viewer")
    srv.cli("rollout", "start", str(rid), token="release")
    refused = srv.cli("ring", "update", "1", "--label", "ring=other", token="release",
                      check=False)
    assert refused.returncode == 1 and "live rollout" in refused.stderr, refused.stderr
    srv.cli("ring", "update", "1", "--window", "daily 00-24", "--window", "mon 01-02",
            token="release")  # windows may change at any time
    approve_and_promote(srv, rid)

    # watch ends by itself once the rollout completed, one block per change
    out, err = watch.communicate(timeout=30)
    assert watch.returncode == 0, err
    assert out.startswith("--- ") and out.count("--- ") >= 3, out
    assert "state completed" in out and "it has ended" not in out, out
    # follow streamed every change, as JSON lines, while it happened
    follow.terminate()
    out, _ = follow.communicate(timeout=10)
    assert follow.returncode == 0
    kinds = [json.loads(line)["kind"] for line in out.splitlines() if line.strip()]
    for k in ("rollout.created", "rollout.started", "rollout.approved", "rollout.completed",
              "ring.updated", "device.excluded"):
        assert k in kinds, (k, kinds)

    # pinned and excluded devices never moved
    fleet.wait_running([fleet.canary[0], fleet.broad[0]], b2)
    fleet.wait_running([pinned], srv.b1)
    assert excluded.running() != b2
    srv.cli("device", "unpin", pinned.device_id, "--channel", "content", token="release")
    srv.cli("device", "include", excluded.device_id, token="release")
    assert "no pins" in srv.cli("pin", "list").stdout

    # the bytes come back verified
    path = os.path.join(srv.dir, "dl.bin")
    srv.cli("bundle", "download", str(b2), "--output", path, token="viewer")
    with open(path, "rb") as f:
        assert f.read() == b"content v2\n" * 100


if __name__ == "__main__":
    rf.main(test)
