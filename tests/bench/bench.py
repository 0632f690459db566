"""Benchmark driver for tests/bench/run (see there). Uses the integration
harness (tests/integration/rf.py) for the database, server and agent, its own
nginx on a free loopback port, wrk, a raw-socket long-poll client
(longpoll.py) and ringfence-fleetsim; writes docs/performance.md (and the
figures as docs/performance.json). Figures are medians of several runs.

Parts: http (wrk against nginx and ringfenced, raw INSERT, agent), longpoll
(N connected agents held, then a halt), sim (the incident scenario; from
50,000 devices on it has a section of its own). Every run keeps the figures of
what it does not measure (other parts, --only, --sim-only) from the last
docs/performance.json; each section names when it was measured."""
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
sys.path.insert(0, HERE)
import rf  # noqa: E402
import incident  # noqa: E402
import longpoll  # noqa: E402
import prof  # noqa: E402


def arg(name, default=None):
    """The value of --name V or --name=V on the command line."""
    for i, a in enumerate(sys.argv):
        if a == name and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return default


QUICK = "--quick" in sys.argv
SIM_ONLY = "--sim-only" in sys.argv
RUNS = 1 if QUICK else 3
DUR = 5 if QUICK else 10
CONNS = 64
BENCH_DEVICES = 1024  # wrk's devices: a device's heartbeats are stored one batch at a time
SIM_DEVICES = int(arg("--devices") or os.environ.get(
    "RF_BENCH_SIM_DEVICES", "100000" if SIM_ONLY else "2000" if QUICK else "10000"))
LP_DEVICES = int(arg("--longpoll-devices") or os.environ.get(
    "RF_BENCH_LONGPOLL_DEVICES", "2000" if QUICK else "10000"))
LARGE = incident.LARGE  # incident runs from this size on have their own section
if SIM_ONLY:
    PARTS = {"sim"}
elif arg("--only"):
    PARTS = set(arg("--only").split(","))
else:
    PARTS = {"http", "longpoll", "sim"} - ({"sim"} if "--no-sim" in sys.argv else set())


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
        for token, dev in longpoll.enroll_many(srv, n, {}):
            f.write(f"{token} {dev}\n")


def proc_cpu_s(pid):
    """CPU seconds of pid: schedstat's nanoseconds where the kernel has them (an
    idle agent uses less than one 10 ms clock tick per heartbeat), else ticks."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def proc_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def committed_bundle(srv):
    """A bundle rolled out to every device and completed: what the devices of
    the one-channel heartbeats run, with no live rollout left."""
    srv.default_rings()
    b = srv.push(b"bench bundle\n", version="1")
    r = int(srv.cli("rollout", "create", "--bundle", str(b), token="release").stdout)
    srv.cli("rollout", "start", str(r), token="release")
    while srv.cli_json("rollout", "promote", str(r), token="release")["state"] != "completed":
        pass
    return b


def bench_server(tmp, threads, results):
    srv = rf.Server(f"bench_t{threads}", extra_env={"RINGFENCE_THREADS": threads}).start()
    try:
        devs = os.path.join(tmp, f"devices-{threads}")
        enroll(srv, BENCH_DEVICES, devs)
        env = dict(os.environ, RF_BENCH_DEVICES=devs, RF_BENCH_THREADS="2")
        script = os.path.join(HERE, "hb.lua")
        out = {}

        def run(key, conns=CONNS, **extra):
            log_load(f"wrk {key}, --threads {threads}")
            out[key] = median_of(lambda: wrk(srv.url + "/", conns=conns, script=script,
                                             env=dict(env, **extra)))

        run("heartbeat")
        run("poll", RF_BENCH_MODE="poll")
        run("heartbeat_quarter_conns", conns=CONNS // 4)
        bundle = str(committed_bundle(srv))
        run("heartbeat_1ch", RF_BENCH_BUNDLE=bundle)
        run("poll_1ch", RF_BENCH_MODE="poll")
        run("heartbeat_1ch_quarter_conns", conns=CONNS // 4, RF_BENCH_BUNDLE=bundle)
        run("heartbeat_1ch_4x_conns", conns=CONNS * 4, RF_BENCH_BUNDLE=bundle)
        if threads == "2" and shutil.which("perf"):
            out["profile_1ch"] = profile(srv, script, dict(env, RF_BENCH_BUNDLE=bundle))
            out["profile_poll"] = profile(srv, script, dict(env, RF_BENCH_MODE="poll"))
        out["heartbeat_rows"] = int(srv.sql("SELECT count(*) FROM heartbeats")[0][0])
        out["peak_rss_kib"] = proc_kib(srv.proc.pid, "VmHWM")
        results[f"server_threads_{threads}"] = out
        if threads == "2":
            results["raw_insert"] = raw_insert(srv)
            results["agent"] = agent_figures(srv)
    finally:
        srv.cleanup()
        shutil.rmtree(srv.dir, ignore_errors=True)


def bench_http(tmp, results):
    st = stamp()
    nginx, nport = start_nginx(tmp)
    try:
        log_load("wrk nginx")
        results["nginx"] = median_of(lambda: wrk(f"http://127.0.0.1:{nport}/"))
        for threads in ("2", "32"):
            bench_server(tmp, threads, results)
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=30)
    results["http_measured"] = st


def profile(srv, script, env, secs=8):
    """Where the CPU goes while wrk sends one-channel heartbeats (prof.py)."""
    p = prof.Profile(os.path.join(srv.dir, "perf.data"))
    w = subprocess.Popen(["wrk", "-t2", f"-c{CONNS}", f"-d{secs + 4}s", "-s", script,
                          srv.url + "/"], env=env, stdout=subprocess.DEVNULL)
    time.sleep(2)
    p.start()
    time.sleep(secs)
    p.stop()
    w.wait()
    return p.report(srv.proc.pid)


def raw_insert(srv):
    """Rows/s of a raw batched INSERT (256 rows per transaction) of rows the size
    of a one-channel heartbeat."""
    srv.sql("CREATE TABLE bench_raw (device_id text, seq bigint, "
            "received_at timestamptz NOT NULL DEFAULT now(), body jsonb)")
    body = ('{"seq":1,"boot_id":"bench","uptime_s":1,"agent_version":"bench",'
            '"heartbeat_interval_s":30,"agent_restarts":0,"channels":{"content":{"bundle_id":1,'
            '"state":"committed","target_bundle_id":null,"boots":1,"unclean_shutdowns":0,'
            '"crashes":0,"local_rollbacks":0,"error":null}}}')
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


def smaps_kib(pid):
    """Pss and private (clean + dirty) KiB of pid, from /proc/PID/smaps_rollup."""
    got = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            k, _, v = line.partition(":")
            if v.strip().endswith("kB"):
                got[k] = int(v.split()[0])
    return got["Pss"], got["Private_Clean"] + got["Private_Dirty"]


def agent_figures(srv):
    """Idle agent: memory sampled every half second over two heartbeat intervals
    (its resident set changes within a cycle), CPU over the same window."""
    a = rf.Agent(srv, "bench-agent", interval=30)
    a.start()
    rf.wait_for("the agent enrolled", a.enrolled, timeout=30)
    time.sleep(5)
    t0, c0 = time.monotonic(), proc_cpu_s(a.proc.pid)
    rss, pss, priv = [], [], []
    while time.monotonic() - t0 < (65 if not QUICK else 35):
        rss.append(proc_kib(a.proc.pid, "VmRSS"))
        p, q = smaps_kib(a.proc.pid)
        pss.append(p)
        priv.append(q)
        time.sleep(0.5)
    cpu = (proc_cpu_s(a.proc.pid) - c0) / (time.monotonic() - t0)
    out = {"rss_kib": max(rss), "rss_min_kib": min(rss), "pss_kib": max(pss),
           "private_kib": max(priv), "peak_rss_kib": proc_kib(a.proc.pid, "VmHWM"),
           "idle_cpu_share": cpu}
    a.stop()
    return out


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


HTTP_ROWS = (("heartbeat", 'heartbeat ingest (2xx after commit), `"channels":{}`'),
             ("heartbeat_1ch", "heartbeat ingest, one channel (committed, no live rollout)"),
             ("poll", "assignment poll (wait=0), no channel"),
             ("poll_1ch", "assignment poll (wait=0), one channel"),
             ("heartbeat_quarter_conns", f'heartbeat ingest, {CONNS // 4} connections, `"channels":{{}}`'),
             ("heartbeat_1ch_quarter_conns", f"heartbeat ingest, {CONNS // 4} connections, one channel"),
             ("heartbeat_1ch_4x_conns", f"heartbeat ingest, {CONNS * 4} connections, one channel"))


def when(part):
    """"Measured …" for a part's stamp (see stamp())."""
    m = (part or {}).get("measured") if isinstance(part, dict) else None
    if not m:
        return "Measured: unknown."
    return (f"Measured {m['at']} by `{m['command']}`; load average of the shared machine "
            f"just before: {m['loadavg_before']:.1f}.")


def http_lines(res):
    n = res["nginx"]
    lines = ["## Requests per second against nginx (`return 204`)", "",
             when({"measured": res.get("http_measured")}), "",
             "| what | requests/s | × nginx | p50 ms | p99 ms | non-2xx |",
             "|---|---|---|---|---|---|",
             f"| nginx `return 204` | {fmt(n['rps'])} | 1.00 | {fmt(n['p50_ms'], 2)} | {fmt(n['p99_ms'], 2)} | {n['non2xx']} |"]
    for t in ("2", "32"):
        s = res.get(f"server_threads_{t}")
        for k, label in HTTP_ROWS if s else ():
            x = s.get(k)
            if x:
                lines.append(f"| {label}, `--threads {t}` | {fmt(x['rps'])} | {x['rps'] / n['rps']:.2f} | "
                             f"{fmt(x['p50_ms'], 2)} | {fmt(x['p99_ms'], 2)} | {fmt(x['non2xx'])} |")
    lines += ["", "Latency at about half the maximum load is approximated by running wrk with a "
              f"quarter of the connections ({CONNS // 4}); wrk cannot fix a request rate. A "
              "heartbeat is answered only after its batch commits, so ingest also depends on how "
              f"many are in flight: the {CONNS * 4}-connection row shows it. The "
              f"heartbeats come from {BENCH_DEVICES:,} enrolled devices in turn. "
              "`\"channels\":{}` is a heartbeat "
              "that reports no channel; \"one channel\" is the body the agent sends (agent/wire.c) "
              "for a device that runs a bundle committed, after that bundle's rollout completed, so "
              "no rollout is live: `tests/bench/hb.lua`.", ""]
    s2 = res.get("server_threads_2", {})
    lines += prof.lines(s2.get("profile_1ch"),
                        "### Profile: one-channel heartbeats, `--threads 2`, 64 connections")
    lines += prof.lines(s2.get("profile_poll"),
                        "### Profile: assignment polls, one channel, `--threads 2`, 64 connections")
    raw = res.get("raw_insert")
    if raw and s2:
        lines += ["## Heartbeat rows/s against a raw batched INSERT", "",
                  f"- raw `INSERT` of {raw['batch']} one-channel heartbeat bodies per transaction "
                  f"from one psql session: {fmt(raw['rows_per_s'])} rows/s"]
        for k, label in (("heartbeat_1ch", "one channel"), ("heartbeat", '`"channels":{}`')):
            if s2.get(k):
                r = s2[k]["rps"]
                lines.append(f"- ringfenced heartbeat ingest, {label} (`--threads 2`): {fmt(r)} "
                             f"rows/s ({r / raw['rows_per_s']:.2f}× the raw insert)")
        lines.append("")
    return lines


def longpoll_lines(lp):
    if not lp:
        return []
    n = lp["devices"]
    d = lambda v: "n/a" if v is None else f"{v / 1000:.2f} s"  # noqa: E731
    lines = [f"## Long-poll: {n:,} connected agents, then a halt", "", when(lp), "",
             f"{n:,} enrolled devices of the canary ring of an active rollout each hold "
             "`GET /v1/agent/assignment?wait=60&known=<its counter>` on one ringfenced "
             f"(`--threads {lp['server_threads']}`), one connection per device, from one client "
             "process (`tests/bench/longpoll.py`: one epoll loop over raw sockets, HTTP/1.1 "
             "keep-alive, which inside the timed window only reads and timestamps). Then the "
             "rollout is halted (`POST /v1/rollouts/ID/halt` as a release user) and every answer is "
             "checked afterwards: status 200, the device's own id, `signed.channels.content.action` "
             "`revert` for that rollout, a counter above the one it waited with (signatures are "
             "verified by the agent and the simulator, not here).", "",
             "| figure | value |", "|---|---|",
             f"| long-polls held at once (the server's `ringfence_longpoll_connections`) | "
             f"{lp['held_server']:,} of {n:,} ({lp['early_answers']} answered early) |",
             f"| server while holding them: resident memory, open fds | "
             f"{lp['server_rss_kib'] / 1024:,.0f} MiB, {lp['server_fds']:,} |",
             f"| halt request answered | {fmt(lp['halt_answer_ms'], 0)} ms (HTTP {lp['halt_status']}) |",
             f"| before: every device's first poll (uncached: queries and a counter commit each), "
             f"all at once | {fmt(lp.get('first_polls_per_s'))}/s |",
             f"| halt → all {n:,} have their revert | {d(lp['halt_to_all_reverted_ms'])} |",
             f"| per-agent delay p50 / p99 | {d(lp['delay_p50_ms'])} / {d(lp['delay_p99_ms'])} |",
             f"| answers checked, wrong or missing | {lp['reverted']:,}, {lp['bad_answers']} |",
             f"| answers that were not yet the revert (re-polled) | {lp['retries'] or 'none'} |",
             f"| client CPU in the window | {lp['client_cpu_s']:.2f} s over {lp['window_s']:.2f} s |",
             ""]
    return lines + prof.lines(lp.get("profile"), "### Profile: from the halt until the last revert")


def incident_lines(inc):
    if not inc or "scenario" not in inc:  # none, or from an older bench.py
        return []
    sc, srv = inc["scenario"], inc.get("server", {})
    can, broad = sc["rings"][0], sc["rings"][1]
    ro = [r for r in inc["rollouts"] if r["mode"] != "healthy"]
    healthy = [r for r in inc["rollouts"] if r["mode"] == "healthy"]
    env = " ".join(f"{k}={v}" for k, v in inc.get("server_env", {}).items())
    lines = [f"## Incident scenario, {inc['devices']:,} simulated devices", "", when(inc), "",
             "`ringfence-fleetsim` (one process, agent/proto.c per device) against one ringfenced "
             f"(`{env}`) and its PostgreSQL, all on the same 2 cores. Canary ring: "
             f"{can['size']:,} devices, long-polling (a connection each, as real agents do); broad "
             f"ring: {broad['size']:,} devices polling every {sc['poll_interval_s']} s with wait=0 "
             f"through a pool of {sc['max_connections']:,} connections (one process holds at most "
             f"about 19,000). Heartbeat every {sc['heartbeat_interval_s']} s ("
             + ("the agent's default: no speed-up" if sc["heartbeat_interval_s"] == 30 else
                "sped up from the agent's default of 30 s")
             + f"), health window {sc['health_window_s']} s, {sc['enroll_per_s']:,} enrollments/s "
             "at most. A healthy bundle is rolled out to every device (canary, then broad), then a "
             "bundle that reboots each device uncleanly one second after activation is started.",
             "",
             "| figure | value |", "|---|---|"]
    if inc.get("enrolled_s"):
        lines.append(f"| enrollment | {inc['enrolled']:,} devices in {inc['enrolled_s']:.0f} s |")
    if healthy and inc.get("healthy_done_s"):
        lines.append(f"| healthy rollout on every device | complete {inc['healthy_done_s']:.0f} s into "
                     f"the run; false halts {inc['false_halts']} of {inc['healthy_rollouts']} |")
    for r in ro:
        rings = ", ".join(f"{k} {v['before_halt']:,}" for k, v in r["rings"].items())
        e = r.get("exposure", {})
        lines += [f"| blast radius (installs before the halt) | {r['blast_radius']:,} devices, "
                  f"{r['blast_radius_share'] * 100:.2f} % of the fleet; by ring: {rings} |",
                  f"| installed outside the canary ring | {r['installed_outside_first_ring']:,} |",
                  f"| first install → halt seen by a device | {r['first_install_to_halt_s']:.2f} s |",
                  f"| first crash → halt seen by a device | {r.get('first_crash_to_halt_s', -1):.2f} s |",
                  f"| halt → every reachable exposed device on the previous bundle | "
                  f"{e.get('halt_to_all_reverted_s', -1):.2f} s ({e.get('reverted', 0):,} of "
                  f"{e.get('reachable', 0):,} reachable; {e.get('silent', 0)} silent; a device "
                  "that rolled back on its own before the halt counts as back) |"]
    lines += [f"| heartbeats/s | {inc['heartbeats_per_s']:,.0f} mean over the run, "
              f"{fmt(inc.get('best_30s_heartbeats_per_s'))} in the best 30 s; mean latency "
              f"{inc['heartbeat_latency_ms_avg']:,.0f} ms including the simulator's queue (at most "
              f"{inc.get('max_queued', 0):,} requests waiting for a pooled connection) |",
              f"| server | {srv.get('cpu_cores', 0):.2f} cores, peak RSS "
              f"{srv.get('peak_rss_kib', 0) / 1024:,.0f} MiB |",
              f"| PostgreSQL | {inc.get('postgres_cpu_cores', 0):.2f} cores |",
              f"| simulator | {inc['simulator_cpu_s'] / inc['elapsed_s']:.2f} cores, peak RSS "
              f"{inc.get('simulator_peak_rss_kib', 0) / 1024:,.0f} MiB |",
              f"| whole run | {inc['elapsed_s']:.0f} s |", ""]
    m = inc.get("metrics") or {}
    if m:
        lines += [f"Server side (`/metrics`): mean heartbeat batch {m.get('heartbeat_batch_mean', 0):.1f}, "
                  f"mean heartbeat answer {m.get('heartbeat_server_ms_mean', 0):.0f} ms.", ""]
    return lines + ["```", inc["sim_table"].strip(), "```", ""]


def write_doc(res):
    lines = ["# Performance", "",
             "Measured by `tests/bench/run` on this machine; every wrk figure is the median "
             f"of {RUNS} runs of {DUR} s of wrk (2 threads, {CONNS} connections) unless noted. "
             "The server is a RelWithDebInfo build against PostgreSQL 15 (fsync on) on the same "
             "machine. The parts can be run apart (`--only`, `--sim-only`): each section says when "
             "it was measured and how busy the machine, which other work shares, was just before.",
             "", f"Machine: {machine()}.", ""]
    if res.get("nginx"):
        lines += http_lines(res)
    a = res.get("agent")
    if a:
        lines += ["## Agent", "",
                  f"- resident memory after enrolment, idle: {fmt(a['rss_kib'] / 1024, 2)} MiB RSS "
                  f"at most over two heartbeat intervals"
                  + (f" (least {fmt(a['rss_min_kib'] / 1024, 2)} MiB; PSS {fmt(a['pss_kib'] / 1024, 2)} "
                     f"MiB, private {fmt(a['private_kib'] / 1024, 2)} MiB)" if "pss_kib" in a else "")
                  + f"; peak {fmt(a['peak_rss_kib'] / 1024, 2)} MiB at start-up; goal ≤ 4 MiB",
                  f"- idle CPU (heartbeat every 30 s, long-polling): {a['idle_cpu_share'] * 100:.3f} % of one core", ""]
    lines += longpoll_lines(res.get("longpoll"))
    for key in ("incident", "incident_large"):
        lines += incident_lines(res.get(key))
    lines += verdicts(res)
    lines += ["## Reproduce", "", "```",
              "tests/bench/run                               # everything, writes docs/performance.md",
              "tests/bench/run --quick                       # one run of each, smaller fleets",
              "tests/bench/run --only http,longpoll          # some parts; the others keep their figures",
              "tests/bench/run --sim-only --devices 100000   # the 100,000-device incident alone",
              "RF_BENCH_SIM_DEVICES=100000 tests/bench/run   # everything, with the 100,000 devices",
              "tests/bench/run --doc-only                    # rewrite this page from docs/performance.json",
              "```", ""]
    notes = res.get("notes") or {}
    for v in (notes.values() if isinstance(notes, dict) else [notes]):
        lines += v
    with open(os.path.join(TOP, "docs", "performance.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def share(p, comm):
    """The share (%) of all CPU samples of comm in profile p, or None."""
    if not p:
        return None
    return sum(x for x, c in p["by_command"] if c == comm)


def limit_text(p, what):
    """One generated sentence on where the CPU went in profile p."""
    if not p:
        return f"{what}: not profiled in this run (perf missing)."
    server = (share(p, "MHD-worker") or 0) + (share(p, "ringfenced") or 0)
    return (f"{what}: of all CPU samples of both cores, PostgreSQL {share(p, 'postgres') or 0:.0f} %, "
            f"ringfenced {server:.0f} %, wrk {share(p, 'wrk') or 0:.0f} %, idle "
            f"{share(p, 'swapper') or 0:.0f} % (the profile's hottest symbols are listed with it).")


def verdicts(res):
    """Goals against the figures measured, met or missed, with what limits them."""
    out = ["## Goals", ""]
    n = (res.get("nginx") or {}).get("rps")
    servers = [res[k] for k in sorted(res) if k.startswith("server_threads_")]
    if n and servers:
        def best(key):
            return max((x.get(key, {}).get("rps", 0) for x in servers), default=0) / n
        hb, hb0 = best("heartbeat_1ch"), best("heartbeat")
        po, po0 = best("poll_1ch") or best("poll"), best("poll")
        out.append(f"- heartbeat ingest ≥ 0.3× nginx: {'met' if hb >= 0.3 else 'MISSED'} "
                   f"({hb:.2f}× with one channel, as agents report; {hb0:.2f}× with "
                   '`"channels":{}`)')
        out.append(f"- assignment polls ≥ 0.7× nginx: {'met' if po >= 0.7 else 'MISSED'} "
                   f"({po:.2f}× for a device with one channel, as agents have; {po0:.2f}× for "
                   "one with none)")
    a = res.get("agent")
    if a:
        mib = a["rss_kib"] / 1024
        out.append(f"- agent memory ≤ 4 MiB: {'met' if mib <= 4 else 'MISSED'} ({mib:.2f} MiB RSS)")
    big = res.get("incident_large")
    inc = big or res.get("incident")
    for r in (inc or {}).get("rollouts", []) if "scenario" in (inc or {}) else ():
        if r["mode"] == "healthy":
            continue
        ok = r["installed_outside_first_ring"] == 0
        t = r.get("first_crash_to_halt_s", -1)
        hb = inc["heartbeat_interval_s"]
        size = f"{inc['devices']:,} devices" + ("" if big else ", not the 100,000 of the goal")
        out.append(f"- no device outside the canary ring receives the bad bundle ({size}): "
                   f"{'met' if ok else 'MISSED'} ({r['installed_outside_first_ring']} outside)")
        out.append(f"- halt within 2 heartbeat intervals ({2 * hb} s) of the first crash: "
                   f"{'met' if 0 <= t <= 2 * hb else 'MISSED'} (the first device saw the halt "
                   f"{t:.1f} s after the first crash)")
    s2 = res.get("server_threads_2") or {}
    out += ["", "What limits the figures, from the profiles measured (system-wide perf):", ""]
    out.append("- " + limit_text(s2.get("profile_1ch"), "heartbeat ingest (one channel)"))
    idle, wide = share(s2.get("profile_1ch"), "swapper"), s2.get("heartbeat_1ch_4x_conns")
    if idle and idle >= 20 and wide and s2.get("heartbeat_1ch"):
        out.append(f"  With the cores {idle:.0f} % idle, ingest waits on its commits (a heartbeat "
                   "is answered after its batch commits) more than on CPU: with "
                   f"{CONNS * 4} connections in flight instead of {CONNS} it reached "
                   f"{fmt(wide['rps'])}/s instead of {fmt(s2['heartbeat_1ch']['rps'])}/s.")
    out.append("- " + limit_text(s2.get("profile_poll"), "assignment polls (cache hits)"))
    lp = res.get("longpoll")
    if lp:
        out.append("- " + limit_text(lp.get("profile"), "the revert of every held long-poll"))
    return out + [""]


def stamp():
    """When and under which load a part was measured (the machine is shared)."""
    return {"at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "command": " ".join(["tests/bench/run"] + sys.argv[1:]),
            "loadavg_before": os.getloadavg()[0]}


def log_load(what):
    rf.log(f"{what} (load average {os.getloadavg()[0]:.2f})")


def bench_longpoll(res):
    log_load(f"long-poll, {LP_DEVICES} devices")
    st = stamp()
    r = longpoll.run(LP_DEVICES)
    r["measured"] = st
    res["longpoll"] = r
    rf.log(json.dumps(r))


def bench_sim(tmp, res):
    key = "incident_large" if SIM_DEVICES >= LARGE else "incident"
    log_load(f"incident scenario, {SIM_DEVICES} devices")
    st = stamp()
    try:
        res[key] = incident.run(tmp, SIM_DEVICES)
        res[key]["measured"] = st
        res.get("notes", {}).pop(key, None)
    except Exception as e:  # reported, not hidden: the other figures still stand
        note = [f"The {SIM_DEVICES:,}-device incident run of {st['at']} did not complete: {e}", ""]
        try:
            note += ["```", open(os.path.join(tmp, "sim.log")).read()[-3000:], "```", ""]
        except OSError:
            pass
        res.setdefault("notes", {})[key] = note


def main():
    path = os.path.join(TOP, "docs", "performance.json")
    if "--doc-only" in sys.argv:  # rewrite docs/performance.md from the last results
        with open(path) as f:
            write_doc(json.load(f))
        return
    res = {}
    if os.path.exists(path):
        with open(path) as f:
            res = json.load(f)  # the parts not run now keep their last figures
    if not isinstance(res.get("notes"), dict):
        res["notes"] = {}
    with tempfile.TemporaryDirectory(prefix="rf-bench-") as tmp:
        os.chmod(tmp, 0o755)
        if "http" in PARTS:
            bench_http(tmp, res)
        if "longpoll" in PARTS:
            bench_longpoll(res)
        if "sim" in PARTS:
            bench_sim(tmp, res)
    with open(path, "w") as f:
        json.dump(res, f, indent=2, default=str)
    write_doc(res)
    print(json.dumps({k: v for k, v in res.items() if not k.startswith("incident")}, indent=2,
                     default=str))


if __name__ == "__main__":
    main()
