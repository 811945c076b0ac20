-- Saved custom segments for the analysis filter card (issue 6): user-property filters, per project.
-- filters: [{"property": "country", "operator": "is" | "is_not", "values": ["DE", "FR"]}]
CREATE TABLE analysis_segments (
    id          uuid PRIMARY KEY,
    project_id  text NOT NULL REFERENCES projects (id),
    key         text NOT NULL,
    name        text NOT NULL,
    filters     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, key)
);
