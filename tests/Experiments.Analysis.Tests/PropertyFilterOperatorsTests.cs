using Experiments.Analysis.Analyses;
using Experiments.Analysis.Grpc;
using Experiments.Analysis.Tests.Support;
using Experiments.Contracts.Analysis.V1;
using Experiments.Postgres.Configuration;
using Experiments.Statistics.Contracts;
using Grpc.Core;
using PropertyFilter = Experiments.Postgres.Configuration.PropertyFilter;

namespace Experiments.Analysis.Tests;

/// <summary>
/// Eight exposed users with known user properties (as the analysis reads them today: the property's string value of
/// the first exposure; arrays are JSON text in a string property).
/// </summary>
public sealed class PropertyFilterFixture : IAsyncLifetime
{
    public static readonly (string User, string Properties)[] Users =
    [
        ("u01", """{"plan":"pro","age":"31","app":"1.2.3","tags":"[\"a\",\"b\"]"}"""),
        ("u02", """{"plan":"Pro Team","age":"17","app":"1.10.0","tags":"[\"b\"]"}"""),
        ("u03", """{"plan":"team","age":"45","app":"1.2.3-beta.1","tags":"[\"a\", \"b\", \"c\"]"}"""),
        ("u04", """{"plan":"free","age":"abc","app":"2.0","tags":"a"}"""),
        ("u05", """{}"""),
        ("u06", """{"plan":"professional","age":"30.5","app":"x","tags":"[]"}"""),
        ("u07", """{"plan":"pro","age":"-2","app":"1.2","tags":"[\"c\"]"}"""),
        ("u08", """{"plan":"[\"team\",\"x\"]"}"""),
    ];

    public static string VariantOf(string user) => int.Parse(user[1..]) % 2 == 0 ? "control" : "treatment";

    public AnalysisHost Host { get; } = new();
    public ExperimentConfig Experiment { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Host.InitializeAsync();
        var time = SyntheticExperiment.Start.AddHours(1);
        await Host.ClickHouse.InsertAsync("exposures",
            ["project_id", "flag_key", "variant", "user_id", "device_id", "time", "insert_id", "user_properties", "platform", "os_name", "received_at"],
            Users, (w, u) =>
            {
                w.WriteString("ops"); w.WriteString("operators"); w.WriteString(VariantOf(u.User)); w.WriteString(u.User); w.WriteString("d-" + u.User);
                w.WriteDateTime(time); w.WriteString("x-" + u.User); w.WriteString(u.Properties);
                w.WriteString("iOS"); w.WriteString("iOS"); w.WriteDateTime(time);
            });
        Experiment = await Configuration.CreateAsync(Host, "ops", "operators", [("control", 1), ("treatment", 1)], [Configuration.Purchase]);
    }

    public Task DisposeAsync() => Host.DisposeAsync();
}

/// <summary>
/// Each property-filter operator (the targeting vocabulary) counts exactly the users it names, per variant, on users
/// whose properties are known; validation names the field for unknown operators, missing values and values of the
/// wrong kind.
/// </summary>
public sealed class PropertyFilterOperatorsTests(PropertyFilterFixture fixture) : IClassFixture<PropertyFilterFixture>
{
    private async Task AssertIncludedAsync(IReadOnlyList<PropertyFilter> filters, string expectedUsers)
    {
        var outcome = await fixture.Host.Analysis.RunAsync(fixture.Experiment, new AnalysisOptions(Test: TestKind.Ttest, Filters: filters), CancellationToken.None);
        var expected = expectedUsers.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        foreach (var variant in new[] { "control", "treatment" })
        {
            var shown = outcome.Response.Variants.SingleOrDefault(v => v.Key == variant)?.Exposures ?? 0;
            Assert.True(expected.Count(u => PropertyFilterFixture.VariantOf(u) == variant) == shown,
                $"{variant}: expected {string.Join(" ", expected.Where(u => PropertyFilterFixture.VariantOf(u) == variant))}, got {shown} exposures");
        }
        Assert.Equal(expected.Length, outcome.Response.Variants.Sum(v => v.Exposures));
    }

    [Theory]
    // is / is not: exact, any of the values; an array value matches when an element does; (none) is the missing property.
    [InlineData("plan", "is", new[] { "pro" }, "u01 u07")]
    [InlineData("plan", "is", new[] { "pro", "team" }, "u01 u03 u07 u08")]
    [InlineData("plan", "is", new[] { "(none)" }, "u05")]
    [InlineData("plan", "is not", new[] { "pro" }, "u02 u03 u04 u05 u06 u08")]
    [InlineData("plan", "is_not", new[] { "pro" }, "u02 u03 u04 u05 u06 u08")]
    [InlineData("plan", "is not", new[] { "pro", "(none)" }, "u02 u03 u04 u06 u08")]
    [InlineData("tags", "is", new[] { "a" }, "u01 u03 u04")]
    // contains ignores case; starts with doesn't.
    [InlineData("plan", "contains", new[] { "PRO" }, "u01 u02 u06 u07")]
    [InlineData("plan", "does not contain", new[] { "pro" }, "u03 u04 u05 u08")]
    [InlineData("plan", "starts with", new[] { "pro" }, "u01 u06 u07")]
    [InlineData("plan", "starts with", new[] { "Pro", "fr" }, "u02 u04")]
    // Numbers: a value that isn't one (abc) or a missing property matches nothing.
    [InlineData("age", "less", new[] { "30" }, "u02 u07")]
    [InlineData("age", "less or equal", new[] { "30.5" }, "u02 u06 u07")]
    [InlineData("age", "greater", new[] { "31" }, "u03")]
    [InlineData("age", "greater or equal", new[] { "31" }, "u01 u03")]
    [InlineData("age", "greater", new[] { "100", "40" }, "u03")]
    // Versions: 1.10.0 > 1.2.3 (numbers, not text), 1.2 = 1.2.0, a prerelease before its release; x compared as text.
    [InlineData("app", "version less", new[] { "1.2.3" }, "u03 u07")]
    [InlineData("app", "version less or equal", new[] { "1.2.3" }, "u01 u03 u07")]
    [InlineData("app", "version greater", new[] { "1.2.3" }, "u02 u04 u06")]
    [InlineData("app", "version greater or equal", new[] { "1.2.3-beta.1" }, "u01 u02 u03 u04 u06")]
    [InlineData("app", "version greater", new[] { "1.2.3-alpha" }, "u01 u02 u03 u04 u06")]
    // Sets: only array values match (the scalar "a" of u04 doesn't); a missing property counts for the negative forms.
    [InlineData("tags", "set contains", new[] { "a" }, "u01 u03")]
    [InlineData("tags", "set contains", new[] { "a", "b" }, "u01 u03")]
    [InlineData("tags", "set contains any", new[] { "a", "c" }, "u01 u03 u07")]
    [InlineData("tags", "set is", new[] { "b", "a" }, "u01")]
    [InlineData("tags", "set is not", new[] { "a", "b" }, "u02 u03 u06 u07")]
    [InlineData("tags", "set does not contain", new[] { "a" }, "u02 u05 u06 u07 u08")]
    [InlineData("tags", "set does not contain any", new[] { "a", "c" }, "u02 u05 u06 u08")]
    [InlineData("tags", "set contains", new[] { "(none)" }, "u05 u08")]
    public Task Each_operator_counts_exactly_the_users_it_names(string property, string op, string[] values, string expectedUsers)
        => AssertIncludedAsync([new PropertyFilter(property, op, values)], expectedUsers);

    [Fact]
    public Task Filters_combine_with_and()
        => AssertIncludedAsync([new PropertyFilter("plan", "contains", ["pro"]), new PropertyFilter("age", "less", ["30"])], "u02 u07");

    [Fact]
    public Task Values_are_literals_not_sql()
        => AssertIncludedAsync([new PropertyFilter("plan", "contains", ["') OR 1 OR ('"]), new PropertyFilter("pl'an", "is not", ["x"])], "");

    [Fact]
    public void The_vocabulary_is_the_targeting_one_without_the_regex_operators()
    {
        Assert.Equal(TargetingOperators.All.Where(o => !o.StartsWith("regex", StringComparison.Ordinal)).Order(), PropertyFilter.Operators.Order());
    }

    [Theory]
    [InlineData("like", new[] { "x" }, "filters[0].operator")]
    [InlineData("regex match", new[] { "x" }, "filters[0].operator")]
    [InlineData("contains", new string[0], "filters[0].values")]
    [InlineData("starts with", new[] { "" }, "filters[0].values")]
    [InlineData("less", new[] { "ten" }, "filters[0].values")]
    [InlineData("greater or equal", new[] { "1", "1,5" }, "filters[0].values")]
    [InlineData("version less", new[] { "1" }, "filters[0].values")]
    [InlineData("version greater", new[] { "v1.2.3" }, "filters[0].values")]
    public void Bad_filters_are_invalid_arguments_naming_the_field(string op, string[] values, string field)
    {
        var request = new AnalyzeRequest { ProjectId = "ops", ExperimentId = Guid.NewGuid().ToString() };
        request.Filters.Add(new Contracts.Analysis.V1.PropertyFilter { Property = "plan", Operator = op, Values = { values } });
        var error = Assert.Throws<RpcException>(() => AnalysisGrpcService.ToOptions(request));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith(field, error.Status.Detail);
    }
}
