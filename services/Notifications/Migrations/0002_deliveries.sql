-- Deliveries (issue 7): one row per (event, subscription), the idempotency key that makes each notification
-- reach each subscriber once even when RabbitMQ redelivers. The table is also the outbox worked by the
-- dispatcher: due rows are claimed with FOR UPDATE SKIP LOCKED, so several dispatchers (or instances) never
-- send the same delivery at the same time, and a slow endpoint only holds its own rows.
ALTER TABLE received_events ADD COLUMN occurred_at timestamptz;

CREATE TABLE deliveries (
    id               uuid PRIMARY KEY,
    event_id         uuid NOT NULL REFERENCES received_events (event_id),
    subscription_id  uuid NOT NULL,
    project_id       text NOT NULL,
    experiment_id    uuid,
    event_type       text NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'delivering', 'delivered', 'failed')),
    attempts         int NOT NULL DEFAULT 0,
    max_attempts     int NOT NULL,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    locked_until     timestamptz,
    last_error       text,
    last_status_code int,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    UNIQUE (event_id, subscription_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'delivering');
CREATE INDEX deliveries_subscription ON deliveries (subscription_id, created_at DESC);
CREATE INDEX deliveries_failed ON deliveries (project_id, updated_at DESC) WHERE status = 'failed';
