using Experiments.Analysis.Analyses;
using Experiments.Analysis.Snapshots;
using Experiments.Analysis.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Analysis.Tests;

/// <summary>The "over time" series of a stopped experiment end on its stop day, once.</summary>
public sealed class ChartSeriesTests : IAsyncLifetime
{
    private readonly AnalysisHost _host = new();

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task A_stopped_experiment_viewed_later_has_one_point_on_its_stop_day()
    {
        var data = SyntheticExperiment.Generate("charts", "charts-exp", 11, ("control", 400, 0.10, 20), ("treatment", 400, 0.15, 20));
        await data.WriteAsync(_host.ClickHouse);
        var experiment = await Configuration.CreateAsync(_host, "charts", "charts-exp", [("control", 1), ("treatment", 1)], [Configuration.Purchase]);
        var stopDay = DateOnly.FromDateTime(SyntheticExperiment.End).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        // The final snapshot, stored for the stop day (as the stop's analysis stores it); then the experiment is viewed months later.
        var final = await _host.Analysis.RunAsync(experiment, new AnalysisOptions(), CancellationToken.None);
        await _host.Services.GetRequiredService<SnapshotStore>().SaveAsync("charts", experiment.Id, final.Response,
            DateOnly.FromDateTime(SyntheticExperiment.End), CancellationToken.None);
        var later = await _host.Analysis.RunAsync(experiment, new AnalysisOptions(), CancellationToken.None);

        Assert.NotEmpty(later.Response.Charts.MeanOverTime);
        Assert.All(later.Response.Charts.MeanOverTime, series => Assert.Equal([stopDay], series.Points.Select(p => p.Date)));
        Assert.All(later.Response.Charts.PValueOverTime, series => Assert.Equal([stopDay], series.Points.Select(p => p.Date)));
    }
}
