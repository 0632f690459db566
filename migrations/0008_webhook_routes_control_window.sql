-- Issue 5, second part: webhooks managed through the REST API, and the
-- control group counted over each stage's window.
--
-- Webhooks: one row per receiver an admin created (POST /v1/webhooks). No
-- secret is stored: a webhook's HMAC secret is derived from the webhook
-- master key (RINGFENCE_KEYS_DIR/webhook.key, a 0600 file) and (id,
-- secret_generation); key_id names the master key that derives it (a hash of
-- the key, not the key), so an instance whose key differs never signs for
-- it. The URLs of RINGFENCE_WEBHOOK_URLS keep working beside them: their
-- deliveries have webhook_id NULL. See docs/security.md and docs/health.md.

CREATE TABLE webhooks (
    id                 bigserial PRIMARY KEY,
    url                text NOT NULL UNIQUE,
    events             text[] NOT NULL,
    description        text NOT NULL DEFAULT '',
    enabled            boolean NOT NULL DEFAULT true,
    secret_generation  integer NOT NULL DEFAULT 1,
    key_id             text NOT NULL,
    -- events with this id or a lower one are never sent (they came before the webhook)
    since_event_id     bigint NOT NULL DEFAULT 0,
    version            integer NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    created_by         text NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    updated_by         text NOT NULL
);

-- The delivery log serves both kinds: webhook_id NULL for an environment URL
-- (one row per URL and event, as before), else one row per webhook and event.
-- No foreign key: the log outlives a deleted webhook (its pending deliveries
-- are cancelled in the same transaction as the delete).
ALTER TABLE webhook_deliveries ADD COLUMN webhook_id bigint;
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_url_event_id_key;
CREATE UNIQUE INDEX webhook_deliveries_env ON webhook_deliveries (url, event_id)
    WHERE webhook_id IS NULL;
CREATE UNIQUE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, event_id)
    WHERE webhook_id IS NOT NULL;
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_state_check;
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_state_check
    CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled'));

-- The control window: when a device's report on a channel last showed a new
-- failure — a crash, unclean-shutdown or local-rollback count that changed
-- to a positive value, a failed install or rollback that appeared (or named
-- another target), or a failing report on a different bundle. NULL while the
-- report shows no failure. The evaluator counts a control device as failed
-- in a stage's window when this time lies in the window (docs/health.md).
-- A trigger keeps it, so every writer of device_channels gets it right.
ALTER TABLE device_channels ADD COLUMN last_failure_at timestamptz;
UPDATE device_channels SET last_failure_at = updated_at
    WHERE crashes > 0 OR unclean_shutdowns > 0 OR local_rollbacks > 0
       OR state IN ('install_failed', 'rolled_back');

CREATE FUNCTION rf_device_channel_failure() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT (NEW.crashes > 0 OR NEW.unclean_shutdowns > 0 OR NEW.local_rollbacks > 0
            OR NEW.state IN ('install_failed', 'rolled_back')) THEN
        NEW.last_failure_at := NULL;
    ELSIF TG_OP = 'INSERT' THEN
        NEW.last_failure_at := now();
    ELSIF OLD.last_failure_at IS NULL
          OR NEW.bundle_id IS DISTINCT FROM OLD.bundle_id
          OR (NEW.crashes > 0 AND NEW.crashes <> OLD.crashes)
          OR (NEW.unclean_shutdowns > 0 AND NEW.unclean_shutdowns <> OLD.unclean_shutdowns)
          OR (NEW.local_rollbacks > 0 AND NEW.local_rollbacks <> OLD.local_rollbacks)
          OR (NEW.state IN ('install_failed', 'rolled_back')
              AND (NEW.state IS DISTINCT FROM OLD.state
                   OR NEW.target_bundle_id IS DISTINCT FROM OLD.target_bundle_id)) THEN
        NEW.last_failure_at := now();
    END IF; -- otherwise the time stays (NEW keeps it unless a writer sets it)
    RETURN NEW;
END $$;

CREATE TRIGGER device_channels_failure BEFORE INSERT OR UPDATE ON device_channels
    FOR EACH ROW EXECUTE FUNCTION rf_device_channel_failure();
