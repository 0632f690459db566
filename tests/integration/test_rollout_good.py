"""(a) A good bundle walks canary → broad by promotion, driven through the CLI,
and every device ends up running it; nothing reaches broad before its promotion."""
import rf


def test(srv):
    srv.default_rings()
    rings = srv.cli_json("ring", "list")["rings"]
    assert [r["name"] for r in rings] == ["canary", "broad"], rings
    fleet = rf.Fleet(srv, canary=2, broad=3).start()

    b1 = srv.push(b"sensor content v1\n" * 100, version="1")
    rid = int(srv.cli("rollout", "create", "--bundle", str(b1), "--health-window", "3",
                      token="release").stdout.strip())
    ro = srv.cli_json("rollout", "status", str(rid), token="viewer")
    assert ro["state"] == "draft", ro

    ro = srv.cli_json("rollout", "start", str(rid), token="release")
    assert ro["state"] == "active" and ro["stage"] == 0, ro
    fleet.wait_running(fleet.canary, b1)
    # the broad ring has not been promoted to: nothing may have been offered there
    for a in fleet.broad:
        assert a.running() is None, (a.name, a.running())
        assert a.hook_calls() == [], (a.name, a.hook_calls())

    ro = srv.cli_json("rollout", "promote", str(rid), token="release")
    assert ro["state"] == "active" and ro["stage"] == 1, ro
    fleet.wait_running(fleet.all, b1)

    # every device ran the install hook exactly once, for this bundle
    for a in fleet.all:
        calls = a.hook_calls()
        assert len(calls) == 1 and calls[0][:3] == ["install", "content", "1"], (a.name, calls)

    # the server's view: every stage counts its devices healthy after the window
    def all_healthy():
        st = srv.rollout(rid)["stages"]
        return all(s["healthy"] == s["devices"] and s["devices"] > 0 for s in st)
    rf.wait_for("every stage healthy", all_healthy, timeout=30)

    ro = srv.cli_json("rollout", "promote", str(rid), token="release")
    assert ro["state"] == "completed", ro
    human = srv.cli("rollout", "status", str(rid), token="viewer").stdout
    assert "completed" in human and "canary" in human and "broad" in human, human

    kinds = [e["kind"] for e in srv.events(rollout_id=rid)]
    for k in ("rollout.created", "rollout.started", "rollout.promoted", "rollout.completed"):
        assert k in kinds, (k, kinds)
    assert "rollout.halted" not in kinds, kinds


if __name__ == "__main__":
    rf.main(test)
