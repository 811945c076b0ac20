-- Every event received, once: the key that makes consumers idempotent under redelivery.
CREATE TABLE received_events (
    event_id      uuid PRIMARY KEY,
    event_type    text NOT NULL,
    project_id    text NOT NULL,
    experiment_id uuid,
    payload       jsonb NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX received_events_project ON received_events (project_id, received_at DESC);
