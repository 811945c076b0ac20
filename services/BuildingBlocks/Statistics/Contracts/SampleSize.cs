using System.Text.Json.Serialization;

namespace Experiments.Statistics.Contracts;

/// <summary>Users needed per variant to detect a relative change of a binary metric's rate.</summary>
public sealed record SampleSizeRequest
{
    public double? BaselineRate { get; init; }

    public double? RelativeMde { get; init; }

    /// <summary>Default 0.95 (two-sided).</summary>
    public double? ConfidenceLevel { get; init; }

    /// <summary>Default 0.8.</summary>
    public double? Power { get; init; }

    /// <summary>Users entering the experiment per day across all variants; gives <see cref="SampleSizeResult.Days"/>.</summary>
    public double? DailyUsers { get; init; }

    /// <summary>Number of variants sharing the daily traffic; default 2.</summary>
    public int? VariantCount { get; init; }
}

public sealed record SampleSizeResult
{
    public required long UsersPerVariant { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? TotalUsers { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Days { get; init; }
}
