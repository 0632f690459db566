"""Migrations and the server's start-up refusals: serve refuses a database with
a pending migration or a newer schema, naming it; migrate is idempotent; the
admin commands print what the docs promise."""
import os
import subprocess

import rf


def serve_refusal(srv):
    out = subprocess.run([os.path.join(rf.BIN, "ringfenced"), "serve", "--listen", "127.0.0.1:0"],
                         env=srv.env, capture_output=True, text=True, timeout=30)
    assert out.returncode != 0, "serve started on a database it should refuse"
    return out.stdout + out.stderr


def test(srv):
    # srv.start() has not run: the database is empty
    srv.run("key", "init")
    msg = serve_refusal(srv)
    assert "0001_initial" in msg and "pending" in msg, msg

    out = srv.run("migrate")
    assert srv.sql("SELECT version, name FROM rf_schema_migrations") == [["1", "initial"]]
    out = srv.run("migrate")  # again: nothing to do, nothing applied twice
    assert srv.sql("SELECT count(*) FROM rf_schema_migrations") == [["1"]], out

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

    # key show prints a PEM public key, and key init leaves an existing key alone
    pem = srv.run("key", "show").stdout
    assert pem.startswith("-----BEGIN PUBLIC KEY-----"), pem
    srv.run("key", "init")
    assert srv.run("key", "show").stdout == pem
    st = os.stat(os.path.join(srv.keys, "signing.pem"))
    assert st.st_mode & 0o077 == 0, oct(st.st_mode)

    # now it starts, and is ready
    srv.start()
    r = srv.http("GET", "/readyz", token=None)
    assert r.status == 200, r


if __name__ == "__main__":
    rf.main(test, defer_start=True)
