using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Experiments.Contracts.Messages;
using Experiments.TestInfrastructure.Http;
using Experiments.TestInfrastructure.Messaging;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Gateway.Tests;

/// <summary>
/// The gateway's scheduler with a short interval: a scheduled start and end move the experiment, audited as the
/// scheduler, and ExperimentStarted / ExperimentEnded reach a real RabbitMQ queue bound by the test once each.
/// </summary>
public sealed class SchedulerTests(GatewayFactory factory) : IClassFixture<GatewayFactory>, IAsyncLifetime
{
    private readonly ConcurrentQueue<object> _received = new();
    private Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program>? _scheduled;
    private HostReceiveEndpointHandle? _endpoint;

    public async Task InitializeAsync()
    {
        _scheduled = factory.WithWebHostBuilder(builder => builder.UseSetting("Scheduler:Interval", "00:00:00.250"));
        var bus = _scheduled.Services.GetRequiredService<IBus>();
        _endpoint = await bus.ConnectTestEndpointAsync("gateway-scheduler", endpoint =>
        {
            endpoint.Handler<ExperimentStarted>(context => { _received.Enqueue(context.Message); return Task.CompletedTask; });
            endpoint.Handler<ExperimentEnded>(context => { _received.Enqueue(context.Message); return Task.CompletedTask; });
            endpoint.Handler<ExperimentAboutToStart>(context => { _received.Enqueue(context.Message); return Task.CompletedTask; });
        });
    }

    public async Task DisposeAsync()
    {
        if (_endpoint is not null)
        {
            await _endpoint.StopAsync();
        }
        if (_scheduled is not null)
        {
            await _scheduled.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_scheduled_start_and_end_move_the_experiment_once_audited_as_the_scheduler()
    {
        using var admin = _scheduled!.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayFactory.AdminKey);
        var id = await GatewayTestData.CreateExperimentAsync(admin, "Scheduled", variants: ["control", "treatment"]);
        var start = DateTimeOffset.UtcNow.AddSeconds(2);
        await admin.PutAsJsonAsync($"/v1/admin/experiments/{id}/settings",
            new { scheduled_start_at = start, scheduled_end_at = start.AddSeconds(3) }).ExpectAsync(HttpStatusCode.OK);

        await Eventually.TrueAsync(async () =>
            (string?)(await admin.GetAsync($"/v1/admin/experiments/{id}").ExpectAsync(HttpStatusCode.OK))["status"] == "running",
            "the scheduled start moved the experiment to running", TimeSpan.FromSeconds(20));
        await Eventually.TrueAsync(async () =>
            (string?)(await admin.GetAsync($"/v1/admin/experiments/{id}").ExpectAsync(HttpStatusCode.OK))["status"] == "stopped",
            "the scheduled end stopped the experiment", TimeSpan.FromSeconds(20));
        var experiment = await admin.GetAsync($"/v1/admin/experiments/{id}").ExpectAsync(HttpStatusCode.OK);
        Assert.True((DateTimeOffset)experiment["started_at"]! >= start.AddMilliseconds(-1));

        var experimentId = Guid.Parse(id);
        await Eventually.TrueAsync(() => Task.FromResult(Mine<ExperimentEnded>(experimentId).Count == 1), "ExperimentEnded arrived", TimeSpan.FromSeconds(20));
        await Task.Delay(TimeSpan.FromSeconds(2)); // several more scheduler passes
        Assert.Single(Mine<ExperimentAboutToStart>(experimentId));
        var started = Assert.Single(Mine<ExperimentStarted>(experimentId));
        Assert.Equal(GatewayFactory.Project, started.ProjectId);
        Assert.Single(Mine<ExperimentEnded>(experimentId));

        var audit = await GatewayTestData.AuditAsync(factory.ConnectionString, id);
        Assert.Equal([("launch", "scheduler"), ("stop", "scheduler")],
            audit.Where(a => a.Action is "launch" or "stop").Select(a => (a.Action, a.Actor)));
    }

    [Fact]
    public async Task A_scheduled_end_stops_an_experiment_launched_by_hand()
    {
        using var admin = _scheduled!.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayFactory.AdminKey);
        var id = await GatewayTestData.CreateExperimentAsync(admin, "Scheduled end", variants: ["control", "treatment"]);
        await admin.PostAsync($"/v1/admin/experiments/{id}/launch", null).ExpectAsync(HttpStatusCode.OK);
        await admin.PutAsJsonAsync($"/v1/admin/experiments/{id}/settings",
            new { scheduled_end_at = DateTimeOffset.UtcNow.AddSeconds(1) }).ExpectAsync(HttpStatusCode.OK);

        var experimentId = Guid.Parse(id);
        await Eventually.TrueAsync(() => Task.FromResult(Mine<ExperimentEnded>(experimentId).Count == 1), "ExperimentEnded arrived", TimeSpan.FromSeconds(20));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Single(Mine<ExperimentEnded>(experimentId));
        Assert.Equal("stopped", (string?)(await admin.GetAsync($"/v1/admin/experiments/{id}").ExpectAsync(HttpStatusCode.OK))["status"]);
        var audit = await GatewayTestData.AuditAsync(factory.ConnectionString, id);
        Assert.Equal([("launch", "admin-key:alpha"), ("stop", "scheduler")],
            audit.Where(a => a.Action is "launch" or "stop").Select(a => (a.Action, a.Actor)));
    }

    private List<T> Mine<T>(Guid experimentId) where T : class
        => _received.OfType<T>().Where(m => m switch
        {
            ExperimentStarted s => s.ExperimentId == experimentId,
            ExperimentEnded e => e.ExperimentId == experimentId,
            ExperimentAboutToStart a => a.ExperimentId == experimentId,
            _ => false,
        }).ToList();
}
