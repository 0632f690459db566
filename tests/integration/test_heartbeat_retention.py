"""Raw heartbeats live in daily partitions with a retention: the server keeps
today's and the next two days' partitions created; with a retention of one
day it drops older partitions, their idempotency keys and old rows in the
DEFAULT partition, while recent heartbeats stay and a repeated (device, seq)
is still a duplicate."""
import rf


def enroll(srv):
    r = srv.http("POST", "/v1/agent/enroll", token=rf.ENROLL_KEY,
                 body={"hostname": "fake-retention", "labels": {"ring": "canary"}})
    assert r.status == 201, r
    return r.json


def heartbeat(srv, dev, seq):
    ch = {"bundle_id": None, "state": "idle", "target_bundle_id": None, "boots": 1,
          "unclean_shutdowns": 0, "crashes": 0, "local_rollbacks": 0, "error": None}
    body = {"seq": seq, "boot_id": "boot-1", "uptime_s": 100 + seq, "heartbeat_interval_s": 600,
            "agent_version": "test", "channels": {"content": ch}}
    return srv.http("POST", "/v1/agent/heartbeat", token=dev["token"], body=body)


def partitions(srv):
    return sorted(r[0] for r in srv.sql(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'heartbeats'::regclass"))


def day_name(srv, offset):
    return srv.sql(f"SELECT 'heartbeats_p' || to_char((now() AT TIME ZONE 'UTC')::date "
                   f"+ {offset}, 'YYYYMMDD')")[0][0]


def test(srv):
    # the coming partitions exist once the server has started
    ahead = [day_name(srv, d) for d in range(3)]
    rf.wait_for("partitions ahead", lambda: all(n in partitions(srv) for n in ahead))
    assert "heartbeats_default" in partitions(srv), partitions(srv)

    dev = enroll(srv)
    did = dev["device_id"]
    for seq in (1, 2, 3):
        r = heartbeat(srv, dev, seq)
        assert r.status == 200 and r.json == {"seq": seq, "duplicate": False}, r
    again = heartbeat(srv, dev, 2)
    assert again.status == 200 and again.json["duplicate"] is True, again
    recent = srv.sql("SELECT seq FROM heartbeats WHERE device_id = :'v1' ORDER BY seq", did)
    assert recent == [["1"], ["2"], ["3"]], recent
    # they went into today's partition, not the DEFAULT one
    assert srv.sql(f"SELECT count(*) FROM {ahead[0]}") == [["3"]]

    # old rows, written straight into old partitions (and the DEFAULT one)
    old = [day_name(srv, -d) for d in (10, 3)]
    for d in (10, 3):
        srv.sql(f"SELECT rf_heartbeat_partition_ensure('{day_name(srv, -d)}', "
                f"date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '{d} days', "
                f"date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '{d - 1} days')")
    for seq, age in ((100, "10 days"), (101, "3 days"), (102, "20 days")):
        srv.sql("INSERT INTO heartbeat_keys (device_id, seq, received_at) "
                f"VALUES (:'v1', {seq}, now() - interval '{age}')", did)
        srv.sql("INSERT INTO heartbeats (device_id, seq, received_at, body) "
                f"VALUES (:'v1', {seq}, now() - interval '{age}', '{{}}')", did)
    assert all(n in partitions(srv) for n in old), partitions(srv)
    assert srv.sql("SELECT count(*) FROM heartbeats_default WHERE seq = 102") == [["1"]]
    # an old (device, seq) still counts as a duplicate while kept
    assert heartbeat(srv, dev, 100).json["duplicate"] is True

    # maintenance runs at start: restart the server
    srv.crash_and_restart()
    rf.wait_for("old partitions dropped", lambda: not any(n in partitions(srv) for n in old))
    rf.wait_for("old keys dropped", lambda: srv.sql(
        "SELECT count(*) FROM heartbeat_keys WHERE seq >= 100") == [["0"]])
    assert srv.sql("SELECT count(*) FROM heartbeats WHERE seq >= 100") == [["0"]]
    assert all(n in partitions(srv) for n in ahead), partitions(srv)
    assert "heartbeats_default" in partitions(srv)

    # recent heartbeats and idempotency stay
    recent = srv.sql("SELECT seq FROM heartbeats WHERE device_id = :'v1' ORDER BY seq", did)
    assert recent == [["1"], ["2"], ["3"]], recent
    again = heartbeat(srv, dev, 3)
    assert again.status == 200 and again.json["duplicate"] is True, again
    r = heartbeat(srv, dev, 4)
    assert r.status == 200 and r.json == {"seq": 4, "duplicate": False}, r
    assert srv.sql("SELECT count(*) FROM heartbeats WHERE device_id = :'v1'", did) == [["4"]]
    assert srv.sql("SELECT count(*) FROM heartbeat_keys WHERE device_id = :'v1'", did) == [["4"]]


if __name__ == "__main__":
    rf.main(test, extra_env={"RINGFENCE_HEARTBEAT_RETENTION_DAYS": "1"})
