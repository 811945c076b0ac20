using System.Text.Json;

namespace Experiments.Sdk.Evaluation;

/// <summary>
/// The variant a flag evaluated to, with the flag's, the segment's and the variant's metadata merged (variant wins),
/// as Amplitude's engine returns it. Precomputed per segment and variant, so returning one allocates nothing.
/// </summary>
public sealed class EvaluationResult
{
    internal EvaluationResult(string flagKey, int flagIndex, int segmentIndex, int variantIndex, EvaluationVariant variant,
        IReadOnlyDictionary<string, JsonElement> metadata)
    {
        FlagKey = flagKey;
        FlagIndex = flagIndex;
        SegmentIndex = segmentIndex;
        VariantIndex = variantIndex;
        Key = variant.Key;
        Value = variant.Value is { ValueKind: not JsonValueKind.Null } v ? (v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText()) : null;
        Payload = variant.Payload is { ValueKind: not JsonValueKind.Null } p ? p : null;
        PayloadJson = Payload?.GetRawText();
        Metadata = metadata;
        IsDefault = metadata.TryGetValue("default", out var isDefault) && isDefault.ValueKind == JsonValueKind.True;
        FlagType = metadata.TryGetValue("flagType", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null;
    }

    public string FlagKey { get; }

    /// <summary>The variant's key; null when the variant was declared without one.</summary>
    public string? Key { get; }

    /// <summary>The variant's value as a string (JSON text when it is not a string).</summary>
    public string? Value { get; }

    public JsonElement? Payload { get; }

    public string? PayloadJson { get; }

    public IReadOnlyDictionary<string, JsonElement> Metadata { get; }

    /// <summary>The "off" variant of a user outside the allocation or targeting (metadata <c>default: true</c>).</summary>
    public bool IsDefault { get; }

    /// <summary>metadata.flagType: <c>release</c>, <c>experiment</c>, <c>holdout-group</c>, <c>mutual-exclusion-group</c>.</summary>
    public string? FlagType { get; }

    public int FlagIndex { get; }

    public int SegmentIndex { get; }

    public int VariantIndex { get; }

    /// <summary>The variant as Amplitude's <c>/sdk/v2/vardata</c> answers it.</summary>
    public EvaluationVariant ToVariant() => new(Key,
        Value is null ? null : JsonSerializer.SerializeToElement(Value),
        Payload,
        Metadata.Count == 0 ? null : Metadata);
}
