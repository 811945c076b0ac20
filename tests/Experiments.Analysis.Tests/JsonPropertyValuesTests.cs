using Experiments.Analysis.Analyses;
using Experiments.Analysis.Tests.Support;
using Experiments.Statistics.Contracts;
using PropertyFilter = Experiments.Postgres.Configuration.PropertyFilter;

namespace Experiments.Analysis.Tests;

/// <summary>
/// User properties sent as JSON numbers, booleans, arrays and null (as the Amplitude SDKs send them) are read as
/// their text for filters and group-by, like string properties; null reads as missing. Groups whose users the
/// filters all exclude are not listed.
/// </summary>
public sealed class JsonPropertyValuesTests : IAsyncLifetime
{
    private readonly AnalysisHost _host = new();

    private static readonly (string User, string Variant, string Properties)[] Users =
    [
        ("j1", "control", """{"age":31,"beta":true,"tags":["a","b"],"plan":"pro"}"""),
        ("j2", "treatment", """{"age":17,"beta":false,"tags":["b"],"plan":"free"}"""),
        ("j3", "treatment", """{"age":45.5,"beta":true,"tags":[],"plan":"pro"}"""),
        ("j4", "control", """{"age":null,"beta":null,"plan":"free"}"""),
    ];

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    private async Task<Experiments.Postgres.Configuration.ExperimentConfig> SeedAsync()
    {
        var time = SyntheticExperiment.Start.AddHours(1);
        await _host.ClickHouse.InsertAsync("exposures",
            ["project_id", "flag_key", "variant", "user_id", "device_id", "time", "insert_id", "user_properties", "platform", "os_name", "received_at"],
            Users, (w, u) =>
            {
                w.WriteString("json"); w.WriteString("json-exp"); w.WriteString(u.Variant); w.WriteString(u.User); w.WriteString("d-" + u.User);
                w.WriteDateTime(time); w.WriteString("x-" + u.User); w.WriteString(u.Properties); w.WriteString("Web"); w.WriteString("Windows"); w.WriteDateTime(time);
            });
        return await Configuration.CreateAsync(_host, "json", "json-exp", [("control", 1), ("treatment", 1)], [Configuration.Purchase]);
    }

    private async Task<long> ExposedAsync(Experiments.Postgres.Configuration.ExperimentConfig experiment, params PropertyFilter[] filters)
    {
        var outcome = await _host.Analysis.RunAsync(experiment, new AnalysisOptions(Test: TestKind.Ttest, Filters: filters), CancellationToken.None);
        return outcome.Response.Variants.Sum(v => v.Exposures);
    }

    [Fact]
    public async Task Numbers_booleans_arrays_and_null_filter_and_group_like_their_text()
    {
        var experiment = await SeedAsync();

        Assert.Equal(2, await ExposedAsync(experiment, new PropertyFilter("age", "greater", ["30"])));          // j1, j3
        Assert.Equal(1, await ExposedAsync(experiment, new PropertyFilter("age", "is", ["(none)"])));          // j4 (null)
        Assert.Equal(2, await ExposedAsync(experiment, new PropertyFilter("beta", "is", ["true"])));           // j1, j3
        Assert.Equal(2, await ExposedAsync(experiment, new PropertyFilter("tags", "is", ["b"])));              // j1, j2

        var grouped = await _host.Analysis.RunAsync(experiment,
            new AnalysisOptions(Test: TestKind.Ttest, GroupBy: "age", Filters: [new PropertyFilter("plan", "is", ["pro"])]), CancellationToken.None);
        Assert.Equal(["31", "45.5"], grouped.Response.Groups.Select(g => g.Value));
        Assert.All(grouped.Response.Groups, g => Assert.Equal(1, g.Exposures));
    }
}
