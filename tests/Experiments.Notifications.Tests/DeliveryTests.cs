using System.Text.Json.Nodes;
using Experiments.Contracts.Messages;
using Experiments.Contracts.Notifications.V1;
using Experiments.Notifications.Deliveries;
using Experiments.Notifications.Events;
using Experiments.Notifications.Tests.Support;
using Experiments.TestInfrastructure.Http;

namespace Experiments.Notifications.Tests;

/// <summary>Events published on the real RabbitMQ, delivered to real HTTP receivers.</summary>
public sealed class DeliveryTests(NotificationsHost host) : IClassFixture<NotificationsHost>
{
    private const string Secret = "whsec-test-0123456789abcdef";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Each_event_type_reaches_a_webhook_as_a_signed_envelope_with_its_payload()
    {
        var project = await host.NewProjectAsync();
        await using var receiver = await Receiver.StartAsync();
        await host.SubscribeAsync(project, "webhook", receiver.Url, Secret, [.. NotificationEventTypes.Subscribable]);
        var events = AllEvents(project, Guid.NewGuid());
        foreach (var (_, message) in events)
        {
            await host.Bus.Publish(message, message.GetType());
        }

        await Eventually.TrueAsync(() => Task.FromResult(receiver.Requests.Count >= events.Count), $"{events.Count} webhooks arrived", Wait);
        var byType = receiver.Requests.ToDictionary(r => (string)JsonNode.Parse(r.Text)!["type"]!);
        Assert.Equal(NotificationEventTypes.Subscribable.Order(), byType.Keys.Order());
        foreach (var (type, message) in events)
        {
            var request = byType[type];
            var body = JsonNode.Parse(request.Text)!;
            var eventId = (Guid)message.GetType().GetProperty("EventId")!.GetValue(message)!;
            Assert.Equal(eventId, (Guid)body["id"]!);
            Assert.NotNull((string?)body["time"]);
            Assert.Equal(project, (string?)body["payload"]!["project_id"]);
            Assert.Equal("application/json; charset=utf-8", request.Headers["Content-Type"]);
            Assert.Equal(eventId.ToString(), request.Headers["X-Experiments-Event-Id"]);
            Assert.Equal(type, request.Headers["X-Experiments-Event-Type"]);
            Assert.True(WebhookSignature.Verify(Secret, request.Headers[WebhookSignature.Header], request.Body, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)),
                $"The signature of {type} verifies.");
            Assert.False(WebhookSignature.Verify("another-secret-0123456789", request.Headers[WebhookSignature.Header], request.Body, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)));
        }

        var statSig = JsonNode.Parse(byType[NotificationEventTypes.StatSigReached].Text)!["payload"]!;
        Assert.Equal("conversion", (string?)statSig["metric"]);
        Assert.Equal("treatment", (string?)statSig["variant"]);
        Assert.Equal(0.052, (double)statSig["lift"]!);
        Assert.Equal(0.003, (double)statSig["p_value"]!);
        Assert.Equal(0.018, (double)statSig["interval_lower"]!);
        var srm = JsonNode.Parse(byType[NotificationEventTypes.SrmDetected].Text)!["payload"]!;
        Assert.Equal(5200, (long)srm["observed_counts"]!["control"]!);
        var bandit = JsonNode.Parse(byType[NotificationEventTypes.BanditWeightsUpdated].Text)!["payload"]!;
        Assert.Equal(0.7, (double)bandit["weights"]!["b"]!);
    }

    [Fact]
    public async Task Each_event_type_reaches_slack_as_block_kit_with_key_figures_and_a_console_link()
    {
        var project = await host.NewProjectAsync();
        await using var receiver = await Receiver.StartAsync();
        await host.SubscribeAsync(project, "slack", receiver.Url, null, [.. NotificationEventTypes.Subscribable]);
        var experimentId = Guid.NewGuid();
        var events = AllEvents(project, experimentId);
        foreach (var (_, message) in events)
        {
            await host.Bus.Publish(message, message.GetType());
        }

        await Eventually.TrueAsync(() => Task.FromResult(receiver.Requests.Count >= events.Count), $"{events.Count} Slack messages arrived", Wait);
        // Decoded, so that '<', '>' and '+' read as Slack will see them.
        var relaxed = new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        var texts = receiver.Requests.Select(r => JsonNode.Parse(r.Text)!.ToJsonString(relaxed)).ToList();
        Assert.All(receiver.Requests, r => Assert.False(r.Headers.ContainsKey(WebhookSignature.Header)));
        foreach (var text in texts)
        {
            var message = JsonNode.Parse(text)!;
            // Bandit updates carry no display name: the key stands in.
            Assert.StartsWith("Checkout test", ((string?)message["text"])!.Replace("checkout", "Checkout test"));
            var blocks = message["blocks"]!.AsArray();
            Assert.Equal("section", (string?)blocks[0]!["type"]);
            Assert.Contains("`checkout`", (string?)blocks[0]!["text"]!["text"]);
            Assert.Contains($"<{NotificationsHost.ConsoleBaseUrl}/console/experiments/{experimentId}|Open in the console>", text);
        }
        string One(string marker) => Assert.Single(texts, t => t.Contains(marker, StringComparison.Ordinal));
        var statSig = One("reached significance on conversion");
        Assert.Contains("+5.2%", statSig);
        Assert.Contains("0.003", statSig);
        Assert.Contains("[+1.8%, +8.6%]", statSig);
        Assert.Contains("treatment vs control", statSig);
        Assert.Contains("control: 5,200", One("sample ratio mismatch"));
        Assert.Contains("b: 70%", One("bandit allocation"));
        Assert.Contains("2030-01-31 12:00 UTC", One("past its planned end"));
        One("is about to start");
        One(":rocket:");
        One("ended");
    }

    [Fact]
    public async Task A_receiver_failing_three_times_then_succeeding_gets_the_notification_once()
    {
        var project = await host.NewProjectAsync();
        await using var receiver = await Receiver.StartAsync((call, context) =>
        {
            context.Response.StatusCode = call <= 3 ? 503 : 200;
            return Task.CompletedTask;
        });
        var subscription = await host.SubscribeAsync(project, "webhook", receiver.Url, Secret, [NotificationEventTypes.Started]);
        var started = new ExperimentStarted(Guid.NewGuid(), project, Guid.NewGuid(), "checkout", "Checkout test", DateTimeOffset.UtcNow);
        await host.Bus.Publish(started);

        await Eventually.TrueAsync(async () => (await host.DeliveriesAsync(subscription)) is [{ Status: "delivered" }], "the delivery succeeded", Wait);
        await Task.Delay(500);
        Assert.Equal(4, receiver.Requests.Count);
        Assert.All(receiver.Requests, r => Assert.Equal(started.EventId.ToString(), r.Headers["X-Experiments-Event-Id"]));
        Assert.Equal(["1", "2", "3", "4"], receiver.Requests.Select(r => r.Headers["X-Experiments-Delivery-Attempt"]));
        Assert.Single(receiver.Requests.Select(r => r.Text).Distinct());
        var (status, attempts, error) = Assert.Single(await host.DeliveriesAsync(subscription));
        Assert.Equal(("delivered", 4, null), (status, attempts, error));
    }

    [Fact]
    public async Task Retry_after_is_honoured()
    {
        var project = await host.NewProjectAsync();
        await using var receiver = await Receiver.StartAsync((call, context) =>
        {
            context.Response.StatusCode = call == 1 ? 429 : 200;
            if (call == 1)
            {
                context.Response.Headers.RetryAfter = "1";
            }
            return Task.CompletedTask;
        });
        var subscription = await host.SubscribeAsync(project, "webhook", receiver.Url, Secret, [NotificationEventTypes.Ended]);
        await host.Bus.Publish(new ExperimentEnded(Guid.NewGuid(), project, Guid.NewGuid(), "checkout", "Checkout test", DateTimeOffset.UtcNow));

        await Eventually.TrueAsync(async () => (await host.DeliveriesAsync(subscription)) is [{ Status: "delivered" }], "the delivery succeeded", Wait);
        var times = receiver.Requests.Select(r => r.At).ToArray();
        Assert.Equal(2, times.Length);
        Assert.True(times[1] - times[0] >= TimeSpan.FromMilliseconds(950), $"The retry came {(times[1] - times[0]).TotalMilliseconds} ms after a 429 with Retry-After: 1.");
    }

    [Fact]
    public async Task A_receiver_that_never_answers_is_parked_without_delaying_another()
    {
        var project = await host.NewProjectAsync();
        await using var dead = await Receiver.StartAsync(Receiver.Hang);
        await using var alive = await Receiver.StartAsync();
        var deadSubscription = await host.SubscribeAsync(project, "webhook", dead.Url, Secret, [NotificationEventTypes.Started]);
        var aliveSubscription = await host.SubscribeAsync(project, "slack", alive.Url, null, [NotificationEventTypes.Started]);

        var published = DateTimeOffset.UtcNow;
        await host.Bus.Publish(new ExperimentStarted(Guid.NewGuid(), project, Guid.NewGuid(), "checkout", "Checkout test", published));
        await Eventually.TrueAsync(() => Task.FromResult(!alive.Requests.IsEmpty), "the live receiver got its message", Wait);
        var aliveAt = alive.Requests.Single().At;
        Assert.True(aliveAt - published < NotificationsHost.RequestTimeout + TimeSpan.FromSeconds(2), $"The live receiver waited {(aliveAt - published).TotalMilliseconds} ms.");

        await Eventually.TrueAsync(async () => (await host.DeliveriesAsync(deadSubscription)) is [{ Status: "failed" }], "the dead endpoint's delivery was parked", Wait);
        var (_, attempts, error) = Assert.Single(await host.DeliveriesAsync(deadSubscription));
        Assert.Equal(NotificationsHost.MaxAttempts, attempts);
        Assert.Contains("No answer within", error);
        Assert.Equal(NotificationsHost.MaxAttempts, dead.Requests.Count);
        Assert.Single(alive.Requests);
        Assert.Equal("delivered", Assert.Single(await host.DeliveriesAsync(aliveSubscription)).Status);

        var failed = await host.Grpc.ListDeliveriesAsync(new ListDeliveriesRequest { ProjectId = project, Status = DeliveryStatuses.Failed });
        var parked = Assert.Single(failed.Deliveries);
        Assert.Equal(deadSubscription.ToString(), parked.SubscriptionId);
        Assert.Equal(NotificationsHost.MaxAttempts, parked.Attempts);
        Assert.Contains("No answer within", parked.LastError);
    }

    [Fact]
    public async Task A_redelivered_message_does_not_duplicate_the_notification()
    {
        var project = await host.NewProjectAsync();
        await using var receiver = await Receiver.StartAsync();
        var subscription = await host.SubscribeAsync(project, "webhook", receiver.Url, Secret, [NotificationEventTypes.SrmDetected]);
        var srm = new SrmDetected(Guid.NewGuid(), project, Guid.NewGuid(), "checkout", "Checkout test", 0.0001, 21.3,
            new Dictionary<string, long> { ["control"] = 5200, ["treatment"] = 4800 }, new Dictionary<string, double> { ["control"] = 0.5, ["treatment"] = 0.5 },
            DateTimeOffset.UtcNow);
        await host.Bus.Publish(srm);
        await host.Bus.Publish(srm);
        await host.Bus.Publish(srm with { DetectedAt = srm.DetectedAt.AddMinutes(1) });

        await Eventually.TrueAsync(() => Task.FromResult(!receiver.Requests.IsEmpty), "the webhook arrived", Wait);
        await Task.Delay(1500);
        Assert.Single(receiver.Requests);
        Assert.Single(await host.DeliveriesAsync(subscription));
    }

    [Fact]
    public async Task Subscriptions_get_only_their_event_types_and_experiment()
    {
        var project = await host.NewProjectAsync();
        await using var receiver = await Receiver.StartAsync();
        var experiment = Guid.NewGuid();
        await host.SubscribeAsync(project, "webhook", receiver.Url, Secret, [NotificationEventTypes.Started], experiment);
        await host.Bus.Publish(new ExperimentStarted(Guid.NewGuid(), project, Guid.NewGuid(), "other", "Other", DateTimeOffset.UtcNow));
        await host.Bus.Publish(new ExperimentEnded(Guid.NewGuid(), project, experiment, "mine", "Mine", DateTimeOffset.UtcNow));
        await host.Bus.Publish(new ExperimentStarted(Guid.NewGuid(), "some-other-project", experiment, "mine", "Mine", DateTimeOffset.UtcNow));
        var wanted = new ExperimentStarted(Guid.NewGuid(), project, experiment, "mine", "Mine", DateTimeOffset.UtcNow);
        await host.Bus.Publish(wanted);

        await Eventually.TrueAsync(() => Task.FromResult(!receiver.Requests.IsEmpty), "the webhook arrived", Wait);
        await Task.Delay(1000);
        Assert.Equal(wanted.EventId, (Guid)JsonNode.Parse(Assert.Single(receiver.Requests).Text)!["id"]!);
    }

    [Fact]
    public async Task A_failed_delivery_is_listed_and_replayed_and_a_test_send_reports_its_outcome()
    {
        var project = await host.NewProjectAsync();
        var healthy = false;
        await using var receiver = await Receiver.StartAsync((_, context) =>
        {
            context.Response.StatusCode = Volatile.Read(ref healthy) ? 200 : 500;
            return Task.CompletedTask;
        });
        var subscription = await host.SubscribeAsync(project, "webhook", receiver.Url, Secret, [NotificationEventTypes.LongRunning]);

        var test = await host.Grpc.SendTestAsync(new SendTestRequest { ProjectId = project, SubscriptionId = subscription.ToString() });
        Assert.Equal((DeliveryStatuses.Failed, 500), (test.Status, test.LastStatusCode));
        Assert.Equal(NotificationEventTypes.Test, test.EventType);

        await host.Bus.Publish(new ExperimentLongRunning(Guid.NewGuid(), project, Guid.NewGuid(), "checkout", "Checkout test",
            DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow));
        await Eventually.TrueAsync(async () => (await host.DeliveriesAsync(subscription)).Count(d => d.Status == "failed") == 2, "the delivery was parked", Wait);

        var failed = await host.Grpc.ListDeliveriesAsync(new ListDeliveriesRequest { ProjectId = project, SubscriptionId = subscription.ToString(), Status = "failed" });
        var parked = Assert.Single(failed.Deliveries, d => d.EventType == NotificationEventTypes.LongRunning);
        Assert.Equal(NotificationsHost.MaxAttempts, parked.Attempts);
        Assert.Equal(500, parked.LastStatusCode);

        Volatile.Write(ref healthy, true);
        var replayed = await host.Grpc.ReplayDeliveryAsync(new ReplayDeliveryRequest { ProjectId = project, DeliveryId = parked.Id });
        Assert.Equal(DeliveryStatuses.Pending, replayed.Status);
        await Eventually.TrueAsync(async () => (await host.Grpc.ListDeliveriesAsync(new ListDeliveriesRequest { ProjectId = project, SubscriptionId = subscription.ToString() }))
            .Deliveries.Any(d => d.Id == parked.Id && d.Status == DeliveryStatuses.Delivered), "the replay was delivered", Wait);

        var again = await Assert.ThrowsAsync<global::Grpc.Core.RpcException>(() =>
            host.Grpc.ReplayDeliveryAsync(new ReplayDeliveryRequest { ProjectId = project, DeliveryId = parked.Id }).ResponseAsync);
        Assert.Equal(global::Grpc.Core.StatusCode.FailedPrecondition, again.StatusCode);
        var elsewhere = await Assert.ThrowsAsync<global::Grpc.Core.RpcException>(() =>
            host.Grpc.ReplayDeliveryAsync(new ReplayDeliveryRequest { ProjectId = "someone-else", DeliveryId = parked.Id }).ResponseAsync);
        Assert.Equal(global::Grpc.Core.StatusCode.NotFound, elsewhere.StatusCode);

        var ok = await host.Grpc.SendTestAsync(new SendTestRequest { ProjectId = project, SubscriptionId = subscription.ToString() });
        Assert.Equal((DeliveryStatuses.Delivered, 200, 1), (ok.Status, ok.LastStatusCode, ok.Attempts));
    }

    internal static List<(string Type, object Message)> AllEvents(string project, Guid experiment)
    {
        var now = DateTimeOffset.UtcNow;
        const string key = "checkout";
        const string name = "Checkout test";
        return
        [
            (NotificationEventTypes.AboutToStart, new ExperimentAboutToStart(Guid.NewGuid(), project, experiment, key, name, now.AddHours(1), now)),
            (NotificationEventTypes.Started, new ExperimentStarted(Guid.NewGuid(), project, experiment, key, name, now)),
            (NotificationEventTypes.Ended, new ExperimentEnded(Guid.NewGuid(), project, experiment, key, name, now)),
            (NotificationEventTypes.SrmDetected, new SrmDetected(Guid.NewGuid(), project, experiment, key, name, 0.0001, 21.3,
                new Dictionary<string, long> { ["control"] = 5200, ["treatment"] = 4800 }, new Dictionary<string, double> { ["control"] = 0.5, ["treatment"] = 0.5 }, now)),
            (NotificationEventTypes.LongRunning, new ExperimentLongRunning(Guid.NewGuid(), project, experiment, key, name,
                new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2030, 1, 31, 12, 0, 0, TimeSpan.Zero), now)),
            (NotificationEventTypes.StatSigReached, new StatSigReached(Guid.NewGuid(), project, experiment, key, name,
                "conversion", "treatment", "control", 0.052, 0.003, 0.018, 0.086, 0.95, now)),
            (NotificationEventTypes.BanditWeightsUpdated, new BanditWeightsUpdated(Guid.NewGuid(), project, experiment, key,
                new Dictionary<string, double> { ["a"] = 0.3, ["b"] = 0.7 }, now)),
        ];
    }
}
