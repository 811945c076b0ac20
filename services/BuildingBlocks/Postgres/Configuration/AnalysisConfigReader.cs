using System.Text.Json;
using Npgsql;

namespace Experiments.Postgres.Configuration;

/// <summary>Reads metrics, analysis settings, schedules and saved segments from the gateway's schema (read-only).</summary>
public sealed class AnalysisConfigReader(NpgsqlDataSource dataSource)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public async Task<IReadOnlyList<MetricDefinition>> MetricsAsync(Guid experimentId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT key, name, role, kind, event_type, property, direction, goal, conversion_window_hours
            FROM gateway.experiment_metrics WHERE experiment_id = @id
            ORDER BY CASE role WHEN 'primary' THEN 0 WHEN 'secondary' THEN 1 ELSE 2 END, position
            """);
        command.Parameters.AddWithValue("id", experimentId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var metrics = new List<MetricDefinition>();
        while (await reader.ReadAsync(cancellationToken))
        {
            metrics.Add(new MetricDefinition(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetDouble(7),
                reader.IsDBNull(8) ? null : reader.GetInt32(8)));
        }
        return metrics;
    }

    public async Task<ExperimentSettings> SettingsAsync(Guid experimentId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT confidence_level, test, control, cuped, cuped_window_days, correction, scheduled_start_at, scheduled_end_at, planned_end_at
            FROM gateway.experiment_settings WHERE experiment_id = @id
            """);
        command.Parameters.AddWithValue("id", experimentId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return new ExperimentSettings();
        }
        return new ExperimentSettings(reader.GetDouble(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetBoolean(3),
            reader.GetInt32(4), reader.GetString(5),
            reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6),
            reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7),
            reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8));
    }

    public async Task<SavedSegment?> SegmentAsync(string projectId, string key, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT key, name, filters::text FROM gateway.analysis_segments WHERE project_id = @project AND key = @key");
        command.Parameters.AddWithValue("project", projectId);
        command.Parameters.AddWithValue("key", key);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new SavedSegment(reader.GetString(0), reader.GetString(1), ParseFilters(reader.GetString(2)))
            : null;
    }

    public static IReadOnlyList<PropertyFilter> ParseFilters(string json)
        => JsonSerializer.Deserialize<List<PropertyFilter>>(json, Json) ?? [];

    public static string SerializeFilters(IReadOnlyList<PropertyFilter> filters) => JsonSerializer.Serialize(filters, Json);
}
