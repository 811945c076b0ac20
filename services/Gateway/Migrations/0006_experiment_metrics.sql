-- Metrics per experiment (issue 6): the primary (recommendation) metric, secondary and guardrail metrics.
-- kind: unique_conversions (did the event at/after first exposure, optionally within conversion_window_hours),
-- event_totals (events per user), property_sum (sum of a numeric event property per user),
-- property_average (mean of a numeric event property per user, over users who did the event).
CREATE TABLE experiment_metrics (
    id                       uuid PRIMARY KEY,
    experiment_id            uuid NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    key                      text NOT NULL,
    name                     text NOT NULL,
    role                     text NOT NULL CHECK (role IN ('primary', 'secondary', 'guardrail')),
    kind                     text NOT NULL CHECK (kind IN ('unique_conversions', 'event_totals', 'property_sum', 'property_average')),
    event_type               text NOT NULL,
    property                 text,
    direction                text NOT NULL DEFAULT 'increase' CHECK (direction IN ('increase', 'decrease')),
    goal                     double precision,
    conversion_window_hours  int CHECK (conversion_window_hours > 0),
    position                 int NOT NULL,
    created_at               timestamptz NOT NULL DEFAULT now(),
    UNIQUE (experiment_id, key)
);
CREATE UNIQUE INDEX experiment_metrics_one_primary ON experiment_metrics (experiment_id) WHERE role = 'primary';
