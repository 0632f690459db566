"""The web dashboard in a real browser (headless Chromium through playwright-core):
a viewer sees a rollout halted by crashing canary devices, with its failure-rate
chart, the halt marked and its events, and no controls — and the API answers 403
when the viewer's token tries anyway; a release user promotes another rollout
through a confirmation. Screenshots are kept under the build dir
(test-output/dashboard/)."""
import json
import os

import e2e
import rf


def halted_rollout(srv, fleet):
    """A good baseline on channel content, then a bundle that crashes the canary ring."""
    good = srv.push(b"good content\n", version="1")
    r1 = int(srv.cli("rollout", "create", "--bundle", str(good), token="release").stdout)
    srv.cli("rollout", "start", str(r1), token="release")
    fleet.wait_running(fleet.canary, good)
    srv.cli("rollout", "promote", str(r1), token="release")
    fleet.wait_running(fleet.all, good)
    srv.cli("rollout", "promote", str(r1), token="release")
    bad = srv.push(b"content that crashes the sensor at boot\n", version="2")
    r2 = int(srv.cli("rollout", "create", "--bundle", str(bad), token="release").stdout)
    srv.cli("rollout", "start", str(r2), token="release")
    fleet.wait_running(fleet.canary, bad)
    for a in fleet.canary:
        a.crash_at_boot()
    rf.wait_for("the bad rollout to halt",
                lambda: srv.rollout(r2)["state"] in ("halted", "reverted"), timeout=30)
    return r2


def test(srv):
    e2e.ensure_installed()
    srv.default_rings()
    fleet = rf.Fleet(srv, canary=2, broad=1).start()
    halted = halted_rollout(srv, fleet)
    # a rollout on another channel, active at its first stage, for the release user
    drv = srv.push(b"driver 7\n", channel="driver", name="drv", version="7")
    active = int(srv.cli("rollout", "create", "--bundle", str(drv), token="release").stdout)
    srv.cli("rollout", "start", str(active), token="release")
    series = srv.http("GET", f"/v1/rollouts/{halted}/health/series", token="viewer").json
    assert series["halt"] and series["stages"][0]["points"], series
    assert any(p["failed"] > 0 for p in series["stages"][0]["points"]), series

    shots = e2e.output_dir("dashboard")
    cfg = os.path.join(srv.dir, "browser.json")
    with open(cfg, "w") as f:
        json.dump({"url": srv.url, "viewer": srv.tokens["viewer"],
                   "release": srv.tokens["release"], "halted": halted, "active": active,
                   "screenshots": shots}, f)
    res = e2e.node("dashboard.mjs", cfg)
    for s in res["steps"]:
        rf.log("browser:", s)

    ro = srv.rollout(active)
    assert ro["state"] == "active" and ro["stage"] == 1, ro
    promoted = [e for e in srv.events(rollout_id=active) if e["kind"] == "rollout.promoted"]
    assert promoted and promoted[0]["actor"] == "release-user", promoted
    kinds = [e["kind"] for e in srv.events(rollout_id=active)]
    assert "rollout.halted" not in kinds, kinds  # the cancelled halt sent nothing
    for name in ("overview-viewer", "rollout-halted-viewer", "rollout-promoted-release"):
        assert os.path.getsize(os.path.join(shots, name + ".png")) > 10000, name


if __name__ == "__main__":
    rf.main(test)
