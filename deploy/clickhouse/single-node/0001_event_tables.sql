-- The event tables of one ClickHouse server, owned by the ingest service, which applies this file at start
-- (embedded from deploy/clickhouse/single-node/; every statement idempotent). Written for ClickHouse 18.16 and later.
-- Deployments that outgrow one node: deploy/clickhouse/cluster/ (the same tables, replicated and sharded).
--
-- Every row carries project_id and insert_id. ReplacingMergeTree folds rows that share the sorting key (which ends
-- with insert_id; a resent event has the same user, flag or type, so the same key) when parts merge, keeping the
-- newest received_at. Merges happen when ClickHouse decides, so queries never rely on them. The rule every
-- analysis query follows (docs/ingest.md, "Deduplication"):
--   * count users with uniqExact(unit) or GROUP BY unit, where unit = if(user_id != '', user_id, device_id);
--   * count events with uniqExact(insert_id), GROUP BY insert_id, or FROM table FINAL;
--   * per-unit aggregates must be the same over duplicates (min, max, argMin, any), never sum() or count() of raw rows.
-- Partitioned by month of the event time; sorted for per-project, per-flag (experiment) and per-event-type scans.

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
