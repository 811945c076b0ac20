namespace Experiments.Postgres.Configuration;

public static class ExperimentStatuses
{
    public const string Draft = "draft";
    public const string Running = "running";
    public const string Stopped = "stopped";
}

/// <summary>An experiment (or flag) as the other services read it from the gateway's schema.</summary>
public sealed record ExperimentConfig(
    Guid Id,
    string ProjectId,
    string Key,
    string Name,
    string Status,
    bool BanditEnabled,
    string BucketingUnit,
    string Salt,
    string? PrimaryMetricEventType,
    DateTimeOffset? StartedAt,
    DateTimeOffset? StoppedAt,
    IReadOnlyList<VariantConfig> Variants);

public sealed record VariantConfig(Guid Id, string Key, string Name, double TrafficWeight, string? PayloadJson);
