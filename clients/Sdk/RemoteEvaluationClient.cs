using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Experiments.Sdk.Evaluation;

namespace Experiments.Sdk;

public sealed record RemoteEvaluationConfig
{
    public Uri ServerUrl { get; init; } = new("http://127.0.0.1:5081");

    public TimeSpan FetchTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public int FetchRetries { get; init; } = 2;

    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromMilliseconds(100);
}

/// <summary>Remote evaluation: asks the assignment service (<c>GET /sdk/v2/vardata</c>), as Amplitude's <c>RemoteEvaluationClient</c> does.</summary>
public sealed class RemoteEvaluationClient(string deploymentKey, RemoteEvaluationConfig? config = null, HttpClient? httpClient = null) : IDisposable
{
    private readonly RemoteEvaluationConfig _config = config ?? new RemoteEvaluationConfig();
    private readonly HttpClient _http = httpClient ?? new HttpClient();
    private readonly bool _ownsHttp = httpClient is null;

    /// <summary>Every flag's variant for the user (default variants included; see <see cref="Variant.IsDefault"/>).</summary>
    public async Task<IReadOnlyDictionary<string, Variant>> FetchAsync(ExperimentUser user, IReadOnlyCollection<string>? flagKeys = null, CancellationToken cancellationToken = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_config.ServerUrl, "/sdk/v2/vardata?v=0"));
                request.Headers.Authorization = new AuthenticationHeaderValue("Api-Key", deploymentKey);
                request.Headers.Add("X-Amp-Exp-User", Base64Url(user.ToJson().GetRawText()));
                if (flagKeys is { Count: > 0 })
                {
                    request.Headers.Add("X-Amp-Exp-Flag-Keys", Base64Url(JsonSerializer.Serialize(flagKeys)));
                }
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(_config.FetchTimeout);
                using var response = await _http.SendAsync(request, timeout.Token);
                if ((int)response.StatusCode is >= 400 and < 500)
                {
                    throw new ExperimentException($"The assignment service refused the request ({(int)response.StatusCode}): {await response.Content.ReadAsStringAsync(cancellationToken)}");
                }
                response.EnsureSuccessStatusCode();
                var variants = await JsonSerializer.DeserializeAsync<Dictionary<string, EvaluationVariant>>(
                    await response.Content.ReadAsStreamAsync(cancellationToken), EvaluationJson.Options, cancellationToken) ?? [];
                return variants.ToDictionary(v => v.Key, v => Variant.From(v.Value), StringComparer.Ordinal);
            }
            catch (Exception ex) when (attempt < _config.FetchRetries && ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(_config.RetryBackoff * Math.Pow(2, attempt), cancellationToken);
            }
        }
    }

    internal static string Base64Url(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }
}

/// <summary>The service refused a request (bad key, malformed user): retrying would not help.</summary>
public sealed class ExperimentException(string message) : Exception(message);
