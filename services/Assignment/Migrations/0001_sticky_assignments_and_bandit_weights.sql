-- The assignment service's own schema: sticky assignments (a user keeps its first variant) and the latest bandit weights.
CREATE TABLE sticky_assignments (
    experiment_id    uuid NOT NULL,
    bucketing_value  text NOT NULL,
    project_id       text NOT NULL,
    flag_key         text NOT NULL,
    variant          text NOT NULL,
    assigned_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (experiment_id, bucketing_value)
);
CREATE INDEX sticky_assignments_assigned_at ON sticky_assignments (assigned_at);

CREATE TABLE bandit_weights (
    experiment_id  uuid PRIMARY KEY,
    project_id     text NOT NULL,
    weights        jsonb NOT NULL,
    computed_at    timestamptz NOT NULL,
    event_id       uuid NOT NULL
);
