-- Transactional outbox: the gateway's events (ExperimentChanged, ExperimentStarted, ExperimentEnded,
-- ExperimentAboutToStart) are written here in the SAME transaction as the change they announce, and the
-- relay (Data/OutboxRelay.cs) publishes them to RabbitMQ afterwards, in id order, with publisher confirms,
-- then sets sent_at. A crash between the commit and the publish no longer loses an event: the row is still
-- pending and the relay (of this or another instance) publishes it. At-least-once: a crash between the
-- broker's confirm and sent_at's commit republishes the same message (same EventId), which consumers drop.
--   message_type: the contract's full .NET name (Experiments.Contracts.Messages.ExperimentStarted).
--   message:      the record as JSON (System.Text.Json, property names as declared).
-- Sent rows are kept for a while (Outbox:Retention) for inspection, then deleted by the relay.
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    message_type text NOT NULL,
    message      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    attempts     int NOT NULL DEFAULT 0,
    last_error   text
);
CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
