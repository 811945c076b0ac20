using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Experiments.ClickHouse;
using Experiments.Contracts.Assignment.V1;
using Experiments.Contracts.Grpc;
using Experiments.Statistics;
using Experiments.Statistics.Contracts;
using Experiments.TestInfrastructure.Http;
using Xunit.Abstractions;

namespace Experiments.EndToEnd.Tests;

/// <summary>
/// Issue 6's "Done when", end to end on the launched platform: an experiment configured through the gateway (three
/// variants, three metrics, testers, CUPED), known synthetic traffic sent to ingest exactly as SDKs send it (both
/// endpoints, batches resent), assignments made by the assignment service, and every analysis figure (counts exact,
/// p-values, lifts and intervals to 1e-9 relative) checked against the statistics library run on sufficient statistics
/// computed in the test from the generated users; segments, a property filter and a group-by change the counts exactly
/// as expected, and the SRM hidden in Germany shows there.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class AnalysisFiguresEndToEndTests(LaunchedPlatform platform, ITestOutputHelper output)
{
    private const int Seed = 20260601;
    private const int UserCount = 3000;
    private const int CupedWindowDays = 7;
    private static readonly TrafficMetric Purchase = new("purchase", "unique_conversions", "purchase", null);
    private static readonly TrafficMetric Revenue = new("revenue", "property_sum", "purchase", "revenue");
    private static readonly TrafficMetric PageViews = new("page_views", "event_totals", "page_view", null);
    private static readonly TrafficMetric[] Metrics = [Purchase, Revenue, PageViews];

    [Fact]
    public async Task Figures_from_ingested_sdk_traffic_match_the_statistics_computed_directly()
    {
        using var admin = platform.AdminClient();
        using var ingest = platform.SdkClient(platform.Ingest);
        using var assignment = platform.SdkClient(platform.Assignment);

        // 1. The experiment, through the admin API: variants, metrics, CUPED settings, testers, launch.
        var created = await admin.PostAsJsonAsync("/v1/admin/experiments", new
        {
            name = "Analysis Figures End To End",
            hypothesis = "The treatment converts and earns more",
            project_id = LaunchedPlatform.ProjectId,
        }).ExpectAsync(HttpStatusCode.Created);
        var id = (string)created["id"]!;
        var flag = (string)created["key"]!;
        foreach (var variant in AnalysisTraffic.Variants)
        {
            await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/variants", new { name = variant, traffic_weight = 1 }).ExpectAsync(HttpStatusCode.Created);
        }
        await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/metrics", new
        {
            key = "purchase", name = "Purchase", role = "primary", kind = "unique_conversions", event_type = "purchase", goal = 0.1,
        }).ExpectAsync(HttpStatusCode.Created);
        await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/metrics", new
        {
            key = "revenue", name = "Revenue", role = "secondary", kind = "property_sum", event_type = "purchase", property = "revenue",
        }).ExpectAsync(HttpStatusCode.Created);
        await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/metrics", new
        {
            key = "page_views", name = "Page views", role = "guardrail", kind = "event_totals", event_type = "page_view",
        }).ExpectAsync(HttpStatusCode.Created);
        var settings = await admin.PutAsJsonAsync($"/v1/admin/experiments/{id}/settings", new { cuped = true, cuped_window_days = CupedWindowDays })
            .ExpectAsync(HttpStatusCode.OK);
        Assert.True((bool)settings["cuped"]!);

        var traffic = AnalysisTraffic.Generate(flag, Seed, UserCount, DateTime.UtcNow);
        var testers = traffic.Users.Where(u => u.Tester).ToList();
        Assert.NotEmpty(testers);
        await admin.PutAsJsonAsync($"/v1/admin/experiments/{id}/testers", new
        {
            testers = new[] { new { variant = "treatment", user_ids = testers.Select(t => t.UserId).ToArray() } },
        }).ExpectAsync(HttpStatusCode.OK);
        await admin.PostAsync($"/v1/admin/experiments/{id}/launch", null).ExpectAsync(HttpStatusCode.OK);

        // 2. Assignment: the evaluated users get their variant from the assignment service (gRPC batches), which
        // records the assignments; testers get their pinned variant.
        var probe = traffic.Users.First(u => u.Evaluated);
        await Eventually.TrueAsync(async () =>
        {
            var answer = await assignment.PostAsJsonAsync("/v1/evaluate", new { user_id = probe.UserId, flag_keys = new[] { flag } }).ExpectAsync(HttpStatusCode.OK);
            return answer["variants"]?[flag]?["key"] is not null;
        }, "assignment serves the launched experiment");
        using (var channel = GrpcHttpChannel.ForAddress(platform.AssignmentGrpc))
        {
            var grpc = new AssignmentService.AssignmentServiceClient(channel);
            foreach (var batch in traffic.Users.Where(u => u.Evaluated).Chunk(1000))
            {
                var answer = await grpc.EvaluateBatchAsync(new EvaluateBatchRequest
                {
                    ProjectId = LaunchedPlatform.ProjectId,
                    Users = { batch.Select(u => new User { UserId = u.UserId, DeviceId = u.DeviceId }) },
                    FlagKeys = { flag },
                }, deadline: DateTime.UtcNow.AddSeconds(30));
                for (var i = 0; i < batch.Length; i++)
                {
                    batch[i].Variant = answer.Results[i].Variants.Single().Key;
                }
            }
        }
        Assert.All(testers, t => Assert.Equal("treatment", t.Variant));
        traffic.Complete();

        // 3. Ingest, as SDKs send it: alternate batches to /v1/events and Amplitude's /2/httpapi, every fourth batch sent twice.
        var events = traffic.SdkEvents();
        var batches = events.Chunk(1000).ToList();
        for (var b = 0; b < batches.Count; b++)
        {
            await PostAsync(ingest, b, batches[b]);
        }
        for (var b = 0; b < batches.Count; b += 4)
        {
            await PostAsync(ingest, b, batches[b]);
        }
        var exposed = traffic.Exposed.ToList();
        output.WriteLine($"{traffic.Users.Count} users, {exposed.Count} exposed, {events.Count} events in {batches.Count} batches (+{(batches.Count + 3) / 4} resent); " +
            $"{testers.Count} testers, {exposed.Count(u => u.Jumper)} jumpers, {exposed.Count(u => u.Anonymous)} anonymous, {exposed.Count(u => !u.Evaluated)} without assignment");

        // Wait until ClickHouse has it all: every distinct exposure, event and assignment row (counted by insert id, the
        // dedup rule of docs/ingest.md, independently of the analysis' rules), and the analysis' exposure counts.
        using var clickHouseHttp = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var clickHouse = new ClickHouseClient(clickHouseHttp, platform.Servers.ClickHouseFor(platform.ClickHouseDatabase));
        var sentExposures = events.Count(e => (string)e["event_type"]! == "$exposure");
        var sent = (Exposures: (long)sentExposures, Events: (long)(events.Count - sentExposures), Assigned: (long)traffic.Users.Count(u => u.Evaluated));
        var stored = (Exposures: 0L, Events: 0L, Assigned: 0L);
        await Eventually.TrueAsync(async () =>
        {
            stored = (await CountAsync(clickHouse, ClickHouseSql.Format($"SELECT uniqExact(insert_id) FROM exposures WHERE project_id = {LaunchedPlatform.ProjectId} AND flag_key = {flag}")),
                await CountAsync(clickHouse, ClickHouseSql.Format($"SELECT uniqExact(insert_id) FROM events WHERE project_id = {LaunchedPlatform.ProjectId} AND startsWith(device_id, {flag + "-d"})")),
                await CountAsync(clickHouse, ClickHouseSql.Format($"SELECT uniqExact(user_id) FROM assignments WHERE project_id = {LaunchedPlatform.ProjectId} AND flag_key = {flag}")));
            return stored == sent;
        }, $"ClickHouse holds every exposure, event and assignment sent {sent} (last seen {stored})", TimeSpan.FromSeconds(120));
        JsonNode defaults = null!;
        await Eventually.TrueAsync(async () =>
        {
            defaults = await AnalyzeAsync(admin, id, new JsonObject());
            return defaults["variants"]!.AsArray().Sum(v => (long)v!["exposures"]!) == exposed.Count;
        }, "the analysis counts every exposed user");

        // Defaults: the saved settings (sequential, CUPED over 7 days), everyone exposed.
        var cuped = TimeSpan.FromDays(CupedWindowDays);
        Assert.Equal("sequential", (string?)defaults["test"]);
        Assert.True((bool)defaults["cuped"]!);
        AssertAnalysis(defaults, traffic, _ => true, TestKind.Sequential, cuped, "defaults");
        AssertDataQuality(defaults, traffic);
        var primary = ExperimentAnalyzer.Analyze(traffic.Expected(Purchase, _ => true, TestKind.Sequential, cuped));
        Assert.False(primary.Srm.Detected);
        Assert.False((bool)defaults["srm"]!["detected"]!);
        // The true effect on the primary metric (10% to 18% conversions, before the earlier buyers' boost) is found: the treatment wins.
        Assert.True(primary.Comparisons.Single(c => c.Variant == "treatment").Significant);
        Assert.Equal("treatment", (string?)defaults["winner"]);

        // Without CUPED: the t-test and the sequential test.
        foreach (var test in new[] { TestKind.Ttest, TestKind.Sequential })
        {
            var body = new JsonObject { ["test"] = test == TestKind.Ttest ? "ttest" : "sequential", ["cuped"] = false };
            var analysis = await AnalyzeAsync(admin, id, body);
            Assert.False((bool)analysis["cuped"]!);
            AssertAnalysis(analysis, traffic, _ => true, test, null, body.ToJsonString());
        }

        // Segments: testers only, without testers, without variant jumpers, without both.
        foreach (var (segment, include) in new (string, Func<TrafficUser, bool>)[]
        {
            ("testers", u => u.Tester),
            ("exclude_testers", u => !u.Tester),
            ("exclude_variant_jumpers", u => !u.Jumper),
            ("exclude_testers_and_variant_jumpers", u => !u.Tester && !u.Jumper),
        })
        {
            var body = new JsonObject { ["test"] = "ttest", ["segment"] = segment };
            var analysis = await AnalyzeAsync(admin, id, body);
            Assert.Equal(segment, (string?)analysis["filters"]!["segment"]);
            AssertAnalysis(analysis, traffic, include, TestKind.Ttest, cuped, body.ToJsonString());
            // Data quality is about every exposed user, whatever the segment.
            AssertDataQuality(analysis, traffic);
        }

        // A property filter (the user properties of the first exposure): Germany, where the lost control exposures make an SRM.
        var germanyBody = new JsonObject { ["test"] = "ttest", ["filters"] = new JsonArray(new JsonObject { ["property"] = "country", ["operator"] = "is", ["values"] = new JsonArray("DE") }) };
        var germany = await AnalyzeAsync(admin, id, germanyBody);
        AssertAnalysis(germany, traffic, u => u.Country == "DE", TestKind.Ttest, cuped, germanyBody.ToJsonString());
        Assert.True((bool)germany["srm"]!["detected"]!);
        Assert.Contains(germany["data_quality"]!["checks"]!.AsArray(), c => (string?)c!["name"] == "srm" && !(bool)c["passed"]!);
        Assert.Null((string?)germany["winner"]);
        var elsewhereBody = new JsonObject { ["test"] = "ttest", ["filters"] = new JsonArray(new JsonObject { ["property"] = "country", ["operator"] = "is not", ["values"] = new JsonArray("DE") }) };
        var elsewhere = await AnalyzeAsync(admin, id, elsewhereBody);
        AssertAnalysis(elsewhere, traffic, u => u.Country != "DE", TestKind.Ttest, cuped, elsewhereBody.ToJsonString());
        Assert.False((bool)elsewhere["srm"]!["detected"]!);
        output.WriteLine($"SRM p-values: everyone {defaults["srm"]!["p_value"]}, Germany {germany["srm"]!["p_value"]}, elsewhere {elsewhere["srm"]!["p_value"]}; " +
            $"primary p-values (sequential, CUPED): {string.Join(", ", defaults["comparisons"]!.AsArray().Select(c => $"{c!["variant"]} {c["p_value"]}"))}");

        // Group-by plan: one group per plan of the first exposure (later upgrades don't move a user), each with its own figures.
        var groupedBody = new JsonObject { ["test"] = "ttest", ["group_by"] = "plan" };
        var grouped = await AnalyzeAsync(admin, id, groupedBody);
        AssertAnalysis(grouped, traffic, _ => true, TestKind.Ttest, cuped, groupedBody.ToJsonString());
        AssertGroups(grouped, traffic, _ => true, TestKind.Ttest, cuped, 0.95, groupedBody.ToJsonString());

        // Filter and group-by together, at 90% confidence: the German users of each plan.
        var germanPlansBody = new JsonObject
        {
            ["test"] = "ttest", ["confidence_level"] = 0.9, ["group_by"] = "plan",
            ["filters"] = new JsonArray(new JsonObject { ["property"] = "country", ["values"] = new JsonArray("DE") }),
        };
        var germanPlans = await AnalyzeAsync(admin, id, germanPlansBody);
        Assert.Equal(0.9, (double)germanPlans["confidence_level"]!);
        AssertAnalysis(germanPlans, traffic, u => u.Country == "DE", TestKind.Ttest, cuped, germanPlansBody.ToJsonString(), 0.9);
        AssertGroups(germanPlans, traffic, u => u.Country == "DE", TestKind.Ttest, cuped, 0.9, germanPlansBody.ToJsonString());
        Assert.Contains(traffic.Users, u => u.Exposed && u.LaterPlan != u.Plan);
    }

    private static async Task PostAsync(HttpClient ingest, int index, Dictionary<string, object?>[] batch)
    {
        if (index % 2 == 0)
        {
            await ingest.PostAsJsonAsync("/v1/events", new { events = batch }).ExpectAsync(HttpStatusCode.OK);
        }
        else
        {
            var answer = await ingest.PostAsJsonAsync("/2/httpapi", new { api_key = LaunchedPlatform.SdkKey, events = batch }).ExpectAsync(HttpStatusCode.OK);
            Assert.Equal(200, (int)answer["code"]!);
        }
    }

    private static async Task<JsonNode> AnalyzeAsync(HttpClient admin, string id, JsonObject body)
    {
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        return await admin.PostAsync($"/v1/admin/experiments/{id}/analyze", content).ExpectAsync(HttpStatusCode.OK);
    }

    private static async Task<long> CountAsync(ClickHouseClient clickHouse, ClickHouseSql sql)
        => (await clickHouse.QueryAsync(sql, r => r.GetInt64(0))).Single();

    private static JsonNode MetricNode(JsonNode metrics, TrafficMetric metric)
        => metrics.AsArray().Single(m => (string?)m!["key"] == metric.Key)!;

    /// <summary>The seed fields, the SRM and every metric against the library's result on the traffic the filter keeps.</summary>
    private static void AssertAnalysis(
        JsonNode analysis, AnalysisTraffic traffic, Func<TrafficUser, bool> include, TestKind test, TimeSpan? cuped, string what, double confidence = 0.95)
    {
        var kept = traffic.Exposed.Where(include).ToList();
        foreach (var variant in analysis["variants"]!.AsArray())
        {
            var users = kept.Where(u => u.Variant == (string)variant!["key"]!).ToList();
            Assert.True(users.Count == (long)variant!["exposures"]!, $"{what}: exposures of {variant["key"]}: expected {users.Count}, got {variant["exposures"]}");
            var conversions = users.Count(u => AnalysisTraffic.Value(u, Purchase) == 1);
            Assert.True(conversions == (long)variant["conversions"]!, $"{what}: conversions of {variant["key"]}: expected {conversions}, got {variant["conversions"]}");
        }
        var primary = ExperimentAnalyzer.Analyze(traffic.Expected(Purchase, include, test, cuped, confidence));
        AssertSrm(primary.Srm, analysis["srm"]!, what);
        AssertSrm(primary.Srm, analysis["data_quality"]!["srm"]!, what);
        foreach (var metric in Metrics)
        {
            var expected = ExperimentAnalyzer.Analyze(traffic.Expected(metric, include, test, cuped, confidence));
            AssertMetric(expected, kept, metric, MetricNode(analysis["metrics"]!, metric), what);
        }
        // The seed comparisons are the primary metric's.
        foreach (var comparison in analysis["comparisons"]!.AsArray())
        {
            var e = primary.Comparisons.Single(c => c.Variant == (string)comparison!["variant"]!);
            AssertClose(e.PValue, (double?)comparison!["p_value"], $"{what}: seed p_value of {e.Variant}");
            AssertClose(e.RelativeLift, (double?)comparison["relative_lift"], $"{what}: seed relative_lift of {e.Variant}");
        }
    }

    /// <summary>One group per plan of the first exposure among the users the filter keeps (later upgrades don't move a user), each with its own figures.</summary>
    private static void AssertGroups(
        JsonNode analysis, AnalysisTraffic traffic, Func<TrafficUser, bool> include, TestKind test, TimeSpan? cuped, double confidence, string what)
    {
        var groups = analysis["groups"]!.AsArray();
        var kept = traffic.Exposed.Where(include).ToList();
        Assert.Equal(kept.Select(u => u.Plan).Distinct().Order(StringComparer.Ordinal), groups.Select(g => (string)g!["value"]!));
        foreach (var group in groups)
        {
            var plan = (string)group!["value"]!;
            bool InGroup(TrafficUser u) => include(u) && u.Plan == plan;
            var at = $"{what}, group {plan}";
            Assert.True(kept.Count(u => u.Plan == plan) == (long)group["exposures"]!, $"{at}: exposures: expected {kept.Count(u => u.Plan == plan)}, got {group["exposures"]}");
            AssertSrm(ExperimentAnalyzer.Analyze(traffic.Expected(Purchase, InGroup, test, cuped, confidence)).Srm, group["srm"]!, at);
            foreach (var metric in Metrics)
            {
                var expected = ExperimentAnalyzer.Analyze(traffic.Expected(metric, InGroup, test, cuped, confidence));
                AssertMetric(expected, kept.Where(u => u.Plan == plan).ToList(), metric, MetricNode(group["metrics"]!, metric), at);
            }
        }
    }

    private static void AssertMetric(AnalysisResult expected, IReadOnlyList<TrafficUser> kept, TrafficMetric metric, JsonNode actual, string what)
    {
        var at = $"{what}, metric {metric.Key}";
        foreach (var variant in actual["variants"]!.AsArray())
        {
            var key = (string)variant!["key"]!;
            var users = kept.Where(u => u.Variant == key).ToList();
            Assert.True(users.Count == (long)variant["users"]!, $"{at}: users of {key}: expected {users.Count}, got {variant["users"]}");
            Assert.True(users.Count(u => AnalysisTraffic.Value(u, metric) != 0) == (long)variant["conversions"]!,
                $"{at}: conversions of {key}: expected {users.Count(u => AnalysisTraffic.Value(u, metric) != 0)}, got {variant["conversions"]}");
            AssertClose(users.Sum(u => AnalysisTraffic.Value(u, metric)), (double)variant["sum"]!, $"{at}: sum of {key}");
            AssertClose(expected.Variants.Single(v => v.Key == key).Mean ?? 0, (double)variant["mean"]!, $"{at}: mean of {key}");
        }
        var comparisons = actual["comparisons"]!.AsArray();
        Assert.Equal(expected.Comparisons.Select(c => c.Variant), comparisons.Select(c => (string)c!["variant"]!));
        foreach (var e in expected.Comparisons)
        {
            var a = comparisons.Single(c => (string)c!["variant"]! == e.Variant)!;
            var of = $"{at}, {e.Variant}";
            // Undefined figures (no users in a variant, a control mean of 0) are null, as the library gives them.
            AssertClose(e.ControlMean, (double?)a["control_mean"], $"{of}: control_mean");
            AssertClose(e.Mean, (double?)a["mean"], $"{of}: mean");
            AssertClose(e.AbsoluteLift, (double?)a["absolute_lift"], $"{of}: absolute_lift");
            AssertClose(e.RelativeLift, (double?)a["relative_lift"], $"{of}: relative_lift");
            AssertClose(e.PValue, (double?)a["p_value"], $"{of}: p_value");
            AssertInterval(e.CiAbsolute, a["ci_absolute"], $"{of}: ci_absolute");
            AssertInterval(e.CiRelative, a["ci_relative"], $"{of}: ci_relative");
            AssertClose(e.MsprtLogLr, (double?)a["msprt_log_lr"], $"{of}: msprt_log_lr");
            AssertClose(e.CupedTheta, (double?)a["cuped_theta"], $"{of}: cuped_theta");
            AssertClose(e.DegreesOfFreedom, (double?)a["degrees_of_freedom"], $"{of}: degrees_of_freedom");
            Assert.True(e.Significant == (bool)a["significant"]!, $"{of}: significant: expected {e.Significant}");
            Assert.True((e.DataQualityReason ?? "") == ((string?)a["gate_reason"] ?? ""), $"{of}: gate_reason: expected '{e.DataQualityReason}', got '{a["gate_reason"]}'");
        }
    }

    private static void AssertSrm(SrmResult expected, JsonNode actual, string what)
    {
        AssertClose(expected.ChiSquare, (double?)actual["chi_square"], $"{what}: srm chi_square");
        AssertClose(expected.PValue, (double?)actual["p_value"], $"{what}: srm p_value");
        Assert.True(expected.Detected == (bool)actual["detected"]!, $"{what}: srm detected: expected {expected.Detected}");
    }

    /// <summary>Data quality counts every exposed user: jumpers, anonymous users, users the assignment service never saw.</summary>
    private static void AssertDataQuality(JsonNode analysis, AnalysisTraffic traffic)
    {
        var exposed = traffic.Exposed.ToList();
        var quality = analysis["data_quality"]!;
        Assert.Equal(exposed.Count, (long)quality["exposed_users"]!);
        Assert.Equal(exposed.Count(u => u.Jumper), (long)quality["variant_jumpers"]!);
        Assert.Equal(exposed.Count(u => u.Anonymous), (long)quality["anonymous_exposures"]!);
        Assert.Equal(exposed.Count(u => !u.Evaluated), (long)quality["exposures_without_assignment"]!);
        AssertClose((double)exposed.Count(u => u.Jumper) / exposed.Count, (double)quality["variant_jumper_share"]!, "variant_jumper_share");
        var diagnostics = analysis["diagnostics"]!;
        Assert.Equal(exposed.Count(u => u.Jumper), (long)diagnostics["variant_jumpers"]!);
        foreach (var conversion in diagnostics["assignment_to_exposure"]!.AsArray())
        {
            var variant = (string)conversion!["variant"]!;
            // Assigned: every evaluated user, the German control users whose exposures were lost included; exposed: first exposures.
            Assert.Equal(traffic.Users.Count(u => u.Evaluated && u.Variant == variant), (long)conversion["assigned"]!);
            Assert.Equal(exposed.Count(u => u.Variant == variant), (long)conversion["exposed"]!);
        }
    }

    private const double Tolerance = 1e-9;

    /// <summary>Relative to the expected value (with a floor for values that are zero up to rounding).</summary>
    private static void AssertClose(double? expected, double? actual, string what)
    {
        if (expected is null || double.IsInfinity(expected.Value))
        {
            // JSON has no infinity: an unbounded figure is null.
            Assert.True(actual is null, $"{what}: expected none ({expected}), got {actual}");
            return;
        }
        Assert.True(actual is not null, $"{what}: expected {expected}, got none");
        Assert.True(Math.Abs(expected.Value - actual!.Value) <= Tolerance * Math.Abs(expected.Value) + 1e-12,
            $"{what}: expected {expected:R}, got {actual:R} (relative difference {Math.Abs(expected.Value - actual.Value) / Math.Abs(expected.Value):G3})");
    }

    private static void AssertInterval(Statistics.Contracts.Interval? expected, JsonNode? actual, string what)
    {
        if (expected is not { } e)
        {
            Assert.True(actual is null, $"{what}: expected none, got {actual?.ToJsonString()}");
            return;
        }
        Assert.True(actual is JsonArray, $"{what}: expected [{e.Lower}, {e.Upper}], got {actual?.ToJsonString() ?? "none"}");
        AssertClose(e.Lower, (double?)actual![0], $"{what} lower");
        AssertClose(e.Upper, (double?)actual[1], $"{what} upper");
    }
}
