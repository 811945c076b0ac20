namespace Experiments.Statistics.Contracts;

/// <summary>
/// One metric of one experiment, reduced to per-variant sufficient statistics (STATISTICS.md).
/// Properties that a valid request must carry are nullable here only so that a missing one can be
/// reported by name; <see cref="Validation.AnalysisRequestValidator"/> checks them.
/// </summary>
public sealed record AnalysisRequest
{
    public MetricType? MetricType { get; init; }

    /// <summary>Default <see cref="TestKind.Sequential"/>.</summary>
    public TestKind? Test { get; init; }

    /// <summary>Default 0.95; alpha = 1 − confidence_level.</summary>
    public double? ConfidenceLevel { get; init; }

    /// <summary>The key of the variant every other variant is compared with.</summary>
    public string? Control { get; init; }

    public IReadOnlyList<VariantStatistics>? Variants { get; init; }

    /// <summary>SRM is flagged when its p-value is below this; default 0.001.</summary>
    public double? SrmThreshold { get; init; }

    /// <summary>Mixture standard deviation τ on the absolute scale for the sequential test.</summary>
    public double? Tau { get; init; }

    /// <summary>N*, the total sample size at which the default-τ interval is tightest; default 5000.</summary>
    public double? SequentialTuning { get; init; }

    /// <summary>A metric direction makes the tests one-sided; default two-sided.</summary>
    public Direction? Direction { get; init; }

    /// <summary>Multiple-comparison correction across the treatments; default none.</summary>
    public CorrectionMethod? Correction { get; init; }

    /// <summary>Thompson-sampling traffic floor per variant (binary metrics); default 0.01.</summary>
    public double? MinTrafficWeight { get; init; }
}

/// <summary>Sufficient statistics of one variant: users n, Σy, Σy², and optionally the CUPED covariate.</summary>
public sealed record VariantStatistics
{
    public string? Key { get; init; }

    /// <summary>Configured traffic share (any positive scale; normalised). Equal shares when every variant omits it.</summary>
    public double? ExpectedWeight { get; init; }

    public long? Users { get; init; }

    public double? Sum { get; init; }

    public double? SumSquares { get; init; }

    public CovariateStatistics? Covariate { get; init; }
}

/// <summary>Pre-exposure covariate x per user: Σx, Σx², Σxy.</summary>
public sealed record CovariateStatistics
{
    public double? Sum { get; init; }

    public double? SumSquares { get; init; }

    public double? SumProduct { get; init; }
}
