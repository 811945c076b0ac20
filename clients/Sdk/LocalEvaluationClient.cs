using System.Net.Http.Headers;
using System.Text.Json;
using Experiments.Sdk.Evaluation;

namespace Experiments.Sdk;

public sealed record LocalEvaluationConfig
{
    public Uri ServerUrl { get; init; } = new("http://127.0.0.1:5081");

    public TimeSpan FlagConfigPollingInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>When set, every evaluated non-default variant is tracked as an exposure.</summary>
    public ExposureTracker? Exposures { get; init; }
}

/// <summary>
/// Local evaluation: polls the flag configurations (<c>GET /sdk/v2/flags</c>) and evaluates in process with the
/// same engine as the service, as Amplitude's <c>LocalEvaluationClient</c> does. Keeps the last good flags when a poll fails.
/// </summary>
public sealed class LocalEvaluationClient(string deploymentKey, LocalEvaluationConfig? config = null, HttpClient? httpClient = null) : IAsyncDisposable
{
    private readonly LocalEvaluationConfig _config = config ?? new LocalEvaluationConfig();
    private readonly HttpClient _http = httpClient ?? new HttpClient();
    private readonly CancellationTokenSource _stop = new();
    private volatile FlagSet _flags = FlagSet.Empty;
    private Task? _poller;

    /// <summary>Fetches the flags once (throws if that fails), then keeps polling in the background.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await RefreshAsync(cancellationToken);
        _poller ??= Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(_config.FlagConfigPollingInterval);
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    await RefreshAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !_stop.IsCancellationRequested)
                {
                    // Keep the last good flags.
                }
            }
        });
    }

    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_config.ServerUrl, "/sdk/v2/flags?v=0"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Api-Key", deploymentKey);
        using var response = await _http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        var flags = await JsonSerializer.DeserializeAsync<List<EvaluationFlag>>(await response.Content.ReadAsStreamAsync(cancellationToken), EvaluationJson.Options, cancellationToken) ?? [];
        _flags = new FlagSet(flags);
    }

    /// <summary>Every flag's variant (or the named ones'), default variants included, as Amplitude's <c>evaluateV2</c>.</summary>
    public IReadOnlyDictionary<string, Variant> Evaluate(ExperimentUser user, IReadOnlyCollection<string>? flagKeys = null)
    {
        var flags = _flags;
        var results = new EvaluationResult?[flags.Count];
        flags.EvaluateAll(user.ToEvaluationUser(), results, flagKeys);
        var variants = new Dictionary<string, Variant>(StringComparer.Ordinal);
        foreach (var result in results)
        {
            if (result is null || (flagKeys is { Count: > 0 } && !flagKeys.Contains(result.FlagKey)))
            {
                continue;
            }
            variants[result.FlagKey] = Variant.From(result);
            if (!result.IsDefault && result.Key is { } key)
            {
                _config.Exposures?.Track(user, result.FlagKey, key);
            }
        }
        return variants;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_poller is not null)
        {
            try
            {
                await _poller;
            }
            catch (OperationCanceledException)
            {
            }
        }
        _stop.Dispose();
    }
}
