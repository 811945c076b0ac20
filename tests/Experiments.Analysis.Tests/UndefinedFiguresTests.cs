using Experiments.Analysis.Analyses;
using Experiments.Analysis.Snapshots;
using Experiments.Analysis.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Analysis.Tests;

/// <summary>
/// Figures the statistics leave undefined are absent from the response (null in the admin API's JSON), never a 0
/// that reads as a real zero: the relative lift over a control without conversions, the means and lifts of a
/// comparison whose control has no users. Snapshots keep them absent.
/// </summary>
public sealed class UndefinedFiguresTests : IAsyncLifetime
{
    private readonly AnalysisHost _host = new();

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task A_control_without_conversions_has_a_mean_of_0_and_no_relative_lift_also_in_its_snapshot()
    {
        var data = SyntheticExperiment.Generate("undefined", "no-conversions", 5, ("control", 300, 0.0, 20), ("treatment", 300, 0.2, 20));
        await data.WriteAsync(_host.ClickHouse);
        var experiment = await Configuration.CreateAsync(_host, "undefined", "no-conversions", [("control", 1), ("treatment", 1)], [Configuration.Purchase]);

        var outcome = await _host.Analysis.RunAsync(experiment, new AnalysisOptions(), CancellationToken.None);

        var comparison = outcome.Response.Metrics[0].Comparisons.Single();
        Assert.Equal(0, comparison.ControlMeanOrNull);
        Assert.True(comparison.MeanOrNull > 0);
        Assert.Equal(comparison.MeanOrNull, comparison.AbsoluteLiftOrNull);
        Assert.Null(comparison.RelativeLiftOrNull);
        Assert.Null(outcome.Response.Comparisons.Single().RelativeLiftOrNull);

        var store = _host.Services.GetRequiredService<SnapshotStore>();
        await store.SaveAsync("undefined", experiment.Id, outcome.Response, CancellationToken.None);
        var stored = (await store.HistoryAsync(experiment.Id, CancellationToken.None)).Single().Comparison(Configuration.Purchase.Key, "treatment");
        Assert.NotNull(stored);
        Assert.Equal(0, stored.ControlMean);
        Assert.Null(stored.RelativeLift);
    }

    [Fact]
    public async Task A_control_without_users_has_no_mean_and_no_lifts()
    {
        var data = SyntheticExperiment.Generate("undefined", "no-control", 6, ("control", 0, 0.1, 20), ("treatment", 300, 0.2, 20));
        await data.WriteAsync(_host.ClickHouse);
        var experiment = await Configuration.CreateAsync(_host, "undefined", "no-control", [("control", 1), ("treatment", 1)], [Configuration.Purchase]);

        var outcome = await _host.Analysis.RunAsync(experiment, new AnalysisOptions(), CancellationToken.None);

        var comparison = outcome.Response.Metrics[0].Comparisons.Single();
        Assert.Null(comparison.ControlMeanOrNull);
        Assert.Null(comparison.AbsoluteLiftOrNull);
        Assert.Null(comparison.RelativeLiftOrNull);
        Assert.False(comparison.HasPValue);
        Assert.NotEmpty(comparison.GateReason);
        Assert.Equal(0, outcome.Response.Metrics[0].Variants.Single(v => v.Key == "control").Exposures);
    }
}
