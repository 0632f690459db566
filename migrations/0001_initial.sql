-- ringfence initial schema. Applied by `ringfenced migrate` in one transaction;
-- the migration runner itself creates and fills rf_schema_migrations.

CREATE TABLE tokens (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    role        text NOT NULL CHECK (role IN ('viewer', 'release', 'admin')),
    token_hash  bytea NOT NULL UNIQUE,          -- SHA-256 of the token
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TABLE devices (
    id               text PRIMARY KEY,           -- 32 hex digits
    token_hash       bytea NOT NULL UNIQUE,
    hostname         text NOT NULL DEFAULT '',
    labels           jsonb NOT NULL DEFAULT '{}',
    bucket           integer NOT NULL CHECK (bucket BETWEEN 0 AND 9999),
    enrolled_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz,
    last_seq         bigint NOT NULL DEFAULT 0,
    boot_id          text,
    heartbeat_interval_s integer NOT NULL DEFAULT 60,
    -- the signed assignment last served: counter only grows
    assign_counter   bigint NOT NULL DEFAULT 0,
    assign_digest    text NOT NULL DEFAULT ''
);

-- What each device reports per channel (latest heartbeat wins).
CREATE TABLE device_channels (
    device_id          text NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    channel            text NOT NULL,
    bundle_id          bigint,
    state              text NOT NULL,
    target_bundle_id   bigint,
    boots              integer NOT NULL DEFAULT 0,
    unclean_shutdowns  integer NOT NULL DEFAULT 0,
    crashes            integer NOT NULL DEFAULT 0,
    local_rollbacks    integer NOT NULL DEFAULT 0,
    error              text,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, channel)
);

CREATE TABLE bundles (
    id          bigserial PRIMARY KEY,
    channel     text NOT NULL,
    name        text NOT NULL,
    version     text NOT NULL,
    sha256      text NOT NULL,
    length      bigint NOT NULL,
    content     bytea NOT NULL,
    metadata    jsonb NOT NULL,                  -- the signed envelope, stored as served
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL,
    UNIQUE (channel, name, version)
);

CREATE TABLE rings (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    ord         integer NOT NULL UNIQUE,
    labels      jsonb NOT NULL DEFAULT '{}',
    bucket_lo   integer NOT NULL DEFAULT 0 CHECK (bucket_lo BETWEEN 0 AND 9999),
    bucket_hi   integer NOT NULL DEFAULT 9999 CHECK (bucket_hi BETWEEN 0 AND 9999),
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (bucket_lo <= bucket_hi)
);

CREATE TABLE rollouts (
    id                  bigserial PRIMARY KEY,
    bundle_id           bigint NOT NULL REFERENCES bundles(id),
    channel             text NOT NULL,
    state               text NOT NULL CHECK (state IN
                          ('draft', 'active', 'paused', 'halted', 'reverted', 'completed')),
    stage               integer NOT NULL DEFAULT -1,
    previous_bundle_id  bigint REFERENCES bundles(id),
    policy              jsonb NOT NULL,
    halt                jsonb,
    version             integer NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text NOT NULL,
    started_at          timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
-- One live rollout per channel, enforced by the database itself.
CREATE UNIQUE INDEX rollouts_one_live_per_channel ON rollouts (channel)
    WHERE state IN ('active', 'paused', 'halted');

CREATE TABLE rollout_stages (
    rollout_id    bigint NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
    idx           integer NOT NULL,
    ring_id       bigint NOT NULL REFERENCES rings(id),
    state         text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'active', 'done', 'halted')),
    bake_s        integer NOT NULL DEFAULT 0,
    auto_promote  boolean NOT NULL DEFAULT false,
    started_at    timestamptz,
    PRIMARY KEY (rollout_id, idx)
);

-- One row per device exposed to a rollout: the unit the health evaluator counts.
-- A device counts once per rollout however many reports it sends.
CREATE TABLE exposures (
    rollout_id     bigint NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
    device_id      text NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    stage          integer NOT NULL,
    exposed_at     timestamptz NOT NULL DEFAULT now(),
    activated_at   timestamptz,
    healthy_at     timestamptz,
    failed_at      timestamptz,
    failure        text,                        -- unclean_boot, crash, install_failed, rolled_back, silent
    PRIMARY KEY (rollout_id, device_id)
);
CREATE INDEX exposures_open ON exposures (rollout_id) WHERE failed_at IS NULL;

-- Raw heartbeats, idempotent by (device, seq).
CREATE TABLE heartbeats (
    device_id    text NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    seq          bigint NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    body         jsonb NOT NULL,
    PRIMARY KEY (device_id, seq)
);

CREATE TABLE events (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL,
    actor       text NOT NULL,
    rollout_id  bigint,
    device_id   text,
    data        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_rollout ON events (rollout_id, id);
