using System.Text.Json;
using Experiments.Postgres.Configuration;

namespace Experiments.Gateway.Model;

/// <summary>How an experiment picks its users: bucketing, allocation, stickiness, targeting segments, testers, exclusion groups.</summary>
public sealed record Targeting(
    Guid ExperimentId,
    string ExperimentKey,
    string Status,
    string BucketingUnit,
    string BucketingSalt,
    int TrafficAllocation,
    bool StickyBucketing,
    IReadOnlyList<TargetingSegment> Segments,
    IReadOnlyList<TesterGroup> Testers,
    IReadOnlyList<VariantWithPayload> Variants,
    IReadOnlyList<string> ExclusionGroups);

public sealed record VariantWithPayload(string Key, string Name, double TrafficWeight, JsonElement? Payload);

public sealed record UpdateTargetingRequest(
    string? BucketingUnit,
    string? BucketingSalt,
    int? TrafficAllocation,
    bool? StickyBucketing,
    IReadOnlyList<TargetingSegment?>? Segments);

public sealed record UpdateTestersRequest(IReadOnlyList<TesterGroup?>? Testers);

/// <summary>A variant edit; <see cref="Payload"/> is Undefined when absent (kept) and Null when sent as null (cleared).</summary>
public sealed record UpdateVariantRequest(string? Name, double? TrafficWeight, JsonElement Payload);

/// <summary>A mutual-exclusion group or a holdout, as the admin API shows it.</summary>
public sealed record ExclusionGroup(
    Guid Id, string ProjectId, string Key, string Name, string Kind, string BucketingUnit, int HoldoutPercent,
    IReadOnlyList<ExclusionGroupMember> Members);

public sealed record CreateExclusionGroupRequest(string? Name, string? Key, string? Kind, int? HoldoutPercent, string? BucketingUnit, string? ProjectId);

public sealed record AddExclusionMemberRequest(double? Weight);
