-- Webhooks (issue 5): one row per (configured URL, event) to deliver. Every
-- server instance queues halts and reverts for its configured URLs (a
-- conflict means another instance queued it first) and delivers what is due,
-- leasing rows so that each delivery attempt is made by one instance. The
-- table is the delivery log: GET /v1/webhooks/deliveries reads it.

CREATE TABLE webhook_deliveries (
    id               bigserial PRIMARY KEY,
    url              text NOT NULL,
    event_id         bigint NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    kind             text NOT NULL,
    payload          jsonb NOT NULL,
    state            text NOT NULL DEFAULT 'pending'
                         CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_status      integer,            -- HTTP status of the last attempt (NULL: no answer)
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    UNIQUE (url, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
