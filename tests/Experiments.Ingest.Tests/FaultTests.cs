using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Experiments.Ingest.Tests;

/// <summary>
/// Faults during a load, against the real servers (this assembly's own RabbitMQ and ClickHouse) and the service as a
/// process. The load is posted as SDKs do (a batch is retried unchanged until it gets a 200); afterwards every event
/// is in ClickHouse exactly once by the analysis rule (one row per insert id after FINAL), and nothing was parked.
/// </summary>
[Collection(IngestCollection.Name)]
public sealed class FaultTests(IngestFixture fixture, ITestOutputHelper output)
{
    private const int Batches = 120;
    private const int BatchSize = 250;
    private const int Concurrency = 4;

    [Fact]
    public async Task RabbitMQ_restarted_during_a_load_keeps_every_acknowledged_event_once()
    {
        var prefix = IngestFixture.Prefix("rabbit");
        var result = await Load(prefix, () => fixture.Servers.RestartAsync(DedicatedServers.RabbitMq));
        await AssertExactlyOnceAsync(prefix, result);
    }

    [Fact]
    public async Task ClickHouse_stopped_for_a_while_during_a_load_loses_and_doubles_nothing()
    {
        var prefix = IngestFixture.Prefix("clickhouse");
        var result = await Load(prefix, async () =>
        {
            await fixture.Servers.StopAsync(DedicatedServers.ClickHouse);
            await Task.Delay(TimeSpan.FromSeconds(8)); // the API keeps accepting into the queue meanwhile
            await fixture.Servers.StartAsync(DedicatedServers.ClickHouse);
        });
        await AssertExactlyOnceAsync(prefix, result);
    }

    [Fact]
    public async Task Consumer_process_killed_mid_batch_and_restarted_loses_and_doubles_nothing()
    {
        var prefix = IngestFixture.Prefix("kill");
        var result = await Load(prefix, async () =>
        {
            await fixture.Service.Process.KillAsync(); // SIGKILL while batches are in flight and unacknowledged
            await Task.Delay(TimeSpan.FromSeconds(1));
            await fixture.Service.StartProcessAsync();
        });
        await AssertExactlyOnceAsync(prefix, result);
    }

    private int _parkedBefore;

    private async Task<int> ParkedAsync()
    {
        using var admin = fixture.Service.Client(IngestService.AdminKey);
        var queues = await admin.GetFromJsonAsync<JsonArray>("/v1/admin/ingest/error-queues");
        return queues!.Sum(q => (int)q!["messages"]!);
    }

    private async Task<LoadResult> Load(string prefix, Func<Task> fault)
    {
        _parkedBefore = await ParkedAsync();
        using var client = fixture.Service.Client();
        var result = await new LoadDriver(client).RunAsync(prefix, Batches, BatchSize, Concurrency, faultAt: 0.3, fault);
        output.WriteLine(result.ToString());
        Assert.Equal(Batches * BatchSize, result.AcknowledgedEvents);
        return result;
    }

    private async Task AssertExactlyOnceAsync(string prefix, LoadResult result)
    {
        var perTable = result.AcknowledgedEvents / 2; // every other event is an exposure
        foreach (var table in new[] { "exposures", "events" })
        {
            var distinct = await fixture.Service.WaitForDistinctAsync(table, prefix, perTable, TimeSpan.FromSeconds(90));
            var raw = await fixture.Service.RawRowsAsync(table, prefix);
            var final = await fixture.Service.FinalRowsAsync(table, prefix);
            output.WriteLine($"{table}: {distinct} insert ids, {final} rows after FINAL, {raw} rows as inserted (redeliveries before merges)");
            Assert.Equal(perTable, distinct);
            Assert.Equal(perTable, final);
        }
        Assert.Equal(_parkedBefore, await ParkedAsync()); // nothing parked because a server was away
        var retried = fixture.Service.Process.Output.Split('\n').Count(l => l.Contains("ClickHouse did not take", StringComparison.Ordinal));
        output.WriteLine($"consumer log lines about waiting for ClickHouse so far: {retried}");
        if (!fixture.Service.Process.IsRunning)
        {
            Assert.Fail("The service exited:\n" + fixture.Service.Process.Output);
        }
    }
}
