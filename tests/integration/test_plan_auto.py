"""A staged plan runs itself: three rings (canary by label, early by explicit
members, broad by everything else), a four-stage plan with short bakes and
automatic promotion — broad in two steps, half of it first — promotes itself
to the end on a healthy fleet, unattended. Along the way the rollout shows its
gates, the half-broad stage reaches exactly its share of the ring, and every
promotion is recorded as the evaluator's, with the gates it passed."""
import rf


def test(srv):
    agents = ([rf.Agent(srv, f"canary{i}", labels=["ring=canary"]) for i in range(2)] +
              [rf.Agent(srv, f"early{i}") for i in range(2)] +
              [rf.Agent(srv, f"broad{i}") for i in range(4)])
    for a in agents:
        a.start()
    rf.wait_for("every agent enrolled", lambda: all(a.enrolled() for a in agents))
    canary, early, broad = agents[:2], agents[2:4], agents[4:]

    srv.cli("ring", "create", "canary", "--order", "0", "--label", "ring=canary", token="release")
    r = srv.http("POST", "/v1/rings", token="release",
                 body={"name": "early", "order": 1, "members": [a.device_id for a in early]})
    assert r.status == 201 and r.json["members_only"] is True and r.json["devices"] == 2, r
    srv.cli("ring", "create", "broad", "--order", "2", token="release")

    b1 = srv.push(b"content v1\n" * 64, version="1")
    stage = {"bake_s": 1, "min_healthy": 1, "auto_promote": True}
    plan = [dict(stage, ring="canary"), dict(stage, ring="early"),
            dict(stage, ring="broad", percent=50, min_healthy=2), dict(stage, ring="broad")]
    r = srv.http("POST", "/v1/rollouts", token="release",
                 body={"bundle_id": b1, "policy": {"health_window_s": 2}, "stages": plan})
    assert r.status == 201, r
    ro = r.json
    rid = ro["id"]
    assert [s["ring"] for s in ro["stages"]] == ["canary", "early", "broad", "broad"], ro
    assert [s["percent"] for s in ro["stages"]] == [100, 100, 50, 100], ro
    assert len(ro["salt"]) == 16, ro

    r = srv.http("POST", f"/v1/rollouts/{rid}/start", token="release",
                 headers={"If-Match": f'"{ro["version"]}"'})
    assert r.status == 200 and r.json["state"] == "active", r
    gates = {g["name"]: g for g in r.json["gates"]}
    assert set(gates) == {"bake", "healthy", "failures"}, r.json["gates"]
    assert not gates["healthy"]["ok"] and "/2 healthy, need 1" in gates["healthy"]["detail"], gates
    assert "promotes itself" in r.json["next"], r.json["next"]

    # while the half-broad stage runs, exactly half of broad has the bundle
    def half_broad():
        ro = srv.rollout(rid)
        if ro["stage"] == 2 and ro["state"] == "active":
            return ro
        assert ro["state"] == "active", ro
        return None
    ro = rf.wait_for("the half-broad stage", half_broad, timeout=40)
    assert ro["stages"][2]["devices"] == 2 and ro["stages"][3]["devices"] == 2, ro["stages"]
    rf.wait_for("two broad devices on the bundle",
                lambda: sum(a.running() == b1 for a in broad) >= 2, timeout=20)
    ro = srv.rollout(rid)
    if ro["stage"] == 2:  # not promoted yet: nobody outside the share may have it
        assert sum(a.running() == b1 for a in broad) == 2, [a.running() for a in broad]

    ro = rf.wait_for("the rollout to complete by itself",
                     lambda: (lambda r: r if r["state"] == "completed" else None)(srv.rollout(rid)),
                     timeout=40)
    assert ro["gates"] == [], ro
    for a in agents:
        rf.wait_for(f"{a.name} on bundle {b1}", lambda a=a: a.running() == b1, timeout=20)
        calls = a.hook_calls()
        assert len(calls) == 1 and calls[0][0] == "install", (a.name, calls)

    events = srv.events(rollout_id=rid)
    promos = [e for e in events if e["kind"] in ("rollout.promoted", "rollout.completed")]
    assert len(promos) == 4, [e["kind"] for e in events]
    for e in promos:
        assert e["actor"] == "evaluator", e
        assert all(g["ok"] for g in e["data"]["gates"]), e
        assert e["data"]["before"]["version"] + 1 == e["data"]["after"]["version"], e
    # stage by stage: canary before early before broad
    order = [e["data"]["stage"] for e in promos]
    assert order == [0, 1, 2, 3], order


if __name__ == "__main__":
    rf.main(test)
