using System.Text.Json;
using Experiments.Analysis.Scheduling;
using Experiments.Postgres.Configuration;
using Npgsql;
using NpgsqlTypes;

namespace Experiments.Analysis.Snapshots;

/// <summary>
/// An experiment's latest stored result: its newest snapshot (by <c>computed_at</c>; a scheduled pass, a debounced
/// analysis after a change, or the final analysis after a stop), with the winner derived from the stored primary metric.
/// </summary>
public sealed record LatestStoredResult(
    Guid ExperimentId,
    DateOnly SnapshotDate,
    DateTimeOffset ComputedAt,
    string PrimaryMetric,
    IReadOnlyList<SnapshotComparison> Comparisons,
    string? Winner,
    bool Significant,
    double? PrimaryPValue,
    bool SrmDetected);

/// <summary>
/// Reads the latest stored result of a project's experiments from PostgreSQL only (schema <c>analysis</c>, and the
/// gateway's configuration for the primary metric's direction and the control), never from ClickHouse: cheap enough
/// for a page load.
/// </summary>
/// <remarks>
/// A snapshot stores the metrics' comparisons, not the analysis' summary, so the winner is derived here the way
/// <c>ExperimentAnalysis</c> summarises: no winner while a comparison is held back by the data-quality gate (no
/// p-value) or after an SRM alert; else the best significant treatment in the metric's direction; else the control
/// when every significant difference favours it. SRM is not stored per snapshot: <see cref="LatestStoredResult.SrmDetected"/>
/// is "an SRM alert was raised for the experiment" (analysis.published_events, cause <c>srm</c>).
/// </remarks>
public sealed class LatestResults(NpgsqlDataSource dataSource)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <param name="experimentIds">Only these experiments; null or empty: every experiment of the project with a snapshot.</param>
    public async Task<IReadOnlyList<LatestStoredResult>> ForProjectAsync(string projectId, IReadOnlyCollection<Guid>? experimentIds, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT s.experiment_id, s.snapshot_date, s.computed_at, s.metrics::text,
                   COALESCE(m.direction, 'increase'),
                   COALESCE(st.control, (SELECT v.key FROM gateway.variants v WHERE v.experiment_id = s.experiment_id ORDER BY v.position LIMIT 1)),
                   EXISTS (SELECT 1 FROM analysis.published_events p WHERE p.experiment_id = s.experiment_id AND p.cause = @srm)
            FROM (
                SELECT DISTINCT ON (experiment_id) experiment_id, snapshot_date, computed_at, metrics
                FROM analysis.snapshots
                WHERE project_id = @project {(experimentIds is { Count: > 0 } ? "AND experiment_id = ANY(@ids)" : "")}
                ORDER BY experiment_id, computed_at DESC, snapshot_date DESC
            ) s
            LEFT JOIN gateway.experiment_metrics m ON m.experiment_id = s.experiment_id AND m.key = s.metrics -> 0 ->> 'key'
            LEFT JOIN gateway.experiment_settings st ON st.experiment_id = s.experiment_id
            ORDER BY s.computed_at DESC, s.experiment_id
            """);
        command.Parameters.AddWithValue("project", projectId);
        command.Parameters.AddWithValue("srm", ScheduledAnalyses.SrmCause);
        if (experimentIds is { Count: > 0 })
        {
            command.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = experimentIds.ToArray() });
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var results = new List<LatestStoredResult>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var metrics = JsonSerializer.Deserialize<List<SnapshotMetric>>(reader.GetString(3), Json) ?? [];
            var primary = metrics.FirstOrDefault();
            var comparisons = primary?.Comparisons ?? [];
            var srm = reader.GetBoolean(6);
            var control = reader.IsDBNull(5) ? null : reader.GetString(5);
            var best = comparisons.Where(c => c.Significant).OrderBy(c => c.PValue ?? 1).FirstOrDefault();
            results.Add(new LatestStoredResult(
                reader.GetGuid(0),
                reader.GetFieldValue<DateOnly>(1),
                reader.GetFieldValue<DateTimeOffset>(2),
                primary?.Key ?? "",
                comparisons,
                Winner(comparisons, reader.GetString(4), control, srm),
                comparisons.Any(c => c.Significant),
                best?.PValue ?? comparisons.Where(c => c.PValue is not null).Min(c => c.PValue),
                srm));
        }
        return results;
    }

    /// <summary>The summary's winner rule over the stored comparisons (see the remarks on <see cref="LatestResults"/>).</summary>
    public static string? Winner(IReadOnlyList<SnapshotComparison> comparisons, string direction, string? control, bool srmDetected)
    {
        if (srmDetected || comparisons.Count == 0 || comparisons.Any(c => c.PValue is null))
        {
            return null;
        }
        Func<SnapshotComparison, double> better = direction == "decrease" ? c => -c.AbsoluteLift : c => c.AbsoluteLift;
        var winner = comparisons.Where(c => c.Significant && better(c) > 0).OrderByDescending(better).FirstOrDefault();
        if (winner is not null)
        {
            return winner.Variant;
        }
        return comparisons.Any(c => c.Significant) ? control : null;
    }
}
