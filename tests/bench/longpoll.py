"""Long-poll benchmark for tests/bench/run: N enrolled devices of the canary ring
of an active rollout hold `GET /v1/agent/assignment?wait=60&known=<counter>` on
one ringfenced at once; the rollout is then halted and the time until each
device has its revert is measured.

The client is one epoll loop (selectors) over raw non-blocking sockets speaking
HTTP/1.1 with keep-alive, one connection per device, so that it costs as little
as possible: inside the measured window it only reads, frames each answer by
its Content-Length and timestamps it; every answer is then checked in full
(status 200, JSON, the device's own id, the rollout, `action` "revert")
afterwards. Signatures are not verified here (the Python standard library has
no Ed25519); the simulator and the agent verify them."""
import errno
import http.client
import json
import os
import re
import resource
import selectors
import socket
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import prof
import rf

CHANNEL = "content"


def raise_fd_limit(need):
    """Raises the soft open-file limit to the hard one; the server started
    from here inherits it. Returns the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft < need:
        raise RuntimeError(f"open-file limit {soft} is below the {need} this run needs")
    return soft


def enroll_many(srv, n, labels, workers=8):
    """Enrolls n devices with labels over keep-alive connections; [(token, id)]."""
    body = {"labels": labels}

    def chunk(idx):
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
        out = []
        try:
            for i in idx:
                b = json.dumps(dict(body, hostname=f"lp-{i}"))
                conn.request("POST", "/v1/agent/enroll", body=b,
                             headers={"Authorization": "Bearer " + rf.ENROLL_KEY,
                                      "Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
                if r.status != 201:
                    raise RuntimeError(f"enroll: HTTP {r.status} {data[:200]!r}")
                j = json.loads(data)
                out.append((j["token"], j["device_id"]))
        finally:
            conn.close()
        return out

    parts = [range(w, n, workers) for w in range(workers)]
    with ThreadPoolExecutor(workers) as ex:
        res = list(ex.map(chunk, parts))
    devs = [None] * n
    for w, part in enumerate(parts):
        for i, d in zip(part, res[w]):
            devs[i] = d
    return devs


class Conn:
    __slots__ = ("i", "sock", "out", "inbuf", "need", "status", "t_done", "body", "known",
                 "retries", "closed")

    def __init__(self, i):
        self.i = i
        self.sock = None
        self.out = b""
        self.inbuf = bytearray()
        self.need = None  # (header length, body length) once the head is in
        self.status = 0
        self.t_done = None
        self.body = None
        self.known = 0
        self.retries = 0
        self.closed = False


def request(path, token):
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            "Connection: keep-alive\r\n\r\n").encode()


_CL = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.I)


def take_answer(c):
    """(status, body) when a whole answer is in c.inbuf (and removes it), else None."""
    if c.need is None:
        end = c.inbuf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(c.inbuf[:end])
        m = _CL.search(head)
        c.need = (end + 4, int(m.group(1)) if m else 0)
        c.status = int(head[9:12])
    hl, bl = c.need
    if len(c.inbuf) < hl + bl:
        return None
    body = bytes(c.inbuf[hl:hl + bl])
    del c.inbuf[:hl + bl]
    c.need = None
    return c.status, body


class Client:
    """n connections to the server, one per device, driven by one epoll loop."""

    def __init__(self, port, devices):
        self.port = port
        self.devs = devices
        self.sel = selectors.EpollSelector()
        self.conns = [Conn(i) for i in range(len(devices))]
        self.reconnects = 0

    def open(self, wave=500):
        """Connects every device (at most `wave` handshakes in flight)."""
        pending = list(self.conns)
        inflight = 0
        while pending or inflight:
            while pending and inflight < wave:
                c = pending.pop()
                self._connect(c)
                inflight += 1
            for key, _ in self.sel.select(timeout=5):
                c = key.data
                err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise RuntimeError(f"connect: {os.strerror(err)}")
                self.sel.modify(c.sock, selectors.EVENT_READ, c)
                inflight -= 1

    def _connect(self, c):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rc = s.connect_ex(("127.0.0.1", self.port))
        if rc not in (0, errno.EINPROGRESS):
            raise RuntimeError(f"connect: {os.strerror(rc)}")
        c.sock = s
        c.closed = False
        c.inbuf.clear()
        c.need = None
        self.sel.register(s, selectors.EVENT_WRITE, c)

    def send(self, c, path):
        c.out = request(path, self.devs[c.i][0])
        c.t_done = None
        c.body = None
        self._flush(c)

    def _flush(self, c):
        while c.out:
            try:
                k = c.sock.send(c.out)
            except BlockingIOError:
                self.sel.modify(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
                return
            c.out = c.out[k:]
        self.sel.modify(c.sock, selectors.EVENT_READ, c)

    def _reconnect(self, c, path):
        """The server closed a connection: connect again (blocking) and resend."""
        self.sel.unregister(c.sock)
        c.sock.close()
        self.reconnects += 1
        s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        s.setblocking(False)
        c.sock = s
        c.closed = False
        c.inbuf.clear()
        c.need = None
        self.sel.register(s, selectors.EVENT_READ, c)
        self.send(c, path)

    def loop(self, until, on_answer, timeout_at, tick=None):
        """Reads answers until until() or timeout_at (monotonic); on_answer(c,
        status, body, now) handles one. tick() runs about every 0.2 s."""
        next_tick = 0.0
        while not until():
            now = time.monotonic()
            if now >= timeout_at:
                return False
            if tick and now >= next_tick:
                tick()
                next_tick = now + 0.2
            for key, ev in self.sel.select(timeout=0.2):
                c = key.data
                if not isinstance(c, Conn):
                    key.data(ev)
                    continue
                if ev & selectors.EVENT_WRITE:
                    self._flush(c)
                if not ev & selectors.EVENT_READ:
                    continue
                try:
                    data = c.sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except ConnectionError:
                    data = b""
                t = time.monotonic()
                if not data:
                    c.closed = True
                    on_answer(c, 0, b"", t)
                    continue
                c.inbuf += data
                while True:
                    a = take_answer(c)
                    if a is None:
                        break
                    on_answer(c, a[0], a[1], t)
        return True

    def close(self):
        for c in self.conns:
            if c.sock:
                try:
                    self.sel.unregister(c.sock)
                except (KeyError, ValueError):
                    pass
                c.sock.close()
        self.sel.close()


def metric(srv, name):
    r = srv.http("GET", "/metrics", token=None)
    m = re.search(rf"^{name}(?:{{[^}}]*}})?\s+([\d.e+]+)$", r.raw.decode(), re.M)
    return float(m.group(1)) if m else None


def proc_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def proc_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def pct(vals, p):
    if not vals:
        return None
    s = sorted(vals)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))]


def run(n, threads="2", log=rf.log, profile=True):
    """The whole benchmark against a fresh server; returns its figures. With
    profile, the halt window is sampled by perf (prof.py)."""
    raise_fd_limit(n + 1000)
    srv = rf.Server("bench_lp", extra_env={"RINGFENCE_THREADS": threads}).start()
    cl = None
    try:
        srv.default_rings()
        t = time.monotonic()
        devs = enroll_many(srv, n, {"ring": "canary"})
        log(f"long-poll: {n} devices enrolled in {time.monotonic() - t:.1f} s")
        bundle = srv.push(b"long-poll bench\n", version="1")
        rid = int(srv.cli("rollout", "create", "--bundle", str(bundle), token="release").stdout)
        srv.cli("rollout", "start", str(rid), token="release")
        cl = Client(srv.port, devs)
        cl.open()
        p = prof.Profile(os.path.join(srv.dir, "perf.data")) if profile else None
        res = hold_and_halt(srv, cl, devs, rid, bundle, log, p)
        res["profile"] = p.report(srv.proc.pid) if p else None
        res.update({"devices": n, "server_threads": int(threads)})
        return res
    finally:
        if cl:
            cl.close()
        srv.cleanup()


def first_answers(cl, devs, rid, bundle):
    """Every device's assignment now (wait=0): its counter, checked to offer
    the bundle of rollout rid."""
    done = [0]

    def on_answer(c, status, body, now):
        if status != 200:
            raise RuntimeError(f"first poll: HTTP {status} {body[:200]!r}")
        s = json.loads(body)["signed"]
        ch = s["channels"][CHANNEL]
        if (s["device_id"] != devs[c.i][1] or ch["action"] != "install"
                or ch["bundle_id"] != bundle or ch["rollout_id"] != rid):
            raise RuntimeError(f"first poll: unexpected answer {s}")
        c.known = s["counter"]
        done[0] += 1

    for c in cl.conns:
        cl.send(c, "/v1/agent/assignment?wait=0")
    if not cl.loop(lambda: done[0] == len(cl.conns), on_answer, time.monotonic() + 300):
        raise RuntimeError(f"first poll: only {done[0]} of {len(cl.conns)} answered")


def hold_and_halt(srv, cl, devs, rid, bundle, log, p):
    n = len(cl.conns)
    t = time.monotonic()
    first_answers(cl, devs, rid, bundle)
    first_s = time.monotonic() - t
    log(f"long-poll: first assignments in {first_s:.1f} s")
    early, state = [0], {"phase": "hold", "held": 0.0, "t0": None, "halt_ms": None,
                         "halt_status": None, "final": 0, "retry_status": {}}

    def lp_path(c):
        return f"/v1/agent/assignment?wait=60&known={c.known}"

    def on_answer(c, status, body, now):
        if c.closed:  # the server closed the connection: as an agent would, again
            state["retry_status"]["closed"] = state["retry_status"].get("closed", 0) + 1
            cl._reconnect(c, lp_path(c))
            return
        if state["phase"] == "hold":
            early[0] += 1  # answered while it should have been held
        elif status == 200 and b'"action":"revert"' in body:
            c.t_done, c.body = now, body
            state["final"] += 1
            return
        key = str(status)
        state["retry_status"][key] = state["retry_status"].get(key, 0) + 1
        c.retries += 1
        if status == 200:
            c.known = json.loads(body)["signed"]["counter"]
        cl.send(c, lp_path(c))

    for c in cl.conns:
        cl.send(c, lp_path(c))

    def tick():
        state["held"] = metric(srv, "ringfence_longpoll_connections") or 0.0

    t = time.monotonic()
    cl.loop(lambda: state["held"] >= n, on_answer, time.monotonic() + 120, tick)
    held = int(state["held"])
    log(f"long-poll: {held} held by the server after {time.monotonic() - t:.1f} s "
        f"({early[0]} answered early)")
    time.sleep(1)
    pid = srv.proc.pid
    hold = {"first_polls_per_s": n / first_s, "held_server": held,
            "held_client": n - early[0] - state["retry_status"].get("closed", 0),
            "early_answers": early[0], "server_rss_kib": proc_kib(pid, "VmRSS"),
            "server_fds": proc_fds(pid), "server_threads_os": len(os.listdir(f"/proc/{pid}/task"))}
    hold["held_server_after_1s"] = int(metric(srv, "ringfence_longpoll_connections") or 0)
    halt = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    halt.setblocking(False)
    hbuf = bytearray()
    body = b'{"reason":"long-poll bench"}'
    req = (f"POST /v1/rollouts/{rid}/halt HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           f"Authorization: Bearer {srv.tokens['release']}\r\nContent-Type: application/json\r\n"
           f"Content-Length: {len(body)}\r\n\r\n").encode() + body

    def on_halt(ev):
        hbuf.extend(halt.recv(65536))
        end = hbuf.find(b"\r\n\r\n")
        if state["halt_ms"] is None and end >= 0:
            m = _CL.search(bytes(hbuf[:end]))
            if len(hbuf) >= end + 4 + (int(m.group(1)) if m else 0):
                state["halt_ms"] = (time.monotonic() - state["t0"]) * 1000
                state["halt_status"] = int(hbuf[9:12])
                cl.sel.unregister(halt)

    cl.sel.register(halt, selectors.EVENT_READ, on_halt)
    state["phase"] = "halt"
    if p:
        p.start()
        time.sleep(1)  # perf is sampling
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = ru0.ru_utime + ru0.ru_stime
    state["t0"] = t0 = time.monotonic()
    halt.sendall(req)
    ok = cl.loop(lambda: state["final"] == n, on_answer, t0 + 180)
    wall = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    if p:
        p.stop()
    halt.close()
    return dict(hold, **check(cl, devs, rid, t0, ok, wall, ru1.ru_utime + ru1.ru_stime - cpu0,
                              state))


def check(cl, devs, rid, t0, ok, wall, cpu, state):
    """Checks every answer in full and computes the figures."""
    bad, delays = [], []
    for c in cl.conns:
        if c.body is None:
            bad.append(f"device {c.i}: no revert")
            continue
        try:
            s = json.loads(c.body)["signed"]
            ch = s["channels"][CHANNEL]
            assert s["device_id"] == devs[c.i][1], "another device's answer"
            assert ch["action"] == "revert" and ch["rollout_id"] == rid, ch
            assert s["counter"] > c.known, "the counter did not move"
        except (ValueError, KeyError, AssertionError) as e:
            bad.append(f"device {c.i}: {e!r}")
            continue
        delays.append((c.t_done - t0) * 1000)
    return {"halt_answer_ms": state["halt_ms"], "halt_status": state["halt_status"],
            "reverted": len(delays), "bad_answers": len(bad), "bad_examples": bad[:5],
            "all_reverted": ok and not bad, "halt_to_all_reverted_ms": max(delays) if delays else None,
            "delay_p50_ms": pct(delays, 50), "delay_p99_ms": pct(delays, 99),
            "delay_mean_ms": statistics.mean(delays) if delays else None,
            "retries": state["retry_status"], "reconnects": cl.reconnects,
            "client_cpu_s": cpu, "window_s": wall}
