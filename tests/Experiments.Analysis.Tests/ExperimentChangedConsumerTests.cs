using System.Collections.Concurrent;
using Experiments.Analysis.Analyses;
using Experiments.Analysis.Snapshots;
using Experiments.Analysis.Tests.Support;
using Experiments.Contracts.Messages;
using Experiments.TestInfrastructure.Http;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Analysis.Tests;

/// <summary>
/// ExperimentChanged published on the real RabbitMQ as the gateway's outbox does (redeliveries keep the EventId): a stop
/// stores the final snapshot (dated the stop day) at once; a burst of changes to a running experiment is analysed once;
/// a draft's change analyses nothing; redeliveries change nothing, also with two instances on one queue. Alerts are
/// consumed from a RabbitMQ queue declared here.
/// </summary>
public sealed class ExperimentChangedConsumerTests : IAsyncLifetime
{
    private readonly string _project;
    private readonly AnalysisAlerts _alerts;

    private readonly AnalysisHost _host = new(new Dictionary<string, string?>
    {
        ["ExperimentChanges:Debounce"] = "00:00:03",
        ["ExperimentChanges:MaxDelay"] = "00:00:30",
        ["ExperimentChanges:PollInterval"] = "00:00:01",
    });

    private readonly ConsumedChanges _consumed = new();

    public ExperimentChangedConsumerTests()
    {
        _project = UniqueNames.Database("changes");
        _alerts = new AnalysisAlerts(_project);
    }

    public async Task InitializeAsync()
    {
        await _host.InitializeAsync();
        _host.Bus.ConnectConsumeObserver(_consumed);
        await _alerts.ConnectAsync(_host.Bus, "analysis-change-events");
    }

    public async Task DisposeAsync()
    {
        await _alerts.DisposeAsync();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task A_stop_stores_the_final_snapshot_of_the_stop_day_at_once_and_its_redelivery_changes_nothing()
    {
        // A stopped bandit with an SRM (1:1 configured, 1500:1000 observed) and a true effect, past its planned end.
        var data = SyntheticExperiment.Generate(_project, "stopped-exp", 3, ("control", 1500, 0.08, 20), ("treatment", 1000, 0.25, 20));
        await data.WriteAsync(_host.ClickHouse);
        var experiment = await Configuration.CreateAsync(_host, _project, "stopped-exp", [("control", 1), ("treatment", 1)], [Configuration.Purchase],
            bandit: true, status: "stopped");
        await _host.ExecuteAsync("INSERT INTO gateway.experiment_settings (experiment_id, planned_end_at) VALUES (@id, @at)",
            ("id", experiment.Id), ("at", SyntheticExperiment.End.AddDays(-1)));

        var stopped = Changed(experiment.Id, experiment.Key, "stopped");
        await _host.Bus.Publish(stopped);

        await Eventually.TrueAsync(async () => (await SnapshotsAsync(experiment.Id)).Count == 1 && await CountAsync("pending_analyses") == 0,
            "the final snapshot is stored");
        var final = Assert.Single(await SnapshotsAsync(experiment.Id));
        Assert.Equal(DateOnly.FromDateTime(SyntheticExperiment.End), final.Date);
        var expected = (await _host.Analysis.RunAsync(experiment, new AnalysisOptions(), CancellationToken.None)).Response.Metrics[0].Comparisons[0];
        var stored = final.Comparison(Configuration.Purchase.Key, "treatment")!;
        Assert.Equal(expected.PValue, stored.PValue!.Value, 12);
        Assert.Equal(expected.RelativeLift, stored.RelativeLift!.Value, 12);
        await Eventually.TrueAsync(() => Task.FromResult(_alerts.Of<SrmDetected>().Any() && _alerts.Of<StatSigReached>().Any()),
            "SrmDetected and StatSigReached arrive");

        // The outbox publishes the same event again (same EventId), twice.
        await _host.Bus.Publish(stopped);
        await _host.Bus.Publish(stopped);
        await Eventually.TrueAsync(() => Task.FromResult(_consumed.Count(stopped.EventId) == 3), "the redeliveries are consumed");

        Assert.Equal(0L, await CountAsync("pending_analyses"));
        Assert.Equal(1L, await CountAsync("received_changes"));
        Assert.Equal(final.ComputedAt, Assert.Single(await SnapshotsAsync(experiment.Id)).ComputedAt);
        await Task.Delay(500); // anything published twice would arrive by now
        Assert.Equal(experiment.Id, Assert.Single(_alerts.Of<SrmDetected>()).ExperimentId);
        Assert.Equal(experiment.Id, Assert.Single(_alerts.Of<StatSigReached>()).ExperimentId);
        Assert.Empty(_alerts.Of<ExperimentLongRunning>()); // it no longer runs
        Assert.Empty(_alerts.Of<BanditWeightsUpdated>()); // it serves no traffic
        Assert.Equal(0L, await CountAsync("bandit_state"));
    }

    [Fact]
    public async Task A_burst_of_changes_to_a_running_experiment_is_analysed_once_a_drafts_change_not_at_all_and_redeliveries_change_nothing()
    {
        var data = SyntheticExperiment.Generate(_project, "bandit-exp", 5, ("a", 300, 0.1, 10), ("b", 300, 0.2, 10));
        await data.WriteAsync(_host.ClickHouse);
        var bandit = await Configuration.CreateAsync(_host, _project, "bandit-exp", [("a", 1), ("b", 1)], [Configuration.Purchase], bandit: true);
        var draft = await Configuration.CreateAsync(_host, _project, "draft-exp", [("a", 1), ("b", 1)], [Configuration.Purchase], status: "draft");

        List<ExperimentChanged> changes =
        [
            Changed(bandit.Id, bandit.Key, "bandit_enabled"),
            Changed(bandit.Id, bandit.Key, "variant_updated"),
            Changed(bandit.Id, bandit.Key, "variant_updated"),
            Changed(bandit.Id, bandit.Key, "metrics_updated"),
            Changed(bandit.Id, bandit.Key, "targeting_updated"),
            Changed(draft.Id, draft.Key, "variant_added"),
        ];
        await Task.WhenAll(changes.Select(c => _host.Bus.Publish(c)));

        await Eventually.TrueAsync(async () => _alerts.Of<BanditWeightsUpdated>().Any() && await CountAsync("pending_analyses") == 0,
            "the running experiment is analysed");
        Assert.Equal(changes.Count, await CountAsync("received_changes"));
        var snapshot = Assert.Single(await SnapshotsAsync(bandit.Id));
        Assert.Equal(DateOnly.FromDateTime(DateTime.UtcNow), snapshot.Date);
        Assert.Empty(await SnapshotsAsync(draft.Id));
        var weightsAt = await BanditComputedAtAsync(bandit.Id);

        // Every event redelivered: taken in already, nothing is requested.
        await Task.WhenAll(changes.Select(c => _host.Bus.Publish(c)));
        await Eventually.TrueAsync(() => Task.FromResult(changes.All(c => _consumed.Count(c.EventId) == 2)), "the redeliveries are consumed");
        Assert.Equal(0L, await CountAsync("pending_analyses"));
        Assert.Equal(changes.Count, await CountAsync("received_changes"));

        await Task.Delay(500); // anything published twice would arrive by now
        var weights = Assert.Single(_alerts.Of<BanditWeightsUpdated>());
        Assert.Equal(bandit.Id, weights.ExperimentId);
        Assert.True(weights.Weights["b"] > weights.Weights["a"]);
        Assert.Equal(weightsAt, await BanditComputedAtAsync(bandit.Id));
        Assert.Equal(snapshot.ComputedAt, Assert.Single(await SnapshotsAsync(bandit.Id)).ComputedAt);
    }

    [Fact]
    public async Task Two_instances_on_one_queue_take_each_event_once_and_publish_each_alert_once()
    {
        var second = await _host.StartAnotherInstanceAsync();
        second.GetRequiredService<IBus>().ConnectConsumeObserver(_consumed);

        var srmData = SyntheticExperiment.Generate(_project, "stopped-two", 3, ("control", 1500, 0.08, 20), ("treatment", 1000, 0.25, 20));
        await srmData.WriteAsync(_host.ClickHouse);
        var stoppedExperiment = await Configuration.CreateAsync(_host, _project, "stopped-two", [("control", 1), ("treatment", 1)], [Configuration.Purchase],
            status: "stopped");
        var banditData = SyntheticExperiment.Generate(_project, "bandit-two", 5, ("a", 300, 0.1, 10), ("b", 300, 0.2, 10));
        await banditData.WriteAsync(_host.ClickHouse);
        var bandit = await Configuration.CreateAsync(_host, _project, "bandit-two", [("a", 1), ("b", 1)], [Configuration.Purchase], bandit: true);

        // Each event three times (the original and two redeliveries), all at once, spread over both instances.
        List<ExperimentChanged> changes =
        [
            Changed(stoppedExperiment.Id, stoppedExperiment.Key, "stopped"),
            Changed(bandit.Id, bandit.Key, "variant_updated"),
            Changed(bandit.Id, bandit.Key, "variant_updated"),
            Changed(bandit.Id, bandit.Key, "bandit_enabled"),
        ];
        await Task.WhenAll(changes.SelectMany(c => new[] { c, c, c }).Select(c => _host.Bus.Publish(c)));

        await Eventually.TrueAsync(() => Task.FromResult(changes.All(c => _consumed.Count(c.EventId) == 3)), "every copy is consumed");
        await Eventually.TrueAsync(async () => await CountAsync("pending_analyses") == 0
            && (await SnapshotsAsync(stoppedExperiment.Id)).Count == 1 && (await SnapshotsAsync(bandit.Id)).Count == 1,
            "both experiments are analysed");
        await Eventually.TrueAsync(() => Task.FromResult(_alerts.Of<SrmDetected>().Any() && _alerts.Of<StatSigReached>().Any()
            && _alerts.Of<BanditWeightsUpdated>().Any()), "the alerts and the weights arrive");

        Assert.Equal(changes.Count, await CountAsync("received_changes"));
        await Task.Delay(500); // anything published twice would arrive by now
        Assert.Equal(stoppedExperiment.Id, Assert.Single(_alerts.Of<SrmDetected>()).ExperimentId);
        Assert.Equal(stoppedExperiment.Id, Assert.Single(_alerts.Of<StatSigReached>()).ExperimentId);
        Assert.Equal(bandit.Id, Assert.Single(_alerts.Of<BanditWeightsUpdated>()).ExperimentId);
        Assert.Equal(DateOnly.FromDateTime(SyntheticExperiment.End), Assert.Single(await SnapshotsAsync(stoppedExperiment.Id)).Date);
    }


    private ExperimentChanged Changed(Guid experimentId, string key, string change)
        => new(Guid.NewGuid(), _project, experimentId, key, change, DateTimeOffset.UtcNow);

    private Task<IReadOnlyList<Snapshot>> SnapshotsAsync(Guid experimentId)
        => _host.Services.GetRequiredService<SnapshotStore>().HistoryAsync(experimentId, CancellationToken.None);

    private async Task<long> CountAsync(string table)
    {
        await using var command = _host.DataSource.CreateCommand($"SELECT count(*) FROM analysis.{table}");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<DateTime> BanditComputedAtAsync(Guid experimentId)
    {
        await using var command = _host.DataSource.CreateCommand("SELECT max(computed_at) FROM analysis.bandit_state WHERE experiment_id = @id");
        command.Parameters.AddWithValue("id", experimentId);
        return (DateTime)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Counts ExperimentChanged consumed to the end (the consumer returned), per EventId, on every bus it is connected to.</summary>
    private sealed class ConsumedChanges : IConsumeObserver
    {
        private readonly ConcurrentDictionary<Guid, int> _counts = new();

        public int Count(Guid eventId) => _counts.GetValueOrDefault(eventId);

        public Task PreConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

        public Task PostConsume<T>(ConsumeContext<T> context) where T : class
        {
            if (context.Message is ExperimentChanged changed)
            {
                _counts.AddOrUpdate(changed.EventId, 1, (_, n) => n + 1);
            }
            return Task.CompletedTask;
        }

        public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class => Task.CompletedTask;
    }
}
