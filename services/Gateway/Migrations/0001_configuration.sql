CREATE TABLE projects (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    key_hash    text PRIMARY KEY,
    project_id  text NOT NULL REFERENCES projects (id),
    kind        text NOT NULL CHECK (kind IN ('admin', 'sdk')),
    label       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_keys_project ON api_keys (project_id);

CREATE TABLE experiments (
    id              uuid PRIMARY KEY,
    project_id      text NOT NULL REFERENCES projects (id),
    key             text NOT NULL,
    name            text NOT NULL,
    hypothesis      text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'running', 'stopped')),
    bandit_enabled  boolean NOT NULL DEFAULT false,
    bucketing_unit  text NOT NULL DEFAULT 'user_id',
    salt            text NOT NULL,
    primary_metric  jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    stopped_at      timestamptz,
    UNIQUE (project_id, key)
);
CREATE INDEX experiments_status ON experiments (status);

CREATE TABLE variants (
    id              uuid PRIMARY KEY,
    experiment_id   uuid NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    key             text NOT NULL,
    name            text NOT NULL,
    traffic_weight  double precision NOT NULL CHECK (traffic_weight > 0),
    payload         jsonb,
    position        int NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (experiment_id, key)
);

CREATE TABLE audit_log (
    id            bigserial PRIMARY KEY,
    project_id    text NOT NULL,
    actor         text NOT NULL,
    action        text NOT NULL,
    entity_type   text NOT NULL,
    entity_id     text NOT NULL,
    before        jsonb,
    after         jsonb,
    occurred_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_entity ON audit_log (project_id, entity_type, entity_id);
