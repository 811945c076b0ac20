using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Experiments.Assignment.Tests.Support;
using Experiments.Contracts.Assignment.V1;
using Experiments.Contracts.Grpc;
using Experiments.Contracts.Messages;
using Experiments.TestInfrastructure.Http;
using Experiments.TestInfrastructure.Networking;
using Experiments.TestInfrastructure.Processes;
using MassTransit;

namespace Experiments.Assignment.Tests;

/// <summary>
/// What goes through RabbitMQ, both ways, with the services hosted as the AppHost hosts them (child processes in
/// Development, so DI scope validation is on): a change made on the real gateway's admin API reaches a running
/// assignment instance by the gateway's <c>ExperimentChanged</c> event (the periodic refresh set to an hour, so it
/// cannot be what brought it), and evaluations leave the service as <c>AssignmentBatchRecorded</c> messages, one
/// record per user, flag and variant however often the user is evaluated.
/// </summary>
public sealed class EventPathTests(AssignmentPlatform platform) : IClassFixture<AssignmentPlatform>
{
    private static readonly TimeSpan NoRefresh = TimeSpan.FromHours(1);

    [Fact]
    public async Task A_change_on_the_gateway_reaches_a_running_instance_through_its_RabbitMQ_event()
    {
        using var admin = await platform.StartGatewayAsync();
        var (id, flag) = await admin.CreateLaunchedExperimentAsync(AssignmentPlatform.Project, "Event Path Pin");

        // Started after the launch: its first load sees the experiment; after that only events can change it.
        var (service, http, _) = await platform.StartAssignmentAsync(refreshInterval: NoRefresh);
        using var client = AssignmentPlatform.Client(http);
        const string tester = "event-path-tester";
        var bucketed = await VariantAsync(client, tester, flag);
        Assert.NotNull(bucketed);
        var other = bucketed == "control" ? "treatment" : "control";

        // Pinned to the other variant, then to its own, then back: each change is served without a refresh.
        foreach (var pinned in new[] { other, bucketed, other })
        {
            await admin.PutAsJsonAsync($"/v1/admin/experiments/{id}/testers", new { testers = new[] { new { variant = pinned, user_ids = new[] { tester } } } })
                .ExpectAsync(HttpStatusCode.OK);
            await Eventually.TrueAsync(async () => await VariantAsync(client, tester, flag) == pinned,
                $"the running instance serves the tester '{pinned}' after the gateway's change (refresh interval {NoRefresh})");
        }
        await admin.PutAsJsonAsync($"/v1/admin/experiments/{id}/testers", new { testers = Array.Empty<object>() }).ExpectAsync(HttpStatusCode.OK);
        await Eventually.TrueAsync(async () => await VariantAsync(client, tester, flag) == bucketed, "without testers the user is bucketed again");

        Assert.DoesNotContain("Configuration reload failed", service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Evaluations_are_published_for_ingest_once_per_user_flag_and_variant_on_REST_and_gRPC()
    {
        await using var recording = await StartRecordingAsync("recorded-once");
        using var client = AssignmentPlatform.Client(recording.Http);
        var users = Enumerable.Range(0, 60).Select(i => $"recorded-{i}").ToArray();
        var served = new Dictionary<string, string>();
        foreach (var user in users)
        {
            served[user] = (await VariantAsync(client, user, "recorded-once"))!;
            Assert.Equal(served[user], await VariantAsync(client, user, "recorded-once"));
        }
        var batch = await AssignmentPlatform.EvaluateBatchAsync(recording.Grpc, users, "recorded-once");
        Assert.Equal(users.Select(u => served[u]), batch.Results.Select(r => r.Variants.Single().Key));
        using (var channel = GrpcHttpChannel.ForAddress(recording.Grpc))
        {
            var grpc = new AssignmentService.AssignmentServiceClient(channel);
            foreach (var user in users.Take(20))
            {
                await grpc.EvaluateAsync(new EvaluateRequest { ProjectId = AssignmentPlatform.Project, User = new User { UserId = user }, FlagKeys = { "recorded-once" } },
                    deadline: DateTime.UtcNow.AddSeconds(10));
            }
        }
        // Recorded after every repeat above, and published in order: once it is here, so would be any repeat.
        var sentinel = await VariantAsync(client, "recorded-sentinel", "recorded-once");

        await Eventually.TrueAsync(() => Task.FromResult(recording.Received.Any(r => r.UserId == "recorded-sentinel")),
            $"the sentinel's assignment arrived on the test's queue; service output:\n{recording.Service.Output}");
        var records = recording.Received.Where(r => r.UserId.StartsWith("recorded-", StringComparison.Ordinal)).ToList();
        Assert.Equal(users.Append("recorded-sentinel").Order(StringComparer.Ordinal), records.Select(r => r.UserId).Order(StringComparer.Ordinal));
        Assert.All(records.Where(r => r.UserId != "recorded-sentinel"), r => Assert.Equal(served[r.UserId], r.Variant));
        Assert.Equal(sentinel, records.Single(r => r.UserId == "recorded-sentinel").Variant);
        Assert.Equal(records.Count, records.Select(r => r.InsertId).Distinct().Count());
        Assert.DoesNotContain("Assignment batches not published", recording.Service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assignments_accepted_just_before_a_clean_stop_are_published_before_the_service_exits()
    {
        await using var recording = await StartRecordingAsync("recorded-at-stop");

        // One batch, then SIGTERM at once: well inside the recorder's 500 ms between publishes.
        var users = Enumerable.Range(0, 500).Select(i => $"stop-{i}").ToArray();
        await AssignmentPlatform.EvaluateBatchAsync(recording.Grpc, users, "recorded-at-stop");
        await recording.Service.StopAsync(TimeSpan.FromSeconds(30));

        await Eventually.TrueAsync(() => Task.FromResult(users.All(u => recording.Received.Any(r => r.UserId == u))),
            $"every assignment of the batch arrived ({recording.Received.Count(r => r.UserId.StartsWith("stop-", StringComparison.Ordinal))} of {users.Length}); service output:\n{recording.Service.Output}");
        Assert.Equal(users.Length, recording.Received.Count(r => r.UserId.StartsWith("stop-", StringComparison.Ordinal)));
        Assert.DoesNotContain("not published", recording.Service.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("BackgroundService failed", recording.Service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_full_recording_queue_records_the_assignment_at_the_users_next_evaluation_instead_of_dropping_it()
    {
        await using var recording = await StartRecordingAsync("recorded-when-full", new Dictionary<string, string> { ["Assignment__RecorderCapacity"] = "10" });

        // 50 users in one call fill a queue of 10; the users come back until every one of them is recorded.
        var users = Enumerable.Range(0, 50).Select(i => $"full-{i}").ToArray();
        await AssignmentPlatform.EvaluateBatchAsync(recording.Grpc, users, "recorded-when-full");
        await Eventually.TrueAsync(async () =>
        {
            await AssignmentPlatform.EvaluateBatchAsync(recording.Grpc, users, "recorded-when-full");
            return users.All(u => recording.Received.Any(r => r.UserId == u));
        }, $"every user recorded once they came back; service output:\n{recording.Service.Output}");

        Assert.Contains("not queued (the queue was full)", recording.Service.Output, StringComparison.Ordinal);
        // Still once per user, flag and variant.
        await AssignmentPlatform.EvaluateBatchAsync(recording.Grpc, users, "recorded-when-full");
        using (var client = AssignmentPlatform.Client(recording.Http))
        {
            await VariantAsync(client, "full-sentinel", "recorded-when-full");
        }
        await Eventually.TrueAsync(() => Task.FromResult(recording.Received.Any(r => r.UserId == "full-sentinel")), "the sentinel arrived");
        Assert.Equal(users.Order(StringComparer.Ordinal), recording.Received.Where(r => users.Contains(r.UserId)).Select(r => r.UserId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_recorder_capacity_that_is_not_positive_stops_the_service_at_start_naming_the_setting()
    {
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            platform.StartAssignmentAsync(settings: new Dictionary<string, string> { ["Assignment__RecorderCapacity"] = "0" }));
        Assert.Contains("Assignment:RecorderCapacity must be a positive number of records; it is 0.", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assignments_made_while_RabbitMQ_is_away_are_published_once_it_is_back()
    {
        var broker = new Uri(platform.Servers.RabbitMq);
        await using var proxy = new TcpProxy(broker.Port);
        proxy.Restore();
        await using var recording = await StartRecordingAsync("recorded-rabbit-away", new Dictionary<string, string>
        {
            ["ConnectionStrings__rabbitmq"] = new UriBuilder(broker) { Port = proxy.Port }.Uri.ToString(),
            ["Assignment__RecorderCapacity"] = "20",
        });

        // With the broker away, 100 users come twice: what the recorder can hold waits, the rest waits for the users.
        await proxy.CutAsync();
        var users = Enumerable.Range(0, 100).Select(i => $"away-{i}").ToArray();
        await AssignmentPlatform.EvaluateBatchAsync(recording.Grpc, users, "recorded-rabbit-away");
        await Task.Delay(TimeSpan.FromSeconds(2));
        await AssignmentPlatform.EvaluateBatchAsync(recording.Grpc, users, "recorded-rabbit-away");
        Assert.True(recording.Service.IsRunning);

        proxy.Restore();
        await Eventually.TrueAsync(async () =>
        {
            await AssignmentPlatform.EvaluateBatchAsync(recording.Grpc, users, "recorded-rabbit-away");
            return users.All(u => recording.Received.Any(r => r.UserId == u));
        }, $"every user recorded once the broker was back; service output:\n{recording.Service.Output}", TimeSpan.FromMinutes(2));

        Assert.Contains("not queued (the queue was full)", recording.Service.Output, StringComparison.Ordinal);
        // A batch sent again after a lost confirm carries the same records (same insert_id, folded by ingest).
        Assert.All(users, u => Assert.Single(recording.Received.Where(r => r.UserId == u).Select(r => r.InsertId).Distinct()));
    }

    /// <summary>An assignment service serving <paramref name="flag"/> (running, control and treatment), and a queue of the test's own listening to what it records.</summary>
    private sealed record Recording(ServiceProcess Service, Uri Http, Uri Grpc, IBusControl Bus, ConcurrentQueue<AssignmentRecord> Received) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await Bus.StopAsync();
    }

    /// <summary>
    /// Starts <see cref="Recording"/>: the experiment, the service (with <paramref name="settings"/>), a warm-up evaluation
    /// (a user named <c>warmup-{flag}</c>) until the service serves the flag, then the test's queue, bound to the message
    /// type like ingest's and taken in order, collecting the records of the flag.
    /// </summary>
    private async Task<Recording> StartRecordingAsync(string flag, IReadOnlyDictionary<string, string>? settings = null)
    {
        await platform.CreateRunningAsync(flag, [("control", 1), ("treatment", 1)]);
        var (service, http, grpc) = await platform.StartAssignmentAsync(settings: settings);
        using (var client = AssignmentPlatform.Client(http))
        {
            await Eventually.TrueAsync(async () => await VariantAsync(client, $"warmup-{flag}", flag) is not null, "the service serves the experiment");
        }
        var received = new ConcurrentQueue<AssignmentRecord>();
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(new Uri(platform.Servers.RabbitMq));
            rabbit.ReceiveEndpoint(UniqueNames.Database("assignment-recorded"), endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Durable = false;
                endpoint.ConcurrentMessageLimit = 1;
                endpoint.Handler<AssignmentBatchRecorded>(context =>
                {
                    if (context.Message.ProjectId == AssignmentPlatform.Project)
                    {
                        foreach (var record in context.Message.Assignments.Where(r => r.FlagKey == flag))
                        {
                            received.Enqueue(record);
                        }
                    }
                    return Task.CompletedTask;
                });
            });
        });
        await bus.StartAsync();
        return new Recording(service, http, grpc, bus, received);
    }

    private static async Task<string?> VariantAsync(HttpClient client, string userId, string flag)
    {
        var body = await client.PostAsJsonAsync("/v1/evaluate", new { user_id = userId, flag_keys = new[] { flag } }).ExpectAsync(HttpStatusCode.OK);
        return (string?)body["variants"]?[flag]?["key"];
    }
}
