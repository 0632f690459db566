-- Rings, staged plans and release-engineer control: explicit ring members and
-- start windows, per-stage share/gates/approval, a salt per rollout, channel
-- default plans, pins (hold at a bundle) and exclusions.

ALTER TABLE rings
    ADD COLUMN members       text[]  NOT NULL DEFAULT '{}',  -- device ids, sorted
    ADD COLUMN members_only  boolean NOT NULL DEFAULT false, -- select members and nobody else
    ADD COLUMN windows       jsonb   NOT NULL DEFAULT '[]';  -- [{"days": [...], "hours": [from, to]}]

-- The salt orders devices within a ring (rf_bucket_salted); older rollouts
-- get their id, which is as good as any fixed value.
ALTER TABLE rollouts ADD COLUMN salt text NOT NULL DEFAULT '';
UPDATE rollouts SET salt = id::text WHERE salt = '';

ALTER TABLE rollout_stages
    ADD COLUMN percent           integer NOT NULL DEFAULT 100 CHECK (percent BETWEEN 1 AND 100),
    ADD COLUMN min_healthy       integer NOT NULL DEFAULT 0 CHECK (min_healthy >= 0),
    ADD COLUMN max_failure_rate  double precision          -- NULL: the rollout policy's
        CHECK (max_failure_rate IS NULL OR (max_failure_rate > 0 AND max_failure_rate <= 1)),
    ADD COLUMN require_approval  boolean NOT NULL DEFAULT false,
    ADD COLUMN approved_by       text,
    ADD COLUMN approved_at       timestamptz,
    -- The share cut, fixed when the stage starts: a device of the ring is in
    -- the stage when (salted bucket, device id) <= (cut_bucket, cut_device).
    -- NULL while pending, or when the ring was empty at the start.
    ADD COLUMN cut_bucket        integer,
    ADD COLUMN cut_device        text;

-- A channel's default plan, used when a rollout is created without stages.
CREATE TABLE channel_plans (
    channel     text PRIMARY KEY,
    stages      jsonb NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL
);

-- Holds one device, or every device of a ring, at one bundle of a channel.
CREATE TABLE pins (
    id          bigserial PRIMARY KEY,
    channel     text NOT NULL,
    device_id   text REFERENCES devices(id) ON DELETE CASCADE,
    ring_id     bigint REFERENCES rings(id) ON DELETE CASCADE,
    bundle_id   bigint NOT NULL REFERENCES bundles(id),
    reason      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL,
    CHECK ((device_id IS NULL) <> (ring_id IS NULL))
);
CREATE UNIQUE INDEX pins_one_per_device ON pins (device_id, channel) WHERE device_id IS NOT NULL;
CREATE UNIQUE INDEX pins_one_per_ring ON pins (ring_id, channel) WHERE ring_id IS NOT NULL;

-- Devices kept out of every rollout.
CREATE TABLE exclusions (
    device_id   text PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    reason      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL
);
