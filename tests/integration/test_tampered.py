"""(e) A bundle tampered with on the server side — its bytes, or the signature
of the TUF targets metadata that lists it — is refused by the agent: nothing is
installed, and the refusal is reported."""
import rf


def test(srv):
    srv.default_rings()
    fleet = rf.Fleet(srv, canary=2, broad=0).start()

    b_bytes = srv.push(b"original content bytes\n" * 50, channel="content", version="1")
    b_sig = srv.push(b"original driver bytes\n" * 50, channel="driver", version="1")

    def refused(channel):
        ev = [e for e in srv.events() if e["kind"] == "device.verify_failed"]
        seen = {(e["device_id"], (e.get("data") or {}).get("channel")) for e in ev}
        return {(a.device_id, channel) for a in fleet.canary} <= seen

    def start(bundle):
        rid = int(srv.cli("rollout", "create", "--bundle", str(bundle), "--max-failure-rate", "1",
                          "--min-failed", "99", token="release").stdout)
        srv.cli("rollout", "start", str(rid), token="release")

    # bytes changed in storage (same length, so only the hash can tell)
    srv.sql("UPDATE bundles SET content = overlay(content placing 'X'::bytea from 5) WHERE id = :'v1'", b_bytes)
    start(b_bytes)
    rf.wait_for("every agent to refuse the changed bytes", lambda: refused("content"), timeout=40)

    # the newest targets metadata's signature changed in storage: flip its
    # first hex digit (the snapshot lists the version only, so only the
    # signature check can tell)
    srv.sql("UPDATE tuf_metadata SET body = regexp_replace(body, '\"sig\":\"(.)', "
            "CASE WHEN substring(body from '\"sig\":\"(.)') = '0' THEN '\"sig\":\"1' "
            "ELSE '\"sig\":\"0' END) "
            "WHERE role = 'targets' AND version = (SELECT max(version) FROM tuf_metadata "
            "WHERE role = 'targets')")
    start(b_sig)
    rf.wait_for("every agent to refuse the bad signature", lambda: refused("driver"), timeout=40)

    for a in fleet.canary:
        assert a.hook_calls() == [], (a.name, a.hook_calls())  # nothing installed
        assert a.running("content") is None and a.running("driver") is None
        st = srv.http("GET", f"/v1/devices/{a.device_id}", token="viewer").json["channels"]
        assert st["content"]["state"] == "verify_failed", st
        assert st["driver"]["state"] == "verify_failed", st
        assert "sha256" in st["content"]["error"], st
        assert "signature" in st["driver"]["error"], st
        with open(a.log_path) as f:
            text = f.read()
        assert "sha256" in text.lower() or "hash" in text.lower(), "no log line about the hash mismatch"
        assert "signature" in text.lower(), "no log line about the bad signature"


if __name__ == "__main__":
    rf.main(test)
