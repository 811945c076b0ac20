-- ExperimentChanged events taken in (Consumers/ExperimentChangedConsumer.cs). The gateway's outbox publishes at least
-- once, so the same EventId may come twice (to this or another instance): the first insert wins, the rest are dropped.
-- Rows are deleted after a retention period (ExperimentChanges:Retention).
CREATE TABLE received_changes (
    event_id       uuid PRIMARY KEY,
    experiment_id  uuid NOT NULL,
    change         text NOT NULL,
    received_at    timestamptz NOT NULL
);
CREATE INDEX received_changes_received_at ON received_changes (received_at);

-- Experiments waiting for an analysis after a change: one row per experiment, however many changes (a burst moves
-- due_at, capped at first_requested_at + ExperimentChanges:MaxDelay; a stop makes it due at once). Any instance
-- claims a due row by setting leased_until (FOR UPDATE SKIP LOCKED), analyses it and deletes the row if version did
-- not move meanwhile; a change during the analysis bumps version, so the experiment is analysed again.
CREATE TABLE pending_analyses (
    experiment_id       uuid PRIMARY KEY,
    project_id          text NOT NULL,
    due_at              timestamptz NOT NULL,
    first_requested_at  timestamptz NOT NULL,
    version             bigint NOT NULL DEFAULT 1,
    leased_until        timestamptz,
    attempts            int NOT NULL DEFAULT 0
);
CREATE INDEX pending_analyses_due ON pending_analyses (due_at);
