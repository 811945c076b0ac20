using System.Buffers.Text;
using System.Text.Json;
using Experiments.Assignment.Configuration;
using Experiments.Assignment.Evaluation;
using Experiments.Postgres.Configuration;
using Experiments.Sdk.Evaluation;

namespace Experiments.Assignment.Apis;

/// <summary>
/// Amplitude Experiment's SDK API, so its SDKs work by changing only the server URL: remote evaluation
/// (<c>GET /sdk/v2/vardata?v=0</c>, user in <c>X-Amp-Exp-User</c> as base64 JSON) and the flag configurations
/// for local evaluation (<c>GET /sdk/v2/flags?v=0</c>). Both take <c>Authorization: Api-Key &lt;SDK key&gt;</c>.
/// </summary>
public static class SdkApi
{
    public const string UserHeader = "X-Amp-Exp-User";
    public const string FlagKeysHeader = "X-Amp-Exp-Flag-Keys";

    public static RouteGroupBuilder MapSdkApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/sdk/v2").WithTags("Amplitude SDK");
        api.MapGet("/vardata", Variants).WithName("SdkVariants");
        api.MapGet("/flags", Flags).WithName("SdkFlags");
        return api;
    }

    private static async Task<IResult> Variants(HttpRequest http, ApiKeyStore keys, Evaluator evaluator, CancellationToken ct)
    {
        var (projectId, problem) = await keys.AuthenticateAsync(http, null, ct);
        if (problem is not null)
        {
            return problem;
        }
        if (!TryDecodeJson(http.Headers[UserHeader], UserHeader, out var userJson, out problem))
        {
            return problem!;
        }
        EvaluationUser user;
        try
        {
            user = EvaluationUser.FromAmplitudeJson(userJson);
        }
        catch (FormatException ex)
        {
            return Invalid(UserHeader, $"The user in {UserHeader} is not valid: {ex.Message}");
        }

        string[]? flagKeys = null;
        if (http.Headers.ContainsKey(FlagKeysHeader))
        {
            if (!TryDecodeJson(http.Headers[FlagKeysHeader], FlagKeysHeader, out var keysJson, out problem))
            {
                return problem!;
            }
            if (keysJson.ValueKind != JsonValueKind.Array || keysJson.EnumerateArray().Any(k => k.ValueKind != JsonValueKind.String))
            {
                return Invalid(FlagKeysHeader, $"{FlagKeysHeader} must be a base64 JSON array of flag keys.");
            }
            flagKeys = keysJson.EnumerateArray().Select(k => k.GetString()!).ToArray();
        }

        var results = evaluator.Evaluate(projectId!, user, flagKeys, includeDefaults: true);
        var body = results.ToDictionary(r => r.FlagKey, r => r.ToVariant(), StringComparer.Ordinal);
        return TypedResults.Json(body, EvaluationJson.Options);
    }

    private static async Task<IResult> Flags(HttpRequest http, ApiKeyStore keys, ConfigurationCache cache, CancellationToken ct)
    {
        var (projectId, problem) = await keys.AuthenticateAsync(http, null, ct);
        if (problem is not null)
        {
            return problem;
        }
        return TypedResults.Bytes(cache.FlagsOf(projectId!).FlagsJson, "application/json");
    }

    /// <summary>Base64 (URL-safe or standard, padding optional, as Amplitude's SDKs send it) of UTF-8 JSON.</summary>
    private static bool TryDecodeJson(string? header, string name, out JsonElement json, out IResult? problem)
    {
        json = default;
        problem = null;
        if (string.IsNullOrWhiteSpace(header))
        {
            problem = Invalid(name, $"The {name} header is required: the user as base64-encoded JSON.");
            return false;
        }
        var text = header.Trim().Replace('-', '+').Replace('_', '/');
        text = text.PadRight(text.Length + (4 - text.Length % 4) % 4, '=');
        var bytes = new byte[Base64.GetMaxDecodedFromUtf8Length(text.Length)];
        if (!Convert.TryFromBase64String(text, bytes, out var written))
        {
            problem = Invalid(name, $"The {name} header is not valid base64.");
            return false;
        }
        try
        {
            using var document = JsonDocument.Parse(bytes.AsMemory(0, written));
            json = document.RootElement.Clone();
            return true;
        }
        catch (JsonException ex)
        {
            problem = Invalid(name, $"The {name} header is not base64 of JSON: {ex.Message}");
            return false;
        }
    }

    private static IResult Invalid(string field, string message)
        => TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, detail: message, title: "The request is invalid");
}
