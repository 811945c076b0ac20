using System.Text.Json.Serialization;

namespace Experiments.Statistics.Contracts;

/// <summary>The analysis of one request: sample ratio check, one comparison per treatment, bandit figures for binary metrics.</summary>
public sealed record AnalysisResult
{
    public required SrmResult Srm { get; init; }

    public required IReadOnlyList<ComparisonResult> Comparisons { get; init; }

    /// <summary>P(variant has the highest rate) under Beta posteriors; binary metrics only.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, double>? ProbabilityBest { get; init; }

    /// <summary>Thompson-sampling posteriors and floored traffic weights; binary metrics only.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<BanditArm>? Bandit { get; init; }

    /// <summary>Per-variant descriptive figures (after CUPED when it applies).</summary>
    public IReadOnlyList<VariantSummary> Variants { get; init; } = [];
}

/// <summary>Chi-square goodness of fit of the users seen against the configured weights.</summary>
/// <param name="ChiSquare">Null only when a variant with weight 0 received users (the statistic is infinite).</param>
public sealed record SrmResult(double? ChiSquare, double PValue, bool Detected);

/// <summary>An interval; a null bound is unbounded (one-sided tests).</summary>
[JsonConverter(typeof(Serialization.IntervalJsonConverter))]
public readonly record struct Interval(double? Lower, double? Upper)
{
    public bool Contains(double value) => (Lower is not { } lower || lower <= value) && (Upper is not { } upper || value <= upper);
}

/// <summary>One treatment against the control.</summary>
public sealed record ComparisonResult
{
    public required string Variant { get; init; }

    public double? ControlMean { get; init; }

    public double? Mean { get; init; }

    public double? AbsoluteLift { get; init; }

    /// <summary>Null when the control mean is 0.</summary>
    public double? RelativeLift { get; init; }

    /// <summary>Null while the data-quality gate holds results back.</summary>
    public double? PValue { get; init; }

    public Interval? CiAbsolute { get; init; }

    public Interval? CiRelative { get; init; }

    public bool Significant { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? MsprtLogLr { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? CupedTheta { get; init; }

    /// <summary>The p-value after the requested multiple-comparison correction (absent with none).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? AdjustedPValue { get; init; }

    /// <summary>Welch degrees of freedom (t-test only).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? DegreesOfFreedom { get; init; }

    /// <summary>Why the data-quality gate holds p-value and intervals back; absent when it does not.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? DataQualityReason { get; init; }
}

/// <summary>Descriptive figures of one variant.</summary>
public sealed record VariantSummary(string Key, long Users, double? Mean, double? Variance);

/// <summary>One Thompson-sampling arm: Beta(alpha, beta) posterior, probability of being best, traffic weight.</summary>
public sealed record BanditArm(string Key, double Alpha, double Beta, double ProbabilityBest, double TrafficWeight);
