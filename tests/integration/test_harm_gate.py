"""The harm gate: with a policy that requires "not harmful", the current
stage lists a `harm` gate with the evidence behind it, and automatic
promotion waits for it — a healthy canary with nothing to compare against
stays put after its bake although every other gate passes. `rollout status`
shows the gate, and a promotion by hand records it as it stood."""
import time

import rf


def test(srv):
    agents = ([rf.Agent(srv, f"canary{i}", labels=["ring=canary"]) for i in range(2)] +
              [rf.Agent(srv, f"broad{i}") for i in range(2)])
    for a in agents:
        a.start()
    rf.wait_for("every agent enrolled", lambda: all(a.enrolled() for a in agents))
    srv.default_rings()

    b1 = srv.push(b"content v1\n" * 64, version="1")
    stage = {"bake_s": 1, "min_healthy": 1, "auto_promote": True}
    r = srv.http("POST", "/v1/rollouts", token="release",
                 body={"bundle_id": b1,
                       "policy": {"health_window_s": 1, "require_not_harmful": True},
                       "stages": [dict(stage, ring="canary"), dict(stage, ring="broad")]})
    assert r.status == 201, r
    rid = r.json["id"]
    r = srv.http("POST", f"/v1/rollouts/{rid}/start", token="release")
    assert r.status == 200 and r.json["state"] == "active", r
    names = [g["name"] for g in r.json["gates"]]
    assert names == ["bake", "healthy", "failures", "harm"], r.json["gates"]
    harm = r.json["gates"][3]
    assert not harm["ok"] and harm["detail"].startswith("not harmful yet: "), harm

    # every other gate passes; with no failures anywhere the evidence cannot
    # say "not harmful", so the stage must not promote itself
    def others_pass():
        ro = srv.rollout(rid)
        gates = {g["name"]: g for g in ro["gates"]}
        ok = all(gates[n]["ok"] for n in ("bake", "healthy", "failures"))
        return ro if ok else None
    ro = rf.wait_for("bake, healthy and failures to pass", others_pass, timeout=40)
    time.sleep(3)  # several evaluator ticks
    ro = srv.rollout(rid)
    assert ro["state"] == "active" and ro["stage"] == 0, ro
    harm = {g["name"]: g for g in ro["gates"]}["harm"]
    assert not harm["ok"] and harm["detail"].startswith("not harmful yet: "), harm

    out = srv.cli("rollout", "status", str(rid), token="viewer").stdout
    assert "harm" in out and "not harmful yet" in out, out

    srv.cli("rollout", "promote", str(rid), "--reason", "judged by hand", token="release")
    ro = srv.rollout(rid)
    assert ro["stage"] == 1 and [g["name"] for g in ro["gates"]][-1] == "harm", ro
    promos = [e for e in srv.events(rollout_id=rid) if e["kind"] == "rollout.promoted"]
    assert len(promos) == 1 and promos[0]["actor"] != "evaluator", promos
    gates = {g["name"]: g for g in promos[0]["data"]["gates"]}
    assert "harm" in gates and not gates["harm"]["ok"], gates


if __name__ == "__main__":
    rf.main(test)
