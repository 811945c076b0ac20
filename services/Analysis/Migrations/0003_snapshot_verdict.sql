-- What the analysis' summary said when the snapshot was computed, so the latest-results read (Snapshots/LatestResults.cs)
-- returns the verdict of that analysis instead of re-deriving it with today's configuration (control, direction) and
-- today's alerts. Rows stored before this migration keep these columns null; a row written since has `control`,
-- `recommendation`, `srm_p_value`, `srm_detected` and `variants` set (`winner` is null when there was none).
--   variants: the primary metric's per-variant figures, in the analysis' variant order:
--             [{"key": "control", "name": "Control", "exposures": 1000, "conversions": 80}, ...]
ALTER TABLE snapshots
    ADD COLUMN winner          text,
    ADD COLUMN recommendation  text,
    ADD COLUMN control         text,
    ADD COLUMN srm_p_value     double precision,
    ADD COLUMN srm_detected    boolean,
    ADD COLUMN variants        jsonb;

-- The latest snapshot per experiment of a project (LatestResults: DISTINCT ON (experiment_id) ... computed_at DESC).
CREATE INDEX snapshots_latest ON snapshots (project_id, experiment_id, computed_at DESC);
