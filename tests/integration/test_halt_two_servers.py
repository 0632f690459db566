"""Two server instances on one database: a halt made through one wakes a
device's long-poll held by the other within 2 s (LISTEN/NOTIFY; the second
instance's evaluator ticks only once a minute here, so nothing else could wake
it), and the woken long-poll answers the reverted assignment."""
import json
import threading
import time

import rf


def test(srv):
    srv.default_rings()
    dev = srv.http("POST", "/v1/agent/enroll", token=rf.ENROLL_KEY,
                   body={"hostname": "one", "labels": {"ring": "canary"}}).json
    bundle = srv.push(b"two servers\n", version="1")
    rid = srv.http("POST", "/v1/rollouts", token="release", body={"bundle_id": bundle}).json["id"]
    assert srv.http("POST", f"/v1/rollouts/{rid}/start", token="release").status == 200

    b = srv.second_instance(RINGFENCE_EVAL_INTERVAL_MS="60000")
    try:
        first = b.http("GET", "/v1/agent/assignment?wait=0", token=dev["token"])
        assert first.status == 200, first
        signed = first.json["signed"]
        assert signed["channels"]["content"]["action"] == "install", signed
        counter = signed["counter"]
        answer = {}

        def poll():
            t0 = time.monotonic()
            r = b.http("GET", f"/v1/agent/assignment?wait=30&known={counter}", token=dev["token"],
                       timeout=60)
            answer["r"], answer["t"] = r, time.monotonic()
            answer["waited"] = answer["t"] - t0

        th = threading.Thread(target=poll)
        th.start()
        time.sleep(1.5)  # the long-poll is held by the second instance
        assert "r" not in answer, answer
        halted_at = time.monotonic()
        r = srv.http("POST", f"/v1/rollouts/{rid}/halt", token="release",
                     body={"reason": "two-server test"})
        assert r.status == 200, r
        th.join(timeout=40)
        assert "r" in answer, "the long-poll never returned"
        woke = answer["t"] - halted_at
        rf.log(f"long-poll on the other instance woke {woke:.2f} s after the halt")
        assert woke < 2.0, woke
        got = answer["r"].json["signed"]
        assert got["counter"] > counter, json.dumps(got)
        assert got["channels"]["content"]["action"] == "revert", json.dumps(got)
    finally:
        b.stop()
        b.log_file.close()


if __name__ == "__main__":
    rf.main(test)
