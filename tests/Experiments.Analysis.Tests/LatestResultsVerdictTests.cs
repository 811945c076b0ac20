using Experiments.Analysis.Scheduling;
using Experiments.Analysis.Snapshots;
using Experiments.Analysis.Tests.Support;
using Experiments.Contracts.Analysis.V1;
using Experiments.Postgres.Configuration;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Analysis.Tests;

/// <summary>
/// Snapshots store the analysis summary's verdict (migration 0003) and LatestResults returns it: the stored winner,
/// recommendation, control, SRM and per-variant exposures/conversions stay what the analysis said, even after the
/// experiment's control or metric direction change; snapshots stored without the verdict keep the derived winner and
/// the alert-based SRM. Its own fixture (and ClickHouse database): <see cref="LatestResultsTests"/> drops its own.
/// </summary>
public sealed class LatestResultsVerdictTests(LatestResultsHost fixture) : IClassFixture<LatestResultsHost>
{
    private AnalysisHost Host => fixture.Host;

    private AnalysisService.AnalysisServiceClient Client => fixture.Client;

    private static DateTime Deadline => DateTime.UtcNow.AddSeconds(30);

    [Fact]
    public async Task The_stored_verdict_is_returned_even_after_the_control_and_the_direction_change()
    {
        var project = $"verdict-{Guid.NewGuid():N}"[..20];
        var treatmentWins = await ExperimentAsync(project, "treatment-wins", 21, ("control", 1000, 0.08), ("treatment", 1000, 0.25));
        var controlWins = await ExperimentAsync(project, "control-wins", 22, ("control", 1000, 0.25), ("treatment", 1000, 0.08));
        foreach (var experiment in new[] { treatmentWins, controlWins })
        {
            await Host.Schedule.AnalyseAsync(experiment, CancellationToken.None);
        }
        var live = new Dictionary<Guid, AnalyzeResponse>();
        foreach (var experiment in new[] { treatmentWins, controlWins })
        {
            live[experiment.Id] = await Client.AnalyzeAsync(new AnalyzeRequest { ProjectId = project, ExperimentId = experiment.Id.ToString() }, deadline: Deadline);
        }
        Assert.Equal("treatment", live[treatmentWins.Id].Winner);
        Assert.Equal("control", live[controlWins.Id].Winner);

        // The configuration changes after the snapshot: the primary metric now wants a decrease (today's rule would
        // name 'control' for the first), and the second's control is now 'treatment' (today's rule would name it).
        await Host.ExecuteAsync("UPDATE gateway.experiment_metrics SET direction = 'decrease' WHERE experiment_id = @id", ("id", treatmentWins.Id));
        await Host.ExecuteAsync("""
            INSERT INTO gateway.experiment_settings (experiment_id, control) VALUES (@id, 'treatment')
            ON CONFLICT (experiment_id) DO UPDATE SET control = excluded.control
            """, ("id", controlWins.Id));
        var derivedNow = new Dictionary<Guid, string?>
        {
            [treatmentWins.Id] = LatestResults.Winner(StoredComparisons(live[treatmentWins.Id]), "decrease", "control", srmDetected: false),
            [controlWins.Id] = LatestResults.Winner(StoredComparisons(live[controlWins.Id]), "increase", "treatment", srmDetected: false),
        };
        Assert.Equal("control", derivedNow[treatmentWins.Id]);
        Assert.Equal("treatment", derivedNow[controlWins.Id]);

        var results = (await Client.LatestResultsAsync(new LatestResultsRequest { ProjectId = project }, deadline: Deadline)).Results
            .ToDictionary(r => Guid.Parse(r.ExperimentId));
        foreach (var (id, response) in live)
        {
            var result = results[id];
            Assert.True(result.VerdictStored);
            Assert.Equal(response.Winner, result.Winner);
            Assert.NotEqual(derivedNow[id], result.Winner);
            Assert.Equal(response.Summary.Recommendation, result.Recommendation);
            Assert.Equal("control", result.Control);
            Assert.False(result.SrmDetected);
            Assert.Equal(response.Srm.PValue, result.SrmPValue, 12);
            // The primary metric's per-variant exposures and conversions, as the analysis counted them.
            Assert.Equal(
                response.Metrics[0].Variants.Select(v => (v.Key, v.Name, v.Exposures, v.Conversions)),
                result.Variants.Select(v => (v.Key, v.Name, v.Exposures, v.Conversions)));
            Assert.Equal(response.Variants.Select(v => v.Rate), result.Variants.Select(v => v.Rate), new RateComparer());
            Assert.All(result.Variants, v => Assert.Equal(1000, v.Exposures));
        }
    }

    [Fact]
    public async Task A_snapshot_stored_without_its_verdict_still_gets_the_derived_winner_and_the_alert_based_srm()
    {
        var project = $"old-rows-{Guid.NewGuid():N}"[..20];
        var experiment = await Configuration.CreateAsync(Host, project, "old", [("control", 1), ("treatment", 1)], [Configuration.Purchase]);
        // A row as the service wrote it before migration 0003: metrics only, the new columns null.
        await Host.ExecuteAsync("""
            INSERT INTO analysis.snapshots (experiment_id, snapshot_date, project_id, computed_at, metrics) VALUES (@id, @date, @project, @at, @metrics::jsonb)
            """, ("id", experiment.Id), ("date", new DateOnly(2024, 5, 1)), ("project", project), ("at", DateTimeOffset.Parse("2024-05-01T10:00:00Z")),
            ("metrics", """[{"key":"purchase","comparisons":[{"variant":"treatment","control_mean":0.1,"mean":0.12,"absolute_lift":0.02,"relative_lift":0.2,"p_value":0.001,"significant":true}],"means":{"control":0.1,"treatment":0.12}}]"""));

        var result = await LatestAsync(project);
        Assert.False(result.VerdictStored);
        Assert.Equal("treatment", result.Winner);
        Assert.Equal("", result.Recommendation);
        Assert.Equal("control", result.Control);
        Assert.False(result.HasSrmPValue);
        Assert.Empty(result.Variants);
        Assert.False(result.SrmDetected);
        Assert.Equal(0.001, result.PrimaryPValue, 12);

        // Derived with today's configuration: a decrease now wanted makes the control the winner.
        await Host.ExecuteAsync("UPDATE gateway.experiment_metrics SET direction = 'decrease' WHERE experiment_id = @id", ("id", experiment.Id));
        Assert.Equal("control", (await LatestAsync(project)).Winner);

        // An SRM alert ever raised for the experiment means SRM and no winner for such a row.
        await Host.ExecuteAsync("""
            INSERT INTO analysis.published_events (experiment_id, cause, event_id, published_at) VALUES (@id, @cause, @event, now())
            """, ("id", experiment.Id), ("cause", ScheduledAnalyses.SrmCause), ("event", Guid.NewGuid()));
        result = await LatestAsync(project);
        Assert.True(result.SrmDetected);
        Assert.Equal("", result.Winner);
        Assert.False(result.VerdictStored);
    }

    [Fact]
    public async Task Srm_is_the_snapshots_own_not_whether_an_alert_was_ever_raised()
    {
        var project = $"srm-{Guid.NewGuid():N}"[..20];
        // 1500:1000 configured 1:1, with a true effect: the analysis finds the SRM and names no winner.
        var experiment = await ExperimentAsync(project, "srm", 23, ("control", 1500, 0.08), ("treatment", 1000, 0.25));
        var published = await Host.Schedule.AnalyseAsync(experiment, CancellationToken.None);
        Assert.Contains($"{experiment.Key}:{ScheduledAnalyses.SrmCause}", published);
        var live = await Client.AnalyzeAsync(new AnalyzeRequest { ProjectId = project, ExperimentId = experiment.Id.ToString() }, deadline: Deadline);
        Assert.True(live.Srm.Detected);

        var result = await LatestAsync(project);
        Assert.True(result.VerdictStored);
        Assert.True(result.SrmDetected);
        Assert.Equal(live.Srm.PValue, result.SrmPValue, 12);
        Assert.True(result.SrmPValue < 0.001);
        Assert.Equal("", result.Winner);
        Assert.Contains("Sample ratio mismatch", result.Recommendation);
        Assert.Equal(new long[] { 1500, 1000 }, result.Variants.Select(v => v.Exposures));

        // A newer analysis of the same experiment without an SRM (the alert stays in published_events): not detected,
        // and its winner is the one it named.
        var later = live.Clone();
        var laterAt = live.ComputedAt.ToDateTimeOffset().AddMinutes(1);
        later.ComputedAt = Timestamp.FromDateTimeOffset(laterAt.AddTicks(-(laterAt.Ticks % TimeSpan.TicksPerSecond))); // PostgreSQL keeps microseconds
        later.Srm = new Srm { ChiSquare = 0.4, PValue = 0.52, Detected = false };
        later.Summary = new Summary { Winner = "treatment", Recommendation = "'treatment' beats 'control': roll it out.", Metric = "purchase", Significant = true };
        later.Winner = "treatment";
        later.Recommendation = later.Summary.Recommendation;
        await Host.Services.GetRequiredService<SnapshotStore>().SaveAsync(project, experiment.Id, later, CancellationToken.None);

        result = await LatestAsync(project);
        Assert.Equal(later.ComputedAt, result.ComputedAt);
        Assert.False(result.SrmDetected);
        Assert.Equal(0.52, result.SrmPValue, 12);
        Assert.Equal("treatment", result.Winner);
        Assert.Equal(later.Recommendation, result.Recommendation);

        // And a stored SRM is reported without any alert (another experiment, its snapshot only).
        var quiet = await Configuration.CreateAsync(Host, project, "quiet", [("control", 1), ("treatment", 1)], [Configuration.Purchase]);
        var flagged = live.Clone();
        flagged.ExperimentId = quiet.Id.ToString();
        await Host.Services.GetRequiredService<SnapshotStore>().SaveAsync(project, quiet.Id, flagged, CancellationToken.None);
        var quietResult = Assert.Single((await Client.LatestResultsAsync(new LatestResultsRequest { ProjectId = project, ExperimentIds = { quiet.Id.ToString() } },
            deadline: Deadline)).Results);
        Assert.True(quietResult.SrmDetected);
        Assert.Equal(live.Srm.PValue, quietResult.SrmPValue, 12);
    }

    private async Task<LatestResult> LatestAsync(string project)
        => Assert.Single((await Client.LatestResultsAsync(new LatestResultsRequest { ProjectId = project }, deadline: Deadline)).Results);

    private static List<SnapshotComparison> StoredComparisons(AnalyzeResponse response) => response.Metrics[0].Comparisons
        .Select(c => new SnapshotComparison(c.Variant, c.ControlMean, c.Mean, c.AbsoluteLift, c.RelativeLift, c.HasPValue ? c.PValue : null,
            null, null, null, null, c.Significant))
        .ToList();

    private async Task<ExperimentConfig> ExperimentAsync(string project, string key, int seed, params (string Variant, int Users, double Rate)[] arms)
    {
        var data = SyntheticExperiment.Generate(project, key, seed, arms.Select(a => (a.Variant, a.Users, a.Rate, 20.0)).ToArray());
        await data.WriteAsync(Host.ClickHouse);
        return await Configuration.CreateAsync(Host, project, key, arms.Select(a => (a.Variant, 1.0)).ToList(), [Configuration.Purchase]);
    }

    private sealed class RateComparer : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) < 1e-12;

        public int GetHashCode(double obj) => 0;
    }
}
