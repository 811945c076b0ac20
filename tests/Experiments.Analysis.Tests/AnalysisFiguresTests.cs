using System.Globalization;
using Experiments.Analysis.Analyses;
using Experiments.Analysis.Grpc;
using Experiments.Analysis.Queries;
using Experiments.Analysis.Tests.Support;
using Experiments.Contracts.Analysis.V1;
using Experiments.Postgres.Configuration;
using Experiments.Statistics;
using Experiments.Statistics.Contracts;
using Grpc.Core;
using PropertyFilter = Experiments.Postgres.Configuration.PropertyFilter;

namespace Experiments.Analysis.Tests;

public sealed class AnalysisFixture : IAsyncLifetime
{
    public static readonly (string Key, double Weight)[] Variants = [("control", 1), ("treatment", 1)];
    public static readonly MetricDefinition[] Metrics =
        [Configuration.Purchase, Configuration.Revenue, Configuration.PageViews, Configuration.AverageOrder, Configuration.Purchase24h];

    public AnalysisHost Host { get; } = new();
    public SyntheticExperiment Data { get; private set; } = null!;
    public ExperimentConfig Experiment { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Host.InitializeAsync();
        Data = SyntheticExperiment.Generate("shop", "checkout", 7, ("control", 2000, 0.10, 20), ("treatment", 2000, 0.14, 25));
        await Data.WriteAsync(Host.ClickHouse);
        Experiment = await Configuration.CreateAsync(Host, "shop", "checkout", Variants, Metrics);
        Experiment = await Configuration.AddTestersAsync(Host, Experiment, Data.Testers);
        await Host.ExecuteAsync("""
            INSERT INTO gateway.analysis_segments (id, project_id, key, name, filters)
            VALUES (@id, 'shop', 'europe', 'Europe', '[{"property": "country", "operator": "is", "values": ["DE", "FR"]}]')
            """, ("id", Guid.NewGuid()));
    }

    public Task DisposeAsync() => Host.DisposeAsync();
}

/// <summary>
/// The analysis against synthetic data with known effects: every figure equals the statistics library's result on
/// sufficient statistics computed directly from the synthetic users; filters change counts exactly as expected.
/// </summary>
public sealed class AnalysisFiguresTests(AnalysisFixture fixture) : IClassFixture<AnalysisFixture>
{
    private const double Tolerance = 1e-9;

    private Task<AnalysisOutcome> AnalyzeAsync(AnalysisOptions options)
        => fixture.Host.Analysis.RunAsync(fixture.Experiment, options, CancellationToken.None);

    private static void AssertClose(double expected, double actual)
        => Assert.True(Math.Abs(expected - actual) <= Tolerance * Math.Max(1, Math.Abs(expected)), $"expected {expected}, got {actual}");

    private static void AssertMatches(AnalysisResult expected, MetricResult actual)
    {
        foreach (var e in expected.Comparisons)
        {
            var a = actual.Comparisons.Single(c => c.Variant == e.Variant);
            AssertClose(e.ControlMean!.Value, a.ControlMean);
            AssertClose(e.Mean!.Value, a.Mean);
            AssertClose(e.AbsoluteLift!.Value, a.AbsoluteLift);
            AssertClose(e.RelativeLift!.Value, a.RelativeLift);
            Assert.Equal(e.PValue is null, !a.HasPValue);
            if (e.PValue is { } p)
            {
                AssertClose(p, a.PValue);
                AssertClose(e.CiAbsolute!.Value.Lower!.Value, a.CiAbsolute.Lower);
                AssertClose(e.CiAbsolute!.Value.Upper!.Value, a.CiAbsolute.Upper);
                AssertClose(e.CiRelative!.Value.Lower!.Value, a.CiRelative.Lower);
            }
            Assert.Equal(e.Significant, a.Significant);
            if (e.MsprtLogLr is { } lr)
            {
                AssertClose(lr, a.MsprtLogLr);
            }
            if (e.CupedTheta is { } theta)
            {
                AssertClose(theta, a.CupedTheta);
            }
        }
        foreach (var v in expected.Variants)
        {
            var a = actual.Variants.Single(x => x.Key == v.Key);
            Assert.Equal(v.Users, a.Users);
            AssertClose(v.Mean ?? 0, a.Mean);
        }
    }

    [Theory]
    [InlineData(TestKind.Ttest)]
    [InlineData(TestKind.Sequential)]
    public async Task Every_metric_matches_the_statistics_library_on_the_synthetic_users(TestKind test)
    {
        var outcome = await AnalyzeAsync(new AnalysisOptions(Test: test));

        // Primary first, then secondary, then guardrail metrics, each in the order they were added.
        Assert.Equal(AnalysisFixture.Metrics.OrderBy(m => MetricRoles.All.ToList().IndexOf(m.Role)).Select(m => m.Key), outcome.Response.Metrics.Select(m => m.Key));
        foreach (var metric in AnalysisFixture.Metrics)
        {
            var expected = ExperimentAnalyzer.Analyze(fixture.Data.Expected(metric, AnalysisFixture.Variants, _ => true, test, "control"));
            AssertMatches(expected, outcome.Response.Metrics.Single(m => m.Key == metric.Key));
        }

        // The seed fields: the primary metric's exposures, conversions and rate per variant.
        foreach (var variant in outcome.Response.Variants)
        {
            var users = fixture.Data.Users.Where(u => u.Variant == variant.Key).ToList();
            Assert.Equal(users.Count, variant.Exposures);
            Assert.Equal(users.Count(u => SyntheticExperiment.Value(u, Configuration.Purchase, SyntheticExperiment.End) == 1), variant.Conversions);
            AssertClose((double)variant.Conversions / variant.Exposures, variant.Rate);
        }
        // The true effect (10% vs 14%) is found, and the treatment wins.
        Assert.True(outcome.Response.Comparisons.Single().Significant);
        Assert.Equal("treatment", outcome.Response.Winner);
        Assert.Contains(Badges.Significant, outcome.Response.Summary.Badges);
        Assert.Contains(Badges.AboveControl, outcome.Response.Summary.Badges);
        Assert.Contains("roll it out", outcome.Response.Recommendation);
    }

    [Fact]
    public async Task Cuped_uses_the_pre_exposure_window_as_the_library_defines_it()
    {
        var outcome = await AnalyzeAsync(new AnalysisOptions(Test: TestKind.Ttest, Cuped: true, CupedWindowDays: 7));
        Assert.True(outcome.Response.Cuped);
        foreach (var metric in AnalysisFixture.Metrics)
        {
            var expected = ExperimentAnalyzer.Analyze(fixture.Data.Expected(metric, AnalysisFixture.Variants, _ => true, TestKind.Ttest, "control", TimeSpan.FromDays(7)));
            Assert.NotNull(expected.Comparisons[0].CupedTheta);
            AssertMatches(expected, outcome.Response.Metrics.Single(m => m.Key == metric.Key));
        }
    }

    public static TheoryData<string> BuiltInSegments => new(Segments.BuiltIn);

    [Theory]
    [MemberData(nameof(BuiltInSegments))]
    public async Task Segments_count_exactly_the_users_they_name(string segment)
    {
        Func<SyntheticUser, bool> include = segment switch
        {
            Segments.AllExposed => _ => true,
            Segments.Testers => u => u.Tester,
            Segments.ExcludeTesters => u => !u.Tester,
            Segments.ExcludeVariantJumpers => u => !u.Jumper,
            Segments.ExcludeTestersAndVariantJumpers => u => !u.Tester && !u.Jumper,
            Segments.NewUsers => u => u.Events.All(e => e.Time >= SyntheticExperiment.Start),
            Segments.MobileWeb => u => u.Platform == "Web" && u.Os == "iOS",
            Segments.DesktopWeb => u => u.Platform == "Web" && u.Os != "iOS",
            _ => throw new ArgumentOutOfRangeException(nameof(segment)),
        };
        var outcome = await AnalyzeAsync(new AnalysisOptions(Test: TestKind.Ttest, Segment: segment));

        foreach (var variant in outcome.Response.Variants)
        {
            Assert.Equal(fixture.Data.Users.Count(u => u.Variant == variant.Key && include(u)), variant.Exposures);
        }
        var expected = ExperimentAnalyzer.Analyze(fixture.Data.Expected(Configuration.Revenue, AnalysisFixture.Variants, include, TestKind.Ttest, "control"));
        AssertMatches(expected, outcome.Response.Metrics.Single(m => m.Key == Configuration.Revenue.Key));
        Assert.Equal(segment, outcome.Response.Filters.Segment);
    }

    [Fact]
    public async Task Property_filters_saved_segments_and_group_by_split_users_exactly()
    {
        var germany = await AnalyzeAsync(new AnalysisOptions(Test: TestKind.Ttest, Filters: [new PropertyFilter("country", TargetingOperators.Is, ["DE"])]));
        var notGermany = await AnalyzeAsync(new AnalysisOptions(Test: TestKind.Ttest, Filters: [new PropertyFilter("country", TargetingOperators.IsNot, ["DE"])]));
        var europe = await AnalyzeAsync(new AnalysisOptions(Test: TestKind.Ttest, Segment: "europe"));
        var grouped = await AnalyzeAsync(new AnalysisOptions(Test: TestKind.Ttest, GroupBy: "country"));

        foreach (var (key, _) in AnalysisFixture.Variants)
        {
            Assert.Equal(fixture.Data.Users.Count(u => u.Variant == key && u.Country == "DE"), germany.Response.Variants.Single(v => v.Key == key).Exposures);
            Assert.Equal(fixture.Data.Users.Count(u => u.Variant == key && u.Country != "DE"), notGermany.Response.Variants.Single(v => v.Key == key).Exposures);
            Assert.Equal(fixture.Data.Users.Count(u => u.Variant == key && u.Country is "DE" or "FR"), europe.Response.Variants.Single(v => v.Key == key).Exposures);
        }

        Assert.Equal(["DE", "FR", "US"], grouped.Response.Groups.Select(g => g.Value));
        foreach (var group in grouped.Response.Groups)
        {
            Assert.Equal(fixture.Data.Users.Count(u => u.Country == group.Value), group.Exposures);
            foreach (var metric in AnalysisFixture.Metrics)
            {
                var expected = ExperimentAnalyzer.Analyze(fixture.Data.Expected(metric, AnalysisFixture.Variants, u => u.Country == group.Value, TestKind.Ttest, "control"));
                AssertMatches(expected, group.Metrics.Single(m => m.Key == metric.Key));
            }
        }
        // Overall figures stay those of every user.
        Assert.Equal(fixture.Data.Users.Count, grouped.Response.Variants.Sum(v => v.Exposures));
    }

    [Fact]
    public async Task A_date_range_counts_only_users_first_exposed_inside_it_and_events_until_its_end()
    {
        var from = SyntheticExperiment.Start.AddDays(2);
        var to = SyntheticExperiment.Start.AddDays(6);
        var outcome = await AnalyzeAsync(new AnalysisOptions(Test: TestKind.Ttest, From: from, To: to));

        // Users count when their first exposure falls inside the range (later exposures of earlier users don't bring them in).
        bool Inside(SyntheticUser u) => u.FirstExposure >= from && u.FirstExposure <= to;
        foreach (var variant in outcome.Response.Variants)
        {
            Assert.Equal(fixture.Data.Users.Count(u => u.Variant == variant.Key && Inside(u)), variant.Exposures);
        }
        var expected = ExperimentAnalyzer.Analyze(fixture.Data.Expected(Configuration.PageViews, AnalysisFixture.Variants, Inside, TestKind.Ttest, "control", to: to));
        AssertMatches(expected, outcome.Response.Metrics.Single(m => m.Key == Configuration.PageViews.Key));
    }

    [Fact]
    public async Task Data_quality_and_diagnostics_count_jumpers_anonymous_users_and_missing_assignments_and_assignments_per_day()
    {
        var outcome = await AnalyzeAsync(new AnalysisOptions());
        var users = fixture.Data.Users;
        var quality = outcome.Response.DataQuality;

        Assert.Equal(users.Count, quality.ExposedUsers);
        Assert.Equal(users.Count(u => u.Jumper), quality.VariantJumpers);
        Assert.Equal(users.Count(u => u.UserId.Length == 0), quality.AnonymousExposures);
        Assert.Equal(users.Count(u => !u.Assigned), quality.ExposuresWithoutAssignment);
        Assert.False(quality.Srm.Detected);
        Assert.Contains(quality.Checks, c => c.Name == "variant_jumpers" && !c.Passed);
        Assert.Contains(quality.Checks, c => c.Name == "srm" && c.Passed);

        var diagnostics = outcome.Response.Diagnostics;
        // Assigned users count by the day of their assignment, whether or not they were exposed.
        Assert.NotEmpty(fixture.Data.AssignedOnly);
        foreach (var conversion in diagnostics.AssignmentToExposure)
        {
            Assert.Equal(fixture.Data.Assignments.Count(a => a.Variant == conversion.Variant), conversion.Assigned);
            Assert.Equal(users.Count(u => u.Variant == conversion.Variant), conversion.Exposed);
        }
        foreach (var series in diagnostics.AssignmentsDaily)
        {
            var expected = fixture.Data.Assignments.Where(a => a.Variant == series.Variant).GroupBy(a => a.Time.Date).OrderBy(g => g.Key)
                .Select(g => (g.Key.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), (double)g.Count())).ToList();
            Assert.Equal(expected, series.Points.Select(p => (p.Date, p.Value)).ToList());
        }
        foreach (var series in outcome.Response.Charts.ExposuresCumulative)
        {
            Assert.Equal(users.Count(u => u.Variant == series.Variant), series.Points[^1].Value);
            Assert.Equal(users.Where(u => u.Variant == series.Variant).Select(u => u.FirstExposure.Date).Distinct().Count(), series.Points.Count);
        }
        foreach (var series in outcome.Response.Charts.EventTotals)
        {
            var expected = users.Where(u => u.Variant == series.Variant)
                .Sum(u => u.Events.Count(e => e.Type == "purchase" && e.Time >= u.FirstExposure && e.Time <= SyntheticExperiment.End));
            Assert.Equal(expected, series.Points.Sum(p => p.Value));
        }
        Assert.Equal(2, outcome.Response.Charts.ConfidenceIntervals.Count(c => c.Metric == "purchase"));
        Assert.Single(outcome.Response.Charts.PValueOverTime);
    }

    [Fact]
    public async Task Goals_give_amplitudes_badges()
    {
        var outcome = await AnalyzeAsync(new AnalysisOptions(Test: TestKind.Ttest));
        var comparison = outcome.Response.Metrics[0].Comparisons.Single();
        var expectedGoalBadge = comparison.CiRelative.Lower > 0.1 ? Badges.AboveGoal : comparison.CiRelative.Upper < 0.1 ? Badges.BelowGoal : Badges.Inconclusive;
        Assert.Equal([Badges.Significant, Badges.AboveControl, expectedGoalBadge], comparison.Badges);
        Assert.Equal([Badges.NotSignificant], outcome.Response.Metrics.Single(m => m.Key == "page_views").Comparisons.Single().Badges);
    }

    [Fact]
    public async Task Unknown_segments_and_controls_are_refused_by_name()
    {
        var segment = await Assert.ThrowsAsync<AnalysisNotPossibleException>(() => AnalyzeAsync(new AnalysisOptions(Segment: "nope")));
        Assert.StartsWith("segment:", segment.Message);
        var control = await Assert.ThrowsAsync<AnalysisNotPossibleException>(() => AnalyzeAsync(new AnalysisOptions(Control: "nope")));
        Assert.StartsWith("control:", control.Message);
    }

    [Theory]
    [InlineData("confidence_level")]
    [InlineData("test")]
    [InlineData("correction")]
    [InlineData("cuped_window_days")]
    [InlineData("filters[0].operator")]
    [InlineData("filters[0].values")]
    [InlineData("to")]
    public void Bad_requests_are_invalid_arguments_naming_the_field(string field)
    {
        var request = new AnalyzeRequest { ProjectId = "shop", ExperimentId = Guid.NewGuid().ToString() };
        switch (field)
        {
            case "confidence_level": request.ConfidenceLevel = 1.5; break;
            case "test": request.Test = "bayes"; break;
            case "correction": request.Correction = "sidak"; break;
            case "cuped_window_days": request.CupedWindowDays = 1000; break;
            case "filters[0].operator": request.Filters.Add(new Contracts.Analysis.V1.PropertyFilter { Property = "country", Operator = "like", Values = { "x" } }); break;
            case "filters[0].values": request.Filters.Add(new Contracts.Analysis.V1.PropertyFilter { Property = "country", Operator = "is" }); break;
            case "to":
                request.From = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(SyntheticExperiment.End);
                request.To = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(SyntheticExperiment.Start);
                break;
        }
        var error = Assert.Throws<RpcException>(() => AnalysisGrpcService.ToOptions(request));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith(field, error.Status.Detail);
    }
}
