using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Experiments.ClickHouse;
using Experiments.Contracts.Messages;
using Experiments.Ingest.Model;
using MassTransit;

namespace Experiments.Ingest.Tests;

/// <summary>The queue side: assignment batches from the assignment service, poison messages and their replay.</summary>
[Collection(IngestCollection.Name)]
public sealed class PipelineTests(IngestFixture fixture)
{
    private IngestService Service => fixture.Service;

    [Fact]
    public async Task Assignment_batches_reach_the_assignments_table_once_even_when_redelivered()
    {
        var prefix = IngestFixture.Prefix("assign");
        var now = DateTimeOffset.UtcNow;
        var batch = new AssignmentBatchRecorded(Guid.NewGuid(), IngestService.ProjectId,
            Enumerable.Range(0, 50).Select(i => new AssignmentRecord("checkout", i % 2 == 0 ? "control" : "treatment", $"user-{i}", "", now, $"{prefix}-{i}")).ToList());
        await WithBusAsync(async bus =>
        {
            await bus.Publish(batch);
            await bus.Publish(batch);
        });

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && await Service.RawRowsAsync("assignments", prefix) < 100)
        {
            await Task.Delay(200);
        }
        Assert.Equal(50, await Service.DistinctAsync("assignments", prefix));
        Assert.Equal(50, await Service.FinalRowsAsync("assignments", prefix));
        var treatment = await Service.ClickHouse.QueryScalarAsync<long>(ClickHouseSql.Format(
            $"SELECT uniqExact(user_id) FROM assignments WHERE startsWith(insert_id, {prefix}) AND variant = 'treatment' AND flag_key = 'checkout'"));
        Assert.Equal(25, treatment);
    }

    [Fact]
    public async Task A_poison_message_is_parked_alone_can_be_inspected_and_replayed()
    {
        var prefix = IngestFixture.Prefix("poison");
        var receivedAt = DateTimeOffset.UtcNow;
        using var exposures = new RowBuffer();
        using var events = new RowBuffer();
        for (var i = 0; i < 10; i++)
        {
            events.WriteString(IngestService.ProjectId);
            events.WriteString("purchase");
            events.WriteString($"user-{i}");
            events.WriteString("");
            events.WriteDateTime(receivedAt);
            events.WriteString($"{prefix}-{i}");
            foreach (var empty in new[] { "{}", "", "", "" })
            {
                events.WriteString(empty);
            }
            events.WriteDateTime(receivedAt);
            events.EndRow();
        }
        var good = new EventBatchReceived(Guid.NewGuid(), IngestService.ProjectId, receivedAt, 10, EventPayload.Build(exposures, events));
        var poison = new EventBatchReceived(Guid.NewGuid(), IngestService.ProjectId, receivedAt, 1, [9, 0, 0]);
        using var admin = Service.Client(IngestService.AdminKey);
        var before = await ParkedAsync(admin);

        await WithBusAsync(async bus =>
        {
            // The queue's exchange: a send to queue: would re-declare the queue without its x-expires (Ingest:QueueExpiry).
            var queue = await bus.GetSendEndpoint(new Uri($"exchange:{Service.EventsQueue}"));
            await queue.Send(poison);
            await queue.Send(good);
        });

        Assert.Equal(10, await Service.WaitForDistinctAsync("events", prefix, 10, TimeSpan.FromSeconds(30)));
        await WaitUntilAsync(async () => await ParkedAsync(admin) == before + 1);
        var peeked = await admin.GetFromJsonAsync<JsonArray>($"/v1/admin/ingest/error-queues/{Service.EventsQueue}/messages?limit=100");
        Assert.Contains(peeked!, m => ((string?)m!["reason"])?.Contains("format version 9", StringComparison.Ordinal) == true);

        // Replay moves it back to its queue; still poison, it is parked again (and nothing else changes).
        var replay = await admin.PostAsync($"/v1/admin/ingest/error-queues/{Service.EventsQueue}/replay", null);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(before + 1, (int)(await replay.Content.ReadFromJsonAsync<JsonObject>())!["replayed"]!);
        await WaitUntilAsync(async () => await ParkedAsync(admin) == before + 1);
        Assert.Equal(10, await Service.FinalRowsAsync("events", prefix));

        using var sdk = Service.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await sdk.GetAsync("/v1/admin/ingest/error-queues")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsync("/v1/admin/ingest/error-queues/nope/replay", null)).StatusCode);
    }

    private async Task<int> ParkedAsync(HttpClient admin)
    {
        var queues = await admin.GetFromJsonAsync<JsonArray>("/v1/admin/ingest/error-queues");
        return (int)queues!.Single(q => (string?)q!["queue"] == Service.EventsQueue)!["messages"]!;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold within 30 s.");
            await Task.Delay(200);
        }
    }

    private async Task WithBusAsync(Func<IBusControl, Task> use)
    {
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit => rabbit.Host(new Uri(Service.Servers.RabbitMq), host =>
        {
            host.Username("guest");
            host.Password("guest");
            host.PublisherConfirmation = true;
        }));
        await bus.StartAsync();
        try
        {
            await use(bus);
        }
        finally
        {
            await bus.StopAsync();
        }
    }
}
