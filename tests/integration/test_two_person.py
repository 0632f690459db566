"""Release-engineer control under contention: the two-person rule blocks a
self-approval (and a promotion without an approval, even an automatic one)
until another release user approves; two promotes sent at the same moment
with the same If-Match give exactly one 200 and one 409 that carries the
rollout as it is now; a stale If-Match is refused the same way; and a second
live rollout on the channel is refused with a clear message."""
import threading

import rf


def test(srv):
    srv.default_rings()
    fleet = rf.Fleet(srv, canary=1, broad=2).start()
    b1 = srv.push(b"content v1\n", version="1")
    body = {"bundle_id": b1, "policy": {"health_window_s": 2},
            "stages": [{"ring": "canary", "bake_s": 0, "min_healthy": 0, "auto_promote": True,
                        "require_approval": True},
                       {"ring": "broad", "bake_s": 0, "min_healthy": 0}]}
    r = srv.http("POST", "/v1/rollouts", token="release", body=body)
    assert r.status == 201, r
    rid = r.json["id"]
    assert r.json["created_by"] == "release-user", r.json
    r = srv.http("POST", f"/v1/rollouts/{rid}/start", token="release")
    assert r.status == 200, r
    fleet.wait_running(fleet.canary, b1)

    # the automatic promotion waits for the approval however long the gates pass
    rf.time.sleep(2)
    ro = srv.rollout(rid)
    assert ro["state"] == "active" and ro["stage"] == 0, ro
    gates = {g["name"]: g for g in ro["gates"]}
    assert not gates["approval"]["ok"], gates
    assert "approval pending (by anyone but release-user)" in gates["approval"]["detail"], gates

    # the creator cannot approve their own rollout
    r = srv.http("POST", f"/v1/rollouts/{rid}/approve", token="release")
    assert r.status == 403 and "two-person rule" in r.json["error"]["message"], r
    # nor promote past the approval by hand
    r = srv.http("POST", f"/v1/rollouts/{rid}/promote", token="release")
    assert r.status == 409 and "two-person rule" in r.json["error"]["message"], r
    assert r.json["current"]["stage"] == 0, r.json
    # a viewer may not approve at all
    assert srv.http("POST", f"/v1/rollouts/{rid}/approve", token="viewer").status == 403
    kinds = [e["kind"] for e in srv.events(rollout_id=rid)]
    assert "rollout.approved" not in kinds and "rollout.promoted" not in kinds, kinds

    # another release user approves; the stage then promotes itself
    r = srv.http("POST", f"/v1/rollouts/{rid}/approve", token="release2",
                 body={"reason": "canary looks fine"})
    assert r.status == 200, r
    assert r.json["stages"][0]["approved_by"] == "release-2", r.json["stages"][0]
    assert srv.http("POST", f"/v1/rollouts/{rid}/approve", token="release2").status == 409
    ro = rf.wait_for("the automatic promotion after the approval",
                     lambda: (lambda r: r if r["stage"] == 1 else None)(srv.rollout(rid)))
    approved = [e for e in srv.events(rollout_id=rid) if e["kind"] == "rollout.approved"]
    assert len(approved) == 1 and approved[0]["actor"] == "release-2", approved
    assert approved[0]["data"]["after"]["approved_by"] == "release-2", approved

    # two promotes at the same moment with the same version: one wins
    version = ro["version"]
    results = []
    barrier = threading.Barrier(2)

    def promote(tok):
        barrier.wait()
        results.append(srv.http("POST", f"/v1/rollouts/{rid}/promote", token=tok,
                                headers={"If-Match": f'"{version}"'}))
    threads = [threading.Thread(target=promote, args=(t,)) for t in ("release", "release2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status for r in results)
    assert statuses == [200, 409], results
    won = [r for r in results if r.status == 200][0].json
    lost = [r for r in results if r.status == 409][0].json
    assert won["state"] == "completed", won
    assert lost["current"]["state"] == "completed", lost
    assert lost["current"]["version"] == won["version"], (lost, won)
    assert "version" in lost["error"]["message"] or "completed" in lost["error"]["message"], lost
    completed = [e for e in srv.events(rollout_id=rid) if e["kind"] == "rollout.completed"]
    assert len(completed) == 1, completed
    fleet.wait_running(fleet.all, b1)

    # a stale If-Match on another change is refused with the current object
    b2 = srv.push(b"content v2\n", version="2")
    r2 = srv.http("POST", "/v1/rollouts", token="release", body={"bundle_id": b2}).json
    r = srv.http("POST", f"/v1/rollouts/{r2['id']}/start", token="release",
                 headers={"If-Match": f'"{r2["version"] + 5}"'})
    assert r.status == 409 and r.json["current"]["state"] == "draft", r
    assert srv.http("POST", f"/v1/rollouts/{r2['id']}/start", token="release").status == 200
    # one live rollout per channel
    r3 = srv.http("POST", "/v1/rollouts", token="release", body={"bundle_id": b2}).json
    r = srv.http("POST", f"/v1/rollouts/{r3['id']}/start", token="release")
    assert r.status == 409, r
    assert "only one rollout per channel may be live" in r.json["error"]["message"], r
    # the default plan of the content channel: every ring, short bakes
    assert [s["bake_s"] for s in r3["stages"]] == [600, 600], r3["stages"]
    # pause, resume, abort
    for action, state in (("pause", "paused"), ("resume", "active"), ("abort", "reverted")):
        r = srv.http("POST", f"/v1/rollouts/{r2['id']}/{action}", token="release")
        assert r.status == 200 and r.json["state"] == state, (action, r)
    fleet.wait_running(fleet.canary, b1)


if __name__ == "__main__":
    rf.main(test)
