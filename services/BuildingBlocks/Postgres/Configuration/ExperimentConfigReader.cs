using Npgsql;

namespace Experiments.Postgres.Configuration;

/// <summary>Reads experiment configuration from the gateway's schema (read-only).</summary>
public sealed class ExperimentConfigReader(NpgsqlDataSource dataSource)
{
    private const string Select = """
        SELECT e.id, e.project_id, e.key, e.name, e.status, e.bandit_enabled, e.bucketing_unit, e.salt,
               e.primary_metric->>'event_type', e.started_at, e.stopped_at,
               v.id, v.key, v.name, v.traffic_weight, v.payload::text,
               e.traffic_allocation, e.sticky_bucketing, e.segments::text, e.testers::text
        FROM gateway.experiments e
        LEFT JOIN gateway.variants v ON v.experiment_id = e.id
        """;

    public async Task<ExperimentConfig?> FindAsync(string projectId, Guid experimentId, CancellationToken cancellationToken)
    {
        var found = await ReadAsync($"{Select} WHERE e.project_id = @project AND e.id = @id ORDER BY v.position",
            command =>
            {
                command.Parameters.AddWithValue("project", projectId);
                command.Parameters.AddWithValue("id", experimentId);
            }, cancellationToken);
        return found.SingleOrDefault();
    }

    /// <summary>Every experiment that is running now, across projects, for the assignment cache.</summary>
    public Task<IReadOnlyList<ExperimentConfig>> ListRunningAsync(CancellationToken cancellationToken)
        => ReadAsync($"{Select} WHERE e.status = 'running' ORDER BY e.project_id, e.key, v.position", _ => { }, cancellationToken);

    /// <summary>Every mutual-exclusion group and holdout with its members (whatever their status), across projects.</summary>
    public async Task<IReadOnlyList<ExclusionGroupConfig>> ListExclusionGroupsAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT g.id, g.project_id, g.key, g.name, g.kind, g.bucketing_unit, g.salt, g.holdout_percent,
                   m.experiment_id, e.key, m.weight
            FROM gateway.exclusion_groups g
            LEFT JOIN gateway.exclusion_group_members m ON m.group_id = g.id
            LEFT JOIN gateway.experiments e ON e.id = m.experiment_id
            ORDER BY g.project_id, g.key, m.position
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var groups = new List<ExclusionGroupConfig>();
        List<ExclusionGroupMember>? members = null;
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetGuid(0);
            if (groups.Count == 0 || groups[^1].Id != id)
            {
                members = [];
                groups.Add(new ExclusionGroupConfig(id, reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    reader.GetString(5), reader.GetString(6), reader.GetInt32(7), members));
            }
            if (!reader.IsDBNull(8))
            {
                members!.Add(new ExclusionGroupMember(reader.GetGuid(8), reader.GetString(9), reader.GetDouble(10)));
            }
        }
        return groups;
    }

    private async Task<IReadOnlyList<ExperimentConfig>> ReadAsync(string sql, Action<NpgsqlCommand> bind, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        bind(command);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);

        var experiments = new List<ExperimentConfig>();
        ExperimentConfig? current = null;
        List<VariantConfig>? variants = null;
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetGuid(0);
            if (current?.Id != id)
            {
                variants = [];
                current = new ExperimentConfig(id, reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    reader.GetBoolean(5), reader.GetString(6), reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8),
                    reader.IsDBNull(9) ? null : reader.GetFieldValue<DateTimeOffset>(9),
                    reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10), variants)
                {
                    TrafficAllocation = reader.GetInt32(16),
                    StickyBucketing = reader.GetBoolean(17),
                    Segments = TargetingJson.ReadSegments(reader.GetString(18)),
                    Testers = TargetingJson.ReadTesters(reader.GetString(19)),
                };
                experiments.Add(current);
            }
            if (!reader.IsDBNull(11))
            {
                variants!.Add(new VariantConfig(reader.GetGuid(11), reader.GetString(12), reader.GetString(13), reader.GetDouble(14),
                    reader.IsDBNull(15) ? null : reader.GetString(15)));
            }
        }
        return experiments;
    }
}
