"""Holds: a device pinned at the known-good bundle (an N-1 pin), a device
excluded from rollouts before it ever ran anything, and a whole ring pinned,
never move while two rollouts walk through the fleet to completion; the
rollout's status and the device views show the holds; removing a pin lets
the device follow the fleet again."""
import rf


def test(srv):
    srv.cli("ring", "create", "canary", "--order", "0", "--label", "ring=canary", token="release")
    srv.cli("ring", "create", "early", "--order", "1", "--label", "ring=early", token="release")
    srv.cli("ring", "create", "broad", "--order", "2", token="release")
    canary = [rf.Agent(srv, "canary0", labels=["ring=canary"])]
    early = [rf.Agent(srv, f"early{i}", labels=["ring=early"]) for i in range(2)]
    broad = [rf.Agent(srv, f"broad{i}") for i in range(3)]
    agents = canary + early + broad
    for a in agents:
        a.start()
    rf.wait_for("every agent enrolled", lambda: all(a.enrolled() for a in agents))
    excluded, pinned, free = broad
    rings = {g["name"]: g["id"] for g in srv.http("GET", "/v1/rings").json["rings"]}

    r = srv.http("POST", "/v1/exclusions", token="release",
                 body={"device_id": excluded.device_id, "reason": "lab machine"})
    assert r.status == 201 and r.json["created_by"] == "release-user", r
    assert srv.http("POST", "/v1/exclusions", token="release",
                    body={"device_id": excluded.device_id}).status == 409
    # a pin needs a known-good bundle when it names none
    r = srv.http("POST", "/v1/pins", token="release",
                 body={"channel": "content", "device_id": pinned.device_id})
    assert r.status == 409 and "no completed rollout" in r.json["error"]["message"], r

    def walk(bundle):
        plan = [{"ring": n, "bake_s": 0, "min_healthy": 0, "auto_promote": True}
                for n in ("canary", "early", "broad")]
        ro = srv.http("POST", "/v1/rollouts", token="release",
                      body={"bundle_id": bundle, "policy": {"health_window_s": 2},
                            "stages": plan}).json
        assert srv.http("POST", f"/v1/rollouts/{ro['id']}/start", token="release").status == 200
        rf.wait_for(f"rollout {ro['id']} complete",
                    lambda: srv.rollout(ro["id"])["state"] == "completed", timeout=40)
        return ro["id"]

    b1 = srv.push(b"content v1\n", version="1")
    walk(b1)
    for a in canary + early + [pinned, free]:
        rf.wait_for(f"{a.name} on v1", lambda a=a: a.running() == b1)

    # hold one device at v1 (the default: the known-good bundle), and the early ring
    r = srv.http("POST", "/v1/pins", token="release",
                 body={"channel": "content", "device_id": pinned.device_id, "reason": "N-1"})
    assert r.status == 201 and r.json["bundle_id"] == b1 and r.json["ring_id"] is None, r
    device_pin = r.json["id"]
    r = srv.http("POST", "/v1/pins", token="release",
                 body={"channel": "content", "ring_id": rings["early"], "bundle_id": b1})
    assert r.status == 201 and r.json["ring"] == "early", r
    assert srv.http("POST", "/v1/pins", token="release",
                    body={"channel": "content", "ring_id": rings["early"]}).status == 409

    b2 = srv.push(b"content v2\n", version="2")
    r2 = walk(b2)
    rf.wait_for("canary0 and broad2 on v2",
                lambda: canary[0].running() == b2 and free.running() == b2)
    ro = srv.rollout(r2)
    assert {p["id"] for p in ro["holds"]["pins"]} >= {device_pin}, ro["holds"]
    assert [x["device_id"] for x in ro["holds"]["exclusions"]] == [excluded.device_id], ro["holds"]
    dev = srv.http("GET", f"/v1/devices/{pinned.device_id}", token="viewer").json
    assert [p["id"] for p in dev["pins"]] == [device_pin], dev
    dev = srv.http("GET", f"/v1/devices/{early[0].device_id}", token="viewer").json
    assert [p["ring"] for p in dev["pins"]] == ["early"] and dev["excluded"] is None, dev
    dev = srv.http("GET", f"/v1/devices/{excluded.device_id}", token="viewer").json
    assert dev["excluded"]["reason"] == "lab machine", dev

    # give stragglers time: nothing held may have moved
    rf.time.sleep(2)
    assert excluded.hook_calls() == [] and excluded.running() is None, excluded.hook_calls()
    for a in early + [pinned]:
        calls = a.hook_calls()
        assert [c[:3] for c in calls] == [["install", "content", "1"]], (a.name, calls)
        assert a.running() == b1, a.name
    for a in canary + [free]:
        assert [c[2] for c in a.hook_calls()] == ["1", "2"], (a.name, a.hook_calls())

    # lifting the device pin lets it follow the fleet
    r = srv.http("DELETE", f"/v1/pins/{device_pin}", token="release")
    assert r.status == 200 and r.json["id"] == device_pin, r
    rf.wait_for("the unpinned device on v2", lambda: pinned.running() == b2)
    kinds = [e["kind"] for e in srv.events()]
    for k in ("device.excluded", "pin.created", "pin.deleted"):
        assert k in kinds, (k, kinds)
    deleted = [e for e in srv.events() if e["kind"] == "pin.deleted"][0]
    assert deleted["data"]["before"]["id"] == device_pin and deleted["data"]["after"] is None


if __name__ == "__main__":
    rf.main(test)
