"""Start windows and live rings: a ring whose start window is closed now gets
no new install even though its stage has started, while the canary ring
(no window) installs; changing the ring's membership while the rollout is
live is refused with the ring as it is now, but its window may change, and
opening the window lets the held devices install at once. Ring preview shows
what a change would do without saving it, and an events long-poll returns as
soon as something is recorded."""
import threading
import time

import rf

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def test(srv):
    srv.default_rings()
    fleet = rf.Fleet(srv, canary=1, broad=3).start()
    rings = {g["name"]: g for g in srv.http("GET", "/v1/rings").json["rings"]}
    broad = rings["broad"]

    # preview: a ring of two explicit members between canary and broad
    members = [a.device_id for a in fleet.broad[:2]]
    candidate = [{"id": rings["canary"]["id"], "name": "canary", "order": 0,
                  "labels": {"ring": "canary"}},
                 {"name": "early", "order": 1, "members": members},
                 {"id": broad["id"], "name": "broad", "order": 2}]
    r = srv.http("POST", "/v1/rings/preview", token="viewer", body={"rings": candidate})
    assert r.status == 200, r
    p = {g["name"]: g for g in r.json["rings"]}
    assert p["early"]["devices"] == 2 and p["early"]["devices_now"] is None, r.json
    assert p["broad"]["devices"] == 1 and p["broad"]["devices_now"] == 3, r.json
    assert r.json["moved"] == 2 and r.json["total"] == 4 and r.json["refused"] is None, r.json
    assert {"rings": ["early", "broad"], "devices": 2} in r.json["overlaps"], r.json
    assert r.json["overlapping_devices"] == 3, r.json  # canary0 is also selected by broad
    assert len(srv.http("GET", "/v1/rings").json["rings"]) == 2  # nothing saved

    # broad may start installs only on a day that is not today (UTC)
    today = time.gmtime().tm_wday
    closed = [{"days": [DAYS[(today + 3) % 7]], "hours": [0, 24]}]
    body = {"name": "broad", "order": 1, "windows": closed}
    r = srv.http("PUT", f"/v1/rings/{broad['id']}", token="release", body=body,
                 headers={"If-Match": f'"{broad["version"]}"'})
    assert r.status == 200 and r.json["window_open"] is False, r
    broad = r.json

    b1 = srv.push(b"content v1\n", version="1")
    ro = srv.http("POST", "/v1/rollouts", token="release",
                  body={"bundle_id": b1, "policy": {"health_window_s": 2},
                        "stages": [{"ring": "canary", "bake_s": 0, "min_healthy": 0},
                                   {"ring": "broad", "bake_s": 0, "min_healthy": 0}]}).json
    rid = ro["id"]
    srv.http("POST", f"/v1/rollouts/{rid}/start", token="release")
    fleet.wait_running(fleet.canary, b1)
    r = srv.http("POST", f"/v1/rollouts/{rid}/promote", token="release")
    assert r.status == 200 and r.json["stage"] == 1, r
    assert r.json["stages"][1]["window_open"] is False, r.json["stages"][1]
    time.sleep(4)  # several heartbeats and assignment polls
    for a in fleet.broad:
        assert a.hook_calls() == [] and a.running() is None, (a.name, a.hook_calls())
        dev = srv.http("GET", f"/v1/devices/{a.device_id}", token="viewer").json
        assert (dev["channels"].get("content") or {}).get("assigned_bundle_id") is None, dev

    # the ring's membership is frozen while the rollout is live ...
    r = srv.http("PUT", f"/v1/rings/{broad['id']}", token="release",
                 body={"name": "broad", "order": 1, "windows": closed, "labels": {"site": "x"}})
    assert r.status == 409 and "live rollout" in r.json["error"]["message"], r
    assert r.json["current"]["labels"] == {} and r.json["current"]["live_rollouts"] == [rid], r
    r = srv.http("POST", "/v1/rings/preview", token="viewer", body={"delete": broad["id"]})
    assert r.status == 200 and r.json["refused"], r
    # ... a stale If-Match is refused with the ring as it is now ...
    r = srv.http("PUT", f"/v1/rings/{broad['id']}", token="release",
                 body={"name": "broad", "order": 1}, headers={"If-Match": '"1"'})
    assert r.status == 409 and r.json["current"]["version"] == broad["version"], r

    # ... but its window may open, and the held devices install at once,
    # woken from their long-polls; an events long-poll sees the change
    last = srv.events()[-1]["id"]
    got = {}

    def follow():
        got["r"] = srv.http("GET", f"/v1/events?after={last}&wait=20", token="viewer")
        got["t"] = time.monotonic()
    t = threading.Thread(target=follow)
    t.start()
    time.sleep(1)
    opened = time.monotonic()
    r = srv.http("PUT", f"/v1/rings/{broad['id']}", token="release",
                 body={"name": "broad", "order": 1, "windows": [{"days": DAYS, "hours": [0, 24]}]},
                 headers={"If-Match": f'"{broad["version"]}"'})
    assert r.status == 200 and r.json["window_open"] is True, r
    t.join()
    assert got["r"].status == 200 and got["t"] - opened < 3, got
    ev = got["r"].json["events"]
    assert ev and ev[0]["kind"] == "ring.updated" and ev[0]["actor"] == "release-user", ev
    assert ev[0]["data"]["before"]["windows"] == closed, ev[0]
    fleet.wait_running(fleet.broad, b1, timeout=20)
    rf.log(f"broad installed {time.monotonic() - opened:.1f} s after its window opened")
    # an events long-poll with nothing new waits, then answers empty
    last = srv.events()[-1]["id"]
    t0 = time.monotonic()
    r = srv.http("GET", f"/v1/events?after={last + 1000}&wait=2", token="viewer")
    assert r.status == 200 and r.json["events"] == [] and time.monotonic() - t0 >= 1.5, r


if __name__ == "__main__":
    rf.main(test)
