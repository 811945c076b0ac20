using System.Net;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Experiments.Ingest.Tests;

/// <summary>
/// <c>Ingest:QueueExpiry</c>: test platforms' queues are declared with RabbitMQ's <c>x-expires</c> and vanish once nothing
/// uses them; without the setting (production) the queues are durable, have no arguments and stay.
/// </summary>
[Collection(IngestCollection.Name)]
public sealed class QueueExpiryTests(IngestFixture fixture)
{
    private static readonly TimeSpan Expiry = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Queues_with_an_expiry_disappear_once_unused_and_queues_without_one_stay()
    {
        var expiring = await IngestService.StartAsync(fixture.Servers.Connections, new Dictionary<string, string>
        {
            ["Ingest__QueueExpiry"] = $"{Expiry:c}",
        });
        var kept = await IngestService.StartAsync(fixture.Servers.Connections, new Dictionary<string, string>
        {
            ["Ingest__QueueExpiry"] = "", // unset: production's behaviour
        });
        string[] expiringQueues = [expiring.EventsQueue, expiring.AssignmentsQueue];
        string[] keptQueues = [kept.EventsQueue, kept.AssignmentsQueue];
        try
        {
            // Both take batches: the expiring one sends to a queue declared with x-expires without a PRECONDITION_FAILED.
            foreach (var service in new[] { expiring, kept })
            {
                var prefix = IngestFixture.Prefix("expiry");
                using var client = service.Client();
                using var content = new ByteArrayContent(LoadDriver.Batch(prefix, 0, 10));
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                var response = await client.PostAsync("/v1/events", content);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{service.Process.Output}");
                // Every other event of the batch is an exposure.
                Assert.Equal(5, await service.WaitForDistinctAsync("events", prefix, 5, TimeSpan.FromSeconds(60)));
                Assert.Equal(5, await service.WaitForDistinctAsync("exposures", prefix, 5, TimeSpan.FromSeconds(60)));
            }
            foreach (var queue in expiringQueues.Concat(keptQueues))
            {
                Assert.True(await ExistsAsync(queue), $"{queue} is declared while its service runs");
            }
            // The expiring queues carry x-expires: RabbitMQ refuses a declare without it. The kept ones have no arguments.
            foreach (var queue in expiringQueues)
            {
                var refused = await Assert.ThrowsAsync<OperationInterruptedException>(() => DeclareDurableWithoutArgumentsAsync(queue));
                Assert.Equal(406, (int?)refused.ShutdownReason?.ReplyCode);
            }
            foreach (var queue in keptQueues)
            {
                await DeclareDurableWithoutArgumentsAsync(queue);
            }
        }
        finally
        {
            await expiring.DisposeAsync();
            await kept.DisposeAsync();
        }

        // Both services stopped: the expiring queues go away by themselves. A passive declare renews a queue's lease, so
        // they are looked at less often than the expiry.
        var deadline = DateTime.UtcNow.AddMinutes(1);
        var left = expiringQueues.ToList();
        while (left.Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{string.Join(", ", left)} still declared a minute after their service stopped");
            await Task.Delay(Expiry + TimeSpan.FromSeconds(1));
            foreach (var queue in left.ToList())
            {
                if (!await ExistsAsync(queue))
                {
                    left.Remove(queue);
                }
            }
        }

        // Longer unused than the expiry, the queues declared without it are still there (durable, no arguments).
        try
        {
            foreach (var queue in keptQueues)
            {
                Assert.True(await ExistsAsync(queue), $"{queue} (no Ingest:QueueExpiry) was deleted");
                await DeclareDurableWithoutArgumentsAsync(queue);
            }
        }
        finally
        {
            await using var connection = await Connect();
            await using var channel = await connection.CreateChannelAsync();
            foreach (var queue in keptQueues)
            {
                await channel.QueueDeleteAsync(queue);
            }
        }
    }

    /// <summary>A passive declare: NOT_FOUND (404) once the queue is gone.</summary>
    private async Task<bool> ExistsAsync(string queue)
    {
        await using var connection = await Connect();
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            await channel.QueueDeclarePassiveAsync(queue);
            return true;
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return false;
        }
    }

    /// <summary>Succeeds only on a durable queue without arguments (RabbitMQ answers 406 PRECONDITION_FAILED otherwise).</summary>
    private async Task DeclareDurableWithoutArgumentsAsync(string queue)
    {
        await using var connection = await Connect();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: null);
    }

    private Task<IConnection> Connect()
        => new ConnectionFactory { Uri = new Uri(fixture.Servers.Connections.RabbitMq) }.CreateConnectionAsync();
}
