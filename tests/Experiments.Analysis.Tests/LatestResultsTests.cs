using Experiments.Analysis.Analyses;
using Experiments.Analysis.Grpc;
using Experiments.Analysis.Snapshots;
using Experiments.Analysis.Tests.Support;
using Experiments.ClickHouse;
using Experiments.Contracts.Analysis.V1;
using Experiments.Contracts.Grpc;
using Experiments.Postgres.Configuration;
using Experiments.TestInfrastructure.Networking;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Experiments.Analysis.Tests;

/// <summary>
/// The analysis service in-process (<see cref="AnalysisHost"/>) and its gRPC endpoint on a free HTTP/2 port, serving
/// <see cref="AnalysisGrpcService"/> over the host's services, as Program.cs maps it.
/// </summary>
public sealed class LatestResultsHost : IAsyncLifetime
{
    private WebApplication? _grpc;

    public AnalysisHost Host { get; } = new();

    public AnalysisService.AnalysisServiceClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Host.InitializeAsync();
        var port = FreePort.Next();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Http:Url"] = $"http://127.0.0.1:{FreePort.Next()}",
            ["Kestrel:Endpoints:Grpc:Url"] = $"http://127.0.0.1:{port}",
            ["Kestrel:Endpoints:Grpc:Protocols"] = "Http2",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(Host.Services.GetRequiredService<ExperimentConfigReader>());
        builder.Services.AddSingleton(Host.Services.GetRequiredService<ExperimentAnalysis>());
        builder.Services.AddSingleton(Host.Services.GetRequiredService<LatestResults>());
        builder.Services.AddGrpc();
        _grpc = builder.Build();
        _grpc.MapGrpcService<AnalysisGrpcService>();
        await _grpc.StartAsync();
        Client = new AnalysisService.AnalysisServiceClient(GrpcHttpChannel.ForAddress($"http://127.0.0.1:{port}"));
    }

    public async Task DisposeAsync()
    {
        if (_grpc is not null)
        {
            await _grpc.StopAsync();
            await _grpc.DisposeAsync();
        }
        await Host.DisposeAsync();
    }
}

/// <summary>
/// AnalysisService.LatestResults over gRPC: each experiment's newest stored snapshot of its project only, the winner as
/// the live analysis names it (treatment, control, none under SRM), nothing for an experiment never analysed, read
/// from PostgreSQL alone (it still answers once the ClickHouse database is gone), and bad input named.
/// </summary>
public sealed class LatestResultsTests(LatestResultsHost fixture) : IClassFixture<LatestResultsHost>
{
    private AnalysisHost Host => fixture.Host;

    private AnalysisService.AnalysisServiceClient Client => fixture.Client;

    private static DateTime Deadline => DateTime.UtcNow.AddSeconds(30);

    [Fact]
    public async Task Latest_results_are_the_stored_snapshots_of_the_project_with_the_live_analysis_winner()
    {
        var started = DateTimeOffset.UtcNow;
        var project = $"latest-{Guid.NewGuid():N}"[..20];
        var other = $"other-{Guid.NewGuid():N}"[..20];
        // A treatment that wins, a control that wins, an SRM (1500:1000 configured 1:1) with a true effect, and one never analysed.
        var treatmentWins = await ExperimentAsync(project, "treatment-wins", 11, ("control", 1000, 0.08), ("treatment", 1000, 0.25));
        var controlWins = await ExperimentAsync(project, "control-wins", 12, ("control", 1000, 0.25), ("treatment", 1000, 0.08));
        var srm = await ExperimentAsync(project, "srm", 13, ("control", 1500, 0.08), ("treatment", 1000, 0.25));
        var elsewhere = await ExperimentAsync(other, "treatment-wins", 14, ("control", 1000, 0.08), ("treatment", 1000, 0.25));

        var before = await Client.LatestResultsAsync(new LatestResultsRequest { ProjectId = project }, deadline: Deadline);
        Assert.Empty(before.Results);

        foreach (var experiment in new[] { treatmentWins, controlWins, srm, elsewhere })
        {
            await Host.Schedule.AnalyseAsync(experiment, CancellationToken.None);
        }
        var neverAnalysed = await Configuration.CreateAsync(Host, project, "never", [("control", 1), ("treatment", 1)], [Configuration.Purchase]);

        // The winners the full (ClickHouse) analysis names, for comparison.
        var live = new Dictionary<Guid, AnalyzeResponse>();
        foreach (var experiment in new[] { treatmentWins, controlWins, srm })
        {
            live[experiment.Id] = await Client.AnalyzeAsync(new AnalyzeRequest { ProjectId = project, ExperimentId = experiment.Id.ToString() }, deadline: Deadline);
        }
        Assert.Equal("treatment", live[treatmentWins.Id].Winner);
        Assert.Equal("control", live[controlWins.Id].Winner);
        Assert.Equal("", live[srm.Id].Winner);

        // From here on, PostgreSQL alone: the ClickHouse database is dropped.
        await Host.ClickHouse.WithDatabase("default").ExecuteAsync(ClickHouseSql.Format($"DROP DATABASE IF EXISTS {ClickHouseSql.Identifier(Host.ClickHouseDatabase)}"));

        var results = (await Client.LatestResultsAsync(new LatestResultsRequest { ProjectId = project }, deadline: Deadline)).Results.ToDictionary(r => Guid.Parse(r.ExperimentId));
        Assert.Equal(new[] { treatmentWins.Id, controlWins.Id, srm.Id }.Order(), results.Keys.Order());
        Assert.DoesNotContain(neverAnalysed.Id, results.Keys);
        Assert.DoesNotContain(elsewhere.Id, results.Keys);
        foreach (var (id, response) in live)
        {
            var result = results[id];
            Assert.Equal(response.Winner, result.Winner);
            Assert.Equal("purchase", result.PrimaryMetric);
            Assert.InRange(result.ComputedAt.ToDateTimeOffset(), started, response.ComputedAt.ToDateTimeOffset());
            var treatment = Assert.Single(result.Comparisons);
            var liveTreatment = response.Metrics[0].Comparisons.Single();
            Assert.Equal(liveTreatment.Variant, treatment.Variant);
            Assert.Equal(liveTreatment.PValue, treatment.PValue, 9);
            Assert.Equal(liveTreatment.Significant, treatment.Significant);
            Assert.Equal(liveTreatment.RelativeLift, treatment.RelativeLift, 9);
            Assert.Equal(liveTreatment.PValue, result.PrimaryPValue, 9);
            Assert.True(result.Significant);
        }
        Assert.True(results[srm.Id].SrmDetected);
        Assert.False(results[treatmentWins.Id].SrmDetected);
        Assert.Equal(DateTime.UtcNow.ToString("yyyy-MM-dd"), results[treatmentWins.Id].SnapshotDate);

        // Only the experiments asked for; another project's id (or an unknown one) gives nothing.
        var asked = await Client.LatestResultsAsync(new LatestResultsRequest
        {
            ProjectId = project,
            ExperimentIds = { controlWins.Id.ToString(), elsewhere.Id.ToString(), Guid.NewGuid().ToString() },
        }, deadline: Deadline);
        Assert.Equal(controlWins.Id.ToString(), Assert.Single(asked.Results).ExperimentId);

        var theOther = await Client.LatestResultsAsync(new LatestResultsRequest { ProjectId = other }, deadline: Deadline);
        var single = Assert.Single(theOther.Results);
        Assert.Equal(elsewhere.Id.ToString(), single.ExperimentId);
        Assert.Equal("treatment", single.Winner);
    }

    [Fact]
    public async Task The_newest_snapshot_wins_and_bad_input_is_named()
    {
        var project = $"newest-{Guid.NewGuid():N}"[..20];
        var experiment = await Configuration.CreateAsync(Host, project, "exp", [("control", 1), ("treatment", 1)], [Configuration.Purchase]);
        await SnapshotAsync(project, experiment.Id, new DateOnly(2024, 3, 1), DateTimeOffset.Parse("2024-03-01T10:00:00Z"), pValue: 0.001, significant: true, lift: 0.05);
        await SnapshotAsync(project, experiment.Id, new DateOnly(2024, 3, 2), DateTimeOffset.Parse("2024-03-02T10:00:00Z"), pValue: 0.4, significant: false, lift: 0.01);

        var result = Assert.Single((await Client.LatestResultsAsync(new LatestResultsRequest { ProjectId = project }, deadline: Deadline)).Results);
        Assert.Equal("2024-03-02", result.SnapshotDate);
        Assert.Equal(DateTimeOffset.Parse("2024-03-02T10:00:00Z"), result.ComputedAt.ToDateTimeOffset());
        Assert.Equal("", result.Winner);
        Assert.False(result.Significant);
        Assert.Equal(0.4, result.PrimaryPValue, 12);

        // A newer analysis stored under an older date (a stopped experiment's final analysis is dated its stop day) is the latest.
        await SnapshotAsync(project, experiment.Id, new DateOnly(2024, 3, 1), DateTimeOffset.Parse("2024-03-03T09:00:00Z"), pValue: 0.001, significant: true, lift: 0.05);
        result = Assert.Single((await Client.LatestResultsAsync(new LatestResultsRequest { ProjectId = project }, deadline: Deadline)).Results);
        Assert.Equal("2024-03-01", result.SnapshotDate);
        Assert.Equal("treatment", result.Winner);

        var missing = await Assert.ThrowsAsync<RpcException>(() => Client.LatestResultsAsync(new LatestResultsRequest(), deadline: Deadline).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, missing.StatusCode);
        Assert.Contains("project_id", missing.Status.Detail);
        var bad = await Assert.ThrowsAsync<RpcException>(() => Client.LatestResultsAsync(
            new LatestResultsRequest { ProjectId = project, ExperimentIds = { experiment.Id.ToString(), "nope" } }, deadline: Deadline).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Contains("experiment_ids[1]", bad.Status.Detail);
    }

    [Theory]
    [InlineData("increase", 0.02, true, false, "treatment")]
    [InlineData("increase", -0.02, true, false, "control")]
    [InlineData("decrease", -0.02, true, false, "treatment")]
    [InlineData("increase", 0.02, false, false, null)]
    [InlineData("increase", 0.02, true, true, null)]
    public void The_winner_follows_the_summary_rule(string direction, double lift, bool significant, bool srm, string? winner)
    {
        var comparison = new SnapshotComparison("treatment", 0.1, 0.1 + lift, lift, lift / 0.1, significant ? 0.001 : 0.5, null, null, null, null, significant);
        Assert.Equal(winner, LatestResults.Winner([comparison], direction, "control", srm));
    }

    [Fact]
    public void A_comparison_held_back_by_the_data_quality_gate_means_no_winner()
    {
        var significant = new SnapshotComparison("b", 0.1, 0.2, 0.1, 1, 0.001, null, null, null, null, true);
        var gated = new SnapshotComparison("c", 0.1, 0.2, 0.1, 1, null, null, null, null, null, false);
        Assert.Null(LatestResults.Winner([significant, gated], "increase", "a", srmDetected: false));
    }

    private async Task<ExperimentConfig> ExperimentAsync(string project, string key, int seed, params (string Variant, int Users, double Rate)[] arms)
    {
        var data = SyntheticExperiment.Generate(project, key, seed, arms.Select(a => (a.Variant, a.Users, a.Rate, 20.0)).ToArray());
        await data.WriteAsync(Host.ClickHouse);
        return await Configuration.CreateAsync(Host, project, key, arms.Select(a => (a.Variant, 1.0)).ToList(), [Configuration.Purchase]);
    }

    private Task SnapshotAsync(string project, Guid experimentId, DateOnly date, DateTimeOffset computedAt, double pValue, bool significant, double lift)
    {
        var metrics = System.Text.Json.JsonSerializer.Serialize(new[]
        {
            new
            {
                key = "purchase",
                comparisons = new[] { new { variant = "treatment", control_mean = 0.1, mean = 0.1 + lift, absolute_lift = lift, relative_lift = lift / 0.1, p_value = pValue, significant } },
                means = new Dictionary<string, double> { ["control"] = 0.1, ["treatment"] = 0.1 + lift },
            },
        });
        return Host.ExecuteAsync("""
            INSERT INTO analysis.snapshots (experiment_id, snapshot_date, project_id, computed_at, metrics) VALUES (@id, @date, @project, @at, @metrics::jsonb)
            ON CONFLICT (experiment_id, snapshot_date) DO UPDATE SET computed_at = excluded.computed_at, metrics = excluded.metrics
            """, ("id", experimentId), ("date", date), ("project", project), ("at", computedAt), ("metrics", metrics));
    }
}
