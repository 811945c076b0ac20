namespace Experiments.Gateway.Model;

/// <summary>An experiment as the admin API shows it.</summary>
public sealed record Experiment(
    Guid Id,
    string ProjectId,
    string Key,
    string Name,
    string Hypothesis,
    string Status,
    bool BanditEnabled,
    string BucketingUnit,
    PrimaryMetric? PrimaryMetric,
    IReadOnlyList<Variant> Variants,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? StoppedAt);

public sealed record Variant(Guid Id, string Key, string Name, double TrafficWeight);

public sealed record PrimaryMetric(string EventType);
