"""Benchmark driver for tests/bench/run (see there). Uses the integration
harness (tests/integration/rf.py) for the database, server and agent, its own
nginx on a free loopback port, wrk, and ringfence-fleetsim; writes
docs/performance.md. Figures are medians of several runs."""
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
import rf  # noqa: E402

QUICK = "--quick" in sys.argv
RUNS = 1 if QUICK else 3
DUR = 5 if QUICK else 10
CONNS = 64
SIM_DEVICES = int(os.environ.get("RF_BENCH_SIM_DEVICES", "2000" if QUICK else "10000"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_nginx(tmp):
    port = free_port()
    for d in ("body", "proxy", "fcgi", "uwsgi", "scgi", "logs"):
        os.makedirs(os.path.join(tmp, d), exist_ok=True)
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 2;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
daemon off;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  server {{ listen 127.0.0.1:{port}; location / {{ return 204; }} }}
}}
""")
    proc = subprocess.Popen(["/usr/sbin/nginx", "-c", conf, "-p", tmp])
    rf.wait_for("nginx", lambda: socket.create_connection(("127.0.0.1", port), 1).close() or True)
    return proc, port


def wrk(url, conns=CONNS, script=None, env=None, dur=DUR):
    cmd = ["wrk", "-t2", f"-c{conns}", f"-d{dur}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, env=env, timeout=dur + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)

    def lat(pct):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)\b", out)
        if not m:
            return None
        v = float(m.group(1))
        return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v

    return {"rps": rps, "non2xx": int(bad.group(1)) if bad else 0, "p50_ms": lat(50),
            "p99_ms": lat(99)}


def median_of(fn, runs=RUNS):
    res = [fn() for _ in range(runs)]
    out = {}
    for k in res[0]:
        vals = [r[k] for r in res if r[k] is not None]
        out[k] = statistics.median(vals) if vals else None
    return out


def enroll(srv, n, path):
    with open(path, "w") as f:
        for i in range(n):
            r = srv.http("POST", "/v1/agent/enroll", token=rf.ENROLL_KEY,
                         body={"hostname": f"bench-{i}", "labels": {}})
            assert r.status in (200, 201), r
            f.write(f"{r.json['token']} {r.json['device_id']}\n")


def proc_cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return int(parts[11]) + int(parts[12])


def proc_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def bench_http(tmp, results):
    nginx, nport = start_nginx(tmp)
    try:
        results["nginx"] = median_of(lambda: wrk(f"http://127.0.0.1:{nport}/"))
        for threads in ("2", "32"):
            srv = rf.Server(f"bench_t{threads}", extra_env={"RINGFENCE_THREADS": threads}).start()
            try:
                devs = os.path.join(tmp, f"devices-{threads}")
                enroll(srv, 128, devs)
                env = dict(os.environ, RF_BENCH_DEVICES=devs, RF_BENCH_THREADS="2")
                script = os.path.join(HERE, "hb.lua")
                hb = median_of(lambda: wrk(srv.url + "/", script=script, env=env))
                rows = int(srv.sql("SELECT count(*) FROM heartbeats")[0][0])
                polls = median_of(lambda: wrk(srv.url + "/", script=script,
                                              env=dict(env, RF_BENCH_MODE="poll")))
                # latency at about half the load: a quarter of the connections
                half = median_of(lambda: wrk(srv.url + "/", conns=CONNS // 4, script=script, env=env))
                results[f"server_threads_{threads}"] = {
                    "heartbeat": hb, "poll": polls, "heartbeat_quarter_conns": half,
                    "heartbeat_rows": rows, "peak_rss_kib": proc_kib(srv.proc.pid, "VmHWM")}
                if threads == "2":
                    results["raw_insert"] = raw_insert(srv)
                    results["agent"] = agent_figures(srv)
            finally:
                srv.cleanup()
                shutil.rmtree(srv.dir, ignore_errors=True)
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=30)


def raw_insert(srv):
    """Rows/s of a raw batched INSERT (256 rows per transaction) of heartbeat-sized rows."""
    srv.sql("CREATE TABLE bench_raw (device_id text, seq bigint, "
            "received_at timestamptz NOT NULL DEFAULT now(), body jsonb)")
    body = '{"seq":1,"boot_id":"bench","uptime_s":1,"agent_version":"bench","heartbeat_interval_s":30,"channels":{}}'
    batches, per = 200, 256
    lines = []
    for b in range(batches):
        vals = ",".join(f"('dev{(b * per + i) % 128}',{b * per + i},'{body}')" for i in range(per))
        lines.append(f"BEGIN; INSERT INTO bench_raw (device_id, seq, body) VALUES {vals}; COMMIT;")
    sql = "\n".join(lines)
    rates = []
    for _ in range(RUNS):
        t = time.monotonic()
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", srv.db], input=sql, text=True,
                       check=True, capture_output=True)
        rates.append(batches * per / (time.monotonic() - t))
    return {"rows_per_s": statistics.median(rates), "batch": per}


def agent_figures(srv):
    a = rf.Agent(srv, "bench-agent", interval=30)
    a.start()
    rf.wait_for("the agent enrolled", a.enrolled, timeout=30)
    time.sleep(5)
    t0, c0 = time.monotonic(), proc_cpu_ticks(a.proc.pid)
    time.sleep(30 if not QUICK else 10)
    cpu = (proc_cpu_ticks(a.proc.pid) - c0) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - t0)
    out = {"rss_kib": proc_kib(a.proc.pid, "VmRSS"), "peak_rss_kib": proc_kib(a.proc.pid, "VmHWM"),
           "idle_cpu_share": cpu}
    a.stop()
    return out


def sim_status(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def sim_running(path, bundle):
    st = sim_status(path)
    return st["running"].get(str(bundle), 0) if st else 0


def incident(tmp, n):
    """The incident scenario: a good rollout everywhere, then a bundle that reboots
    devices uncleanly a second after activation; blast radius and time to halt."""
    canary = max(10, n // 100)
    hb_s = 10
    scen = {"rings": [{"name": "canary", "size": canary, "labels": {"ring": "canary"}},
                      {"name": "broad", "size": n - canary, "labels": {"ring": "broad"}}],
            "bundles": [{"version": "2", "mode": "crash_later", "after_s": 1}],
            "heartbeat_interval_s": hb_s, "health_window_s": 20, "poll_interval_s": 5,
            "max_connections": 256, "enroll_per_s": 100, "seed": 11}
    srv = rf.Server("bench_sim", extra_env={"RINGFENCE_THREADS": "32"}).start()
    sim = None
    try:
        srv.default_rings()
        sp = os.path.join(tmp, "scenario.json")
        with open(sp, "w") as f:
            json.dump(scen, f)
        st, rep = os.path.join(tmp, "sim-status.json"), os.path.join(tmp, "sim-report.json")
        cmd = [os.path.join(rf.BIN, "ringfence-fleetsim"), "--server", srv.url, "--trusted-root",
               srv.trusted_root, "--enroll-key", rf.ENROLL_KEY, "--scenario", sp, "--status-file",
               st, "--report", rep, "--server-pid", str(srv.proc.pid), "--duration", "1800"]
        sim = subprocess.Popen(cmd, stdout=open(os.path.join(tmp, "sim.log"), "w"),
                               stderr=subprocess.STDOUT)
        rf.wait_for("every simulated device enrolled",
                    lambda: (sim_status(st) or {}).get("enrolled") == n, timeout=600)
        good = srv.push(b"good\n", version="1")
        r1 = int(srv.cli("rollout", "create", "--bundle", str(good), token="release").stdout)
        srv.cli("rollout", "start", str(r1), token="release")
        rf.wait_for("canary on good", lambda: sim_running(st, good) >= canary, timeout=300)
        srv.cli("rollout", "promote", str(r1), token="release")
        rf.wait_for("fleet on good", lambda: sim_running(st, good) >= n, timeout=600)
        srv.cli("rollout", "promote", str(r1), token="release")
        bad = srv.push(b"bad\n", version="2")
        r2 = int(srv.cli("rollout", "create", "--bundle", str(bad), token="release").stdout)
        srv.cli("rollout", "start", str(r2), token="release")
        rf.wait_for("the halt", lambda: srv.rollout(r2)["state"] in ("halted", "reverted"),
                    timeout=300)
        rf.wait_for("no device on bad", lambda: sim_running(st, bad) == 0, timeout=300)
        time.sleep(2)
    finally:
        if sim:
            sim.send_signal(signal.SIGTERM)
            sim.wait(timeout=120)
        srv.cleanup()
        shutil.rmtree(srv.dir, ignore_errors=True)
    with open(rep) as f:
        r = json.load(f)
    r["heartbeat_interval_s"] = hb_s
    r["sim_table"] = open(os.path.join(tmp, "sim.log")).read()
    return r


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    return f"{cpu}, {os.cpu_count()} cores, {mem} MiB RAM, Linux {platform.release()}"


def fmt(v, d=0):
    return "n/a" if v is None else f"{v:,.{d}f}"


def write_doc(res):
    n = res["nginx"]
    lines = ["# Performance", "",
             "Measured by `tests/bench/run` on this machine in one run; every figure is the median "
             f"of {RUNS} runs of {DUR} s of wrk (2 threads, {CONNS} connections) unless noted. "
             "The server is a RelWithDebInfo build against PostgreSQL 15 on the same machine.", "",
             f"Machine: {machine()}.", "",
             "## Requests per second against nginx (`return 204`)", "",
             "| what | requests/s | × nginx | p50 ms | p99 ms | non-2xx |",
             "|---|---|---|---|---|---|",
             f"| nginx `return 204` | {fmt(n['rps'])} | 1.00 | {fmt(n['p50_ms'], 2)} | {fmt(n['p99_ms'], 2)} | {n['non2xx']} |"]
    for t in ("2", "32"):
        s = res.get(f"server_threads_{t}")
        if not s:
            continue
        for k, label in (("heartbeat", "heartbeat ingest (2xx after commit)"),
                         ("poll", "assignment poll (wait=0)"),
                         ("heartbeat_quarter_conns", f"heartbeat ingest, {CONNS // 4} connections")):
            x = s[k]
            lines.append(f"| {label}, `--threads {t}` | {fmt(x['rps'])} | {x['rps'] / n['rps']:.2f} | "
                         f"{fmt(x['p50_ms'], 2)} | {fmt(x['p99_ms'], 2)} | {fmt(x['non2xx'])} |")
    lines += ["", "Latency at about half the maximum load is approximated by running wrk with a "
              f"quarter of the connections ({CONNS // 4}); wrk cannot fix a request rate.", ""]
    raw = res.get("raw_insert")
    if raw:
        s2 = res["server_threads_2"]["heartbeat"]["rps"]
        lines += ["## Heartbeat rows/s against a raw batched INSERT", "",
                  f"- raw `INSERT` of {raw['batch']} heartbeat-sized rows per transaction from one psql "
                  f"session: {fmt(raw['rows_per_s'])} rows/s",
                  f"- ringfenced heartbeat ingest (`--threads 2`): {fmt(s2)} rows/s "
                  f"({s2 / raw['rows_per_s']:.2f}× the raw insert)", ""]
    a = res.get("agent")
    if a:
        lines += ["## Agent", "",
                  f"- resident memory after enrolment, idle: {fmt(a['rss_kib'] / 1024, 2)} MiB "
                  f"(peak {fmt(a['peak_rss_kib'] / 1024, 2)} MiB); goal ≤ 4 MiB",
                  f"- idle CPU (heartbeat every 30 s, long-polling): {a['idle_cpu_share'] * 100:.3f} % of one core", ""]
    inc = res.get("incident")
    if inc:
        ro = [r for r in inc["rollouts"] if r["mode"] != "healthy"]
        lines += [f"## Incident scenario, {inc['devices']:,} simulated devices", "",
                  "`ringfence-fleetsim` (one process, agent/proto.c per device, polling every 5 s, "
                  f"heartbeat every {inc['heartbeat_interval_s']} s, 256 shared connections) against "
                  "one ringfenced (`--threads 32`). A healthy bundle is rolled out to every device, "
                  "then a bundle that reboots devices uncleanly one second after activation.", "",
                  "```", inc["sim_table"].strip(), "```", ""]
        for r in ro:
            lines.append(f"- blast radius: {r['blast_radius']} devices ({r['blast_radius_share'] * 100:.2f} % "
                         f"of the fleet), outside the canary ring: {r['installed_outside_first_ring']}; "
                         f"first install → halt seen by a device: {r['first_install_to_halt_s']:.1f} s "
                         f"({r['first_install_to_halt_s'] / inc['heartbeat_interval_s']:.1f} heartbeat intervals; the "
                         "first crash is one second after the first install)")
        lines.append(f"- heartbeats sustained: {inc['heartbeats_per_s']:.0f}/s; server CPU "
                     f"{inc.get('server', {}).get('cpu_cores', 0):.2f} cores, peak RSS "
                     f"{inc.get('server', {}).get('peak_rss_kib', 0) / 1024:.0f} MiB")
        lines.append("")
    lines += verdicts(res)
    lines += ["## Reproduce", "", "```", "tests/bench/run            # full run, writes docs/performance.md",
              "tests/bench/run --quick    # one run of each, a smaller simulated fleet",
              "RF_BENCH_SIM_DEVICES=100000 tests/bench/run", "```", ""]
    lines += res.get("notes", [])
    with open(os.path.join(TOP, "docs", "performance.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def verdicts(res):
    """Goals against the figures measured, met or missed, with what was observed."""
    n = res["nginx"]["rps"]
    best = max((res[k] for k in res if k.startswith("server_threads_")),
               key=lambda x: x["heartbeat"]["rps"], default=None)
    out = ["## Goals", ""]
    if best:
        hb, po = best["heartbeat"]["rps"] / n, best["poll"]["rps"] / n
        out.append(f"- heartbeat ingest ≥ 0.3× nginx: {'met' if hb >= 0.3 else 'MISSED'} ({hb:.2f}×)")
        out.append(f"- assignment polls ≥ 0.7× nginx: {'met' if po >= 0.7 else 'MISSED'} ({po:.2f}×)")
    a = res.get("agent")
    if a:
        mib = a["rss_kib"] / 1024
        out.append(f"- agent memory ≤ 4 MiB: {'met' if mib <= 4 else 'MISSED'} ({mib:.2f} MiB RSS)")
    inc = res.get("incident")
    if inc:
        for r in inc["rollouts"]:
            if r["mode"] == "healthy":
                continue
            ok = r["installed_outside_first_ring"] == 0
            t = r["first_install_to_halt_s"]
            out.append(f"- no device outside the canary ring receives the bad bundle "
                       f"({inc['devices']:,} devices, not the 100,000 of the goal): "
                       f"{'met' if ok else 'MISSED'}")
            out.append(f"- halt within 2 heartbeat intervals of the first crash: "
                       f"{'met' if 0 <= t - 1 <= 2 * inc['heartbeat_interval_s'] else 'MISSED'} "
                       f"({t:.1f} s after the first install)")
    out += ["", "What limits the server here was not profiled in this run. Observed: a heartbeat "
            "request holds an HTTP worker thread until its batch commits (server/hb_batch.c), and "
            "going from `--threads 2` to `--threads 32` roughly doubled ingest while the server "
            "stayed far from saturating both cores in the simulator runs; the simulator saw mean "
            "latencies above one second (queueing in its connection pool included) at a few "
            "hundred heartbeats/s.", ""]
    return out


def main():
    if "--doc-only" in sys.argv:  # rewrite docs/performance.md from the last results
        with open(os.path.join(TOP, "docs", "performance.json")) as f:
            write_doc(json.load(f))
        return
    res = {}
    with tempfile.TemporaryDirectory(prefix="rf-bench-") as tmp:
        bench_http(tmp, res)
        if "--no-sim" not in sys.argv:
            try:
                res["incident"] = incident(tmp, SIM_DEVICES)
            except Exception as e:  # reported, not hidden: the HTTP figures still stand
                res["notes"] = [f"The {SIM_DEVICES:,}-device incident run did not complete: {e}", ""]
                try:
                    res["notes"] += ["```", open(os.path.join(tmp, "sim.log")).read()[-3000:], "```", ""]
                except OSError:
                    pass
    with open(os.path.join(TOP, "docs", "performance.json"), "w") as f:
        json.dump(res, f, indent=2, default=str)
    write_doc(res)
    print(json.dumps({k: v for k, v in res.items() if k != "incident"}, indent=2, default=str))


if __name__ == "__main__":
    main()
