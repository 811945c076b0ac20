-- The event tables, owned by the ingest service. Written for ClickHouse 18.16 and later.
-- Every row carries project_id and insert_id; ReplacingMergeTree folds rows that share the sorting key
-- (which ends with insert_id) when parts merge, and analysis queries group by insert_id or count
-- distinct users, so a redelivered or resent event never counts twice.
-- Partitioned by month of the event time; sorted for per-project, per-experiment scans.

CREATE TABLE IF NOT EXISTS exposures
(
    project_id       String,
    flag_key         String,
    variant          String,
    user_id          String,
    device_id        String,
    time             DateTime,
    insert_id        String,
    user_properties  String,
    platform         String,
    os_name          String,
    received_at      DateTime
)
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMM(time)
ORDER BY (project_id, flag_key, user_id, device_id, insert_id);

CREATE TABLE IF NOT EXISTS events
(
    project_id        String,
    event_type        String,
    user_id           String,
    device_id         String,
    time              DateTime,
    insert_id         String,
    event_properties  String,
    user_properties   String,
    platform          String,
    os_name           String,
    received_at       DateTime
)
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMM(time)
ORDER BY (project_id, event_type, user_id, device_id, insert_id);

CREATE TABLE IF NOT EXISTS assignments
(
    project_id       String,
    flag_key         String,
    variant          String,
    user_id          String,
    device_id        String,
    time             DateTime,
    insert_id        String,
    received_at      DateTime
)
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMM(time)
ORDER BY (project_id, flag_key, user_id, device_id, insert_id);
