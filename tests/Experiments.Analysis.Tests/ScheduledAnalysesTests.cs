using Experiments.Analysis.Tests.Support;
using Experiments.Contracts.Messages;

namespace Experiments.Analysis.Tests;

/// <summary>
/// Scheduled passes over running experiments: a daily snapshot each, SrmDetected / StatSigReached /
/// ExperimentLongRunning published once per experiment and cause (consumed from a real RabbitMQ queue declared
/// here), Thompson weights stored with alpha and beta and published as BanditWeightsUpdated.
/// </summary>
public sealed class ScheduledAnalysesTests : IAsyncLifetime
{
    private readonly AnalysisHost _host = new();
    private readonly AnalysisAlerts _alerts = new("sched");

    public async Task InitializeAsync()
    {
        await _host.InitializeAsync();
        await _alerts.ConnectAsync(_host.Bus, "analysis-events");
    }

    public async Task DisposeAsync()
    {
        await _alerts.DisposeAsync();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task Snapshots_alerts_and_bandit_weights_fire_once_per_experiment_and_cause()
    {
        // An SRM (configured 1:1, observed 1500:1000) with a true effect; and a bandit past 100 exposures per arm.
        var srm = SyntheticExperiment.Generate("sched", "srm-exp", 3, ("control", 1500, 0.08, 20), ("treatment", 1000, 0.25, 20));
        await srm.WriteAsync(_host.ClickHouse);
        var srmExperiment = await Configuration.CreateAsync(_host, "sched", "srm-exp", [("control", 1), ("treatment", 1)], [Configuration.Purchase]);
        await _host.ExecuteAsync("INSERT INTO gateway.experiment_settings (experiment_id, planned_end_at) VALUES (@id, @at)",
            ("id", srmExperiment.Id), ("at", DateTimeOffset.UtcNow.AddDays(-1)));

        var bandit = SyntheticExperiment.Generate("sched", "bandit-exp", 5, ("a", 300, 0.1, 10), ("b", 300, 0.2, 10));
        await bandit.WriteAsync(_host.ClickHouse);
        var banditExperiment = await Configuration.CreateAsync(_host, "sched", "bandit-exp", [("a", 1), ("b", 1)], [Configuration.Purchase], bandit: true);

        var first = await _host.Schedule.RunOnceAsync(CancellationToken.None);
        var second = await _host.Schedule.RunOnceAsync(CancellationToken.None);

        Assert.Empty(first.Failed);
        Assert.Equal(2, first.Analysed);
        Assert.Contains("srm-exp:srm", first.Published);
        Assert.Contains("srm-exp:stat_sig", first.Published);
        Assert.Contains("srm-exp:long_running", first.Published);
        Assert.DoesNotContain(second.Published, p => p.StartsWith("srm-exp", StringComparison.Ordinal));
        Assert.Contains("bandit-exp:bandit_weights", second.Published);

        await WaitForAsync(() => _alerts.Of<BanditWeightsUpdated>().Count() >= 2);
        await Task.Delay(500); // anything published twice would arrive by now
        var srmEvent = Assert.Single(_alerts.Of<SrmDetected>());
        Assert.Equal(srmExperiment.Id, srmEvent.ExperimentId);
        Assert.Equal(srm.Users.Count(u => u.Variant == "control"), srmEvent.ObservedCounts["control"]);
        Assert.Equal(srmExperiment.Id, Assert.Single(_alerts.Of<StatSigReached>()).ExperimentId);
        Assert.Equal(srmExperiment.Id, Assert.Single(_alerts.Of<ExperimentLongRunning>()).ExperimentId);
        var weights = _alerts.Of<BanditWeightsUpdated>().Last();
        Assert.Equal(banditExperiment.Id, weights.ExperimentId);
        Assert.True(weights.Weights["b"] > weights.Weights["a"]);

        // One snapshot per experiment and day; bandit state carries Beta(conversions + 1, users - conversions + 1).
        await using var snapshots = _host.DataSource.CreateCommand("SELECT count(*) FROM analysis.snapshots");
        Assert.Equal(2L, await snapshots.ExecuteScalarAsync());
        await using var state = _host.DataSource.CreateCommand("SELECT alpha, beta FROM analysis.bandit_state WHERE experiment_id = @id AND variant = 'b'");
        state.Parameters.AddWithValue("id", banditExperiment.Id);
        await using var reader = await state.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var users = bandit.Users.Where(u => u.Variant == "b").ToList();
        var converted = users.Count(u => SyntheticExperiment.Value(u, Configuration.Purchase, SyntheticExperiment.End) == 1);
        Assert.Equal(converted + 1, reader.GetDouble(0));
        Assert.Equal(users.Count - converted + 1, reader.GetDouble(1));
    }


    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(100);
        }
        Assert.True(condition(), "The expected messages did not arrive.");
    }
}
