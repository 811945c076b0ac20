using System.Text.Json;
using Experiments.Analysis.Scheduling;
using Npgsql;
using NpgsqlTypes;

namespace Experiments.Analysis.Snapshots;

/// <summary>
/// An experiment's latest stored result: its newest snapshot (by <c>computed_at</c>; a scheduled pass, a debounced
/// analysis after a change, or the final analysis after a stop), with the verdict the analysis gave at the time.
/// </summary>
/// <param name="Winner">The stored winner; for a snapshot stored before the verdict was (<paramref name="VerdictStored"/> false): derived.</param>
/// <param name="Recommendation">The analysis summary's recommendation; null for a snapshot stored without its verdict.</param>
/// <param name="Control">The control of that analysis; for an old snapshot: today's configured control.</param>
/// <param name="SrmPValue">The sample-ratio test's p-value of that analysis; null for an old snapshot.</param>
/// <param name="SrmDetected">The snapshot's SRM; for an old snapshot: an SRM alert was ever raised for the experiment.</param>
/// <param name="Variants">The primary metric's per-variant exposures and conversions; empty for an old snapshot.</param>
/// <param name="VerdictStored">The snapshot stores its verdict (written since migration 0003).</param>
public sealed record LatestStoredResult(
    Guid ExperimentId,
    DateOnly SnapshotDate,
    DateTimeOffset ComputedAt,
    string PrimaryMetric,
    IReadOnlyList<SnapshotComparison> Comparisons,
    string? Winner,
    bool Significant,
    double? PrimaryPValue,
    bool SrmDetected,
    string? Recommendation = null,
    string? Control = null,
    double? SrmPValue = null,
    IReadOnlyList<SnapshotVariant>? Variants = null,
    bool VerdictStored = false);

/// <summary>
/// Reads the latest stored result of a project's experiments from PostgreSQL only (schema <c>analysis</c>, and for old
/// snapshots the gateway's configuration), never from ClickHouse: cheap enough for a page load.
/// </summary>
/// <remarks>
/// A snapshot written since migration 0003 stores what the analysis' summary said (winner, recommendation, control,
/// SRM, the primary metric's per-variant exposures and conversions): that is returned as stored, whatever the
/// configuration says today. A snapshot written before stores only the metrics' comparisons, so its winner is derived
/// the way <c>ExperimentAnalysis</c> summarises, with today's direction of the primary metric and today's control: no
/// winner while a comparison is held back by the data-quality gate (no p-value) or after an SRM alert; else the best
/// significant treatment in the metric's direction; else the control when every significant difference favours it;
/// and its <see cref="LatestStoredResult.SrmDetected"/> is "an SRM alert was raised for the experiment"
/// (analysis.published_events, cause <c>srm</c>).
/// </remarks>
public sealed class LatestResults(NpgsqlDataSource dataSource)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <param name="experimentIds">Only these experiments; null or empty: every experiment of the project with a snapshot.</param>
    public async Task<IReadOnlyList<LatestStoredResult>> ForProjectAsync(string projectId, IReadOnlyCollection<Guid>? experimentIds, CancellationToken cancellationToken)
    {
        // The configuration and the alerts are read only for old snapshots (recommendation null): the CASEs skip them otherwise.
        await using var command = dataSource.CreateCommand($"""
            SELECT s.experiment_id, s.snapshot_date, s.computed_at, s.metrics::text,
                   CASE WHEN s.recommendation IS NULL THEN COALESCE(m.direction, 'increase') END,
                   CASE WHEN s.recommendation IS NULL
                        THEN COALESCE(st.control, (SELECT v.key FROM gateway.variants v WHERE v.experiment_id = s.experiment_id ORDER BY v.position LIMIT 1))
                        ELSE s.control END,
                   CASE WHEN s.recommendation IS NULL OR s.srm_detected IS NULL
                        THEN EXISTS (SELECT 1 FROM analysis.published_events p WHERE p.experiment_id = s.experiment_id AND p.cause = @srm)
                        ELSE s.srm_detected END,
                   s.recommendation, s.winner, s.srm_p_value, s.variants::text
            FROM (
                SELECT DISTINCT ON (experiment_id) experiment_id, snapshot_date, computed_at, metrics,
                       winner, recommendation, control, srm_p_value, srm_detected, variants
                FROM analysis.snapshots
                WHERE project_id = @project {(experimentIds is { Count: > 0 } ? "AND experiment_id = ANY(@ids)" : "")}
                ORDER BY experiment_id, computed_at DESC, snapshot_date DESC
            ) s
            LEFT JOIN gateway.experiment_metrics m ON s.recommendation IS NULL AND m.experiment_id = s.experiment_id AND m.key = s.metrics -> 0 ->> 'key'
            LEFT JOIN gateway.experiment_settings st ON s.recommendation IS NULL AND st.experiment_id = s.experiment_id
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
            var stored = !reader.IsDBNull(7);
            var best = comparisons.Where(c => c.Significant).OrderBy(c => c.PValue ?? 1).FirstOrDefault();
            results.Add(new LatestStoredResult(
                reader.GetGuid(0),
                reader.GetFieldValue<DateOnly>(1),
                reader.GetFieldValue<DateTimeOffset>(2),
                primary?.Key ?? "",
                comparisons,
                stored ? (reader.IsDBNull(8) ? null : reader.GetString(8)) : Winner(comparisons, reader.GetString(4), control, srm),
                comparisons.Any(c => c.Significant),
                best?.PValue ?? comparisons.Where(c => c.PValue is not null).Min(c => c.PValue),
                srm,
                stored ? reader.GetString(7) : null,
                control,
                reader.IsDBNull(9) ? null : reader.GetDouble(9),
                reader.IsDBNull(10) ? [] : JsonSerializer.Deserialize<List<SnapshotVariant>>(reader.GetString(10), Json) ?? [],
                stored));
        }
        return results;
    }

    /// <summary>The summary's winner rule over the stored comparisons (for snapshots stored without their verdict; see the remarks on <see cref="LatestResults"/>).</summary>
    public static string? Winner(IReadOnlyList<SnapshotComparison> comparisons, string direction, string? control, bool srmDetected)
    {
        if (srmDetected || comparisons.Count == 0 || comparisons.Any(c => c.PValue is null))
        {
            return null;
        }
        // A comparison with a p-value has both means, so its lift is never null here.
        Func<SnapshotComparison, double> better = direction == "decrease" ? c => -(c.AbsoluteLift ?? 0) : c => c.AbsoluteLift ?? 0;
        var winner = comparisons.Where(c => c.Significant && better(c) > 0).OrderByDescending(better).FirstOrDefault();
        if (winner is not null)
        {
            return winner.Variant;
        }
        return comparisons.Any(c => c.Significant) ? control : null;
    }
}
