using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace Experiments.Sdk;

public sealed record ExposureConfig
{
    /// <summary>The ingest service (events go to <c>POST /v1/events</c>).</summary>
    public Uri IngestUrl { get; init; } = new("http://127.0.0.1:5082");

    public int BatchSize { get; init; } = 500;

    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(2);

    public int MaxRetries { get; init; } = 5;

    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromMilliseconds(200);
}

/// <summary>
/// Exposure tracking: a <c>$exposure</c> event (event_properties <c>flag_key</c> and <c>variant</c>) once per user,
/// flag and variant for the tracker's lifetime (the session), posted in batches to ingest with retries and
/// exponential backoff. 4xx answers are not retried (the batch is invalid).
/// </summary>
public sealed class ExposureTracker : IAsyncDisposable
{
    private readonly string _apiKey;
    private readonly ExposureConfig _config;
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<(string?, string?, string, string), byte> _seen = new();
    private readonly ConcurrentQueue<object> _queue = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _flusher;
    private readonly SemaphoreSlim _flushing = new(1, 1);

    public ExposureTracker(string apiKey, ExposureConfig? config = null, HttpClient? httpClient = null)
    {
        _apiKey = apiKey;
        _config = config ?? new ExposureConfig();
        _http = httpClient ?? new HttpClient();
        _flusher = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(_config.FlushInterval);
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                await FlushAsync(_stop.Token);
            }
        });
    }

    /// <summary>Events that could not be delivered after every retry.</summary>
    public long Dropped { get; private set; }

    /// <summary>Queues an exposure unless this user already saw this variant of this flag in the session.</summary>
    public bool Track(ExperimentUser user, string flagKey, string variant)
    {
        if (!_seen.TryAdd((user.UserId, user.DeviceId, flagKey, variant), 0))
        {
            return false;
        }
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        _queue.Enqueue(new
        {
            event_type = "$exposure",
            user_id = user.UserId,
            device_id = user.DeviceId,
            time = now,
            insert_id = $"{user.UserId}/{user.DeviceId}/{flagKey}/{variant}/{now}",
            event_properties = new { flag_key = flagKey, variant },
        });
        if (_queue.Count >= _config.BatchSize)
        {
            _ = FlushAsync(_stop.Token);
        }
        return true;
    }

    /// <summary>Posts everything queued, in batches; retries transient failures with exponential backoff.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await _flushing.WaitAsync(cancellationToken);
        try
        {
            while (!_queue.IsEmpty)
            {
                var batch = new List<object>(_config.BatchSize);
                while (batch.Count < _config.BatchSize && _queue.TryDequeue(out var e))
                {
                    batch.Add(e);
                }
                if (!await SendAsync(batch, cancellationToken))
                {
                    Dropped += batch.Count;
                }
            }
        }
        finally
        {
            _flushing.Release();
        }
    }

    private async Task<bool> SendAsync(List<object> batch, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt <= _config.MaxRetries; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_config.IngestUrl, "/v1/events"))
                {
                    Content = JsonContent.Create(new { events = batch }),
                };
                request.Headers.Authorization = new AuthenticationHeaderValue("Api-Key", _apiKey);
                using var response = await _http.SendAsync(request, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }
                if ((int)response.StatusCode is >= 400 and < 500 and not 408 and not 429)
                {
                    return false;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(_config.RetryBackoff * Math.Pow(2, attempt), cancellationToken);
        }
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _flusher;
        }
        catch (OperationCanceledException)
        {
        }
        await FlushAsync(CancellationToken.None);
        _stop.Dispose();
    }
}
