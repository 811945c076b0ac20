using System.Text.Json;
using Experiments.Contracts.Analysis.V1;
using Experiments.Statistics.Contracts;
using Npgsql;
using NpgsqlTypes;
using StatInterval = Experiments.Statistics.Contracts.Interval;

namespace Experiments.Analysis.Snapshots;

/// <summary>One treatment's figures in a snapshot.</summary>
public sealed record SnapshotComparison(
    string Variant, double? ControlMean, double? Mean, double? AbsoluteLift, double? RelativeLift, double? PValue,
    double? CiAbsoluteLower, double? CiAbsoluteUpper, double? CiRelativeLower, double? CiRelativeUpper, bool Significant)
{
    /// <summary>The stored figures as the statistics library's result (an interval none of whose sides was stored is none).</summary>
    public ComparisonResult ToResult() => new()
    {
        Variant = Variant,
        ControlMean = ControlMean,
        Mean = Mean,
        AbsoluteLift = AbsoluteLift,
        RelativeLift = RelativeLift,
        PValue = PValue,
        CiAbsolute = CiAbsoluteLower is null && CiAbsoluteUpper is null ? null : new StatInterval(CiAbsoluteLower, CiAbsoluteUpper),
        CiRelative = CiRelativeLower is null && CiRelativeUpper is null ? null : new StatInterval(CiRelativeLower, CiRelativeUpper),
        Significant = Significant,
    };
}

/// <summary>One variant's primary-metric figures in a snapshot: distinct exposed users and converters among them.</summary>
public sealed record SnapshotVariant(string Key, string Name, long Exposures, long Conversions);

/// <summary>One metric in a snapshot: its comparisons and each variant's mean.</summary>
public sealed record SnapshotMetric(string Key, IReadOnlyList<SnapshotComparison> Comparisons, IReadOnlyDictionary<string, double> Means);

/// <summary>The analysis of one experiment on one day (the last run of the day wins).</summary>
public sealed record Snapshot(DateOnly Date, DateTimeOffset ComputedAt, IReadOnlyList<SnapshotMetric> Metrics)
{
    public ComparisonResult? Comparison(string metric, string variant)
        => Metrics.FirstOrDefault(m => m.Key == metric)?.Comparisons.FirstOrDefault(c => c.Variant == variant)?.ToResult();
}

/// <summary>
/// Daily snapshots in the analysis schema: written by the scheduled analyses (and the final one after a stop), read for
/// charts and the running p-value, and, with the summary's verdict stored beside them (winner, recommendation, control,
/// SRM, the primary metric's per-variant exposures and conversions), for the latest results.
/// </summary>
public sealed class SnapshotStore(NpgsqlDataSource dataSource)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public async Task<IReadOnlyList<Snapshot>> HistoryAsync(Guid experimentId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT snapshot_date, computed_at, metrics::text FROM analysis.snapshots WHERE experiment_id = @id ORDER BY snapshot_date");
        command.Parameters.AddWithValue("id", experimentId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var snapshots = new List<Snapshot>();
        while (await reader.ReadAsync(cancellationToken))
        {
            snapshots.Add(new Snapshot(reader.GetFieldValue<DateOnly>(0), reader.GetFieldValue<DateTimeOffset>(1),
                JsonSerializer.Deserialize<List<SnapshotMetric>>(reader.GetString(2), Json) ?? []));
        }
        return snapshots;
    }

    /// <summary>Stores the analysis as the snapshot of its day (UTC), replacing an earlier one of the same day.</summary>
    public Task SaveAsync(string projectId, Guid experimentId, AnalyzeResponse response, CancellationToken cancellationToken)
        => SaveAsync(projectId, experimentId, response, date: null, cancellationToken);

    /// <summary>
    /// Stores the analysis as the snapshot of <paramref name="date"/> (null: the UTC day it was computed; a stopped
    /// experiment's final analysis belongs to the day it stopped), replacing an earlier one of the same day.
    /// </summary>
    public async Task SaveAsync(string projectId, Guid experimentId, AnalyzeResponse response, DateOnly? date, CancellationToken cancellationToken)
    {
        var computedAt = response.ComputedAt.ToDateTimeOffset();
        var metrics = response.Metrics.Select(m => new SnapshotMetric(m.Key,
            m.Comparisons.Select(c => new SnapshotComparison(c.Variant, c.ControlMeanOrNull, c.MeanOrNull, c.AbsoluteLiftOrNull, c.RelativeLiftOrNull,
                c.HasPValue ? c.PValue : null, Bound(c.CiAbsolute?.Lower), Bound(c.CiAbsolute?.Upper), Bound(c.CiRelative?.Lower),
                Bound(c.CiRelative?.Upper), c.Significant)).ToList(),
            m.Variants.ToDictionary(v => v.Key, v => v.Mean))).ToList();
        // The summary's verdict as the analysis gave it (migration 0003), read back by LatestResults.
        var primary = response.Metrics.FirstOrDefault();
        var variants = (primary?.Variants.Select(v => new SnapshotVariant(v.Key, v.Name, v.Exposures, v.Conversions))
            ?? response.Variants.Select(v => new SnapshotVariant(v.Key, v.Name, v.Exposures, v.Conversions))).ToList();
        var winner = response.Summary?.Winner is { Length: > 0 } w ? w : response.Winner;
        var recommendation = response.Summary?.Recommendation is { Length: > 0 } r ? r : response.Recommendation;
        var srm = response.Srm ?? response.DataQuality?.Srm;
        await using var command = dataSource.CreateCommand("""
            INSERT INTO analysis.snapshots (experiment_id, snapshot_date, project_id, computed_at, metrics,
                                            winner, recommendation, control, srm_p_value, srm_detected, variants)
            VALUES (@id, @date, @project, @at, @metrics, @winner, @recommendation, @control, @srm_p, @srm_detected, @variants)
            ON CONFLICT (experiment_id, snapshot_date) DO UPDATE SET
                computed_at = excluded.computed_at, metrics = excluded.metrics, winner = excluded.winner,
                recommendation = excluded.recommendation, control = excluded.control, srm_p_value = excluded.srm_p_value,
                srm_detected = excluded.srm_detected, variants = excluded.variants
            """);
        command.Parameters.AddWithValue("id", experimentId);
        command.Parameters.AddWithValue("date", date ?? DateOnly.FromDateTime(computedAt.UtcDateTime));
        command.Parameters.AddWithValue("project", projectId);
        command.Parameters.AddWithValue("at", computedAt);
        command.Parameters.Add(new NpgsqlParameter("metrics", NpgsqlDbType.Jsonb) { Value = JsonSerializer.Serialize(metrics, Json) });
        command.Parameters.Add(new NpgsqlParameter("winner", NpgsqlDbType.Text) { Value = winner is { Length: > 0 } ? winner : (object)DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("recommendation", NpgsqlDbType.Text) { Value = recommendation });
        command.Parameters.Add(new NpgsqlParameter("control", NpgsqlDbType.Text) { Value = response.Control });
        command.Parameters.Add(new NpgsqlParameter("srm_p", NpgsqlDbType.Double) { Value = srm is { } s && double.IsFinite(s.PValue) ? (object)s.PValue : DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("srm_detected", NpgsqlDbType.Boolean) { Value = srm is null ? DBNull.Value : (object)srm.Detected });
        command.Parameters.Add(new NpgsqlParameter("variants", NpgsqlDbType.Jsonb) { Value = JsonSerializer.Serialize(variants, Json) });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static ComparisonResult FromProto(Contracts.Analysis.V1.Comparison c) => new()
    {
        Variant = c.Variant,
        ControlMean = c.ControlMeanOrNull,
        Mean = c.MeanOrNull,
        AbsoluteLift = c.AbsoluteLiftOrNull,
        RelativeLift = c.RelativeLiftOrNull,
        PValue = c.HasPValue ? c.PValue : null,
        CiAbsolute = c.CiAbsolute is { } a ? new StatInterval(Bound(a.Lower), Bound(a.Upper)) : null,
        CiRelative = c.CiRelative is { } r ? new StatInterval(Bound(r.Lower), Bound(r.Upper)) : null,
        Significant = c.Significant,
    };

    private static double? Bound(double? value) => value is { } v && double.IsFinite(v) ? v : null;
}
