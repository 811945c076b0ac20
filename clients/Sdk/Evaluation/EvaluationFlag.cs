using System.Text.Json;
using System.Text.Json.Serialization;

namespace Experiments.Sdk.Evaluation;

/// <summary>
/// A flag in Amplitude Experiment's evaluation format (what <c>GET /sdk/v2/flags?v=0</c> serves and
/// <c>@amplitude/experiment-core</c> evaluates): variants by key, segments tried in order (first match wins),
/// and the flags this one reads results of (<see cref="Dependencies"/>: holdouts, mutual-exclusion groups).
/// </summary>
public sealed record EvaluationFlag(
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("variants")] IReadOnlyDictionary<string, EvaluationVariant> Variants,
    [property: JsonPropertyName("segments")] IReadOnlyList<EvaluationSegment> Segments,
    [property: JsonPropertyName("dependencies")] IReadOnlyList<string>? Dependencies = null,
    [property: JsonPropertyName("metadata")] IReadOnlyDictionary<string, JsonElement>? Metadata = null);

/// <summary>A variant: <c>key</c>, an optional <c>value</c> (a string here) and <c>payload</c> (any JSON).</summary>
public sealed record EvaluationVariant(
    [property: JsonPropertyName("key")] string? Key,
    [property: JsonPropertyName("value")] JsonElement? Value = null,
    [property: JsonPropertyName("payload")] JsonElement? Payload = null,
    [property: JsonPropertyName("metadata")] IReadOnlyDictionary<string, JsonElement>? Metadata = null);

/// <summary>
/// Conditions (outer list OR, inner list AND; null matches everyone), then the bucket; <c>variant</c> is the
/// fallback when the segment has no bucket or the user falls outside its allocations.
/// </summary>
public sealed record EvaluationSegment(
    [property: JsonPropertyName("bucket")] EvaluationBucket? Bucket = null,
    [property: JsonPropertyName("conditions")] IReadOnlyList<IReadOnlyList<EvaluationCondition>>? Conditions = null,
    [property: JsonPropertyName("variant")] string? Variant = null,
    [property: JsonPropertyName("metadata")] IReadOnlyDictionary<string, JsonElement>? Metadata = null);

/// <summary><c>murmur3("{salt}/{value at selector}")</c>: allocation <c>hash % 100</c>, distribution <c>floor(hash / 100)</c>.</summary>
public sealed record EvaluationBucket(
    [property: JsonPropertyName("selector")] IReadOnlyList<string> Selector,
    [property: JsonPropertyName("salt")] string Salt,
    [property: JsonPropertyName("allocations")] IReadOnlyList<EvaluationAllocation> Allocations);

/// <summary>Allocation range <c>[start, end)</c> over 0..100 and the distributions inside it.</summary>
public sealed record EvaluationAllocation(
    [property: JsonPropertyName("range")] IReadOnlyList<int> Range,
    [property: JsonPropertyName("distributions")] IReadOnlyList<EvaluationDistribution> Distributions);

/// <summary>Distribution range <c>[start, end)</c> over 0..42949673.</summary>
public sealed record EvaluationDistribution(
    [property: JsonPropertyName("variant")] string Variant,
    [property: JsonPropertyName("range")] IReadOnlyList<long> Range);

/// <summary>One rule: the value at <c>selector</c>, an operator (<see cref="EvaluationOperators"/>) and the values to compare with.</summary>
public sealed record EvaluationCondition(
    [property: JsonPropertyName("selector")] IReadOnlyList<string> Selector,
    [property: JsonPropertyName("op")] string Op,
    [property: JsonPropertyName("values")] IReadOnlyList<string> Values);

/// <summary>The operators of Amplitude's evaluation engine, spelled as in its flag JSON.</summary>
public static class EvaluationOperators
{
    public const string Is = "is";
    public const string IsNot = "is not";
    public const string Contains = "contains";
    public const string DoesNotContain = "does not contain";
    public const string LessThan = "less";
    public const string LessThanEquals = "less or equal";
    public const string GreaterThan = "greater";
    public const string GreaterThanEquals = "greater or equal";
    public const string VersionLessThan = "version less";
    public const string VersionLessThanEquals = "version less or equal";
    public const string VersionGreaterThan = "version greater";
    public const string VersionGreaterThanEquals = "version greater or equal";
    public const string SetIs = "set is";
    public const string SetIsNot = "set is not";
    public const string SetContains = "set contains";
    public const string SetDoesNotContain = "set does not contain";
    public const string SetContainsAny = "set contains any";
    public const string SetDoesNotContainAny = "set does not contain any";
    public const string RegexMatch = "regex match";
    public const string RegexDoesNotMatch = "regex does not match";

    /// <summary>Every operator of the engine.</summary>
    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        Is, IsNot, Contains, DoesNotContain, LessThan, LessThanEquals, GreaterThan, GreaterThanEquals,
        VersionLessThan, VersionLessThanEquals, VersionGreaterThan, VersionGreaterThanEquals,
        SetIs, SetIsNot, SetContains, SetDoesNotContain, SetContainsAny, SetDoesNotContainAny, RegexMatch, RegexDoesNotMatch,
    };
}

/// <summary>The JSON options for the evaluation format (property names are fixed by attributes; nulls left out).</summary>
public static class EvaluationJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
