using System.Text.Json;
using System.Text.Json.Serialization;

namespace Experiments.Postgres.Configuration;

public static class ExperimentStatuses
{
    public const string Draft = "draft";
    public const string Running = "running";
    public const string Stopped = "stopped";
}

/// <summary>What users are bucketed by: a user id, a device id, or any other name as a group type (e.g. <c>company_id</c>).</summary>
public static class BucketingUnits
{
    public const string UserId = "user_id";
    public const string DeviceId = "device_id";
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
    IReadOnlyList<VariantConfig> Variants)
{
    /// <summary>Percentage (0-100) of the users who pass targeting that enter the experiment.</summary>
    public int TrafficAllocation { get; init; } = 100;

    /// <summary>A user keeps the first variant assigned, whatever the weights become (always on for bandits).</summary>
    public bool StickyBucketing { get; init; }

    public IReadOnlyList<TargetingSegment> Segments { get; init; } = [];

    public IReadOnlyList<TesterGroup> Testers { get; init; } = [];
}

public sealed record VariantConfig(Guid Id, string Key, string Name, double TrafficWeight, string? PayloadJson);

/// <summary>
/// A targeting segment: users for whom every rule holds (AND). Segments are tried in order and the first
/// match wins; it buckets by the experiment's weights within its own allocation, or serves one fixed variant.
/// </summary>
public sealed record TargetingSegment(string Name, IReadOnlyList<TargetingRule> Rules, int? TrafficAllocation = null, string? Variant = null);

/// <summary>
/// One rule. <see cref="Property"/> names a user property, or <c>user_id</c>, <c>device_id</c>, <c>user.&lt;field&gt;</c>
/// (country, platform, version, ...) or <c>group.&lt;type&gt;</c>. Operators: <see cref="TargetingOperators"/>.
/// </summary>
public sealed record TargetingRule(string Property, string Operator, IReadOnlyList<string> Values);

/// <summary>Users and devices pinned to a variant, ahead of targeting and bucketing.</summary>
public sealed record TesterGroup(string Variant, IReadOnlyList<string>? UserIds = null, IReadOnlyList<string>? DeviceIds = null);

/// <summary>A mutual-exclusion group (members split the users: each user can enter at most one) or a holdout (a share of users enters none).</summary>
public sealed record ExclusionGroupConfig(
    Guid Id,
    string ProjectId,
    string Key,
    string Name,
    string Kind,
    string BucketingUnit,
    string Salt,
    int HoldoutPercent,
    IReadOnlyList<ExclusionGroupMember> Members);

public sealed record ExclusionGroupMember(Guid ExperimentId, string ExperimentKey, double Weight);

public static class ExclusionGroupKinds
{
    public const string MutualExclusion = "mutual_exclusion";
    public const string Holdout = "holdout";
}

/// <summary>
/// The rule operators of targeting segments and of the analysis' property filters, one vocabulary: Amplitude's
/// evaluation operators and <c>starts with</c> (the .NET SDK's evaluation engine carries the same names).
/// </summary>
public static class TargetingOperators
{
    public const string Is = "is";
    public const string IsNot = "is not";
    public const string Contains = "contains";
    public const string DoesNotContain = "does not contain";
    public const string StartsWith = "starts with";
    public const string Less = "less";
    public const string LessOrEqual = "less or equal";
    public const string Greater = "greater";
    public const string GreaterOrEqual = "greater or equal";
    public const string VersionLess = "version less";
    public const string VersionLessOrEqual = "version less or equal";
    public const string VersionGreater = "version greater";
    public const string VersionGreaterOrEqual = "version greater or equal";
    public const string SetIs = "set is";
    public const string SetIsNot = "set is not";
    public const string SetContains = "set contains";
    public const string SetDoesNotContain = "set does not contain";
    public const string SetContainsAny = "set contains any";
    public const string SetDoesNotContainAny = "set does not contain any";
    public const string RegexMatch = "regex match";
    public const string RegexDoesNotMatch = "regex does not match";

    /// <summary>Every operator, in the order the admin console lists them.</summary>
    public static readonly IReadOnlyList<string> Ordered =
    [
        Is, IsNot, Contains, DoesNotContain, StartsWith, Less, LessOrEqual, Greater, GreaterOrEqual,
        VersionLess, VersionLessOrEqual, VersionGreater, VersionGreaterOrEqual,
        SetIs, SetIsNot, SetContains, SetDoesNotContain, SetContainsAny, SetDoesNotContainAny,
        RegexMatch, RegexDoesNotMatch,
    ];

    public static readonly IReadOnlySet<string> All = new HashSet<string>(Ordered, StringComparer.Ordinal);
}

/// <summary>How segments and testers are stored in jsonb (snake_case, as the admin API shows them).</summary>
public static class TargetingJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static IReadOnlyList<TargetingSegment> ReadSegments(string? json)
        => string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize<List<TargetingSegment>>(json, Options) ?? [];

    public static IReadOnlyList<TesterGroup> ReadTesters(string? json)
        => string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize<List<TesterGroup>>(json, Options) ?? [];
}
