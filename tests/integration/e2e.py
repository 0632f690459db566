"""Helpers for the tests that run off-the-shelf Node tools from tests/e2e
(playwright-core with Debian's Chromium, @redocly/cli, ajv): installing them
from npm with `npm ci` (once, under a lock, since tests run in parallel) into
tests/e2e/node_modules (git-ignored), and running a Node script there that
prints one JSON line. Test-only code."""
import fcntl
import hashlib
import json
import os
import subprocess
import tempfile

import rf

E2E_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e")
E2E_DIR = os.path.normpath(E2E_DIR)
LOCK = os.path.join(tempfile.gettempdir(), "ringfence-e2e-npm.lock")
STAMP = os.path.join(E2E_DIR, "node_modules", ".ringfence-lock-sha256")


def ensure_installed():
    """npm ci in tests/e2e unless node_modules matches package-lock.json already."""
    with open(os.path.join(E2E_DIR, "package-lock.json"), "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if os.path.exists(STAMP) and open(STAMP).read().strip() == want:
                return
            out = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                                 cwd=E2E_DIR, capture_output=True, text=True, timeout=600)
            if out.returncode != 0:
                raise AssertionError(f"npm ci in tests/e2e failed: {out.stdout}\n{out.stderr}")
            with open(STAMP, "w") as f:
                f.write(want + "\n")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    rf.log("tests/e2e npm packages ready")


def output_dir(name):
    """A directory for a test's kept output (screenshots) under the build dir."""
    d = os.path.join(os.path.abspath(rf.BUILD), "test-output", name)
    os.makedirs(d, exist_ok=True)
    return d


def node(script, *args, timeout=120):
    """Runs node tests/e2e/SCRIPT ARGS…; returns its last stdout line as JSON."""
    out = subprocess.run(["node", os.path.join(E2E_DIR, script), *args], cwd=E2E_DIR,
                         capture_output=True, text=True, timeout=timeout)
    lines = out.stdout.strip().splitlines()
    try:
        res = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise AssertionError(f"{script} crashed ({out.returncode}): {out.stdout}\n{out.stderr}")
    if out.returncode != 0 or not res.get("ok"):
        raise AssertionError(f"{script} failed ({out.returncode}):\n"
                             + json.dumps(res, indent=1) + "\n" + out.stderr[-3000:])
    return res
