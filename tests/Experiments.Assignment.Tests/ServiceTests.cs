using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Experiments.Assignment.Tests.Support;
using Experiments.Contracts.Assignment.V1;
using Experiments.Contracts.Grpc;
using Experiments.Postgres.Configuration;
using Experiments.TestInfrastructure.Http;
using Grpc.Core;

namespace Experiments.Assignment.Tests;

/// <summary>Two assignment services as real processes over one database: REST, Amplitude's SDK API, gRPC, restarts, stickiness.</summary>
public sealed class ServiceTests(AssignmentPlatform platform) : IClassFixture<AssignmentPlatform>
{
    private static readonly string[] Users = Enumerable.Range(0, 200).Select(i => $"svc-user-{i}").ToArray();

    [Fact]
    public async Task Every_instance_and_every_restart_gives_the_same_variants_on_REST_SDK_and_gRPC()
    {
        await platform.CreateRunningAsync("same-everywhere", [("control", 1), ("treatment", 1), ("other", 2)]);
        var (first, http1, grpc1) = await platform.StartAssignmentAsync();
        var (_, http2, _) = await platform.StartAssignmentAsync();
        using var one = AssignmentPlatform.Client(http1);
        using var two = AssignmentPlatform.Client(http2);
        await Eventually.TrueAsync(async () => await VariantAsync(one, Users[0], "same-everywhere") is not null, "instance 1 serves the experiment");
        await Eventually.TrueAsync(async () => await VariantAsync(two, Users[0], "same-everywhere") is not null, "instance 2 serves the experiment");

        var expected = new Dictionary<string, string>();
        foreach (var user in Users)
        {
            expected[user] = (await VariantAsync(one, user, "same-everywhere"))!;
            Assert.Equal(expected[user], await VariantAsync(two, user, "same-everywhere"));
            Assert.Equal(expected[user], await VardataAsync(two, new { user_id = user }, "same-everywhere"));
        }
        Assert.Equal(3, expected.Values.Distinct().Count());

        using (var channel = GrpcHttpChannel.ForAddress(grpc1))
        {
            var batch = await new AssignmentService.AssignmentServiceClient(channel).EvaluateBatchAsync(new EvaluateBatchRequest
            {
                ProjectId = AssignmentPlatform.Project,
                Users = { Users.Select(u => new User { UserId = u }) },
                FlagKeys = { "same-everywhere" },
            }, deadline: DateTime.UtcNow.AddSeconds(10));
            Assert.Equal(Users.Select(u => expected[u]), batch.Results.Select(r => r.Variants.Single().Key));
        }

        await first.KillAsync();
        var (_, http3, _) = await platform.StartAssignmentAsync();
        using var three = AssignmentPlatform.Client(http3);
        await Eventually.TrueAsync(async () => await VariantAsync(three, Users[0], "same-everywhere") is not null, "the restarted instance serves the experiment");
        foreach (var user in Users)
        {
            Assert.Equal(expected[user], await VariantAsync(three, user, "same-everywhere"));
        }
    }

    [Fact]
    public async Task Sticky_users_keep_their_first_variant_when_weights_change_and_across_restarts()
    {
        var id = await platform.CreateRunningAsync("sticky-weights", [("control", 1), ("treatment", 1)], sticky: true);
        var (service, http, _) = await platform.StartAssignmentAsync();
        using var client = AssignmentPlatform.Client(http);
        await Eventually.TrueAsync(async () => await VariantAsync(client, Users[0], "sticky-weights") is not null, "the service serves the experiment");
        var first = new Dictionary<string, string>();
        foreach (var user in Users.Take(100))
        {
            first[user] = (await VariantAsync(client, user, "sticky-weights"))!;
        }
        Assert.Contains("control", first.Values);

        // The weights move everything to treatment: new users follow, earlier users stay.
        await platform.ExecuteAsync("UPDATE gateway.variants SET traffic_weight = CASE key WHEN 'control' THEN 0.000001 ELSE 1000000 END WHERE experiment_id = @id", ("id", id));
        var probe = 0;
        await Eventually.TrueAsync(async () =>
        {
            for (var i = 0; i < 12; i++)
            {
                if (await VariantAsync(client, $"probe-{probe++}", "sticky-weights") != "treatment")
                {
                    return false;
                }
            }
            return true;
        }, "new weights are served");
        foreach (var user in Users.Skip(100).Take(20))
        {
            Assert.Equal("treatment", await VariantAsync(client, user, "sticky-weights"));
        }
        foreach (var (user, variant) in first)
        {
            Assert.Equal(variant, await VariantAsync(client, user, "sticky-weights"));
        }

        await Eventually.TrueAsync(async () => await StickyRowsAsync(id) >= 120 + probe, "the sticky assignments are written");
        await service.KillAsync();
        var (_, http2, _) = await platform.StartAssignmentAsync();
        using var restarted = AssignmentPlatform.Client(http2);
        await Eventually.TrueAsync(async () => await VariantAsync(restarted, Users[0], "sticky-weights") is not null, "the restarted service serves the experiment");
        foreach (var (user, variant) in first)
        {
            Assert.Equal(variant, await VariantAsync(restarted, user, "sticky-weights"));
        }
    }

    [Fact]
    public async Task Sticky_assignments_made_just_before_a_clean_stop_are_written_before_the_service_exits()
    {
        var id = await platform.CreateRunningAsync("sticky-at-stop", [("control", 1), ("treatment", 1)], sticky: true);
        var (service, http, grpcUrl) = await platform.StartAssignmentAsync();
        using (var client = AssignmentPlatform.Client(http))
        {
            await Eventually.TrueAsync(async () => await VariantAsync(client, "sticky-stop-warmup", "sticky-at-stop") is not null, "the service serves the experiment");
        }
        await Eventually.TrueAsync(async () => await StickyRowsAsync(id) == 1, "the warm-up user is written");

        // One batch, then SIGTERM at once: inside the 250 ms between writes.
        var users = Enumerable.Range(0, 300).Select(i => $"sticky-stop-{i}").ToArray();
        await AssignmentPlatform.EvaluateBatchAsync(grpcUrl, users, "sticky-at-stop");
        await service.StopAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(users.Length + 1, await StickyRowsAsync(id));
        Assert.DoesNotContain("not written", service.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("BackgroundService failed", service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_input_gets_a_clear_error_never_a_500()
    {
        var (_, http, grpc) = await platform.StartAssignmentAsync();
        using var client = AssignmentPlatform.Client(http);

        var missing = await client.GetAsync("/sdk/v2/vardata?v=0").ExpectAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(missing["errors"]?["X-Amp-Exp-User"]);
        foreach (var header in new[] { "%%%not-base64", Convert.ToBase64String("not json"u8.ToArray()), Base64Url("""{"user_id": {"x": 1}}""") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/sdk/v2/vardata?v=0");
            request.Headers.TryAddWithoutValidation("X-Amp-Exp-User", header);
            var bad = await (await client.SendAsync(request)).ExpectAsync(HttpStatusCode.BadRequest);
            Assert.NotNull(bad["errors"]?["X-Amp-Exp-User"]);
        }

        using var wrongKey = new HttpClient { BaseAddress = http };
        wrongKey.DefaultRequestHeaders.Add("Authorization", "Api-Key nope");
        await wrongKey.GetAsync("/sdk/v2/flags?v=0").ExpectAsync(HttpStatusCode.Unauthorized);
        await wrongKey.PostAsJsonAsync("/v1/evaluate", new { user_id = "u" }).ExpectAsync(HttpStatusCode.Unauthorized);

        var noUser = await client.PostAsJsonAsync("/v1/evaluate", new { flag_keys = new[] { "x" } }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(noUser["errors"]?["user_id"]);
        var malformed = await client.PostAsync("/v1/evaluate", new StringContent("{\"user_id\": 5", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);

        using var channel = GrpcHttpChannel.ForAddress(grpc);
        var rpc = new AssignmentService.AssignmentServiceClient(channel);
        var error = await Assert.ThrowsAsync<RpcException>(() => rpc.EvaluateAsync(new EvaluateRequest { ProjectId = "p", User = new User() }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("user_id", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Amplitudes_node_SDK_gets_our_variants_by_remote_and_by_local_evaluation()
    {
        await platform.CreateRunningAsync("amp-plain", [("control", 1), ("treatment", 1)]);
        await platform.CreateRunningAsync("amp-targeted", [("a", 1), ("b", 3)], allocation: 60,
            segments:
            [
                new TargetingSegment("beta", [new("user.country", "is", ["US", "CA"]), new("app_version", "version greater or equal", ["2.0.0"])], Variant: "b"),
                new TargetingSegment("staff", [new("email", "starts with", ["admin+"])], TrafficAllocation: 100),
                new TargetingSegment("pro", [new("plan", "set contains any", ["pro"]), new("age", "greater", ["20"])]),
            ],
            testers: [new TesterGroup("a", UserIds: ["amp-user-3"])]);
        await platform.CreateRunningAsync("amp-device", [("x", 1), ("y", 1)], unit: "device_id");
        var (_, http, _) = await platform.StartAssignmentAsync();
        using var client = AssignmentPlatform.Client(http);
        await Eventually.TrueAsync(async () => await VariantAsync(client, "amp-user-0", "amp-device", "d0") is not null, "the service serves the experiments");

        var countries = new[] { "US", "CA", "FR", "DE" };
        var users = Enumerable.Range(0, 120).Select(i => new Dictionary<string, object>
        {
            ["user_id"] = $"amp-user-{i}",
            ["device_id"] = $"amp-device-{i}",
            ["country"] = countries[i % 4],
            ["user_properties"] = new Dictionary<string, object>
            {
                ["app_version"] = $"{i % 3 + 1}.{i % 7}.0",
                ["email"] = i % 5 == 0 ? $"admin+{i}@example.com" : $"user{i}@example.com",
                ["plan"] = i % 2 == 0 ? new[] { "pro", "team" } : new[] { "free" },
                ["age"] = 15 + i % 20,
            },
        }).ToList();

        var node = await AmplitudeNode.EvaluateAsync(http.ToString().TrimEnd('/'), AssignmentPlatform.SdkKey, users);
        var flags = new[] { "amp-plain", "amp-targeted", "amp-device" };
        foreach (var user in users)
        {
            var id = (string)user["user_id"];
            var ours = await VardataAllAsync(client, user);
            foreach (var flag in flags)
            {
                var expected = ours[flag]!["key"]!.GetValue<string>();
                Assert.Equal(expected, node.GetProperty("remote").GetProperty(id).GetProperty(flag).GetString());
                Assert.Equal(expected, node.GetProperty("local").GetProperty(id).GetProperty(flag).GetString());
            }
        }
        // The targeting made a difference (not everyone in one variant).
        var targeted = users.Select(u => node.GetProperty("local").GetProperty((string)u["user_id"]).GetProperty("amp-targeted").GetString()).ToHashSet();
        Assert.Equal(new[] { "a", "b", "off" }, targeted.Order().Select(v => v ?? "").ToArray());
    }

    private async Task<long> StickyRowsAsync(Guid experimentId)
    {
        await using var connection = new Npgsql.NpgsqlConnection(platform.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT count(*) FROM assignment.sticky_assignments WHERE experiment_id = @id", connection);
        command.Parameters.AddWithValue("id", experimentId);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<string?> VariantAsync(HttpClient client, string userId, string flag, string? deviceId = null)
    {
        var body = await client.PostAsJsonAsync("/v1/evaluate", new { user_id = userId, device_id = deviceId, flag_keys = new[] { flag } }).ExpectAsync(HttpStatusCode.OK);
        return body["variants"]?[flag]?["key"]?.GetValue<string>();
    }

    private static async Task<string?> VardataAsync(HttpClient client, object user, string flag)
        => (await VardataAllAsync(client, user))[flag]?["key"]?.GetValue<string>();

    private static async Task<JsonNode> VardataAllAsync(HttpClient client, object user)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/sdk/v2/vardata?v=0");
        request.Headers.Add("X-Amp-Exp-User", Base64Url(JsonSerializer.Serialize(user)));
        return await (await client.SendAsync(request)).ExpectAsync(HttpStatusCode.OK);
    }

    private static string Base64Url(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
