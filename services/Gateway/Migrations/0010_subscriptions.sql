-- Notification subscriptions (issue 7). The gateway owns them; the notifications service reads them
-- (read-only) to fan events out into its own deliveries table.
--   kind 'slack':   url is a Slack incoming-webhook URL (itself a secret: the API only shows a masked form).
--   kind 'webhook': url is any http(s) endpoint; secret signs each request (HMAC-SHA256), never returned.
-- experiment_id NULL means every experiment of the project.
CREATE TABLE subscriptions (
    id             uuid PRIMARY KEY,
    project_id     text NOT NULL REFERENCES projects (id),
    experiment_id  uuid REFERENCES experiments (id) ON DELETE CASCADE,
    name           text NOT NULL DEFAULT '',
    kind           text NOT NULL CHECK (kind IN ('slack', 'webhook')),
    url            text NOT NULL,
    secret         text,
    event_types    text[] NOT NULL,
    enabled        boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz,
    CHECK (kind <> 'webhook' OR secret IS NOT NULL)
);
CREATE INDEX subscriptions_project ON subscriptions (project_id) WHERE deleted_at IS NULL;
