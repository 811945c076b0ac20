using Microsoft.AspNetCore.Http;

namespace Experiments.Postgres.Configuration;

/// <summary>
/// Finds the SDK key a client presented: <c>Authorization: Api-Key &lt;key&gt;</c> (Amplitude Experiment's SDKs),
/// <c>Authorization: Bearer &lt;key&gt;</c>, or an <c>api_key</c> in the body (Amplitude's HTTP API), and resolves it
/// to the project. The same rule for the assignment and ingest services.
/// </summary>
public static class SdkKeyAuthentication
{
    public static string? PresentedKey(HttpRequest request, string? bodyKey = null)
    {
        string? header = request.Headers.Authorization;
        if (!string.IsNullOrEmpty(header))
        {
            var space = header.IndexOf(' ');
            if (space > 0 && header[..space] is var scheme
                && (scheme.Equals("Api-Key", StringComparison.OrdinalIgnoreCase) || scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase)))
            {
                return header[(space + 1)..].Trim();
            }
        }
        return string.IsNullOrWhiteSpace(bodyKey) ? null : bodyKey;
    }

    /// <summary>The project of a valid SDK key, or a 401 problem saying what is wrong.</summary>
    public static async Task<(string? ProjectId, IResult? Problem)> AuthenticateAsync(
        this ApiKeyStore keys, HttpRequest request, string? bodyKey, CancellationToken cancellationToken)
    {
        var presented = PresentedKey(request, bodyKey);
        if (presented is null)
        {
            return (null, Unauthorized("An SDK key is required: 'Authorization: Api-Key <key>' or 'api_key' in the body."));
        }
        var owner = await keys.FindAsync(presented, cancellationToken);
        if (owner is null || owner.Kind != ApiKeyKinds.Sdk)
        {
            return (null, Unauthorized(owner is null ? "The SDK key is not valid." : "Use an SDK key here, not an admin key."));
        }
        return (owner.ProjectId, null);
    }

    private static IResult Unauthorized(string detail)
        => Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: detail);
}
