"""System-wide CPU profiles for the benchmark (perf, when installed): what
limits a figure is shown as measured shares of the CPU samples, by command and
by hottest symbols of ringfenced and PostgreSQL, never guessed."""
import os
import re
import shutil
import signal
import subprocess


class Profile:
    """perf record -a from start() until stop(); report() summarises it."""

    def __init__(self, path, freq=499):
        self.path = path
        self.freq = freq
        self.proc = None

    def start(self):
        if not shutil.which("perf"):
            return self
        self.proc = subprocess.Popen(["perf", "record", "-a", "-F", str(self.freq), "-o", self.path],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=120)
        return self

    def _report(self, *args):
        out = subprocess.run(["perf", "report", "-i", self.path, "--stdio", "--percent-limit",
                              "0.5", *args], capture_output=True, text=True, timeout=600).stdout
        rows = []
        for line in out.splitlines():
            m = re.match(r"\s*([\d.]+)%\s+(.*\S)", line)
            if m and not line.lstrip().startswith("#"):
                rows.append([float(m.group(1)), re.sub(r"\s+", " ", m.group(2))])
        return rows

    def report(self, server_pid, top=10):
        """{"by_command": [[share %, comm]], "ringfenced": [[share % of its
        samples, dso symbol]], "postgres": [...]} or None without perf. The
        server's threads (libmicrohttpd names its own "MHD-worker") are
        picked by server_pid."""
        if not self.proc or not os.path.exists(self.path):
            return None
        res = {"by_command": self._report("--sort", "comm")[:top],
               "ringfenced": self._report("--sort", "dso,sym", "--percentage", "relative",
                                          "--pid", str(server_pid))[:top],
               "postgres": self._report("--sort", "dso,sym", "--percentage", "relative",
                                        "--comms", "postgres")[:top]}
        os.unlink(self.path)
        return res


def lines(p, title):
    """Markdown lines for a profile (None: nothing)."""
    if not p:
        return []
    out = [title, "",
           "- CPU samples by command (`MHD-worker` and `ringfenced` are the server's threads, "
           "`swapper` is idle): "
           + ", ".join(f"{c} {s:.0f} %" for s, c in p["by_command"] if s >= 1)]
    for k in ("ringfenced", "postgres"):
        if p.get(k):
            out.append(f"- hottest in {k} (share of its samples): "
                       + ", ".join(f"`{c.split(' ', 1)[-1]}` {s:.1f} %" for s, c in p[k][:6]))
    return out + [""]
