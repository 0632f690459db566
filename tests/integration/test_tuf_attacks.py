"""The trust chain under attack, against the real C agent and the real server.

Each agent talks to ringfenced through its own test-only proxy (http.server)
that passes everything through until the attack starts, then rewrites the
answers of /tuf/ or /v1/agent/assignment the way one attacker would: tampered
target bytes; metadata signed by a key not in root; fewer signatures than the
threshold; two signatures from one key; replayed older timestamp, snapshot and
targets (rollback); an expired timestamp (freeze); a snapshot whose targets
version does not match (mix-and-match); endless data; an assignment for another
device; a replayed older assignment; a root rotation not signed by the old
threshold. Validly-signed-but-wrong metadata is signed with the repository's
own key files (an attacker who stole an online or one offline key) or with keys
the test makes, through `openssl pkeyutl -rawin`.

Every agent runs bundle 1 then 2 through its proxy; then the attacks start and
bundle 3 is rolled out. For each: refused, nothing installed (hook log), bundle
2 keeps running, a clear log line, and device.verify_failed with the reason in
the server's events. One agent without an attack installs bundle 3 through its
proxy, so the proxy itself is shown to be harmless.
"""
import hashlib
import http.client
import http.server
import json
import os
import subprocess
import tempfile
import threading
import time
import urllib.parse

import rf


# ---- signing like the repository does ------------------------------------

def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Key:
    """An Ed25519 key in a PEM file; signs through openssl."""

    def __init__(self, pem):
        self.pem = pem
        der = subprocess.run(["openssl", "pkey", "-in", pem, "-pubout", "-outform", "DER"],
                             capture_output=True, check=True).stdout
        self.public = der[-32:].hex()
        self.obj = {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": self.public}}
        self.keyid = hashlib.sha256(canonical(self.obj)).hexdigest()

    @classmethod
    def generate(cls, path):
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", path], check=True,
                       capture_output=True)
        return cls(path)

    def sign(self, data):
        with tempfile.NamedTemporaryFile() as f:
            f.write(data)
            f.flush()
            return subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", self.pem,
                                   "-in", f.name], capture_output=True, check=True).stdout.hex()


def envelope(signed, keys):
    body = canonical(signed)
    return canonical({"signed": signed,
                      "signatures": [{"keyid": k.keyid, "sig": k.sign(body)} for k in keys]})


def meta_entry(data, version):
    return {"version": version, "length": len(data),
            "hashes": {"sha256": hashlib.sha256(data).hexdigest()}}


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


# ---- the proxy ------------------------------------------------------------

class Proxy:
    """Stands between one agent and the server. mode None passes everything
    through (and records the TUF metadata and assignments it saw); otherwise
    attack(mode) rewrites answers."""

    def __init__(self, srv, keys):
        self.srv = srv
        self.keys = keys
        self.mode = None
        self.seen = {}         # "timestamp" / "snapshot" / "targets" -> [bytes], oldest first
        self.assignments = []  # bodies passed through, oldest first
        self.attacked = 0      # answers rewritten
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                proxy.handle(self, "GET")

            def do_POST(self):
                proxy.handle(self, "POST")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    # upstream ----------------------------------------------------------------

    def upstream(self, method, path, body=None, headers=None, timeout=90):
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, r.read(), r.getheader("Content-Type") or "application/json"
        finally:
            conn.close()

    def current(self, path):
        status, body, _ = self.upstream("GET", path)
        assert status == 200, (path, status, body[:200])
        return body

    # one request ------------------------------------------------------------

    def handle(self, h, method):
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else None
        fwd = {k: v for k, v in h.headers.items() if k.lower() in ("authorization", "content-type")}
        try:
            answer = self.attack(h) if self.mode else None
            if answer is None:
                answer = self.upstream(method, h.path, body, fwd)
                # A long poll that began before the attack is answered after
                # it started: judged when the answer comes back.
                forged = self.attack(h, answer) if self.mode else None
                if forged is None:
                    self.record(h.path, answer)
                else:
                    answer = forged
                    self.attacked += 1
            else:
                self.attacked += 1
        except (BrokenPipeError, ConnectionResetError):
            return
        status, data, ctype = answer
        try:
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the agent hung up (a shutdown during a long poll)

    def record(self, path, answer):
        status, data, _ = answer
        if status != 200:
            return
        p = urllib.parse.urlsplit(path).path
        if p.startswith("/v1/agent/assignment"):
            self.assignments.append(data)
        for role in ("timestamp", "snapshot", "targets"):
            if p.startswith("/tuf/metadata/") and p.endswith(f"{role}.json"):
                self.seen.setdefault(role, []).append(data)

    def signed_of(self, data):
        return json.loads(data)["signed"]

    def current_meta(self):
        """The repository's timestamp and snapshot now (bytes)."""
        ts = self.current("/tuf/metadata/timestamp.json")
        sv = self.signed_of(ts)["meta"]["snapshot.json"]["version"]
        snap = self.current(f"/tuf/metadata/{sv}.snapshot.json")
        return ts, snap

    def attack(self, h, upstream_answer=None):
        """The forged answer to this request, or None to pass it through.
        Assignment attacks judge the upstream answer (upstream_answer);
        the others answer instead of the server."""
        p = urllib.parse.urlsplit(h.path).path
        m = self.mode
        k = self.keys
        js = "application/json"
        if (upstream_answer is None) == p.startswith("/v1/agent/assignment"):
            return None
        if p.startswith("/tuf/metadata/") and p.endswith(".root.json") and m.startswith("root_"):
            if p != "/tuf/metadata/2.root.json":
                return None
            root = self.signed_of(self.current("/tuf/metadata/1.root.json"))
            root["version"] = 2
            if m == "root_below_threshold":
                signers = [k["root"][0]]
            elif m == "root_one_key_twice":
                signers = [k["root"][0], k["root"][0]]
            else:  # root_rotation: new root keys, signed by them and one old key only
                new = k["new_root"]
                for keyid in root["roles"]["root"]["keyids"]:
                    root["keys"].pop(keyid, None)
                root["keys"].update({key.keyid: key.obj for key in new})
                root["roles"]["root"] = {"keyids": [key.keyid for key in new], "threshold": 2}
                signers = new + [k["root"][0]]
            return 200, envelope(root, signers), js
        if p == "/tuf/metadata/timestamp.json":
            if m == "endless":
                h.send_response(200)
                h.send_header("Content-Type", js)
                h.send_header("Connection", "close")
                h.end_headers()
                self.attacked += 1
                chunk = b'{"signed":' + b" " * 65536
                while True:  # until the agent hangs up
                    h.wfile.write(chunk)
            if m == "rollback_timestamp":
                return 200, self.seen["timestamp"][0], js
            if m in ("foreign_key", "freeze", "rollback_snapshot", "rollback_targets"):
                ts, snap = self.current_meta()
                s = self.signed_of(ts)
                signer = [k["timestamp"]]
                if m == "foreign_key":
                    signer = [k["foreign"]]
                elif m == "freeze":
                    s["expires"] = iso(time.time() - 3600)
                elif m == "rollback_snapshot":
                    old = self.seen["snapshot"][0]
                    s["meta"]["snapshot.json"] = meta_entry(old, self.signed_of(old)["version"])
                else:
                    forged = self.forged_snapshot(snap)
                    s["meta"]["snapshot.json"] = meta_entry(forged, self.signed_of(forged)["version"])
                return 200, envelope(s, signer), js
        if p.endswith(".snapshot.json") and m == "rollback_targets":
            _, snap = self.current_meta()
            return 200, self.forged_snapshot(snap), js
        if p.endswith(".targets.json") and m == "mix_and_match":
            return 200, self.seen["targets"][0], js
        if p.startswith("/tuf/targets/") and m == "tampered_target":
            status, data, ctype = self.upstream("GET", h.path)
            data = bytes([data[0] ^ 0x20]) + data[1:]
            return status, data, ctype
        if p.startswith("/v1/agent/assignment"):
            if m == "other_device":
                status, data, ctype = self.upstream(
                    "GET", "/v1/agent/assignment?wait=0",
                    headers={"Authorization": "Bearer " + k["bystander_token"]})
                return status, data, ctype
            if m == "replayed_assignment":
                return 200, self.assignments[0], js
        return None

    def forged_snapshot(self, snap):
        """The current snapshot re-signed with the snapshot key, naming the
        oldest targets version this agent was shown (a stolen snapshot key)."""
        s = self.signed_of(snap)
        old = self.seen["targets"][0]
        s["meta"]["targets.json"] = {"version": self.signed_of(old)["version"]}
        return envelope(s, [self.keys["snapshot"]])


# ---- the attacks and what each must leave behind ---------------------------

ATTACKS = {
    # mode: (what the refusal must say, in the event and in the agent's log)
    "tampered_target": "differs from the",
    "foreign_key": "tuf: timestamp: 0 of 1 required signatures by timestamp keys",
    "root_below_threshold": "tuf: root version 2: 1 of 2 required signatures by root version 1's root keys",
    "root_one_key_twice": "signed more than once; counted once",
    "rollback_timestamp": "(rollback)",
    "rollback_snapshot": "tuf: timestamp names snapshot version",
    "rollback_targets": "tuf: snapshot names targets version",
    "freeze": "tuf: timestamp expired at",
    "mix_and_match": "(mix-and-match)",
    "endless": "tuf: timestamp.json is larger than its 16384-byte limit",
    "other_device": "assignment is for device",
    "replayed_assignment": "is lower than the last accepted",
    "root_rotation": "tuf: root version 2: 1 of 2 required signatures by root version 1's root keys",
}
# The rollback checks of the specification, by name in the refusal.
ROLLBACK_WORDS = {"rollback_timestamp": "older than trusted", "rollback_snapshot": "(rollback)",
                  "rollback_targets": "(rollback)"}


def rollout(srv, bundle):
    """Starts a rollout of bundle to the one ring that never halts on failures."""
    rid = int(srv.cli("rollout", "create", "--bundle", str(bundle), "--max-failure-rate", "1",
                      "--min-failed", "99", token="release").stdout)
    srv.cli("rollout", "start", str(rid), token="release")
    return rid


def wait_running(agents, bundle):
    rf.wait_for(f"{[a.name for a in agents]} running bundle {bundle}",
                lambda: all(a.running() == bundle for a in agents), timeout=60)


def test(srv):
    keydir = os.path.join(srv.dir, "attacker")
    os.makedirs(keydir)
    keys = {
        "root": [Key(os.path.join(srv.root_keys, f"root-{i}.pem")) for i in (1, 2, 3)],
        "timestamp": Key(os.path.join(srv.keys, "timestamp.pem")),
        "snapshot": Key(os.path.join(srv.keys, "snapshot.pem")),
        "targets": Key(os.path.join(srv.keys, "targets.pem")),
        "foreign": Key.generate(os.path.join(keydir, "foreign.pem")),
        "new_root": [Key.generate(os.path.join(keydir, f"new-root-{i}.pem")) for i in (1, 2, 3)],
    }
    # A device of the same ring without an agent: its assignment is what the
    # other_device attack hands out.
    r = srv.http("POST", "/v1/agent/enroll", token=rf.ENROLL_KEY, body={"hostname": "bystander"})
    assert r.status == 201, r
    keys["bystander_token"] = r.json["token"]
    bystander = r.json["device_id"]

    srv.cli("ring", "create", "all", "--order", "0", token="release")
    proxies, agents = {}, {}
    for mode in list(ATTACKS) + ["control"]:
        proxies[mode] = Proxy(srv, keys)
        agents[mode] = rf.Agent(srv, mode.replace("_", "-"), url=proxies[mode].url)
    try:
        run(srv, proxies, agents, bystander)
    finally:
        for p in proxies.values():
            p.stop()


def run(srv, proxies, agents, bystander):
    for a in agents.values():
        a.start()
    rf.wait_for("every agent enrolled", lambda: all(a.enrolled() for a in agents.values()))
    everyone = list(agents.values())

    # Bundles 1 and 2 through the proxies, untouched: each agent trusts newer
    # metadata than what it saw first (which the rollback attacks replay).
    b1 = srv.push(b"sensor content v1\n" * 40, version="1")
    r1 = rollout(srv, b1)
    wait_running(everyone, b1)
    srv.cli("rollout", "promote", str(r1), token="release")
    b2 = srv.push(b"sensor content v2\n" * 40, version="2")
    r2 = rollout(srv, b2)
    wait_running(everyone, b2)
    srv.cli("rollout", "promote", str(r2), token="release")
    for mode, p in proxies.items():
        assert len(p.seen.get("targets", [])) >= 2, (mode, "saw fewer than two refreshes")
        assert len(p.assignments) >= 2, (mode, "saw fewer than two assignments")

    # The attacks start; bundle 3 is rolled out.
    for mode in ATTACKS:
        proxies[mode].mode = mode
    b3 = srv.push(b"sensor content v3\n" * 40, version="3")
    rollout(srv, b3)
    wait_running([agents["control"]], b3)

    def refusals():
        found = {}
        for e in srv.events():
            if e["kind"] != "device.verify_failed":
                continue
            found.setdefault(e["device_id"], []).append((e.get("data") or {}).get("error") or "")
        missing = []
        for mode, want in ATTACKS.items():
            errs = found.get(agents[mode].device_id, [])
            if not any(want in err for err in errs):
                missing.append((mode, errs))
        return missing or True
    last = []

    def all_refused():
        missing = refusals()
        last[:] = [missing]
        return missing is True
    try:
        rf.wait_for("a device.verify_failed event with its reason from every attacked agent",
                    all_refused, timeout=90)
    except AssertionError:
        raise AssertionError(f"missing refusals: {last}")

    for mode, want in ATTACKS.items():
        a = agents[mode]
        assert proxies[mode].attacked > 0, (mode, "the attack never ran")
        # nothing installed: the hook ran for bundles 1 and 2 only
        calls = a.hook_calls()
        assert [c[:3] for c in calls] == [["install", "content", "1"], ["install", "content", "2"]], \
            (mode, calls)
        # bundle 2 keeps running, as the agent reports it
        assert a.running() == b2, (mode, a.running())
        assert a.proc.poll() is None, (mode, "the agent died")
        # a clear log line
        with open(a.log_path) as f:
            text = f.read()
        assert want in text, (mode, "no log line with", want)
        if mode in ROLLBACK_WORDS:
            assert ROLLBACK_WORDS[mode] in text, (mode, ROLLBACK_WORDS[mode])
        st = srv.http("GET", f"/v1/devices/{a.device_id}", token="viewer").json["channels"]
        assert st["content"]["state"] == "verify_failed", (mode, st)
        rf.log(f"{mode}: refused: {st['content']['error']}")
    # the other_device attack handed out a real, validly signed assignment
    other = srv.http("GET", f"/v1/devices/{agents['other_device'].device_id}", token="viewer")
    assert bystander in other.json["channels"]["content"]["error"], other.json
    # the control agent installed bundle 3 through its (honest) proxy
    calls = agents["control"].hook_calls()
    assert [c[2] for c in calls] == ["1", "2", "3"], calls


if __name__ == "__main__":
    rf.main(test)
