using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Experiments.Ingest.Tests.Support;

/// <summary>What a load run saw: batches acknowledged (HTTP 200) and the other answers on the way.</summary>
public sealed record LoadResult(int AcknowledgedBatches, int AcknowledgedEvents, IReadOnlyDictionary<string, int> Retries)
{
    public override string ToString() =>
        $"{AcknowledgedBatches} batches / {AcknowledgedEvents} events acknowledged; retried: "
        + (Retries.Count == 0 ? "none" : string.Join(", ", Retries.Select(r => $"{r.Key} x{r.Value}")));
}

/// <summary>
/// Posts numbered batches the way an SDK does: each batch is retried unchanged (same insert ids) until it gets a
/// 200, whatever else comes back (503 while the broker restarts, connection refused while the service is down),
/// so that every event of the run is acknowledged in the end. Bounded in time; a fault runs once, when the given
/// share of batches was acknowledged, while the load goes on.
/// </summary>
public sealed class LoadDriver(HttpClient client, string path = "/v1/events")
{
    private static readonly TimeSpan PerBatchDeadline = TimeSpan.FromSeconds(120);

    /// <summary>A body of <paramref name="size"/> events: every other one an exposure, insert ids <c>{prefix}-{batch}-{i}</c>.</summary>
    public static byte[] Batch(string prefix, int batch, int size)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var json = new StringBuilder("{\"events\":[");
        for (var i = 0; i < size; i++)
        {
            if (i > 0)
            {
                json.Append(',');
            }
            var user = $"u{(batch * size + i) % 5000}";
            var insertId = $"{prefix}-{batch}-{i}";
            var variant = i % 4 == 0 ? "control" : "treatment";
            json.Append(i % 2 == 0
                ? $$$"""{"event_type":"$exposure","user_id":"{{{user}}}","time":{{{now}}},"insert_id":"{{{insertId}}}","event_properties":{"flag_key":"fault-flag","variant":"{{{variant}}}"},"platform":"test"}"""
                : $$$"""{"event_type":"purchase","user_id":"{{{user}}}","time":{{{now}}},"insert_id":"{{{insertId}}}","event_properties":{"amount":{{{i}}}},"user_properties":{"plan":"pro"}}""");
        }
        return Encoding.UTF8.GetBytes(json.Append("]}").ToString());
    }

    public async Task<LoadResult> RunAsync(
        string prefix, int batches, int size, int concurrency, double faultAt = 1, Func<Task>? fault = null)
    {
        var retries = new ConcurrentDictionary<string, int>();
        var acknowledged = 0;
        var next = -1;
        var faultThreshold = (int)(batches * faultAt);
        Task? faultTask = null;
        var faultGate = new object();

        async Task Worker()
        {
            int batch;
            while ((batch = Interlocked.Increment(ref next)) < batches)
            {
                await PostUntilAcknowledgedAsync(Batch(prefix, batch, size), retries);
                if (Interlocked.Increment(ref acknowledged) == faultThreshold && fault is not null)
                {
                    lock (faultGate)
                    {
                        faultTask = Task.Run(fault);
                    }
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(Worker)));
        Task? started;
        lock (faultGate)
        {
            started = faultTask;
        }
        if (started is not null)
        {
            await started;
        }
        return new LoadResult(acknowledged, acknowledged * size, retries);
    }

    private async Task PostUntilAcknowledgedAsync(byte[] body, ConcurrentDictionary<string, int> retries)
    {
        var deadline = DateTime.UtcNow + PerBatchDeadline;
        while (true)
        {
            string reason;
            var delay = TimeSpan.FromMilliseconds(300);
            try
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                using var response = await client.PostAsync(path, content);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
                if (response.StatusCode is not (HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests))
                {
                    throw new InvalidOperationException($"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }
                reason = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (response.Headers.RetryAfter?.Delta is { } after && after < TimeSpan.FromSeconds(2))
                {
                    delay = after;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                reason = ex is TaskCanceledException ? "timeout" : "connection";
            }
            retries.AddOrUpdate(reason, 1, (_, n) => n + 1);
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"A batch was not acknowledged within {PerBatchDeadline} (last: {reason}).");
            }
            await Task.Delay(delay);
        }
    }
}
