-- The analysis service's own schema: daily snapshots (the history behind "over time" charts and the
-- always-valid running p-value), alerts published once per experiment and cause, bandit state.
CREATE TABLE snapshots (
    experiment_id  uuid NOT NULL,
    snapshot_date  date NOT NULL,
    project_id     text NOT NULL,
    computed_at    timestamptz NOT NULL,
    metrics        jsonb NOT NULL,
    PRIMARY KEY (experiment_id, snapshot_date)
);

CREATE TABLE published_events (
    experiment_id  uuid NOT NULL,
    cause          text NOT NULL,
    event_id       uuid NOT NULL,
    published_at   timestamptz NOT NULL,
    PRIMARY KEY (experiment_id, cause)
);

CREATE TABLE bandit_state (
    experiment_id     uuid NOT NULL,
    variant           text NOT NULL,
    alpha             double precision NOT NULL,
    beta              double precision NOT NULL,
    probability_best  double precision NOT NULL,
    weight            double precision NOT NULL,
    computed_at       timestamptz NOT NULL,
    PRIMARY KEY (experiment_id, variant)
);
