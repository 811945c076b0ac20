using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Experiments.Contracts.Assignment.V1;
using Experiments.Contracts.Grpc;

namespace Experiments.Assignment.Benchmarks;

/// <summary>
/// Drives a running assignment service: <c>load --http URL --grpc URL --key SDK_KEY --project ID [--seconds 20]
/// [--concurrency 32] [--batch 50] [--users N]</c>. REST: one user per <c>POST /v1/evaluate</c>; gRPC: <c>EvaluateBatch</c> of
/// <c>--batch</c> users. Prints user evaluations/s and request latency p50/p99.
/// </summary>
public static class LoadGenerator
{
    public static async Task<int> RunAsync(string[] args)
    {
        string Arg(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;
        var http = new Uri(Arg("--http", "http://127.0.0.1:5081"));
        var grpc = new Uri(Arg("--grpc", "http://127.0.0.1:6081"));
        var key = Arg("--key", "dev-sdk-key");
        var project = Arg("--project", "demo");
        var seconds = int.Parse(Arg("--seconds", "20"), CultureInfo.InvariantCulture);
        var concurrency = int.Parse(Arg("--concurrency", "32"), CultureInfo.InvariantCulture);
        var batch = int.Parse(Arg("--batch", "50"), CultureInfo.InvariantCulture);
        // --users N: user ids drawn from a pool of N users that come back (as real traffic does: only a user's first
        // evaluation records an assignment event); 0 (the default): every evaluation is a user never seen before.
        var pool = long.Parse(Arg("--users", "0"), CultureInfo.InvariantCulture);
        var run = Guid.NewGuid().ToString("N")[..8];
        string UserId(long i) => pool > 0 ? $"load-user-{i % pool}" : $"load-{run}-{i}";

        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency }) { BaseAddress = http };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Api-Key", key);
        // The body written straight as UTF-8 (no serializer) and the answer read into a reused buffer: the generator
        // shares the 2 cores with the service, so it should spend as little of them as it can.
        var evaluate = new Uri(http, "/v1/evaluate");
        var json = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        await Report("REST POST /v1/evaluate (1 user/request)", seconds, concurrency, 1, async i =>
        {
            var body = System.Text.Encoding.UTF8.GetBytes("{\"user_id\":\"" + UserId(i) + "\",\"user_properties\":{\"plan\":\"pro\",\"country\":\"DE\"}}");
            using var request = new HttpRequestMessage(HttpMethod.Post, evaluate) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = json;
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            await using var stream = await response.Content.ReadAsStreamAsync();
            await stream.CopyToAsync(Stream.Null);
        });

        using var channel = GrpcHttpChannel.ForAddress(grpc);
        var rpc = new AssignmentService.AssignmentServiceClient(channel);
        await Report("gRPC Evaluate (1 user/call)", seconds, concurrency, 1, async i =>
            await rpc.EvaluateAsync(new EvaluateRequest { ProjectId = project, User = new User { UserId = UserId(i) } }));
        await Report($"gRPC EvaluateBatch ({batch} users/call)", seconds, concurrency, batch, async i =>
        {
            var request = new EvaluateBatchRequest { ProjectId = project };
            for (var u = 0; u < batch; u++)
            {
                request.Users.Add(new User { UserId = UserId(i * batch + u) });
            }
            await rpc.EvaluateBatchAsync(request);
        });
        return 0;
    }

    private static async Task Report(string name, int seconds, int concurrency, int usersPerCall, Func<long, Task> call)
    {
        // Warm up, then measure.
        for (var i = 0; i < 200; i++)
        {
            await call(i);
        }
        var latencies = new List<double>[concurrency];
        long next = 1_000_000;
        var stop = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(seconds);
        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            var mine = latencies[w] = new List<double>(100_000);
            while (stop.Elapsed < deadline)
            {
                var started = Stopwatch.GetTimestamp();
                await call(Interlocked.Increment(ref next));
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var elapsed = stop.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        double Percentile(double p) => all[Math.Min(all.Length - 1, (int)(p * all.Length))];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {all.Length * usersPerCall / elapsed:N0} user evaluations/s, {all.Length / elapsed:N0} requests/s, p50 {Percentile(0.5):F2} ms, p99 {Percentile(0.99):F2} ms (concurrency {concurrency}, {elapsed:F0} s)"));
    }
}
