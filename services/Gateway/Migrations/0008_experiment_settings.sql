-- Analysis settings and the schedule of an experiment (issue 6). One row per experiment, absent = defaults.
CREATE TABLE experiment_settings (
    experiment_id        uuid PRIMARY KEY REFERENCES experiments (id) ON DELETE CASCADE,
    confidence_level     double precision NOT NULL DEFAULT 0.95,
    test                 text NOT NULL DEFAULT 'sequential' CHECK (test IN ('sequential', 'ttest')),
    control              text,
    cuped                boolean NOT NULL DEFAULT false,
    cuped_window_days    int NOT NULL DEFAULT 14 CHECK (cuped_window_days BETWEEN 1 AND 365),
    correction           text NOT NULL DEFAULT 'none' CHECK (correction IN ('none', 'bonferroni', 'holm', 'benjamini_hochberg')),
    scheduled_start_at   timestamptz,
    scheduled_end_at     timestamptz,
    planned_end_at       timestamptz,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX experiment_settings_scheduled_start ON experiment_settings (scheduled_start_at) WHERE scheduled_start_at IS NOT NULL;
CREATE INDEX experiment_settings_scheduled_end ON experiment_settings (scheduled_end_at) WHERE scheduled_end_at IS NOT NULL;

-- Lifecycle notices the gateway's scheduler has published (about_to_start), once per experiment and cause.
CREATE TABLE schedule_notices (
    experiment_id  uuid NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    cause          text NOT NULL,
    published_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (experiment_id, cause)
);
