-- Raw heartbeats in daily partitions with a retention. Idempotency by
-- (device, seq) moves to the small heartbeat_keys table, which every insert
-- claims first; heartbeats keeps its name and columns but is partitioned by
-- received_at (UTC days), with a DEFAULT partition so that a heartbeat whose
-- day has no partition yet is never lost.
CREATE TABLE heartbeat_keys (
    device_id    text NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    seq          bigint NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX heartbeat_keys_received ON heartbeat_keys (received_at);

ALTER TABLE heartbeats RENAME TO heartbeats_unpartitioned;

CREATE TABLE heartbeats (
    device_id    text NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    seq          bigint NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    body         jsonb NOT NULL
) PARTITION BY RANGE (received_at);
CREATE INDEX heartbeats_device_seq ON heartbeats (device_id, seq);
CREATE TABLE heartbeats_default PARTITION OF heartbeats DEFAULT;

INSERT INTO heartbeat_keys (device_id, seq, received_at)
    SELECT device_id, seq, received_at FROM heartbeats_unpartitioned;
INSERT INTO heartbeats (device_id, seq, received_at, body)
    SELECT device_id, seq, received_at, body FROM heartbeats_unpartitioned;
DROP TABLE heartbeats_unpartitioned;

-- Creates the partition NAME for [lo, hi) unless it exists. Rows of that range
-- already in the DEFAULT partition move into it, so creating it never fails
-- and never loses one. Serialized across servers by a transaction-scoped
-- advisory lock; the caller runs it inside a transaction.
CREATE FUNCTION rf_heartbeat_partition_ensure(name text, lo timestamptz, hi timestamptz)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF name !~ '^heartbeats_p[0-9]{8}$' THEN
        RAISE EXCEPTION 'bad heartbeat partition name %', name;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('ringfence.heartbeat_partitions'));
    IF to_regclass(format('public.%I', name)) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I (LIKE heartbeats INCLUDING DEFAULTS)', name);
    EXECUTE format('WITH moved AS (DELETE FROM heartbeats_default WHERE received_at >= %L '
                   'AND received_at < %L RETURNING device_id, seq, received_at, body) '
                   'INSERT INTO %I (device_id, seq, received_at, body) SELECT * FROM moved',
                   lo, hi, name);
    EXECUTE format('ALTER TABLE heartbeats ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                   name, lo, hi);
    RETURN true;
END $$;

-- Drops the partition NAME if it is one of heartbeats' (the caller deletes the
-- keys and DEFAULT-partition rows of the same days).
CREATE FUNCTION rf_heartbeat_partition_drop(name text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF name !~ '^heartbeats_p[0-9]{8}$' THEN
        RAISE EXCEPTION 'bad heartbeat partition name %', name;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('ringfence.heartbeat_partitions'));
    IF EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
               WHERE i.inhparent = 'heartbeats'::regclass AND c.relname = name) THEN
        EXECUTE format('DROP TABLE IF EXISTS %I', name);
    END IF;
END $$;
