"""Helpers for the tests that run tuf-js, an off-the-shelf TUF client, against
ringfenced's repository: installing it from npm (once, under a lock, since
tests run in parallel), running tuf-js/client.js, and the few TUF operations a
test needs to build an attacker's metadata (canonical JSON, keyids, Ed25519
signatures through the openssl command line). Test-only code."""
import base64
import fcntl
import hashlib
import json
import os
import subprocess
import tempfile

import rf

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tuf-js")
LOCK = os.path.join(tempfile.gettempdir(), "ringfence-tuf-js-npm.lock")


def ensure_installed():
    """npm install --no-audit --no-fund in tests/integration/tuf-js, unless tuf-js 5.x is there."""
    pkg = os.path.join(NODE_DIR, "node_modules", "tuf-js", "package.json")
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if os.path.exists(pkg) and json.load(open(pkg))["version"].startswith("5."):
                return
            out = subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                                 capture_output=True, text=True, timeout=600)
            if out.returncode != 0:
                raise AssertionError(f"npm install of tuf-js failed: {out.stdout}\n{out.stderr}")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    rf.log("tuf-js", json.load(open(pkg))["version"], "ready; node", subprocess.run(
        ["node", "--version"], capture_output=True, text=True).stdout.strip())


def run(base_url, root_file, state_dir, target=None, expect=None):
    """Runs tuf-js against base_url (…/tuf/metadata and …/tuf/targets); returns its JSON answer."""
    args = ["node", os.path.join(NODE_DIR, "client.js"),
            "--metadata-url", base_url + "/tuf/metadata",
            "--targets-url", base_url + "/tuf/targets",
            "--root", root_file, "--dir", state_dir]
    if target:
        args += ["--target", target]
    if expect:
        args += ["--expect", expect]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120)
    lines = out.stdout.strip().splitlines()
    if out.returncode not in (0, 3) or not lines:
        raise AssertionError(f"tuf-js client crashed ({out.returncode}): {out.stdout}{out.stderr}")
    res = json.loads(lines[-1])
    assert res["ok"] == (out.returncode == 0), res
    return res


def expect_ok(base_url, root_file, state_dir, **kw):
    res = run(base_url, root_file, state_dir, **kw)
    assert res["ok"], f"tuf-js refused a good repository: {res}"
    return res


def expect_refused(what, base_url, root_file, state_dir, *needles, **kw):
    """tuf-js must refuse, with one of needles in its error."""
    res = run(base_url, root_file, state_dir, **kw)
    assert not res["ok"], f"{what}: tuf-js accepted it: {res}"
    text = f"{res.get('type')}: {res.get('error')}"
    assert any(n.lower() in text.lower() for n in needles), f"{what}: unexpected refusal {text}"
    rf.log(f"refused ({what}):", text)
    return res


# ---- TUF pieces for building an attacker's metadata ----

def canonical(obj):
    """OLPC canonical JSON, as TUF signs it (the repository's values are plain)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def keyid(public_hex):
    return hashlib.sha256(canonical({"keytype": "ed25519", "scheme": "ed25519",
                                     "keyval": {"public": public_hex}})).hexdigest()


def new_key(path):
    """An Ed25519 key pair at path (PEM); returns its public key as hex."""
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", path], check=True,
                   capture_output=True)
    return public_hex(path)


def public_hex(path):
    der = subprocess.run(["openssl", "pkey", "-in", path, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return der[-32:].hex()


def sign(path, signed):
    """{"keyid", "sig"} over the canonical form of signed, by the key at path."""
    with tempfile.NamedTemporaryFile() as f:
        f.write(canonical(signed))
        f.flush()
        sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", path, "-rawin", "-in", f.name],
                             check=True, capture_output=True).stdout
    return {"keyid": keyid(public_hex(path)), "sig": sig.hex()}


def envelope(signed, signatures):
    return canonical({"signatures": signatures, "signed": signed})


def verify(public_hex, signed, sig_hex):
    """True when sig_hex is public_hex's Ed25519 signature over canonical(signed)."""
    der = bytes.fromhex("302a300506032b6570032100" + public_hex)
    pem = ("-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(der).decode() +
           "\n-----END PUBLIC KEY-----\n")
    with tempfile.TemporaryDirectory() as d:
        for name, data in (("k.pem", pem.encode()), ("m", canonical(signed)),
                           ("s", bytes.fromhex(sig_hex))):
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        out = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                              os.path.join(d, "k.pem"), "-rawin", "-in", os.path.join(d, "m"),
                              "-sigfile", os.path.join(d, "s")], capture_output=True, text=True)
    return out.returncode == 0
