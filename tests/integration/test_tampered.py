"""(e) A bundle tampered with on the server side — its bytes, or its signature —
is refused by the agent: nothing is installed, and the refusal is reported."""
import rf


def test(srv):
    srv.default_rings()
    fleet = rf.Fleet(srv, canary=2, broad=0).start()
    a_bytes, a_sig = fleet.canary

    b_bytes = srv.push(b"original content bytes\n" * 50, channel="content", version="1")
    b_sig = srv.push(b"original driver bytes\n" * 50, channel="driver", version="1")
    # bytes changed in storage (same length, so only the hash can tell)
    srv.sql("UPDATE bundles SET content = overlay(content placing 'X'::bytea from 5) WHERE id = :'v1'", b_bytes)
    # signature changed in storage: flip the first hex digit of the signature
    srv.sql("UPDATE bundles SET metadata = jsonb_set(metadata, '{signatures,0,sig}', "
            "to_jsonb(CASE WHEN left(metadata#>>'{signatures,0,sig}', 1) = '0' THEN '1' ELSE '0' END "
            "|| substr(metadata#>>'{signatures,0,sig}', 2))) WHERE id = :'v1'", b_sig)

    r1 = int(srv.cli("rollout", "create", "--bundle", str(b_bytes), "--max-failure-rate", "1",
                     "--min-failed", "99", token="release").stdout)
    r2 = int(srv.cli("rollout", "create", "--bundle", str(b_sig), "--max-failure-rate", "1",
                     "--min-failed", "99", token="release").stdout)
    srv.cli("rollout", "start", str(r1), token="release")
    srv.cli("rollout", "start", str(r2), token="release")

    def refusals():
        ev = [e for e in srv.events() if e["kind"] == "device.verify_failed"]
        seen = {(e["device_id"], (e.get("data") or {}).get("channel")) for e in ev}
        want = {(a.device_id, ch) for a in fleet.canary for ch in ("content", "driver")}
        return want <= seen
    rf.wait_for("every agent to report both refusals", refusals, timeout=40)

    for a in fleet.canary:
        assert a.hook_calls() == [], (a.name, a.hook_calls())  # nothing installed
        assert a.running("content") is None and a.running("driver") is None
        st = srv.http("GET", f"/v1/devices/{a.device_id}", token="viewer").json["channels"]
        assert st["content"]["state"] == "verify_failed", st
        assert st["driver"]["state"] == "verify_failed", st
        with open(a.log_path) as f:
            text = f.read()
        assert "sha256" in text.lower() or "hash" in text.lower(), "no log line about the hash mismatch"
        assert "signature" in text.lower(), "no log line about the bad signature"


if __name__ == "__main__":
    rf.main(test)
