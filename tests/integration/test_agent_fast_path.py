"""The agent routes' fast path with a real server and database:
(a) heartbeats sent at once by many connections are stored in batches (the
batch-size histogram shows it), every one answered only after its commit,
each (device, seq) stored once and its repeat answered as a duplicate, and
every device's last_seq is its highest; (b) a device's cached assignment answer
on one instance is dropped when the device's own report, stored through
another instance, changes what it should get (a local rollback: the bundle is
no longer offered), without any rollout change to bump the generation."""
import json
import threading
import time
import urllib.request

import rf

DEVICES = 30
SEQS = 8


def heartbeat(srv, token, seq, channels=None):
    return srv.http("POST", "/v1/agent/heartbeat", token=token,
                    body={"seq": seq, "boot_id": "b1", "uptime_s": seq,
                          "heartbeat_interval_s": 30, "channels": channels or {}})


def metric(srv, name):
    text = urllib.request.urlopen(srv.url + "/metrics", timeout=10).read().decode()
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{}"):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in /metrics")


def concurrent_heartbeats(srv):
    devs = [srv.http("POST", "/v1/agent/enroll", token=rf.ENROLL_KEY,
                     body={"hostname": f"d{i}"}).json for i in range(DEVICES)]
    batches_before = metric(srv, "ringfence_heartbeat_batch_size_count")
    work = [(d, seq) for d in devs for seq in range(1, SEQS + 1)] * 2  # every one twice
    answers, lock = [], threading.Lock()

    def worker(items):
        for d, seq in items:
            r = heartbeat(srv, d["token"], seq)
            with lock:
                answers.append((d["device_id"], seq, r.status, r.json))

    threads = [threading.Thread(target=worker, args=(work[i::48],)) for i in range(48)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    rf.log(f"{len(work)} heartbeats over 48 connections in {time.monotonic() - t0:.2f} s")
    assert len(answers) == len(work), len(answers)
    bad = [a for a in answers if a[2] != 200]
    assert not bad, bad[:5]
    fresh = {}
    for dev, seq, _, body in answers:
        assert body["seq"] == seq, body
        fresh.setdefault((dev, seq), []).append(body["duplicate"])
    for key, dups in fresh.items():
        assert sorted(dups) == [False, True], (key, dups)
    stored = int(srv.sql("SELECT count(*) FROM heartbeats")[0][0])
    keys = int(srv.sql("SELECT count(*) FROM heartbeat_keys")[0][0])
    assert stored == keys == DEVICES * SEQS, (stored, keys)
    seqs = srv.sql("SELECT DISTINCT last_seq FROM devices WHERE hostname LIKE 'd%'")
    assert seqs == [[str(SEQS)]], seqs
    batches = metric(srv, "ringfence_heartbeat_batch_size_count") - batches_before
    rf.log(f"{DEVICES * SEQS * 2} heartbeats committed in {batches:.0f} transactions")
    assert batches < DEVICES * SEQS * 2, batches


def cross_instance_invalidation(srv):
    srv.default_rings()
    dev = srv.http("POST", "/v1/agent/enroll", token=rf.ENROLL_KEY,
                   body={"hostname": "roller", "labels": {"ring": "canary"}}).json
    other = srv.http("POST", "/v1/agent/enroll", token=rf.ENROLL_KEY,
                     body={"hostname": "steady", "labels": {"ring": "canary"}}).json
    bundle = srv.push(b"fast path\n", version="1")
    # two failed devices are needed to halt: one rollback alone changes no rollout
    rid = srv.http("POST", "/v1/rollouts", token="release",
                   body={"bundle_id": bundle, "policy": {"min_failed_devices": 2}}).json["id"]
    assert srv.http("POST", f"/v1/rollouts/{rid}/start", token="release").status == 200
    b = srv.second_instance()
    try:
        first = b.http("GET", "/v1/agent/assignment?wait=0", token=dev["token"])
        again = b.http("GET", "/v1/agent/assignment?wait=0", token=dev["token"])
        assert first.status == again.status == 200, (first, again)
        signed = first.json["signed"]
        assert signed["channels"]["content"]["action"] == "install", signed
        assert again.json["signed"]["counter"] == signed["counter"], again.json
        b.http("GET", "/v1/agent/assignment?wait=0", token=other["token"])
        # the device rolled the bundle back on its own, and says so to the first instance
        r = heartbeat(srv, dev["token"], 1, {"content": {
            "state": "rolled_back", "bundle_id": None, "target_bundle_id": bundle,
            "boots": 3, "unclean_shutdowns": 3, "crashes": 0, "local_rollbacks": 1}})
        assert r.status == 200 and not r.json["duplicate"], r
        t0 = time.monotonic()
        got = None
        while time.monotonic() - t0 < 5:
            got = b.http("GET", "/v1/agent/assignment?wait=0", token=dev["token"]).json["signed"]
            if got["counter"] != signed["counter"]:
                break
            time.sleep(0.05)
        rf.log(f"second instance dropped its answer {time.monotonic() - t0:.2f} s after the report")
        assert got["counter"] > signed["counter"], json.dumps(got)
        assert got["channels"]["content"]["action"] != "install", json.dumps(got)
        assert srv.rollout(rid)["state"] == "active"  # no rollout change did it
        # the other device's answer is untouched and still served
        steady = b.http("GET", "/v1/agent/assignment?wait=0", token=other["token"]).json["signed"]
        assert steady["channels"]["content"]["action"] == "install", steady
    finally:
        b.stop()
        b.log_file.close()


def test(srv):
    concurrent_heartbeats(srv)
    cross_instance_invalidation(srv)


if __name__ == "__main__":
    rf.main(test)
