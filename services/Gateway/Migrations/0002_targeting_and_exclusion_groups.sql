-- Targeting, testers and sticky bucketing per experiment; mutual-exclusion groups and holdouts.
-- (The schedule is experiment_settings' scheduled_start_at/scheduled_end_at: the gateway's scheduler launches and stops.)
ALTER TABLE experiments
    ADD COLUMN traffic_allocation int NOT NULL DEFAULT 100 CHECK (traffic_allocation BETWEEN 0 AND 100),
    ADD COLUMN sticky_bucketing   boolean NOT NULL DEFAULT false,
    ADD COLUMN segments           jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN testers            jsonb NOT NULL DEFAULT '[]';

CREATE TABLE exclusion_groups (
    id              uuid PRIMARY KEY,
    project_id      text NOT NULL REFERENCES projects (id),
    key             text NOT NULL,
    name            text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('mutual_exclusion', 'holdout')),
    bucketing_unit  text NOT NULL DEFAULT 'user_id',
    salt            text NOT NULL,
    holdout_percent int NOT NULL DEFAULT 0 CHECK (holdout_percent BETWEEN 0 AND 100),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, key)
);

CREATE TABLE exclusion_group_members (
    group_id       uuid NOT NULL REFERENCES exclusion_groups (id) ON DELETE CASCADE,
    experiment_id  uuid NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    weight         double precision NOT NULL DEFAULT 1 CHECK (weight > 0),
    position       int NOT NULL,
    added_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, experiment_id)
);
CREATE INDEX exclusion_group_members_experiment ON exclusion_group_members (experiment_id);
