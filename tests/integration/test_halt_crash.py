"""(b) A bad bundle crashes the canary devices at boot; the rollout halts by itself,
no device outside the canary ring is ever assigned the bundle, and the canary
devices run the previous bundle again."""
import rf


def test(srv):
    srv.default_rings()
    fleet = rf.Fleet(srv, canary=2, broad=3).start()

    # a known-good baseline everywhere first
    good = srv.push(b"good content\n", version="1")
    r1 = int(srv.cli("rollout", "create", "--bundle", str(good), token="release").stdout)
    srv.cli("rollout", "start", str(r1), token="release")
    fleet.wait_running(fleet.canary, good)
    srv.cli("rollout", "promote", str(r1), token="release")
    fleet.wait_running(fleet.all, good)
    assert srv.cli_json("rollout", "promote", str(r1), token="release")["state"] == "completed"

    bad = srv.push(b"content that crashes the sensor at boot\n", version="2")
    r2 = int(srv.cli("rollout", "create", "--bundle", str(bad), token="release").stdout)
    ro = srv.cli_json("rollout", "start", str(r2), token="release")
    assert ro["previous_bundle_id"] == good, ro
    fleet.wait_running(fleet.canary, bad)

    crashed = rf.time.monotonic()
    for a in fleet.canary:
        a.crash_at_boot()

    ro = rf.wait_for("the rollout to halt by itself",
                     lambda: (lambda r: r if r["state"] in ("halted", "reverted") else None)(srv.rollout(r2)),
                     timeout=30)
    rf.log(f"halted {rf.time.monotonic() - crashed:.2f} s after the canary devices crashed")
    assert ro["state"] == "reverted", ro  # on_halt defaults to revert
    assert ro["halt"] and ro["halt"]["stage"] == 0 and ro["halt"]["failed"] >= 1, ro
    assert ro["stage"] == 0, ro

    # the canary devices run the previous bundle again, through the revert hook
    fleet.wait_running(fleet.canary, good, timeout=40)
    rf.log(f"canary devices back on the previous bundle {rf.time.monotonic() - crashed:.2f} s after the crash")
    for a in fleet.canary:
        actions = [c[0] for c in a.hook_calls()]
        assert actions[-1] == "revert", (a.name, a.hook_calls())

    # promotion past the halted stage is refused
    r = srv.http("POST", f"/v1/rollouts/{r2}/promote", token="release")
    assert r.status == 409, r

    # no device outside the canary ring ever saw the bad bundle: not in a hook,
    # not in any heartbeat, not in any assignment
    broad_ids = [a.device_id for a in fleet.broad]
    for a in fleet.broad:
        assert all(c[3] != str(bad) for c in a.hook_calls()), (a.name, a.hook_calls())
        assert a.running() == good
    rows = srv.sql("SELECT count(*) FROM heartbeats h, jsonb_each(h.body->'channels') c "
                   "WHERE h.device_id = ANY(string_to_array(:'v1', ',')) "
                   "AND (c.value->>'bundle_id' = :'v2' OR c.value->>'target_bundle_id' = :'v2')",
                   ",".join(broad_ids), bad)
    assert rows == [["0"]], rows
    rows = srv.sql("SELECT count(*) FROM exposures WHERE rollout_id = :'v1' AND stage <> 0", r2)
    assert rows == [["0"]], rows

    kinds = [e["kind"] for e in srv.events(rollout_id=r2)]
    assert "rollout.halted" in kinds and "rollout.reverted" in kinds, kinds
    halted = [e for e in srv.events(rollout_id=r2) if e["kind"] == "rollout.halted"][0]
    assert halted["actor"] == "evaluator", halted


if __name__ == "__main__":
    rf.main(test)
