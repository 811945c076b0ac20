using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Experiments.AppHost.Demo;

/// <summary>
/// The demo a newcomer sees first: one running experiment in project <c>demo</c> with simulated traffic,
/// so that the first analysis shows results. Created through the public APIs, like any client would,
/// and only once: a second run finds it and leaves it alone.
/// </summary>
public sealed class DemoExperiment(string gatewayUrl, string assignmentUrl, string ingestUrl, string projectId, string adminKey, string sdkKey)
{
    public const string Key = "demo-checkout-button";
    private const int Users = 4000;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public async Task<string> EnsureAsync(CancellationToken cancellationToken)
    {
        using var gateway = Client(gatewayUrl, "Bearer", adminKey);
        var existing = await gateway.GetFromJsonAsync<JsonArray>($"/v1/admin/experiments?project_id={projectId}", cancellationToken) ?? [];
        if (existing.FirstOrDefault(e => (string?)e?["key"] == Key) is { } found)
        {
            return (string)found["id"]!;
        }

        var created = await Send(gateway, "/v1/admin/experiments", new
        {
            name = "Demo: checkout button",
            key = Key,
            hypothesis = "A green checkout button makes more visitors purchase than the grey one.",
            bandit_enabled = false,
            project_id = projectId,
            primary_metric = new { event_type = "purchase" },
        }, cancellationToken);
        var id = (string)created["id"]!;
        await Send(gateway, $"/v1/admin/experiments/{id}/variants", new { name = "control", traffic_weight = 50 }, cancellationToken);
        await Send(gateway, $"/v1/admin/experiments/{id}/variants", new { name = "treatment", traffic_weight = 50 }, cancellationToken);
        await Send(gateway, $"/v1/admin/experiments/{id}/launch", new { }, cancellationToken);

        await SimulateTrafficAsync(cancellationToken);
        return id;
    }

    /// <summary>Users are assigned by the assignment service, exposed, and convert at 10% (control) or 12% (treatment).</summary>
    private async Task SimulateTrafficAsync(CancellationToken cancellationToken)
    {
        using var assignment = Client(assignmentUrl, "Api-Key", sdkKey);
        using var ingest = Client(ingestUrl, "Api-Key", sdkKey);
        var random = new Random(20261125);
        var now = DateTimeOffset.UtcNow;

        // The assignment service learns of the launch through RabbitMQ; wait until it serves the experiment.
        for (var attempt = 0; await VariantOf(assignment, "probe-user", cancellationToken) is null; attempt++)
        {
            if (attempt > 60)
            {
                throw new TimeoutException("The assignment service did not pick up the demo experiment.");
            }
            await Task.Delay(500, cancellationToken);
        }

        var events = new List<object>();
        var assignments = new string?[Users];
        await Parallel.ForAsync(0, Users, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (i, ct) => assignments[i] = await VariantOf(assignment, $"demo-user-{i:D5}", ct));

        for (var i = 0; i < Users; i++)
        {
            var variant = assignments[i] ?? throw new InvalidOperationException($"demo-user-{i:D5} got no variant.");
            var userId = $"demo-user-{i:D5}";
            var exposedAt = now.AddMinutes(-random.Next(60, 3 * 24 * 60));
            events.Add(new
            {
                event_type = "$exposure",
                user_id = userId,
                time = exposedAt.ToUnixTimeMilliseconds(),
                insert_id = $"{userId}-exposure",
                event_properties = new { flag_key = Key, variant },
            });
            if (random.NextDouble() < (variant == "treatment" ? 0.12 : 0.10))
            {
                events.Add(new
                {
                    event_type = "purchase",
                    user_id = userId,
                    time = exposedAt.AddMinutes(random.Next(1, 50)).ToUnixTimeMilliseconds(),
                    insert_id = $"{userId}-purchase",
                    event_properties = new { amount = Math.Round(10 + random.NextDouble() * 90, 2) },
                });
            }
        }

        foreach (var batch in events.Chunk(1000))
        {
            await Send(ingest, "/v1/events", new { events = batch }, cancellationToken);
        }
    }

    private static async Task<string?> VariantOf(HttpClient assignment, string userId, CancellationToken cancellationToken)
    {
        var answer = await Send(assignment, "/v1/evaluate", new { user_id = userId, flag_keys = new[] { Key } }, cancellationToken);
        return (string?)answer["variants"]?[Key]?["key"];
    }

    private static HttpClient Client(string baseUrl, string scheme, string key)
    {
        var client = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(scheme, key);
        return client;
    }

    private static async Task<JsonNode> Send(HttpClient client, string path, object body, CancellationToken cancellationToken)
    {
        using var response = await client.PostAsJsonAsync(path, body, Json, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {client.BaseAddress}{path.TrimStart('/')} answered {(int)response.StatusCode}: {text}");
        }
        return JsonNode.Parse(text)!;
    }
}
