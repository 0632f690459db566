"""Integration harness: a real PostgreSQL database, a real ringfenced, real
ringfence-agent processes and the real CLI, driven over real HTTP.

Every test gets its own database and its own server on an ephemeral port, so
tests can run in parallel. Nothing here fakes a part that users have for real.
"""
import http.client
import json
import os
import select
import socket
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

BUILD = os.environ.get("RINGFENCE_BUILD_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build")
BIN = os.path.join(BUILD, "bin")
ENROLL_KEY = "test-enroll-key-" + uuid.uuid4().hex


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, flush=True)


def wait_for(what, pred, timeout=30.0, interval=0.2):
    """Polls pred() until it returns a truthy value; fails the test on timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = pred()
        except Exception as e:  # a transient error while the system settles
            last = e
            if isinstance(e, AssertionError):
                raise
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def admin_url():
    url = os.environ.get("RINGFENCE_TEST_DATABASE_URL")
    if not url:
        raise SystemExit("RINGFENCE_TEST_DATABASE_URL is not set: run tests through tests/run")
    return url


def with_dbname(url, name):
    p = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((p.scheme, p.netloc, "/" + name, p.query, p.fragment))


def psql(url, sql, *args):
    """Runs sql (with psql variables :'v1' … from args) and returns rows of strings."""
    cmd = ["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-F", "\t"]
    for i, a in enumerate(args, 1):
        cmd += ["-v", f"v{i}={a}"]
    out = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"psql failed: {out.stderr}")
    return [line.split("\t") for line in out.stdout.splitlines() if line]


class Response:
    def __init__(self, status, body, headers):
        self.status = status
        self.raw = body
        self.headers = headers
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"<{self.status} {self.raw[:300]!r}>"


def expect_continue(conn, timeout):
    """After headers with Expect: 100-continue, as curl sends them for large
    bodies: True (and the interim answer consumed) when the server asks for the
    body, False when it has already sent its final answer."""
    ready, _, _ = select.select([conn.sock], [], [], timeout)
    if not ready:
        return True
    head = conn.sock.recv(12, socket.MSG_PEEK)
    if not head.startswith(b"HTTP/1.1 100"):
        return False
    buf = b""
    while not buf.endswith(b"\r\n\r\n"):
        buf += conn.sock.recv(1)
    return True


class Server:
    """One ringfenced against its own fresh database."""

    def __init__(self, name, eval_ms=250, extra_env=None):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f"rf-{name}-")
        self.dbname = f"rf_{name}_{os.getpid()}"
        psql(admin_url(), f'DROP DATABASE IF EXISTS "{self.dbname}"; CREATE DATABASE "{self.dbname}";')
        self.db = with_dbname(admin_url(), self.dbname)
        self.keys = os.path.join(self.dir, "keys")
        self.env = dict(os.environ)
        self.env.update({
            "RINGFENCE_DATABASE_URL": self.db,
            "RINGFENCE_KEYS_DIR": self.keys,
            "RINGFENCE_ENROLL_KEY": ENROLL_KEY,
            "RINGFENCE_EVAL_INTERVAL_MS": str(eval_ms),
        })
        self.env.update(extra_env or {})
        self.proc = None
        self.port = None
        self.tokens = {}
        self.agents = []

    def run(self, *args, check=True):
        out = subprocess.run([os.path.join(BIN, "ringfenced"), *args], env=self.env,
                             capture_output=True, text=True, timeout=60)
        if check and out.returncode != 0:
            raise RuntimeError(f"ringfenced {' '.join(args)} failed ({out.returncode}): {out.stderr}")
        return out

    def start(self):
        self.run("migrate")
        # The TUF repository: offline root keys (3, threshold 2) in root_keys,
        # the online keys in RINGFENCE_KEYS_DIR; idempotent.
        self.root_keys = os.path.join(self.dir, "root-keys")
        self.run("keys", "init", "--out", self.root_keys, "--root-keys", "3", "--threshold", "2")
        self.trusted_root = os.path.join(self.dir, "root.json")
        with open(self.trusted_root, "w") as f:
            f.write(self.run("keys", "show-root").stdout)
        for role in ("admin", "release", "viewer"):
            out = self.run("token", "create", "--role", role, "--name", f"{role}-user")
            self.tokens[role] = out.stdout.strip().splitlines()[-1]
        self.tokens["release2"] = self.run(
            "token", "create", "--role", "release", "--name", "release-2").stdout.strip().splitlines()[-1]
        portfile = os.path.join(self.dir, "port")
        self.log_path = os.path.join(self.dir, "server.log")
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "ringfenced"), "serve", "--listen", "127.0.0.1:0",
             "--port-file", portfile],
            env=self.env, stdout=self.log_file, stderr=subprocess.STDOUT)
        wait_for("server port file", lambda: os.path.exists(portfile) and open(portfile).read().strip())
        self.port = int(open(portfile).read().strip())
        self.url = f"http://127.0.0.1:{self.port}"
        wait_for("server /readyz", lambda: self.http("GET", "/readyz", token=None).status == 200)
        log(f"server {self.name} on {self.url}, db {self.dbname}")
        return self

    def crash_and_restart(self):
        """SIGKILL ringfenced (no clean shutdown at all) and start it again on the
        same port, so agents find it where they left it."""
        self.proc.kill()
        self.proc.wait()
        portfile = os.path.join(self.dir, "port2")
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "ringfenced"), "serve", "--listen", f"127.0.0.1:{self.port}",
             "--port-file", portfile],
            env=self.env, stdout=self.log_file, stderr=subprocess.STDOUT)
        wait_for("server /readyz after restart",
                 lambda: self.http("GET", "/readyz", token=None).status == 200)
        log(f"server {self.name} restarted after SIGKILL")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise AssertionError("ringfenced did not stop within 30 s of SIGTERM")
            assert rc == 0, f"ringfenced exited {rc} on SIGTERM; see {self.log_path}"
        self.proc = None

    def http(self, method, path, token="admin", body=None, raw=None, headers=None, timeout=30):
        hdrs = dict(headers or {})
        if token is not None:
            hdrs["Authorization"] = "Bearer " + self.tokens.get(token, token)
        data = raw
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            if isinstance(data, str):
                data = data.encode()
            hdrs.setdefault("Content-Type", "application/json")
        # http.client by hand: a server may answer (413) and close before it has
        # read the whole body; the answer must still be read, not lost to EPIPE.
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for k, v in hdrs.items():
                conn.putheader(k, v)
            big = data is not None and len(data) > 65536
            if data is not None:
                conn.putheader("Content-Length", str(len(data)))
            if big:
                conn.putheader("Expect", "100-continue")
            conn.endheaders()
            if big and not expect_continue(conn, timeout):
                data = None  # the server answered before asking for the body
            if data:
                try:
                    conn.send(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass
            r = conn.getresponse()
            return Response(r.status, r.read(), dict(r.getheaders()))
        finally:
            conn.close()

    def sql(self, q, *args):
        return psql(self.db, q, *args)

    def cli(self, *args, token="admin", check=True):
        env = dict(os.environ)
        env["RINGFENCE_URL"] = self.url
        env["RINGFENCE_TOKEN"] = self.tokens.get(token, token)
        env.pop("RINGFENCE_ADMIN_TOKEN", None)
        out = subprocess.run([os.path.join(BIN, "ringfence"), *args], env=env,
                             capture_output=True, text=True, timeout=60)
        if check and out.returncode != 0:
            raise AssertionError(f"ringfence {' '.join(args)} failed ({out.returncode}): {out.stderr}")
        return out

    def cli_json(self, *args, token="admin"):
        return json.loads(self.cli(*args, "--json", token=token).stdout)

    def push(self, data, channel="content", name="sensor", version="1"):
        path = os.path.join(self.dir, f"bundle-{channel}-{name}-{version}")
        with open(path, "wb") as f:
            f.write(data)
        out = self.cli("bundle", "push", path, "--channel", channel, "--name", name,
                       "--version", version, token="release")
        return int(out.stdout.strip())

    def rollout(self, rid):
        r = self.http("GET", f"/v1/rollouts/{rid}", token="viewer")
        assert r.status == 200, r
        return r.json

    def default_rings(self):
        self.cli("ring", "create", "canary", "--order", "0", "--label", "ring=canary", token="release")
        self.cli("ring", "create", "broad", "--order", "1", token="release")

    def events(self, **filters):
        q = urllib.parse.urlencode(dict(filters, limit=1000))
        return self.http("GET", "/v1/events?" + q, token="viewer").json["events"]

    def second_instance(self, **env):
        """Another ringfenced on the same database and keys (env overrides
        its environment); stop it with .stop() and close .log_file."""
        portfile = os.path.join(self.dir, "port-b")
        log = open(os.path.join(self.dir, "server-b.log"), "w")
        proc = subprocess.Popen([os.path.join(BIN, "ringfenced"), "serve", "--listen",
                                 "127.0.0.1:0", "--port-file", portfile],
                                env=dict(self.env, **env), stdout=log, stderr=subprocess.STDOUT)
        wait_for("second server port",
                 lambda: os.path.exists(portfile) and open(portfile).read().strip())
        b = Server.__new__(Server)
        b.__dict__.update(self.__dict__)
        b.port = int(open(portfile).read().strip())
        b.proc, b.log_file = proc, log
        b.log_path = os.path.join(self.dir, "server-b.log")
        wait_for("second server /readyz", lambda: b.http("GET", "/readyz", token=None).status == 200)
        return b

    def cleanup(self):
        self.stop()
        if getattr(self, "log_file", None):
            self.log_file.close()
        # An autovacuum worker (not ours to terminate) can hold the database
        # for a moment: try again rather than fail a test that passed.
        for attempt in range(10):
            try:
                psql(admin_url(), f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE);')
                return
            except RuntimeError:
                if attempt == 9:
                    raise
                time.sleep(0.5)


HOOK = """#!/bin/sh
# Records every install hook call, one line each.
echo "$RF_ACTION $RF_CHANNEL $RF_VERSION $RF_BUNDLE_ID $RF_BUNDLE_PATH" >> "{log}"
{extra}
"""


class Agent:
    """One real ringfence-agent process with its own data dir, boot id and crash dir."""

    def __init__(self, server, name, labels=(), interval=1, health_window=2, hook_extra="",
                 url=None, trusted_root=None):
        self.server = server
        self.name = name
        self.url = url  # None: the server's own URL (a test proxy may stand in between)
        self.trusted_root = trusted_root  # None: the server's root.json
        self.dir = os.path.join(server.dir, "agents", name)
        self.data = os.path.join(self.dir, "data")
        self.crash_dir = os.path.join(self.dir, "crash")
        self.boot_id_file = os.path.join(self.dir, "boot_id")
        self.hook_log = os.path.join(self.dir, "hook.log")
        self.hook = os.path.join(self.dir, "hook.sh")
        os.makedirs(self.crash_dir, exist_ok=True)
        os.makedirs(self.data, exist_ok=True)
        open(self.hook_log, "a").close()
        with open(self.boot_id_file, "w") as f:
            f.write(str(uuid.uuid4()) + "\n")
        with open(self.hook, "w") as f:
            f.write(HOOK.format(log=self.hook_log, extra=hook_extra))
        os.chmod(self.hook, 0o755)
        self.labels = labels
        self.interval = interval
        self.health_window = health_window
        self.proc = None
        self.log_path = os.path.join(self.dir, "agent.log")
        self.starts = 0
        server.agents.append(self)

    def start(self):
        args = [os.path.join(BIN, "ringfence-agent"), "run",
                "--server", self.url or self.server.url, "--enroll-key", ENROLL_KEY,
                "--data-dir", self.data,
                "--trusted-root", self.trusted_root or self.server.trusted_root,
                "--install-hook", self.hook, "--heartbeat-interval", str(self.interval),
                "--health-window", str(self.health_window),
                "--boot-id-file", self.boot_id_file, "--crash-dir", self.crash_dir,
                "--hostname", self.name]
        for l in self.labels:
            args += ["--label", l]
        self.starts += 1
        logf = open(self.log_path, "a")
        self.proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        return self

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise AssertionError(f"agent {self.name} did not stop on SIGTERM")
            assert rc == 0, f"agent {self.name} exited {rc}; see {self.log_path}"

    def crash_at_boot(self):
        """What a kernel crash looks like to the agent: the process dies without a
        clean shutdown, the machine reboots (new boot id) and leaves a crash record."""
        self.kill()
        with open(self.boot_id_file, "w") as f:
            f.write(str(uuid.uuid4()) + "\n")
        with open(os.path.join(self.crash_dir, f"dmesg-{uuid.uuid4().hex[:8]}"), "w") as f:
            f.write("Oops: kernel crash in sensor driver\n")
        self.start()

    @property
    def device_id(self):
        with open(os.path.join(self.data, "identity.json")) as f:
            return json.load(f)["device_id"]

    def enrolled(self):
        return os.path.exists(os.path.join(self.data, "identity.json"))

    def hook_calls(self):
        with open(self.hook_log) as f:
            return [line.split() for line in f.read().splitlines() if line.strip()]

    def running(self, channel="content"):
        """The bundle id the server last heard this device runs on channel."""
        r = self.server.http("GET", f"/v1/devices/{self.device_id}", token="viewer")
        if r.status != 200:
            return None
        ch = (r.json.get("channels") or {}).get(channel) or {}
        return ch.get("bundle_id")


class Fleet:
    def __init__(self, server, canary=2, broad=2, **kw):
        self.canary = [Agent(server, f"canary{i}", labels=["ring=canary"], **kw) for i in range(canary)]
        self.broad = [Agent(server, f"broad{i}", labels=["ring=broad"], **kw) for i in range(broad)]
        self.all = self.canary + self.broad

    def start(self):
        for a in self.all:
            a.start()
        wait_for("every agent enrolled", lambda: all(a.enrolled() for a in self.all))
        return self

    def wait_running(self, agents, bundle_id, channel="content", timeout=40):
        wait_for(f"{[a.name for a in agents]} running bundle {bundle_id}",
                 lambda: all(a.running(channel) == bundle_id for a in agents), timeout=timeout)

    def stop(self):
        for a in self.all:
            a.stop()


def main(test, defer_start=False, **server_kw):
    """Runs test(server) with a fresh server, printing a closing line; cleans up."""
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0].replace("test_", "")
    srv = Server(name, **server_kw)
    ok = False
    try:
        if not defer_start:
            srv.start()
        test(srv)
        for a in srv.agents:
            a.stop()  # a clean SIGTERM exit is part of every test
        ok = True
    finally:
        for a in srv.agents:
            a.kill()
        try:
            srv.stop()
        finally:
            if not ok:
                for root, _, files in os.walk(srv.dir):
                    for fn in files:
                        if fn.endswith(".log"):
                            p = os.path.join(root, fn)
                            print(f"----- {p} (last 40 lines)")
                            with open(p, errors="replace") as f:
                                print("".join(f.readlines()[-40:]))
            if ok:
                srv.cleanup()
                shutil.rmtree(srv.dir, ignore_errors=True)
    print(f"{name}: 1 passed, 0 failed")
