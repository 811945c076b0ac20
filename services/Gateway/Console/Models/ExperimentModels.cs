using System.Text.Json;
using System.Text.Json.Serialization;

namespace Experiments.Gateway.Console.Models;

/// <summary>An experiment as the admin API returns it; fields the console does not know yet are kept in <see cref="Extra"/>.</summary>
public sealed class ExperimentView
{
    public Guid Id { get; init; }
    public string ProjectId { get; init; } = "";
    public string Key { get; init; } = "";
    public string Name { get; init; } = "";
    public string Hypothesis { get; init; } = "";
    public string Status { get; init; } = "";
    public bool BanditEnabled { get; init; }
    public PrimaryMetricView? PrimaryMetric { get; init; }
    public List<VariantView> Variants { get; init; } = [];
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? StoppedAt { get; init; }
    public string? Winner { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; init; }

    public double TotalWeight => Variants.Sum(v => v.TrafficWeight);
}

public sealed record PrimaryMetricView(string EventType);

public sealed class VariantView
{
    public Guid Id { get; init; }
    public string Key { get; init; } = "";
    public string Name { get; init; } = "";
    public double TrafficWeight { get; init; }

    /// <summary>Thompson-sampling posterior Beta(alpha, beta), when the API gives it (bandit experiments).</summary>
    public double? Alpha { get; init; }
    public double? Beta { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; init; }
}

public sealed record CreateExperimentBody(
    string Name, string Hypothesis, bool BanditEnabled, string ProjectId, PrimaryMetricView? PrimaryMetric);

public sealed record AddVariantBody(string Name, double? TrafficWeight);

public sealed record AnalyzeBody(
    double? ConfidenceLevel, string? Test, string? Control,
    DateTimeOffset? From = null, DateTimeOffset? To = null, string? Segment = null, IReadOnlyList<PropertyFilterBody>? Filters = null, string? GroupBy = null);

public sealed record PropertyFilterBody(string Property, string Operator, IReadOnlyList<string> Values);

/// <summary>GET /v1/admin/experiments/results: the latest stored analysis result of each experiment that has one.</summary>
public sealed record LatestResultsView(List<LatestResultView> Results);

/// <summary>
/// One experiment's latest stored result (a scheduled, debounced or final analysis, as the analysis service stored it).
/// <see cref="Variants"/>: the primary metric's exposures and conversions of that analysis (empty for a snapshot stored
/// before they were).
/// </summary>
public sealed record LatestResultView(
    Guid ExperimentId, DateTimeOffset ComputedAt, string SnapshotDate, string? Winner, string PrimaryMetric, bool Significant,
    double? PrimaryPValue, bool SrmDetected, string? Recommendation = null, IReadOnlyList<LatestVariantView>? Variants = null);

/// <summary>A variant's primary-metric figures in the stored result.</summary>
public sealed record LatestVariantView(string Key, long Exposures, long Conversions);
