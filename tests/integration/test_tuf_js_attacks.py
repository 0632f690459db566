"""Attacks on the repository side, against tuf-js: a small HTTP proxy in front
of the real server rewrites its /tuf/ answers the way a compromised mirror or
a man in the middle would, and tuf-js must refuse each one — tampered target
bytes; endless data (metadata and target); metadata signed by a key that root
does not name; fewer root signatures than the threshold; one key's signature
twice; a root rotation not signed by the old threshold; a replayed older
timestamp (rollback); an expired timestamp (freeze); snapshot and targets
versions that do not match (mix-and-match). Nothing is written to the target
directory when tuf-js refuses. The proxy is test-only code."""
import hashlib
import http.client
import http.server
import json
import os
import threading
import time

import rf
import tufjs


class Proxy:
    """Forwards GET /tuf/… to the real server unless a rule answers the path."""

    def __init__(self, upstream_port):
        self.port_up = upstream_port
        self.rules = {}
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                rule = proxy.rules.get(self.path)
                status, body = rule() if rule else proxy.fetch(self.path)
                try:
                    if callable(body):  # a stream: endless data
                        self.send_response(status)
                        self.send_header("Content-Length", str(1 << 30))
                        self.end_headers()
                        body(self.wfile)
                        return
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def fetch(self, path):
        conn = http.client.HTTPConnection("127.0.0.1", self.port_up, timeout=30)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def upstream(self, path):
        status, body = self.fetch(path)
        assert status == 200, (path, status, body[:200])
        return body

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def endless(out):
    chunk = b" " * 65536
    for _ in range(1 << 14):  # up to 1 GiB, far past every limit
        out.write(chunk)


def stored(srv, role, version):
    return srv.sql("SELECT body FROM tuf_metadata WHERE role = :'v1' AND version = :'v2'",
                   role, version)[0][0].encode()


def latest(srv, role):
    return int(srv.sql("SELECT max(version) FROM tuf_metadata WHERE role = :'v1'", role)[0][0])


class Attacks:
    def __init__(self, srv, proxy):
        self.srv, self.proxy, self.n = srv, proxy, 0

    def state(self):
        self.n += 1
        return os.path.join(self.srv.dir, "tufjs", f"client-{self.n}")

    def refused(self, what, *needles, state=None, **kw):
        st = state or self.state()
        tufjs.expect_refused(what, self.proxy.url, self.srv.trusted_root, st, *needles, **kw)
        targets = os.path.join(st, "targets")
        assert not os.listdir(targets), f"{what}: tuf-js wrote {os.listdir(targets)}"
        self.proxy.rules.clear()

    def ok(self, state=None, **kw):
        return tufjs.expect_ok(self.proxy.url, self.srv.trusted_root, state or self.state(), **kw)


def target_attacks(a, data, target_url):
    a.proxy.rules[target_url] = lambda: (200, data[:-1] + bytes([data[-1] ^ 1]))
    a.refused("tampered target bytes", "hash", target="content/sensor-2")
    a.proxy.rules[target_url] = lambda: (200, endless)
    a.refused("endless target", "max length", target="content/sensor-2")
    a.proxy.rules[target_url] = lambda: (200, data + b"trailing")
    a.refused("longer target", "max length", "length", target="content/sensor-2")


def signature_attacks(a, srv):
    ts = json.loads(a.proxy.upstream("/tuf/metadata/timestamp.json"))
    rogue = os.path.join(srv.dir, "rogue.pem")
    tufjs.new_key(rogue)
    forged = dict(ts["signed"], version=ts["signed"]["version"] + 1000)
    a.proxy.rules["/tuf/metadata/timestamp.json"] = lambda: (
        200, tufjs.envelope(forged, [tufjs.sign(rogue, forged)]))
    a.refused("timestamp signed by a key not in root", "signed by 0/1")
    # the real timestamp key's keyid on a rogue signature
    fake = dict(tufjs.sign(rogue, forged), keyid=ts["signatures"][0]["keyid"])
    a.proxy.rules["/tuf/metadata/timestamp.json"] = lambda: (200, tufjs.envelope(forged, [fake]))
    a.refused("rogue signature under the timestamp keyid", "signed by 0/1")
    a.proxy.rules["/tuf/metadata/timestamp.json"] = lambda: (200, endless)
    a.refused("endless timestamp.json", "max length")


def version_attacks(a, srv):
    # freeze: a timestamp that is validly signed (the online key) but expired
    key = os.path.join(srv.keys, "timestamp.pem")
    ts = json.loads(a.proxy.upstream("/tuf/metadata/timestamp.json"))
    old = dict(ts["signed"], expires=time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                  time.gmtime(time.time() - 3600)))
    a.proxy.rules["/tuf/metadata/timestamp.json"] = lambda: (
        200, tufjs.envelope(old, [tufjs.sign(key, old)]))
    a.refused("expired timestamp (freeze)", "expired")

    # rollback: a client that has seen the newest timestamp is served an older one
    st = a.state()
    a.ok(state=st)
    newest = latest(srv, "timestamp")
    older = stored(srv, "timestamp", newest - 1)
    assert json.loads(older)["signed"]["version"] == newest - 1
    a.proxy.rules["/tuf/metadata/timestamp.json"] = lambda: (200, older)
    a.refused("replayed older timestamp (rollback)", "less than current", state=st)

    # mix-and-match: the targets.json of another version under the current name
    tv = latest(srv, "targets")
    prev = stored(srv, "targets", tv - 1)
    a.proxy.rules[f"/tuf/metadata/{tv}.targets.json"] = lambda: (200, prev)
    a.refused("targets version other than snapshot's (mix-and-match)", "does not match snapshot")
    # and a snapshot other than the one timestamp names (its length and hash say so)
    sv = latest(srv, "snapshot")
    sprev = stored(srv, "snapshot", sv - 1)
    a.proxy.rules[f"/tuf/metadata/{sv}.snapshot.json"] = lambda: (200, sprev)
    a.refused("snapshot other than timestamp's", "length", "hash")


def root_attacks(a, srv):
    """Needs root version 2 on the server: made by rotating the snapshot key."""
    srv.run("keys", "rotate", "--role", "snapshot", "--root-keys", srv.root_keys)
    good = json.loads(a.proxy.upstream("/tuf/metadata/2.root.json"))
    assert len(good["signatures"]) == 3
    path = "/tuf/metadata/2.root.json"

    one = tufjs.envelope(good["signed"], good["signatures"][:1])
    a.proxy.rules[path] = lambda: (200, one)
    a.refused("root with fewer signatures than the threshold", "signed by 1/2")

    twice = tufjs.envelope(good["signed"], [good["signatures"][0]] * 2)
    a.proxy.rules[path] = lambda: (200, twice)
    a.refused("one key's signature counted twice", "multiple signatures", "signed by 1/2")

    # a rotation to an attacker's root keys, signed by them and one stolen old key
    signed = json.loads(json.dumps(good["signed"]))
    mine = []
    for i in range(2):
        p = os.path.join(srv.dir, f"attacker-root-{i}.pem")
        pub = tufjs.new_key(p)
        signed["keys"][tufjs.keyid(pub)] = {"keytype": "ed25519", "scheme": "ed25519",
                                            "keyval": {"public": pub}}
        mine.append(p)
    signed["roles"]["root"] = {"keyids": [tufjs.keyid(tufjs.public_hex(p)) for p in mine],
                               "threshold": 1}
    sigs = [tufjs.sign(p, signed) for p in mine]
    sigs.append(tufjs.sign(os.path.join(srv.root_keys, "root-1.pem"), signed))
    rogue_root = tufjs.envelope(signed, sigs)
    a.proxy.rules[path] = lambda: (200, rogue_root)
    a.refused("root rotation not signed by the old threshold", "signed by 1/2")

    res = a.ok()  # the real v2 still passes
    assert res["root_version"] == 2, res


def test(srv):
    tufjs.ensure_installed()
    data1 = b"first content\n" * 300
    data2 = os.urandom(4096) + b"second content\n"
    for version, data in (("1", data1), ("2", data2)):
        r = srv.http("POST", f"/v1/bundles?channel=content&name=sensor&version={version}",
                     token="release", raw=data, headers={"Content-Type": "application/octet-stream"})
        assert r.status == 201, r
    expect = os.path.join(srv.dir, "data2")
    with open(expect, "wb") as f:
        f.write(data2)
    proxy = Proxy(srv.port)
    try:
        a = Attacks(srv, proxy)
        a.ok(target="content/sensor-2", expect=expect)  # the proxy itself changes nothing
        target_url = f"/tuf/targets/content/{hashlib.sha256(data2).hexdigest()}.sensor-2"
        target_attacks(a, data2, target_url)
        signature_attacks(a, srv)
        version_attacks(a, srv)
        root_attacks(a, srv)
        a.ok(target="content/sensor-2", expect=expect)
    finally:
        proxy.close()


if __name__ == "__main__":
    rf.main(test)
