-- The event tables for a ClickHouse cluster (run once, by an operator, with clickhouse-client --multiquery;
-- every statement is idempotent). The same columns as single-node/0001_event_tables.sql, split in two layers:
--
--   <table>_local : ReplicatedReplacingMergeTree on every node, replicated within a shard through ZooKeeper
--                   (18.16 keeps its replication metadata there), folding duplicates of an insert id like the
--                   single-node table does;
--   <table>       : a Distributed table over the shards, with the single-node name, so that the ingest
--                   consumer's inserts and the analysis queries run unchanged against it.
--
-- Sharding key: the analysis unit (user id, else device id) within a project. A resent event has the same unit,
-- so it lands on the same shard as its first copy and ReplacingMergeTree can fold it there; and one unit's
-- exposures, events and assignments sit on one shard, so per-unit GROUP BYs are complete on each shard
-- (analysis may set distributed_group_by_no_merge for the inner per-unit step).
--
-- Needs, in the servers' config: a <remote_servers> entry named as {cluster} below ("experiments" here),
-- <zookeeper>, and <macros> with {shard} and {replica} per node. Replace `experiments` (the database) if the
-- ingest service's connection string names another one. The Distributed tables write synchronously
-- (insert_distributed_sync=1 in the ingest user's profile) so that an acknowledged insert is on its shard.

CREATE DATABASE IF NOT EXISTS experiments ON CLUSTER experiments;

CREATE TABLE IF NOT EXISTS experiments.exposures_local ON CLUSTER experiments
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/experiments/exposures_local', '{replica}', received_at)
PARTITION BY toYYYYMM(time)
ORDER BY (project_id, flag_key, user_id, device_id, insert_id);

CREATE TABLE IF NOT EXISTS experiments.exposures ON CLUSTER experiments AS experiments.exposures_local
ENGINE = Distributed(experiments, experiments, exposures_local, cityHash64(project_id, if(user_id != '', user_id, device_id)));

CREATE TABLE IF NOT EXISTS experiments.events_local ON CLUSTER experiments
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/experiments/events_local', '{replica}', received_at)
PARTITION BY toYYYYMM(time)
ORDER BY (project_id, event_type, user_id, device_id, insert_id);

CREATE TABLE IF NOT EXISTS experiments.events ON CLUSTER experiments AS experiments.events_local
ENGINE = Distributed(experiments, experiments, events_local, cityHash64(project_id, if(user_id != '', user_id, device_id)));

CREATE TABLE IF NOT EXISTS experiments.assignments_local ON CLUSTER experiments
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/experiments/assignments_local', '{replica}', received_at)
PARTITION BY toYYYYMM(time)
ORDER BY (project_id, flag_key, user_id, device_id, insert_id);

CREATE TABLE IF NOT EXISTS experiments.assignments ON CLUSTER experiments AS experiments.assignments_local
ENGINE = Distributed(experiments, experiments, assignments_local, cityHash64(project_id, if(user_id != '', user_id, device_id)));
