using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using Experiments.Contracts.Messages;
using Experiments.Gateway.Data;
using Experiments.TestInfrastructure.Http;
using Experiments.TestInfrastructure.Networking;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Experiments.Gateway.Tests;

/// <summary>
/// The gateway's transactional outbox over the real PostgreSQL and RabbitMQ. The gateway reaches RabbitMQ through a
/// TCP proxy the test cuts (the shared broker keeps running for everyone else); the test listens on the shared broker
/// directly with a bus of its own, so what it receives is what the gateway really published.
/// </summary>
public sealed class OutboxTests(GatewayFactory factory) : IClassFixture<GatewayFactory>, IAsyncLifetime
{
    private readonly ConcurrentQueue<object> _received = new();
    private TcpProxy? _proxy;
    private WebApplicationFactory<Program>? _gateway;
    private IBusControl? _listener;

    public async Task InitializeAsync()
    {
        var rabbit = new Uri((await LocalServers.EnsureStartedAsync()).RabbitMq);
        _proxy = new TcpProxy(rabbit.Port);
        _proxy.Restore();
        var proxied = new UriBuilder(rabbit) { Port = _proxy.Port }.Uri.ToString();
        _gateway = factory.WithWebHostBuilder(builder => builder
            .UseSetting("ConnectionStrings:rabbitmq", proxied)
            .UseSetting("Outbox:PollInterval", "00:00:00.250")
            .UseSetting("Outbox:PublishTimeout", "00:00:05")
            .UseSetting("Scheduler:Enabled", "false"));
        _ = _gateway.Server; // starts the host (and its bus) while the proxy is open

        _listener = Bus.Factory.CreateUsingRabbitMq(bus =>
        {
            var user = Uri.UnescapeDataString(rabbit.UserInfo).Split(':', 2);
            bus.Host(rabbit, host =>
            {
                host.Username(user[0]);
                host.Password(user[1]);
            });
            bus.ReceiveEndpoint(UniqueNames.Database("gateway-outbox"), endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.PrefetchCount = 1; // one at a time: received in the order published
                endpoint.ConcurrentMessageLimit = 1;
                endpoint.Handler<ExperimentChanged>(context => { _received.Enqueue(context.Message); return Task.CompletedTask; });
                endpoint.Handler<ExperimentStarted>(context => { _received.Enqueue(context.Message); return Task.CompletedTask; });
                endpoint.Handler<ExperimentEnded>(context => { _received.Enqueue(context.Message); return Task.CompletedTask; });
            });
        });
        await _listener.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_listener is not null)
        {
            await _listener.StopAsync();
        }
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_event_written_while_the_broker_is_unreachable_is_published_once_it_is_back()
    {
        using var admin = Admin();
        var id = await GatewayTestData.CreateExperimentAsync(admin, "Outbox outage", variants: ["control", "treatment"]);
        var experimentId = Guid.Parse(id);
        await Eventually.TrueAsync(async () => (await PendingAsync(experimentId)) == 0, "the creation's events were published");

        await _proxy!.CutAsync();
        // The admin API needs only PostgreSQL: the launch commits with its events in the outbox.
        await admin.PostAsync($"/v1/admin/experiments/{id}/launch", null).ExpectAsync(HttpStatusCode.OK);
        var rows = await RowsAsync(experimentId);
        var started = Assert.Single(rows, r => r.Type == typeof(ExperimentStarted).FullName);
        Assert.Null(started.SentAt); // no broker, no confirm: still pending
        Assert.Contains(rows, r => r.Type == typeof(ExperimentChanged).FullName && r.SentAt is null);
        Assert.Empty(Mine<ExperimentStarted>(experimentId));

        _proxy.Restore();
        await Eventually.TrueAsync(() => Task.FromResult(Mine<ExperimentStarted>(experimentId).Count > 0),
            "ExperimentStarted arrived once the broker was reachable again", TimeSpan.FromSeconds(90));
        await Eventually.TrueAsync(async () => (await PendingAsync(experimentId)) == 0, "the outbox rows were marked sent");

        // The message published is the one written in the launch's transaction. Delivery is at-least-once (a confirm
        // that comes after the publish timeout means a second publish), but every copy carries the same EventId, by
        // which consumers such as notifications deduplicate.
        Assert.All(Mine<ExperimentStarted>(experimentId), m => Assert.Equal(started.EventId, m.EventId));
        Assert.Contains(Mine<ExperimentChanged>(experimentId), m => m.Change == "launched");
    }

    [Fact]
    public async Task The_events_of_a_change_are_published_in_order_right_after_the_commit()
    {
        using var admin = Admin();
        var id = await GatewayTestData.CreateExperimentAsync(admin, "Outbox order", variants: ["control", "treatment"]);
        var experimentId = Guid.Parse(id);
        await admin.PostAsync($"/v1/admin/experiments/{id}/launch", null).ExpectAsync(HttpStatusCode.OK);
        await admin.PostAsync($"/v1/admin/experiments/{id}/stop", null).ExpectAsync(HttpStatusCode.OK);

        await Eventually.TrueAsync(() => Task.FromResult(Mine<ExperimentEnded>(experimentId).Count > 0), "ExperimentEnded arrived");
        await Eventually.TrueAsync(async () => (await PendingAsync(experimentId)) == 0, "every row was marked sent");
        var rows = await RowsAsync(experimentId);
        Assert.Equal(
            ["ExperimentChanged", "ExperimentChanged", "ExperimentChanged", "ExperimentChanged", "ExperimentStarted", "ExperimentChanged", "ExperimentEnded"],
            rows.Select(r => r.Type.Split('.')[^1]));
        Assert.Equal(["created", "variant_added", "variant_added", "launched", "stopped"], Mine<ExperimentChanged>(experimentId).Select(m => m.Change));
        Assert.Equal(rows.Single(r => r.Type.EndsWith(".ExperimentEnded", StringComparison.Ordinal)).EventId, Assert.Single(Mine<ExperimentEnded>(experimentId)).EventId);
    }

    [Fact]
    public async Task A_refused_change_writes_no_event_and_the_outbox_row_commits_or_rolls_back_with_the_change()
    {
        using var admin = Admin();
        var id = await GatewayTestData.CreateExperimentAsync(admin, "Outbox atomic", variants: ["control"]);
        var experimentId = Guid.Parse(id);
        var before = (await RowsAsync(experimentId)).Count;
        await admin.PostAsync($"/v1/admin/experiments/{id}/launch", null).ExpectAsync(HttpStatusCode.Conflict); // one variant
        Assert.Equal(before, (await RowsAsync(experimentId)).Count);

        foreach (var commit in new[] { false, true })
        {
            var name = $"renamed-{commit}";
            await using (var connection = new NpgsqlConnection(factory.ConnectionString))
            {
                await connection.OpenAsync();
                await using var transaction = await connection.BeginTransactionAsync();
                await using (var rename = new NpgsqlCommand("UPDATE gateway.experiments SET name = @name WHERE id = @id", connection, transaction))
                {
                    rename.Parameters.AddWithValue("name", name);
                    rename.Parameters.AddWithValue("id", experimentId);
                    await rename.ExecuteNonQueryAsync();
                }
                await GatewayOutbox.WriteAsync(connection, transaction,
                    ExperimentMessages.Changed(GatewayFactory.Project, experimentId, "outbox-atomic", name, DateTimeOffset.UtcNow), CancellationToken.None);
                if (commit)
                {
                    await transaction.CommitAsync();
                }
                else
                {
                    await transaction.RollbackAsync();
                }
            }
            var experiment = await admin.GetAsync($"/v1/admin/experiments/{id}").ExpectAsync(HttpStatusCode.OK);
            Assert.Equal(commit, (string?)experiment["name"] == name);
            Assert.Equal(commit, (await RowsAsync(experimentId)).Any(r => r.Json.Contains($"\"{name}\"", StringComparison.Ordinal)));
        }
        // Written outside the stores, the committed row was not nudged: the relay's poll (the safety net) publishes it.
        await Eventually.TrueAsync(() => Task.FromResult(Mine<ExperimentChanged>(experimentId).Any(m => m.Change == "renamed-True")),
            "the committed row was published by the poll");
        Assert.DoesNotContain(Mine<ExperimentChanged>(experimentId), m => m.Change == "renamed-False");
    }

    [Fact]
    public async Task Two_gateway_instances_relay_each_row_once_and_in_order()
    {
        await using var second = _gateway!.WithWebHostBuilder(_ => { });
        _ = second.Server;
        var experimentId = Guid.NewGuid(); // rows written straight to the outbox: no experiment needed
        var steps = Enumerable.Range(0, 40).Select(i => $"step-{i:D2}").ToList();
        await using (var connection = new NpgsqlConnection(factory.ConnectionString))
        {
            await connection.OpenAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await GatewayOutbox.WriteAsync(connection, transaction,
                steps.SelectMany(step => ExperimentMessages.Changed(GatewayFactory.Project, experimentId, "two-instances", step, DateTimeOffset.UtcNow)),
                CancellationToken.None);
            await transaction.CommitAsync();
        }

        // Both instances' relays at once (and their own polling loops besides): the advisory lock lets one publish.
        var relays = new[] { _gateway!, second }.Select(host => host.Services.GetRequiredService<OutboxRelay>()).ToList();
        await Task.WhenAll(relays.Select(relay => relay.RelayOnceAsync(CancellationToken.None)));
        await Eventually.TrueAsync(async () => (await PendingAsync(experimentId)) == 0, "every row was marked sent");
        await Eventually.TrueAsync(() => Task.FromResult(Mine<ExperimentChanged>(experimentId).Count >= steps.Count), "every row arrived");
        Assert.Equal(steps, Mine<ExperimentChanged>(experimentId).Select(m => m.Change));
    }

    [Fact]
    public Task Messages_the_outbox_does_not_relay_are_refused_before_anything_is_written()
        => Assert.ThrowsAsync<ArgumentException>(() => GatewayOutbox.WriteAsync(null!, null!, [new { Not = "a contract" }], CancellationToken.None));

    private HttpClient Admin()
    {
        var client = _gateway!.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayFactory.AdminKey);
        return client;
    }

    private sealed record OutboxRow(long Id, string Type, string Json, Guid EventId, DateTimeOffset? SentAt);

    private async Task<List<OutboxRow>> RowsAsync(Guid experimentId)
    {
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT id, message_type, message::text, (message->>'EventId')::uuid, sent_at FROM gateway.outbox
            WHERE message->>'ExperimentId' = @id ORDER BY id
            """, connection);
        command.Parameters.AddWithValue("id", experimentId.ToString());
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<OutboxRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new OutboxRow(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetGuid(3),
                reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4)));
        }
        return rows;
    }

    private async Task<int> PendingAsync(Guid experimentId) => (await RowsAsync(experimentId)).Count(r => r.SentAt is null);

    private List<T> Mine<T>(Guid experimentId) where T : class
        => _received.OfType<T>().Where(m => m switch
        {
            ExperimentChanged c => c.ExperimentId == experimentId,
            ExperimentStarted s => s.ExperimentId == experimentId,
            ExperimentEnded e => e.ExperimentId == experimentId,
            _ => false,
        }).ToList();
}
