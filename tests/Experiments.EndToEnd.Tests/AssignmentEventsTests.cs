using System.Net;
using System.Net.Http.Json;
using Experiments.ClickHouse;
using Experiments.Contracts.Assignment.V1;
using Experiments.Contracts.Grpc;
using Experiments.TestInfrastructure.Http;

namespace Experiments.EndToEnd.Tests;

/// <summary>
/// Assignments reach ClickHouse's <c>assignments</c> table exactly once, on the platform as the AppHost runs it
/// (Development, DI scope validation on): users evaluated once or several times, through REST and gRPC, give one row
/// per user and flag (the recorder's promise: one per user, flag and variant) after RabbitMQ, the ingest consumer
/// and the dedup rule of docs/ingest.md (<c>FINAL</c>).
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class AssignmentEventsTests(LaunchedPlatform platform)
{
    [Fact]
    public async Task Every_evaluated_user_has_exactly_one_assignment_row_in_ClickHouse()
    {
        using var admin = platform.AdminClient();
        using var assignment = platform.SdkClient(platform.Assignment);
        var (_, flag) = await admin.CreateLaunchedExperimentAsync(LaunchedPlatform.ProjectId, "Recorded Assignments");
        await Eventually.TrueAsync(async () => await VariantAsync(assignment, "recorded-warmup", flag) is not null, "assignment serves the launched experiment");

        // 120 users: all on REST, the first 60 again on REST, the first 100 in one gRPC batch, the last 30 twice on
        // gRPC Evaluate; and a last user evaluated after every repeat.
        var users = Enumerable.Range(0, 120).Select(i => $"recorded-{i:D3}").ToArray();
        var served = new Dictionary<string, string> { ["recorded-warmup"] = (await VariantAsync(assignment, "recorded-warmup", flag))! };
        foreach (var user in users)
        {
            served[user] = await VariantAsync(assignment, user, flag) ?? throw new InvalidOperationException($"{user} got no variant");
        }
        foreach (var user in users.Take(60))
        {
            Assert.Equal(served[user], await VariantAsync(assignment, user, flag));
        }
        using var channel = GrpcHttpChannel.ForAddress(platform.AssignmentGrpc);
        var grpc = new AssignmentService.AssignmentServiceClient(channel);
        var batch = await grpc.EvaluateBatchAsync(new EvaluateBatchRequest
        {
            ProjectId = LaunchedPlatform.ProjectId,
            Users = { users.Take(100).Select(u => new User { UserId = u }) },
            FlagKeys = { flag },
        }, deadline: DateTime.UtcNow.AddSeconds(10));
        Assert.Equal(users.Take(100).Select(u => served[u]), batch.Results.Select(r => r.Variants.Single().Key));
        for (var round = 0; round < 2; round++)
        {
            foreach (var user in users.TakeLast(30))
            {
                var one = await grpc.EvaluateAsync(new EvaluateRequest { ProjectId = LaunchedPlatform.ProjectId, User = new User { UserId = user }, FlagKeys = { flag } },
                    deadline: DateTime.UtcNow.AddSeconds(10));
                Assert.Equal(served[user], one.Variants.Single().Key);
            }
        }
        served["recorded-last"] = (await VariantAsync(assignment, "recorded-last", flag))!;

        var clickHouse = new ClickHouseClient(new HttpClient { Timeout = TimeSpan.FromSeconds(60) }, platform.Servers.ClickHouseFor(platform.ClickHouseDatabase));
        async Task<IReadOnlyList<(string User, string Variant)>> RowsAsync() => await clickHouse.QueryAsync(ClickHouseSql.Format(
            $"SELECT user_id, variant FROM assignments FINAL WHERE project_id = {LaunchedPlatform.ProjectId} AND flag_key = {flag} ORDER BY user_id, variant"),
            r => (r.Get<string>(0)!, r.Get<string>(1)!));
        await Eventually.TrueAsync(async () => (await RowsAsync()).Select(r => r.User).Distinct().Count() >= served.Count,
            $"every evaluated user's assignment reached ClickHouse; platform output:\n{platform.Output[^Math.Min(platform.Output.Length, 5000)..]}",
            TimeSpan.FromSeconds(60));

        var rows = await RowsAsync();
        Assert.Equal(served.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => (s.Key, s.Value)), rows);
        Assert.Empty(await clickHouse.QueryAsync(ClickHouseSql.Format(
            $"SELECT user_id FROM assignments WHERE project_id = {LaunchedPlatform.ProjectId} AND flag_key = {flag} AND device_id != ''"), r => r.Get<string>(0)));
        Assert.DoesNotContain("Assignment batches not published", platform.Output, StringComparison.Ordinal);
    }

    private static async Task<string?> VariantAsync(HttpClient client, string userId, string flag)
    {
        var body = await client.PostAsJsonAsync("/v1/evaluate", new { user_id = userId, flag_keys = new[] { flag } }).ExpectAsync(HttpStatusCode.OK);
        return (string?)body["variants"]?[flag]?["key"];
    }
}
