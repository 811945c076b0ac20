using System.Text.Json;
using Experiments.Postgres.Configuration;
using Npgsql;
using NpgsqlTypes;

namespace Experiments.Gateway.Data;

/// <summary>
/// Metrics, analysis settings (with the schedule) and saved analysis segments in the gateway's schema; every change
/// is audited (who, when, before, after) in the same transaction, like <see cref="ExperimentStore"/>.
/// </summary>
public sealed class AnalysisConfigStore(NpgsqlDataSource dataSource, AnalysisConfigReader reader)
{
    public Task<IReadOnlyList<MetricDefinition>> MetricsAsync(Guid experimentId, CancellationToken cancellationToken)
        => reader.MetricsAsync(experimentId, cancellationToken);

    public Task<ExperimentSettings> SettingsAsync(Guid experimentId, CancellationToken cancellationToken)
        => reader.SettingsAsync(experimentId, cancellationToken);

    public async Task<ChangeResult<MetricDefinition>> AddMetricAsync(string projectId, Guid experimentId, MetricDefinition metric, string actor, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var existing = await reader.MetricsAsync(experimentId, cancellationToken);
        if (existing.Any(m => m.Key == metric.Key))
        {
            return ChangeResult<MetricDefinition>.Fail(ChangeFailure.DuplicateKey, $"The experiment already has a metric with key '{metric.Key}'.");
        }
        if (metric.Role == MetricRoles.Primary && existing.Any(m => m.Role == MetricRoles.Primary))
        {
            return ChangeResult<MetricDefinition>.Fail(ChangeFailure.DuplicateKey, "The experiment already has a primary metric; remove it first or add this one as secondary.");
        }
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO gateway.experiment_metrics (id, experiment_id, key, name, role, kind, event_type, property, direction, goal, conversion_window_hours, position)
            VALUES (@id, @experiment, @key, @name, @role, @kind, @event, @property, @direction, @goal, @window,
                    (SELECT coalesce(max(position) + 1, 0) FROM gateway.experiment_metrics WHERE experiment_id = @experiment))
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue("id", Guid.CreateVersion7());
            insert.Parameters.AddWithValue("experiment", experimentId);
            insert.Parameters.AddWithValue("key", metric.Key);
            insert.Parameters.AddWithValue("name", metric.Name);
            insert.Parameters.AddWithValue("role", metric.Role);
            insert.Parameters.AddWithValue("kind", metric.Kind);
            insert.Parameters.AddWithValue("event", metric.EventType);
            insert.Parameters.AddWithValue("property", (object?)metric.Property ?? DBNull.Value);
            insert.Parameters.AddWithValue("direction", metric.Direction);
            insert.Parameters.AddWithValue("goal", (object?)metric.Goal ?? DBNull.Value);
            insert.Parameters.AddWithValue("window", (object?)metric.ConversionWindowHours ?? DBNull.Value);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        await AuditLog.WriteAsync(connection, transaction, projectId, actor, "add_metric", "experiment", experimentId.ToString(), null, metric, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return ChangeResult<MetricDefinition>.Ok(metric);
    }

    public async Task<bool> RemoveMetricAsync(string projectId, Guid experimentId, string key, string actor, CancellationToken cancellationToken)
    {
        var before = (await reader.MetricsAsync(experimentId, cancellationToken)).FirstOrDefault(m => m.Key == key);
        if (before is null)
        {
            return false;
        }
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var delete = new NpgsqlCommand("DELETE FROM gateway.experiment_metrics WHERE experiment_id = @experiment AND key = @key", connection, transaction))
        {
            delete.Parameters.AddWithValue("experiment", experimentId);
            delete.Parameters.AddWithValue("key", key);
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        await AuditLog.WriteAsync(connection, transaction, projectId, actor, "remove_metric", "experiment", experimentId.ToString(), before, null, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<ExperimentSettings> SaveSettingsAsync(string projectId, Guid experimentId, ExperimentSettings settings, string actor, CancellationToken cancellationToken)
    {
        var before = await reader.SettingsAsync(experimentId, cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var upsert = new NpgsqlCommand("""
            INSERT INTO gateway.experiment_settings (experiment_id, confidence_level, test, control, cuped, cuped_window_days, correction,
                scheduled_start_at, scheduled_end_at, planned_end_at, updated_at)
            VALUES (@experiment, @confidence, @test, @control, @cuped, @window, @correction, @start, @end, @planned, now())
            ON CONFLICT (experiment_id) DO UPDATE SET confidence_level = excluded.confidence_level, test = excluded.test, control = excluded.control,
                cuped = excluded.cuped, cuped_window_days = excluded.cuped_window_days, correction = excluded.correction,
                scheduled_start_at = excluded.scheduled_start_at, scheduled_end_at = excluded.scheduled_end_at,
                planned_end_at = excluded.planned_end_at, updated_at = now()
            """, connection, transaction))
        {
            upsert.Parameters.AddWithValue("experiment", experimentId);
            upsert.Parameters.AddWithValue("confidence", settings.ConfidenceLevel);
            upsert.Parameters.AddWithValue("test", settings.Test);
            upsert.Parameters.AddWithValue("control", (object?)settings.Control ?? DBNull.Value);
            upsert.Parameters.AddWithValue("cuped", settings.Cuped);
            upsert.Parameters.AddWithValue("window", settings.CupedWindowDays);
            upsert.Parameters.AddWithValue("correction", settings.Correction);
            upsert.Parameters.Add(new NpgsqlParameter("start", NpgsqlDbType.TimestampTz) { Value = (object?)settings.ScheduledStartAt ?? DBNull.Value });
            upsert.Parameters.Add(new NpgsqlParameter("end", NpgsqlDbType.TimestampTz) { Value = (object?)settings.ScheduledEndAt ?? DBNull.Value });
            upsert.Parameters.Add(new NpgsqlParameter("planned", NpgsqlDbType.TimestampTz) { Value = (object?)settings.PlannedEndAt ?? DBNull.Value });
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }
        await AuditLog.WriteAsync(connection, transaction, projectId, actor, "update_settings", "experiment", experimentId.ToString(), before, settings, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return settings;
    }

    public async Task<IReadOnlyList<SavedSegment>> SegmentsAsync(string projectId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT key, name, filters::text FROM gateway.analysis_segments WHERE project_id = @project ORDER BY key");
        command.Parameters.AddWithValue("project", projectId);
        await using var rows = await command.ExecuteReaderAsync(cancellationToken);
        var segments = new List<SavedSegment>();
        while (await rows.ReadAsync(cancellationToken))
        {
            segments.Add(new SavedSegment(rows.GetString(0), rows.GetString(1), AnalysisConfigReader.ParseFilters(rows.GetString(2))));
        }
        return segments;
    }

    public async Task<ChangeResult<SavedSegment>> AddSegmentAsync(string projectId, SavedSegment segment, string actor, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO gateway.analysis_segments (id, project_id, key, name, filters) VALUES (@id, @project, @key, @name, @filters)
            ON CONFLICT (project_id, key) DO NOTHING
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue("id", Guid.CreateVersion7());
            insert.Parameters.AddWithValue("project", projectId);
            insert.Parameters.AddWithValue("key", segment.Key);
            insert.Parameters.AddWithValue("name", segment.Name);
            insert.Parameters.Add(new NpgsqlParameter("filters", NpgsqlDbType.Jsonb) { Value = AnalysisConfigReader.SerializeFilters(segment.Filters) });
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return ChangeResult<SavedSegment>.Fail(ChangeFailure.DuplicateKey, $"A segment with key '{segment.Key}' already exists in project '{projectId}'.");
            }
        }
        await AuditLog.WriteAsync(connection, transaction, projectId, actor, "create", "analysis_segment", segment.Key, null, segment, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return ChangeResult<SavedSegment>.Ok(segment);
    }

    public async Task<bool> RemoveSegmentAsync(string projectId, string key, string actor, CancellationToken cancellationToken)
    {
        var before = await reader.SegmentAsync(projectId, key, cancellationToken);
        if (before is null)
        {
            return false;
        }
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var delete = new NpgsqlCommand("DELETE FROM gateway.analysis_segments WHERE project_id = @project AND key = @key", connection, transaction))
        {
            delete.Parameters.AddWithValue("project", projectId);
            delete.Parameters.AddWithValue("key", key);
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        await AuditLog.WriteAsync(connection, transaction, projectId, actor, "delete", "analysis_segment", key, before, null, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }
}
