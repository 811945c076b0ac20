namespace Experiments.Contracts.Messages;

/// <summary>
/// Assignments the assignment service made, batched, on their way to ClickHouse's <c>assignments</c> table
/// (written by the ingest consumer). <see cref="BatchId"/> is stable across redeliveries.
/// </summary>
public sealed record AssignmentBatchRecorded(Guid BatchId, string ProjectId, IReadOnlyList<AssignmentRecord> Assignments);

/// <summary>One user's assignment to a variant of a flag or experiment; <see cref="InsertId"/> deduplicates.</summary>
public sealed record AssignmentRecord(string FlagKey, string Variant, string UserId, string DeviceId, DateTimeOffset Time, string InsertId);

/// <summary>The analysis service recomputed a bandit's traffic weights (variant key to weight, summing to 1).</summary>
public sealed record BanditWeightsUpdated(Guid EventId, string ProjectId, Guid ExperimentId, string ExperimentKey,
    IReadOnlyDictionary<string, double> Weights, DateTimeOffset ComputedAt);
