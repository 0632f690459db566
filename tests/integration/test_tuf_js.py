"""The TUF repository against an off-the-shelf client: tuf-js (from npm) trusts
the root `ringfenced keys show-root` prints, refreshes, finds the pushed
bundle as target <channel>/<name>-<version>, downloads it and gets the same
bytes. The server re-signs timestamp and snapshot before they expire; every
key rotation (online keys, the director, the root itself) leaves a client
holding only root version 1 able to follow; assignments are signed by the
director key root names; two servers pushing at once never race for a version;
and a repository tampered with in the database is refused."""
import hashlib
import http.client
import json
import os
import signal
import subprocess
import threading
import time

import rf
import tufjs

TS_EXPIRY = 10
SNAP_EXPIRY = 20


def push(srv, data, channel, name, version):
    path = os.path.join(srv.dir, f"push-{channel}-{name}-{version}")
    with open(path, "wb") as f:
        f.write(data)
    r = srv.http("POST", f"/v1/bundles?channel={channel}&name={name}&version={version}",
                 token="release", raw=data, headers={"Content-Type": "application/octet-stream"})
    assert r.status == 201, r
    return r.json["id"], path


def head(srv, role):
    rows = srv.sql("SELECT version, extract(epoch FROM expires_at)::bigint FROM tuf_metadata "
                   "WHERE role = :'v1' ORDER BY version DESC LIMIT 1", role)
    return int(rows[0][0]), int(rows[0][1])


def state(srv, name):
    return os.path.join(srv.dir, "tufjs", name)


def check_files(srv):
    out = srv.run("keys", "init", "--out", srv.root_keys)
    assert "initialised already" in out.stdout, out.stdout
    for f in ["root-1.pem", "root-2.pem", "root-3.pem"]:
        assert os.stat(os.path.join(srv.root_keys, f)).st_mode & 0o077 == 0, f
    for f in ["targets.pem", "snapshot.pem", "timestamp.pem", "director.pem"]:
        assert os.stat(os.path.join(srv.keys, f)).st_mode & 0o077 == 0, f
    assert not os.path.exists(os.path.join(srv.keys, "root-1.pem")), "root keys must stay offline"
    root = json.load(open(srv.trusted_root))
    assert open(os.path.join(srv.root_keys, "1.root.json")).read() == open(srv.trusted_root).read()
    assert sorted(root["signed"]["roles"]) == ["root", "snapshot", "targets", "timestamp"]
    assert root["signed"]["roles"]["root"]["threshold"] == 2
    assert len(root["signatures"]) == 3 and root["signed"]["consistent_snapshot"] is True
    assert len(root["signed"]["x-ringfence-director"]["keys"]) == 1
    for kid, key in root["signed"]["keys"].items():
        assert tufjs.keyid(key["keyval"]["public"]) == kid


def check_http(srv, bid, data):
    r = srv.http("GET", "/tuf/metadata/timestamp.json", token=None)
    assert r.status == 200 and r.headers["Cache-Control"] == "no-cache", r
    assert r.json["signed"]["_type"] == "timestamp"
    r = srv.http("GET", "/tuf/metadata/1.root.json", token=None)
    assert r.status == 200 and "immutable" in r.headers["Cache-Control"], r
    assert r.raw == open(srv.trusted_root, "rb").read()
    assert srv.http("GET", "/tuf/metadata/99.root.json", token=None).status == 404
    assert srv.http("GET", "/tuf/metadata/01.root.json", token=None).status == 404
    assert srv.http("GET", "/tuf/metadata/root.json", token=None).status == 404
    r = srv.http("POST", "/tuf/metadata/timestamp.json", token=None, body={})
    assert r.status == 405 and r.headers.get("Allow") == "GET", r
    sha = hashlib.sha256(data).hexdigest()
    r = srv.http("GET", f"/tuf/targets/content/{sha}.sensor-1.0", token=None)
    assert r.status == 200 and r.raw == data and "immutable" in r.headers["Cache-Control"], r
    assert srv.http("GET", f"/tuf/targets/content/{'0' * 64}.sensor-1.0", token=None).status == 404
    assert srv.http("GET", f"/tuf/targets/content/{sha}.sensor-9", token=None).status == 404
    # the per-bundle signed metadata is gone; the bytes stay for users
    assert srv.http("GET", f"/v1/bundles/{bid}/metadata", token="viewer").status == 404
    assert srv.http("GET", f"/v1/bundles/{bid}/content", token="viewer").raw == data


def check_resigning(srv):
    """Nothing is pushed, yet timestamp and snapshot get new versions before they expire."""
    t0, _ = head(srv, "timestamp")
    s0, _ = head(srv, "snapshot")
    rf.wait_for("timestamp re-signed", lambda: head(srv, "timestamp")[0] > t0, timeout=TS_EXPIRY + 5)
    rf.wait_for("snapshot re-signed", lambda: head(srv, "snapshot")[0] > s0, timeout=SNAP_EXPIRY + 5)
    v, exp = head(srv, "timestamp")
    assert exp - time.time() > TS_EXPIRY / 2 - 2, (v, exp, time.time())


def director_key(srv):
    root = json.loads(srv.run("keys", "show-root").stdout)
    keys = root["signed"]["x-ringfence-director"]["keys"]
    assert len(keys) == 1
    kid, key = next(iter(keys.items()))
    return kid, key["keyval"]["public"]


def check_assignment(srv, token):
    kid, pub = director_key(srv)

    def signed_by_director():
        r = srv.http("GET", "/v1/agent/assignment", token=token)
        assert r.status == 200, r
        sig = r.json["signatures"][0]
        return sig["keyid"] == kid and tufjs.verify(pub, r.json["signed"], sig["sig"]) and r.json
    env = rf.wait_for("assignment signed by the director key", signed_by_director, timeout=15)
    assert env["signed"]["_type"] == "assignment"


def check_rotations(srv, token):
    old_state = state(srv, "held-v1")  # a client that has seen root 1 only
    tufjs.expect_ok(srv.url, srv.trusted_root, old_state)
    srv.run("keys", "rotate", "--role", "timestamp", "--root-keys", srv.root_keys)
    res = tufjs.expect_ok(srv.url, srv.trusted_root, old_state)
    assert res["root_version"] == 2, res
    srv.run("keys", "rotate", "--role", "director", "--root-keys", srv.root_keys)
    check_assignment(srv, token)  # the running server picked the new director key up

    new_root = os.path.join(srv.dir, "root-keys-2")
    out = srv.run("keys", "rotate-root", "--old", srv.root_keys, "--new", new_root,
                  "--root-keys", "4", "--threshold", "3")
    assert "root version 4" in out.stdout, out.stdout
    root4 = json.loads(srv.http("GET", "/tuf/metadata/4.root.json", token=None).raw)
    assert root4["signed"]["roles"]["root"]["threshold"] == 3
    assert len(root4["signatures"]) == 3 + 4  # the old threshold and the new keys
    # the old root keys no longer rotate anything; a copy of one new key is not enough
    bad = srv.run("keys", "rotate", "--role", "targets", "--root-keys", srv.root_keys, check=False)
    assert bad.returncode != 0 and "refusing" in bad.stderr, bad
    partial = os.path.join(srv.dir, "partial")
    os.makedirs(partial)
    with open(os.path.join(new_root, "root-1.pem")) as src, \
            open(os.path.join(partial, "root-1.pem"), "w") as dst:
        dst.write(src.read())
    os.chmod(os.path.join(partial, "root-1.pem"), 0o600)
    bad = srv.run("keys", "rotate-root", "--old", partial, "--new", partial, check=False)
    assert bad.returncode != 0 and "holds 1 of the root keys" in bad.stderr, bad
    srv.run("keys", "rotate", "--role", "targets", "--root-keys", new_root)
    srv.run("keys", "rotate", "--role", "snapshot", "--root-keys", new_root)

    bid2, path2 = push(srv, b"second bundle\n" * 1000, "content", "sensor", "2.0")
    res = tufjs.expect_ok(srv.url, srv.trusted_root, state(srv, "fresh-after-rotations"),
                          target="content/sensor-2.0", expect=path2)
    assert res["root_version"] == 6 and res["target"]["custom"]["bundle_id"] == bid2, res
    tufjs.expect_ok(srv.url, srv.trusted_root, old_state, target="content/sensor-2.0",
                    expect=path2)
    return bid2


def post(port, token, path, data):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", path, body=data, headers={
            "Authorization": "Bearer " + token, "Content-Type": "application/octet-stream"})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def check_two_servers(srv):
    """Two servers on one database push at the same time: the repository lock
    gives every push its own targets version, none lost, none twice."""
    portfile = os.path.join(srv.dir, "port2")
    logf = open(os.path.join(srv.dir, "server2.log"), "w")
    proc = subprocess.Popen([os.path.join(rf.BIN, "ringfenced"), "serve", "--listen",
                             "127.0.0.1:0", "--port-file", portfile],
                            env=srv.env, stdout=logf, stderr=subprocess.STDOUT)
    try:
        port2 = int(rf.wait_for("second server", lambda: os.path.exists(portfile) and
                                open(portfile).read().strip()))
        before, _ = head(srv, "targets")
        results = []

        def pushes(port, who):
            for i in range(6):
                results.append(post(port, srv.tokens["release"],
                                    f"/v1/bundles?channel=race&name={who}&version={i}",
                                    f"{who} {i}\n".encode() * 100))
        threads = [threading.Thread(target=pushes, args=(p, w))
                   for p, w in ((srv.port, "a"), (port2, "b"), (srv.port, "c"), (port2, "d"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [st for st, _ in results] == [201] * 24, results
        after, _ = head(srv, "targets")
        assert after == before + 24, (before, after)
        versions = srv.sql("SELECT version FROM tuf_metadata WHERE role = 'targets' "
                           "AND version > :'v1' ORDER BY version", before)
        assert [int(v[0]) for v in versions] == list(range(before + 1, after + 1)), versions
        r = srv.http("GET", f"/tuf/metadata/{after}.targets.json", token=None)
        listed = [p for p in r.json["signed"]["targets"] if p.startswith("race/")]
        assert len(listed) == 24, listed
        res = tufjs.expect_ok(f"http://127.0.0.1:{port2}", srv.trusted_root,
                              state(srv, "second-server"), target="race/d-5")
        assert res["target"]["custom"]["name"] == "d", res
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, "the second server did not stop cleanly"
        logf.close()


def check_tampering(srv, bid, bid2):
    # target bytes changed in storage (same length: only the hash can tell)
    srv.sql("UPDATE bundles SET content = overlay(content placing 'X'::bytea from 3) "
            "WHERE id = :'v1'", bid)
    tufjs.expect_refused("tampered target bytes", srv.url, srv.trusted_root,
                         state(srv, "tampered-bytes"), "hash", "length", target="content/sensor-1.0")
    # the newest targets metadata changed in storage: it no longer verifies
    srv.sql("UPDATE tuf_metadata SET body = replace(body, '\"bundle_id\":' || :'v1', "
            "'\"bundle_id\":' || (:'v1'::bigint + 1000)) WHERE role = 'targets' AND "
            "version = (SELECT max(version) FROM tuf_metadata WHERE role = 'targets')", bid2)
    tufjs.expect_refused("tampered targets.json", srv.url, srv.trusted_root,
                         state(srv, "tampered-meta"), "signed by 0/1", "hash", "length",
                         target="content/sensor-2.0")


def enroll(srv):
    r = srv.http("POST", "/v1/agent/enroll", token=rf.ENROLL_KEY, body={"hostname": "tufjs"})
    assert r.status == 201, r
    return r.json["token"]


def test(srv):
    tufjs.ensure_installed()
    check_files(srv)
    tufjs.expect_ok(srv.url, srv.trusted_root, state(srv, "empty"))  # an empty repository verifies

    data = os.urandom(20000) + b"sensor content\n"
    bid, path = push(srv, data, "content", "sensor", "1.0")
    res = tufjs.expect_ok(srv.url, srv.trusted_root, state(srv, "first"),
                          target="content/sensor-1.0", expect=path)
    assert res["bytes"] == len(data)
    assert res["target"]["hashes"] == {"sha256": hashlib.sha256(data).hexdigest()}, res
    assert res["target"]["custom"] == {"channel": "content", "name": "sensor", "version": "1.0",
                                       "bundle_id": bid}, res
    assert res["root_version"] == 1
    check_http(srv, bid, data)

    check_resigning(srv)
    res = tufjs.expect_ok(srv.url, srv.trusted_root, state(srv, "first"),
                          target="content/sensor-1.0", expect=path)

    token = enroll(srv)
    check_assignment(srv, token)
    bid2 = check_rotations(srv, token)
    check_two_servers(srv)
    check_tampering(srv, bid, bid2)


if __name__ == "__main__":
    rf.main(test, extra_env={"RINGFENCE_TUF_TIMESTAMP_EXPIRY_S": str(TS_EXPIRY),
                             "RINGFENCE_TUF_SNAPSHOT_EXPIRY_S": str(SNAP_EXPIRY)})
