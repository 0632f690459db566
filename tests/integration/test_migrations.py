"""Migrations and the server's start-up refusals: serve refuses a database with
a pending migration or a newer schema, naming it, and a database without a TUF
root or with online keys its root does not name; migrate is idempotent; the
admin commands print what the docs promise."""
import json
import os
import shutil
import subprocess

import rf


def serve_refusal(srv):
    out = subprocess.run([os.path.join(rf.BIN, "ringfenced"), "serve", "--listen", "127.0.0.1:0"],
                         env=srv.env, capture_output=True, text=True, timeout=30)
    assert out.returncode != 0, "serve started on a database it should refuse"
    return out.stdout + out.stderr


def test(srv):
    # srv.start() has not run: the database is empty
    root_keys = os.path.join(srv.dir, "root-keys")
    out = srv.run("keys", "init", "--out", root_keys, check=False)
    assert out.returncode != 0 and "migrate" in out.stderr, out  # keys live in the database too
    msg = serve_refusal(srv)
    assert "0001_initial" in msg and "pending" in msg, msg

    out = srv.run("migrate")
    migrations = srv.sql("SELECT version, name FROM rf_schema_migrations ORDER BY version")
    assert migrations[:2] == [["1", "initial"], ["2", "tuf"]], migrations
    out = srv.run("migrate")  # again: nothing to do, nothing applied twice
    assert srv.sql("SELECT count(*) FROM rf_schema_migrations") == [[str(len(migrations))]], out

    # a database migrated by a newer binary
    srv.sql("INSERT INTO rf_schema_migrations (version, name) VALUES (9999, 'from_the_future')")
    msg = serve_refusal(srv)
    assert "newer" in msg and "9999" in msg, msg
    srv.sql("DELETE FROM rf_schema_migrations WHERE version = 9999")

    # token create: the token alone on the last line, only its hash stored
    out = srv.run("token", "create", "--role", "viewer", "--name", "grafana")
    token = out.stdout.strip().splitlines()[-1]
    assert token.startswith("rfu_") and " " not in token, out.stdout
    rows = srv.sql("SELECT token_hash = sha256(convert_to(:'v1', 'UTF8')), "
                   "position(convert_to(:'v1', 'UTF8') in token_hash) FROM tokens WHERE name = 'grafana'", token)
    assert rows == [["t", "0"]], f"tokens must hold SHA-256 of the token and never the token: {rows}"
    bad = srv.run("token", "create", "--role", "root", "--name", "x", check=False)
    assert bad.returncode != 0 and "role" in (bad.stderr + bad.stdout), bad
    dup = srv.run("token", "create", "--role", "viewer", "--name", "grafana", check=False)
    assert dup.returncode != 0 and "grafana" in (dup.stderr + dup.stdout), dup

    # serve refuses without online keys and without a root
    msg = serve_refusal(srv)
    assert "keys init" in msg, msg
    # the old single-key commands are gone, and say where to look
    old = srv.run("key", "init", check=False)
    assert old.returncode == 2 and "keys" in old.stderr, old
    bad = srv.run("keys", "init", "--out", root_keys, "--root-keys", "2", "--threshold", "3",
                  check=False)
    assert bad.returncode == 2 and "--threshold" in bad.stderr, bad
    assert not os.path.exists(root_keys)

    # keys init: root keys (0600) and 1.root.json in --out, online keys in the keys dir
    out = srv.run("keys", "init", "--out", root_keys, "--root-keys", "3", "--threshold", "2")
    assert "root version 1" in out.stdout, out.stdout
    for name in ("root-1.pem", "root-2.pem", "root-3.pem"):
        assert os.stat(os.path.join(root_keys, name)).st_mode & 0o077 == 0, name
    for name in ("targets.pem", "snapshot.pem", "timestamp.pem", "director.pem"):
        assert os.stat(os.path.join(srv.keys, name)).st_mode & 0o077 == 0, name
    assert "PRIVATE" not in out.stdout + out.stderr
    root = srv.run("keys", "show-root").stdout
    assert root == open(os.path.join(root_keys, "1.root.json")).read()
    signed = json.loads(root)["signed"]
    assert signed["_type"] == "root" and signed["version"] == 1, signed
    # again: nothing changes
    again = srv.run("keys", "init", "--out", os.path.join(srv.dir, "elsewhere"))
    assert "initialised already" in again.stdout and srv.run("keys", "show-root").stdout == root
    assert not os.path.exists(os.path.join(srv.dir, "elsewhere"))

    # online keys that the root does not name: serve refuses, naming the key
    saved = os.path.join(srv.dir, "saved-keys")
    shutil.copytree(srv.keys, saved)
    os.remove(os.path.join(srv.keys, "timestamp.pem"))
    shutil.copy(os.path.join(root_keys, "root-1.pem"), os.path.join(srv.keys, "timestamp.pem"))
    msg = serve_refusal(srv)
    assert "timestamp.pem" in msg and "not a timestamp key of root version 1" in msg, msg
    shutil.rmtree(srv.keys)
    shutil.copytree(saved, srv.keys)

    # now it starts (srv.start runs keys init again: a no-op), and is ready
    srv.start()
    r = srv.http("GET", "/readyz", token=None)
    assert r.status == 200, r


if __name__ == "__main__":
    rf.main(test, defer_start=True)
