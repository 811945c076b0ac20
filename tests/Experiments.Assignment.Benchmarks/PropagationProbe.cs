using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Experiments.Assignment.Benchmarks;

/// <summary>
/// Change-to-served delay on a running platform: <c>propagation --gateway URL --admin-key KEY --http URL --key SDK_KEY
/// --project ID --experiment KEY [--rounds 20]</c>. Each round pins a probe user (a tester, through the gateway's
/// admin API <c>PUT /v1/admin/experiments/{id}/testers</c>) to the variant it is not served now, then polls the
/// assignment service (<c>POST /v1/evaluate</c>, back to back) until that user gets it. The delay runs from sending
/// the change to the first answer with the new variant; it includes the gateway's commit, its outbox relay, RabbitMQ
/// and the assignment instance's reload. Rounds start 100-400 ms apart (random, so they are not in step with the
/// periodic refresh). The experiment's own testers are kept and put back at the end. Prints p50/p95/max.
/// </summary>
public static class PropagationProbe
{
    public static async Task<int> RunAsync(string[] args)
    {
        string Arg(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;
        var project = Arg("--project", "demo");
        var experimentKey = Arg("--experiment", "demo-checkout-button");
        var rounds = int.Parse(Arg("--rounds", "20"), CultureInfo.InvariantCulture);
        var probeUser = $"propagation-probe-{Guid.NewGuid():N}";

        using var admin = new HttpClient { BaseAddress = new Uri(Arg("--gateway", "http://127.0.0.1:5080")), Timeout = TimeSpan.FromSeconds(30) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Arg("--admin-key", "dev-admin-key"));
        using var assignment = new HttpClient { BaseAddress = new Uri(Arg("--http", "http://127.0.0.1:5081")), Timeout = TimeSpan.FromSeconds(30) };
        assignment.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Api-Key", Arg("--key", "dev-sdk-key"));

        var experiments = await ReadAsync(await admin.GetAsync($"/v1/admin/experiments?project_id={Uri.EscapeDataString(project)}"));
        var id = (string?)experiments.AsArray().FirstOrDefault(e => (string?)e?["key"] == experimentKey)?["id"]
            ?? throw new InvalidOperationException($"No experiment '{experimentKey}' in project '{project}'.");
        var targeting = await ReadAsync(await admin.GetAsync($"/v1/admin/experiments/{id}/targeting"));
        if ((string?)targeting["status"] != "running")
        {
            throw new InvalidOperationException($"'{experimentKey}' is {(string?)targeting["status"]}; start it first.");
        }
        var variants = targeting["variants"]!.AsArray().Select(v => (string)v!["key"]!).ToArray();
        var original = targeting["testers"]!.ToJsonString();

        async Task<string?> ServedAsync()
        {
            var body = await ReadAsync(await assignment.PostAsJsonAsync("/v1/evaluate", new { user_id = probeUser, flag_keys = new[] { experimentKey } }));
            return (string?)body["variants"]?[experimentKey]?["key"];
        }

        async Task PutTestersAsync(JsonArray testers)
        {
            using var response = await admin.PutAsync($"/v1/admin/experiments/{id}/testers", JsonContent.Create(new JsonObject { ["testers"] = testers }));
            await ReadAsync(response);
        }

        Console.WriteLine($"Experiment {experimentKey} ({id}), variants {string.Join(", ", variants)}, probe user {probeUser}, {rounds} rounds");
        var delays = new List<double>();
        var changes = new List<double>();
        var random = new Random();
        try
        {
            for (var round = 0; round < rounds; round++)
            {
                var current = await ServedAsync();
                var target = variants.First(v => v != current);
                var testers = JsonNode.Parse(original)!.AsArray();
                testers.Add(new JsonObject { ["variant"] = target, ["user_ids"] = new JsonArray(probeUser) });

                var started = Stopwatch.GetTimestamp();
                await PutTestersAsync(testers);
                changes.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                var polls = 0;
                while (await ServedAsync() != target)
                {
                    polls++;
                    if (Stopwatch.GetElapsedTime(started) > TimeSpan.FromSeconds(60))
                    {
                        throw new TimeoutException($"Round {round}: '{target}' not served 60 s after the change.");
                    }
                }
                var delay = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                delays.Add(delay);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round + 1,2}: {current} -> {target} served after {delay,8:F1} ms ({polls} polls; the PUT took {changes[^1]:F1} ms)"));
                await Task.Delay(random.Next(100, 400));
            }
        }
        finally
        {
            await PutTestersAsync(JsonNode.Parse(original)!.AsArray());
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Change-to-served delay over {delays.Count} changes: p50 {Percentile(delays, 0.5):F1} ms, p95 {Percentile(delays, 0.95):F1} ms, max {delays.Max():F1} ms " +
            $"(the admin PUT alone: p50 {Percentile(changes, 0.5):F1} ms, max {changes.Max():F1} ms)"));
        return 0;
    }

    /// <summary>Nearest rank: the smallest value with at least <paramref name="p"/> of the values at or below it.</summary>
    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private static async Task<JsonNode> ReadAsync(HttpResponseMessage response)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {text}");
            }
            return JsonNode.Parse(text)!;
        }
    }
}
