"""The incident scenario for tests/bench/run: ringfence-fleetsim enrolls a fleet
against one ringfenced, a healthy bundle is rolled out to every device, then a
bundle that reboots devices uncleanly a second after activation is started;
the report gives the blast radius, first install and first crash to halt, halt
to every reachable exposed device reverted, the heartbeat rate, and the CPU of
the server, its PostgreSQL and the simulator (the three share the machine)."""
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse

import rf

LARGE = 50000  # from this size on: a canary ring of 1,000 and a wider pool

# An uncached assignment holds its HTTP thread for a few queries and a commit:
# more threads (and connections for them) keep heartbeats flowing meanwhile.
SERVER_ENV = {"RINGFENCE_THREADS": "8", "RINGFENCE_POOL_SIZE": "16"}


def scenario(n):
    """The scenario for n devices. The canary ring long-polls, as real agents
    do (a connection each); the other rings poll with wait=0, because one
    process holds at most about 19,000 connections. The heartbeat interval
    keeps the fleet near 3,300 heartbeats/s (real agents' 30 s at 100,000
    devices, sped up for smaller fleets, never below 5 s) and the broad ring
    polls about 330 times a second: an assignment the server's answer cache
    does not hold costs PostgreSQL queries and a commit (one ringfenced
    computes a few thousand a second at best: docs/performance.md, long-poll),
    and at 100,000 devices the cache (32,768 answers, 30 s) holds none.
    RF_BENCH_SIM_PERIOD_S and RF_BENCH_SIM_POLL_S override the two."""
    canary = 1000 if n >= LARGE else max(10, n // 100)
    hb = int(os.environ.get("RF_BENCH_SIM_PERIOD_S") or min(30, max(5, round(n / 3300))))
    poll = int(os.environ.get("RF_BENCH_SIM_POLL_S") or max(hb, 10 * round(n / 3300)))
    return {"rings": [{"name": "canary", "size": canary, "labels": {"ring": "canary"},
                       "poll_interval_s": 0},
                      {"name": "broad", "size": n - canary, "labels": {"ring": "broad"}}],
            "bundles": [{"version": "2", "mode": "crash_later", "after_s": 1}],
            "heartbeat_interval_s": hb, "health_window_s": 2 * hb, "poll_interval_s": poll,
            "max_connections": 2048 if n >= LARGE else 256,
            "enroll_per_s": 1000 if n >= LARGE else 500, "seed": 11}


def status(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def running(path, bundle):
    st = status(path)
    return st["running"].get(str(bundle), 0) if st else 0


def _stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def postmaster_pid(url):
    """The pid of the PostgreSQL postmaster listening on url's port (found by
    its data directory's postmaster.pid), or None."""
    port = urllib.parse.urlsplit(url).port
    for d in os.listdir("/proc"):
        try:
            if not d.isdigit() or _stat(int(d))[0] == "Z":
                continue
            with open(f"/proc/{d}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
            if b"-D" not in args or not args[0].endswith(b"postgres"):
                continue
            data = args[args.index(b"-D") + 1].decode()
            with open(os.path.join(data, "postmaster.pid")) as f:
                lines = f.read().splitlines()
            if int(lines[0]) == int(d) and int(lines[3]) == port:
                return int(d)
        except (OSError, IndexError, ValueError):
            continue
    return None


def pg_cpu_ticks(pm):
    """CPU ticks of a PostgreSQL cluster: its postmaster (with its reaped
    children) and every live child."""
    if not pm:
        return 0
    total = sum(int(x) for x in _stat(pm)[11:15])
    for d in os.listdir("/proc"):
        try:
            s = _stat(int(d)) if d.isdigit() else None
        except (OSError, IndexError):
            continue
        if s and int(s[1]) == pm:
            total += int(s[11]) + int(s[12])
    return total


class Sampler:
    """Reads the simulator's status file every 5 s: heartbeat rate windows and
    the simulator's queue (requests waiting for a pooled connection)."""

    def __init__(self, path):
        self.path = path
        self.rows = []
        self.stop = threading.Event()
        self.th = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.wait(5):
            st = status(self.path)
            if st:
                self.rows.append((time.monotonic(), st["heartbeats_ok"], st.get("queued", 0)))

    def summary(self, window=30):
        best, rows = None, self.rows
        for i, (t, hb, _) in enumerate(rows):
            for t2, hb2, _ in rows[i + 1:]:
                if t2 - t >= window:
                    best = max(best or 0.0, (hb2 - hb) / (t2 - t))
                    break
        return {"best_30s_heartbeats_per_s": best,
                "max_queued": max((q for _, _, q in rows), default=0)}


def metrics_summary(srv):
    """Heartbeat batch size and mean server-side latencies from /metrics."""
    text = srv.http("GET", "/metrics", token=None).raw.decode()

    def val(name, labels=""):
        m = re.search(rf"^{re.escape(name)}{re.escape(labels)}\s+([\d.e+-]+)$", text, re.M)
        return float(m.group(1)) if m else None

    out = {}
    n, s = val("ringfence_heartbeat_batch_size_count"), val("ringfence_heartbeat_batch_size_sum")
    if n:
        out["heartbeat_batch_mean"] = s / n
    for route, key in (("/v1/agent/heartbeat", "heartbeat"), ("/v1/agent/enroll", "enroll")):
        lab = f'{{route="{route}",method="{"POST"}"}}'
        c = val("ringfence_http_request_duration_seconds_count", lab)
        t = val("ringfence_http_request_duration_seconds_sum", lab)
        if c:
            out[f"{key}_server_ms_mean"] = t / c * 1000
    return out


def run(tmp, n, log=rf.log):
    """Runs the scenario for n devices; returns the simulator's report with the
    scenario, the server's and PostgreSQL's CPU and what was sampled."""
    scen = scenario(n)
    canary, period, poll = (scen["rings"][0]["size"], scen["heartbeat_interval_s"],
                            scen["poll_interval_s"])
    srv = rf.Server("bench_sim", eval_ms=1000, extra_env=SERVER_ENV).start()
    sim, sampler, extra, rc = None, None, {}, 0
    slow = max(1.0, n / 10000)  # time-outs grow with the fleet
    hz = os.sysconf("SC_CLK_TCK")
    try:
        srv.default_rings()
        sp = os.path.join(tmp, "scenario.json")
        with open(sp, "w") as f:
            json.dump(scen, f)
        st, rep = os.path.join(tmp, "sim-status.json"), os.path.join(tmp, "sim-report.json")
        cmd = [os.path.join(rf.BIN, "ringfence-fleetsim"), "--server", srv.url, "--trusted-root",
               srv.trusted_root, "--enroll-key", rf.ENROLL_KEY, "--scenario", sp, "--status-file",
               st, "--report", rep, "--server-pid", str(srv.proc.pid), "--duration", "3600"]
        pm = postmaster_pid(rf.admin_url())
        pg0, t = pg_cpu_ticks(pm), time.monotonic()
        sim = subprocess.Popen(cmd, stdout=open(os.path.join(tmp, "sim.log"), "w"),
                               stderr=subprocess.STDOUT)
        sampler = Sampler(st)
        sampler.th.start()
        rf.wait_for("every simulated device enrolled",
                    lambda: (status(st) or {}).get("enrolled") == n, timeout=120 * slow)
        extra["enrolled_s"] = time.monotonic() - t
        log(f"{n} devices enrolled in {extra['enrolled_s']:.0f} s")
        good = srv.push(b"good\n", version="1")
        r1 = int(srv.cli("rollout", "create", "--bundle", str(good), token="release").stdout)
        srv.cli("rollout", "start", str(r1), token="release")
        rf.wait_for("canary on good", lambda: running(st, good) >= canary,
                    timeout=10 * period + 60)
        log(f"the canary ring runs the healthy bundle, {time.monotonic() - t:.0f} s in")
        srv.cli("rollout", "promote", str(r1), token="release")
        log(f"promoted to the broad ring, {time.monotonic() - t:.0f} s in")
        rf.wait_for("fleet on good", lambda: running(st, good) >= n,
                    timeout=60 * slow + 3 * poll + 10 * period)
        srv.cli("rollout", "promote", str(r1), token="release")
        extra["healthy_done_s"] = time.monotonic() - t
        log(f"the healthy rollout is complete, {extra['healthy_done_s']:.0f} s in")
        bad = srv.push(b"bad\n", version="2")
        r2 = int(srv.cli("rollout", "create", "--bundle", str(bad), token="release").stdout)
        srv.cli("rollout", "start", str(r2), token="release")
        rf.wait_for("the halt", lambda: srv.rollout(r2)["state"] in ("halted", "reverted"),
                    timeout=10 * period + 60)
        rf.wait_for("no device on bad", lambda: running(st, bad) == 0, timeout=10 * period + 60)
        extra["done_s"] = time.monotonic() - t
        log(f"the bad rollout halted and reverted, {extra['done_s']:.0f} s in")
        time.sleep(2)
        extra["halt"] = srv.rollout(r2).get("halt")
        extra["metrics"] = metrics_summary(srv)
        if pm:
            extra["postgres_cpu_cores"] = (pg_cpu_ticks(pm) - pg0) / hz / (time.monotonic() - t)
    finally:
        if sampler:
            sampler.stop.set()
        if sim:
            sim.send_signal(signal.SIGTERM)
            rc = sim.wait(timeout=300)
        srv.cleanup()
        shutil.rmtree(srv.dir, ignore_errors=True)
    if rc != 0:
        raise RuntimeError(f"ringfence-fleetsim exited {rc}")
    with open(rep) as f:
        r = json.load(f)
    r.update(extra)
    r.update(sampler.summary())
    r["scenario"] = scen
    r["server_env"] = SERVER_ENV
    r["heartbeat_interval_s"] = period
    r["sim_table"] = open(os.path.join(tmp, "sim.log")).read()
    return r
