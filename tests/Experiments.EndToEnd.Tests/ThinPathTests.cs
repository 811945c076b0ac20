using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Experiments.TestInfrastructure.Http;
using Experiments.Contracts.Assignment.V1;
using Experiments.Contracts.Grpc;
using Xunit.Abstractions;

namespace Experiments.EndToEnd.Tests;

/// <summary>
/// The thin path through every service, over the real servers and the real network: create and launch an
/// experiment on the gateway, assign users (REST and gRPC), post exposures and conversions to ingest
/// (RabbitMQ, then ClickHouse), and analyze through the gateway (gRPC to analysis), with exact counts.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class ThinPathTests(LaunchedPlatform platform, ITestOutputHelper output)
{
    [Fact]
    public async Task Experiment_created_launched_exposed_and_converted_is_analyzed_with_exact_counts()
    {
        using var admin = platform.AdminClient();
        using var assignment = platform.SdkClient(platform.Assignment);
        using var ingest = platform.SdkClient(platform.Ingest);

        // Create a draft with two variants, then launch it.
        var created = await admin.PostAsJsonAsync("/v1/admin/experiments", new
        {
            name = "Checkout Button Color",
            hypothesis = "Green converts better",
            bandit_enabled = false,
            project_id = LaunchedPlatform.ProjectId,
            primary_metric = new { event_type = "purchase" },
        }).ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("draft", (string?)created["status"]);
        Assert.Equal("checkout-button-color", (string?)created["key"]);
        var id = (string)created["id"]!;
        await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/variants", new { name = "control", traffic_weight = 50 }).ExpectAsync(HttpStatusCode.Created);
        await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/variants", new { name = "treatment", traffic_weight = 50 }).ExpectAsync(HttpStatusCode.Created);
        var launched = await admin.PostAsync($"/v1/admin/experiments/{id}/launch", null).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("running", (string?)launched["status"]);

        var listed = await admin.GetAsync($"/v1/admin/experiments?project_id={LaunchedPlatform.ProjectId}").ExpectAsync(HttpStatusCode.OK);
        Assert.Contains(listed.AsArray(), e => (string?)e!["id"] == id);

        // Assignment: every user gets a variant, the same one on REST and on gRPC, every time.
        const string flag = "checkout-button-color";
        var users = Enumerable.Range(0, 400).Select(i => $"user-{i:D4}").ToArray();
        var variants = new Dictionary<string, string>();
        await Eventually.TrueAsync(async () => await VariantOfAsync(assignment, users[0], flag) is not null, "assignment serves the launched experiment");
        foreach (var user in users)
        {
            variants[user] = await VariantOfAsync(assignment, user, flag) ?? throw new InvalidOperationException($"{user} got no variant");
        }
        Assert.Equal(variants[users[7]], await VariantOfAsync(assignment, users[7], flag));

        using var channel = GrpcHttpChannel.ForAddress(platform.AssignmentGrpc);
        var grpc = new AssignmentService.AssignmentServiceClient(channel);
        var batch = await grpc.EvaluateBatchAsync(new EvaluateBatchRequest
        {
            ProjectId = LaunchedPlatform.ProjectId,
            Users = { users.Take(50).Select(u => new User { UserId = u }) },
            FlagKeys = { flag },
        }, deadline: DateTime.UtcNow.AddSeconds(10));
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(variants[users[i]], batch.Results[i].Variants.Single().Key);
        }

        // Exposures for everyone; conversions for every third control user and every second treatment user;
        // a conversion before exposure that must not count; and the whole batch sent twice.
        var now = DateTimeOffset.UtcNow;
        var events = new List<object>();
        var expected = variants.Values.Distinct().ToDictionary(v => v, _ => (Exposures: 0, Conversions: 0));
        for (var i = 0; i < users.Length; i++)
        {
            var user = users[i];
            var variant = variants[user];
            var exposedAt = now.AddMinutes(-30);
            events.Add(new { event_type = "$exposure", user_id = user, time = exposedAt.ToUnixTimeMilliseconds(), insert_id = $"{user}-x",
                event_properties = new { flag_key = flag, variant } });
            var converts = variant == "control" ? i % 3 == 0 : i % 2 == 0;
            if (converts)
            {
                events.Add(new { event_type = "purchase", user_id = user, time = exposedAt.AddMinutes(5).ToUnixTimeMilliseconds(), insert_id = $"{user}-p1" });
                events.Add(new { event_type = "purchase", user_id = user, time = exposedAt.AddMinutes(9).ToUnixTimeMilliseconds(), insert_id = $"{user}-p2" });
            }
            else if (i % 5 == 0)
            {
                events.Add(new { event_type = "purchase", user_id = user, time = exposedAt.AddMinutes(-10).ToUnixTimeMilliseconds(), insert_id = $"{user}-early" });
            }
            var e = expected[variant];
            expected[variant] = (e.Exposures + 1, e.Conversions + (converts ? 1 : 0));
        }
        foreach (var chunk in events.Chunk(250))
        {
            await ingest.PostAsJsonAsync("/v1/events", new { events = chunk }).ExpectAsync(HttpStatusCode.OK);
        }
        await ingest.PostAsJsonAsync("/v1/events", new { events = events.Take(250) }).ExpectAsync(HttpStatusCode.OK);

        // Analysis through the gateway: exact counts once the pipeline has written everything.
        JsonNode analysis = null!;
        await Eventually.TrueAsync(async () =>
        {
            analysis = await admin.PostAsync($"/v1/admin/experiments/{id}/analyze", null).ExpectAsync(HttpStatusCode.OK);
            return analysis["variants"]!.AsArray().All(v =>
                (long)v!["exposures"]! == expected[(string)v["key"]!].Exposures && (long)v["conversions"]! == expected[(string)v["key"]!].Conversions);
        }, "the analysis shows every ingested event");
        output.WriteLine(analysis.ToJsonString());

        foreach (var v in analysis["variants"]!.AsArray())
        {
            var (exposures, conversions) = expected[(string)v!["key"]!];
            Assert.Equal((double)conversions / exposures, (double)v["rate"]!, 12);
        }
        var comparison = analysis["comparisons"]!.AsArray().Single()!;
        Assert.Equal("treatment", (string?)comparison["variant"]);
        Assert.NotNull(analysis["srm"]);
        Assert.False(string.IsNullOrEmpty((string?)analysis["recommendation"]));

        var stopped = await admin.PostAsync($"/v1/admin/experiments/{id}/stop", null).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("stopped", (string?)stopped["status"]);
        await admin.PostAsync($"/v1/admin/experiments/{id}/stop", null).ExpectAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Bad_requests_get_problem_details_naming_the_field()
    {
        using var admin = platform.AdminClient();
        var missingName = await admin.PostAsJsonAsync("/v1/admin/experiments",
            new { hypothesis = "h", project_id = LaunchedPlatform.ProjectId }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(missingName["errors"]?["name"]);

        var badWeight = await admin.PostAsJsonAsync($"/v1/admin/experiments/{Guid.NewGuid()}/variants",
            new { name = "v", traffic_weight = -1 }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(badWeight["errors"]?["traffic_weight"]);

        using var malformed = new StringContent("{\"name\": 12", System.Text.Encoding.UTF8, "application/json");
        await admin.PostAsync("/v1/admin/experiments", malformed).ExpectAsync(HttpStatusCode.BadRequest);

        using var anonymous = new HttpClient { BaseAddress = platform.Gateway };
        await anonymous.GetAsync($"/v1/admin/experiments?project_id={LaunchedPlatform.ProjectId}").ExpectAsync(HttpStatusCode.Unauthorized);

        using var ingest = platform.SdkClient(platform.Ingest);
        var badEvent = await ingest.PostAsJsonAsync("/v1/events",
            new { events = new object[] { new { event_type = "purchase", user_id = "u1" }, new { event_type = "purchase" } } }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(badEvent["errors"]?["events[1].user_id"]);
    }

    private static async Task<string?> VariantOfAsync(HttpClient assignment, string user, string flag)
    {
        var answer = await assignment.PostAsJsonAsync("/v1/evaluate", new { user_id = user, flag_keys = new[] { flag } }).ExpectAsync(HttpStatusCode.OK);
        return (string?)answer["variants"]?[flag]?["key"];
    }

}
