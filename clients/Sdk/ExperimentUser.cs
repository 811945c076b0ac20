using System.Text.Json;
using System.Text.Json.Serialization;
using Experiments.Sdk.Evaluation;

namespace Experiments.Sdk;

/// <summary>The user to evaluate, as Amplitude's SDKs describe one (snake_case JSON in <c>X-Amp-Exp-User</c>).</summary>
public sealed record ExperimentUser
{
    [JsonPropertyName("user_id")]
    public string? UserId { get; init; }

    [JsonPropertyName("device_id")]
    public string? DeviceId { get; init; }

    [JsonPropertyName("country")]
    public string? Country { get; init; }

    [JsonPropertyName("platform")]
    public string? Platform { get; init; }

    [JsonPropertyName("version")]
    public string? Version { get; init; }

    [JsonPropertyName("user_properties")]
    public IReadOnlyDictionary<string, object?>? UserProperties { get; init; }

    /// <summary>Group type to group names, e.g. <c>{"company_id": ["acme"]}</c>.</summary>
    [JsonPropertyName("groups")]
    public IReadOnlyDictionary<string, string[]>? Groups { get; init; }

    internal JsonElement ToJson() => JsonSerializer.SerializeToElement(this, EvaluationJson.Options);

    internal EvaluationUser ToEvaluationUser() => EvaluationUser.FromAmplitudeJson(ToJson());
}

/// <summary>A flag's variant for a user: <see cref="Key"/>, <see cref="Value"/>, and the optional JSON <see cref="Payload"/>.</summary>
public sealed record Variant(string? Key, string? Value, JsonElement? Payload, IReadOnlyDictionary<string, JsonElement>? Metadata)
{
    /// <summary>The default variant of a user outside targeting or allocation ("off").</summary>
    public bool IsDefault => Metadata is { } m && m.TryGetValue("default", out var d) && d.ValueKind == JsonValueKind.True;

    internal static Variant From(EvaluationVariant v) => new(v.Key,
        v.Value is { ValueKind: JsonValueKind.String } s ? s.GetString() : v.Value is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } o ? o.GetRawText() : null,
        v.Payload, v.Metadata);

    internal static Variant From(EvaluationResult r) => new(r.Key, r.Value, r.Payload, r.Metadata);
}
