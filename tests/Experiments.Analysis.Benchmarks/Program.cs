using System.Diagnostics;
using Experiments.Analysis.Analyses;
using Experiments.Analysis.Queries;
using Experiments.Analysis.Snapshots;
using Experiments.ClickHouse;
using Experiments.Postgres;
using Experiments.Postgres.Configuration;
using Experiments.TestInfrastructure.Servers;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

// Seeds 10M exposures, 10M events and 1.96M assignments for one experiment in its own ClickHouse database (kept between runs), then
// times two bare ClickHouse aggregates beside the full analysis (3 metrics, CUPED, diagnostics, charts) in the same
// run: distinct users by first-exposure variant and converters of one metric; and the same three metrics' sums with
// their CUPED covariates, hand-written as one query without deduplication or diagnostics. See docs/benchmarks/analysis.md.
const int Users = 2_000_000;
const int ExposuresPerUser = 5;
const int EventsPerUser = 5;
const string Project = "bench";
const string Flag = "bench-exp";
var runs = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 5;
var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

var servers = await LocalServers.EnsureStartedAsync();
using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(30) };
var server = new ClickHouseClient(http, servers.ClickHouse);
await server.ExecuteAsync(ClickHouseSql.Raw("CREATE DATABASE IF NOT EXISTS analysis_benchmark"));
var clickHouse = server.WithDatabase("analysis_benchmark");
var ddl = string.Join('\n', File.ReadAllLines(RepositoryRoot.Combine("deploy", "clickhouse", "single-node", "0001_event_tables.sql"))
    .Where(l => !l.TrimStart().StartsWith("--", StringComparison.Ordinal)));
foreach (var statement in ddl.Split(';').Where(s => !string.IsNullOrWhiteSpace(s)))
{
    await clickHouse.ExecuteAsync(ClickHouseSql.Raw(statement));
}

if (await clickHouse.QueryScalarAsync<long>(ClickHouseSql.Raw("SELECT count() FROM exposures")) < (long)Users * ExposuresPerUser)
{
    await clickHouse.ExecuteAsync(ClickHouseSql.Raw("TRUNCATE TABLE exposures"));
    await clickHouse.ExecuteAsync(ClickHouseSql.Raw("TRUNCATE TABLE events"));
    var seed = Stopwatch.StartNew();
    await clickHouse.InsertAsync("exposures",
        ["project_id", "flag_key", "variant", "user_id", "device_id", "time", "insert_id", "user_properties", "platform", "os_name", "received_at"],
        async (w, ct) =>
        {
            for (var u = 0; u < Users; u++)
            {
                var variant = u % 2 == 0 ? "control" : "treatment";
                var first = start.AddSeconds(u % (14 * 86_400));
                for (var e = 0; e < ExposuresPerUser; e++)
                {
                    w.WriteString(Project); w.WriteString(Flag); w.WriteString(variant); w.WriteString($"u{u}"); w.WriteString($"d{u}");
                    w.WriteDateTime(first.AddMinutes(e * 7)); w.WriteString($"x{u}-{e}"); w.WriteString(u % 3 == 0 ? "{\"country\":\"DE\"}" : "{\"country\":\"US\"}");
                    w.WriteString("Web"); w.WriteString(u % 4 == 0 ? "iOS" : "Windows"); w.WriteDateTime(first);
                    await w.EndRowAsync(ct);
                }
            }
        });
    await clickHouse.InsertAsync("events",
        ["project_id", "event_type", "user_id", "device_id", "time", "insert_id", "event_properties", "user_properties", "platform", "os_name", "received_at"],
        async (w, ct) =>
        {
            var random = new Random(1);
            for (var u = 0; u < Users; u++)
            {
                var first = start.AddSeconds(u % (14 * 86_400));
                for (var e = 0; e < EventsPerUser; e++)
                {
                    var purchase = random.NextDouble() < (u % 2 == 0 ? 0.10 : 0.12);
                    w.WriteString(Project); w.WriteString(purchase ? "purchase" : "page_view"); w.WriteString($"u{u}"); w.WriteString($"d{u}");
                    w.WriteDateTime(first.AddHours(random.Next(-72, 240))); w.WriteString($"e{u}-{e}");
                    w.WriteString(purchase ? $"{{\"revenue\":{random.Next(5, 200)}}}" : "{}"); w.WriteString("{}"); w.WriteString("Web"); w.WriteString("Windows");
                    w.WriteDateTime(first);
                    await w.EndRowAsync(ct);
                }
            }
        });
    await clickHouse.ExecuteAsync(ClickHouseSql.Raw("OPTIMIZE TABLE exposures FINAL"));
    await clickHouse.ExecuteAsync(ClickHouseSql.Raw("OPTIMIZE TABLE events FINAL"));
    Console.WriteLine($"Seeded {Users * ExposuresPerUser:N0} exposures and {Users * EventsPerUser:N0} events in {seed.Elapsed.TotalSeconds:F1} s");
}
// One assignment per user (the assignment service records each user, flag and variant once), all but every 50th user,
// so the diagnostics' "exposures without assignment" has real work to do.
if (await clickHouse.QueryScalarAsync<long>(ClickHouseSql.Raw("SELECT count() FROM assignments")) == 0)
{
    await clickHouse.InsertAsync("assignments",
        ["project_id", "flag_key", "variant", "user_id", "device_id", "time", "insert_id", "received_at"],
        async (w, ct) =>
        {
            for (var u = 0; u < Users; u++)
            {
                if (u % 50 == 0)
                {
                    continue;
                }
                var first = start.AddSeconds(u % (14 * 86_400));
                w.WriteString(Project); w.WriteString(Flag); w.WriteString(u % 2 == 0 ? "control" : "treatment"); w.WriteString($"u{u}"); w.WriteString($"d{u}");
                w.WriteDateTime(first.AddSeconds(-1)); w.WriteString($"a{u}"); w.WriteDateTime(first);
                await w.EndRowAsync(ct);
            }
        });
    await clickHouse.ExecuteAsync(ClickHouseSql.Raw("OPTIMIZE TABLE assignments FINAL"));
}

await using var database = await PostgresDatabase.CreateAsync("analysis_bench");
await new MigrationRunner(database.ConnectionString, "gateway", MigrationScript.LoadEmbedded(typeof(Experiments.Gateway.Extensions.Extensions).Assembly),
    NullLogger<MigrationRunner>.Instance).ApplyAsync(CancellationToken.None);
await new MigrationRunner(database.ConnectionString, "analysis", MigrationScript.LoadEmbedded(typeof(Experiments.Analysis.Extensions.Extensions).Assembly),
    NullLogger<MigrationRunner>.Instance).ApplyAsync(CancellationToken.None);
await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
var id = Guid.NewGuid();
await using (var command = dataSource.CreateCommand($"""
    INSERT INTO gateway.projects (id, name) VALUES ('{Project}', '{Project}');
    INSERT INTO gateway.experiments (id, project_id, key, name, status, salt, started_at, stopped_at)
      VALUES ('{id}', '{Project}', '{Flag}', 'Benchmark', 'running', 'b', '2026-01-01Z', '2026-02-01Z');
    INSERT INTO gateway.variants (id, experiment_id, key, name, traffic_weight, position) VALUES
      ('{Guid.NewGuid()}', '{id}', 'control', 'Control', 1, 0), ('{Guid.NewGuid()}', '{id}', 'treatment', 'Treatment', 1, 1);
    INSERT INTO gateway.experiment_metrics (id, experiment_id, key, name, role, kind, event_type, property, position) VALUES
      ('{Guid.NewGuid()}', '{id}', 'purchase', 'Purchase', 'primary', 'unique_conversions', 'purchase', NULL, 0),
      ('{Guid.NewGuid()}', '{id}', 'revenue', 'Revenue', 'secondary', 'property_sum', 'purchase', 'revenue', 1),
      ('{Guid.NewGuid()}', '{id}', 'page_views', 'Page views', 'guardrail', 'event_totals', 'page_view', NULL, 2);
    """))
{
    await command.ExecuteNonQueryAsync();
}
var experiment = (await new ExperimentConfigReader(dataSource).FindAsync(Project, id, CancellationToken.None))!;
var analysis = new ExperimentAnalysis(new AnalysisQueries(clickHouse), new AnalysisConfigReader(dataSource), new SnapshotStore(dataSource), TimeProvider.System);

var bare = ClickHouseSql.Format($"""
    SELECT variant, count() AS users, countIf(last_event >= first_exposure) AS conversions
    FROM
    (
        SELECT if(user_id != '', user_id, device_id) AS unit, argMin(variant, time) AS variant, min(time) AS first_exposure
        FROM exposures WHERE project_id = {Project} AND flag_key = {Flag} GROUP BY unit
    )
    ANY LEFT JOIN
    (
        SELECT if(user_id != '', user_id, device_id) AS unit, max(time) AS last_event
        FROM events WHERE project_id = {Project} AND event_type = 'purchase' GROUP BY unit
    ) USING unit
    GROUP BY variant
    """);

// The three metrics (purchase converters, revenue sum, page-view totals) and their 7-day CUPED covariates per variant:
// the least ClickHouse must compute for this analysis, with no duplicate folding, segments, diagnostics or series.
var bareMetrics = ClickHouseSql.Format($"""
    SELECT arm, count(), sum(y0), sum(y1), sum(y1 * y1), sum(y2), sum(y2 * y2), sum(x0), sum(x1), sum(x1 * x1), sum(x2), sum(x2 * x2),
           sum(x0 * y0), sum(x1 * y1), sum(x2 * y2),
           min(first_exposure) -- used outside the lambdas, or ClickHouse 18.16 prunes it from the join and fails
    FROM
    (
        SELECT arm, first_exposure,
               arrayExists((ty, t) -> ty = 1 AND t >= first_exposure, tys, ts) AS y0,
               arraySum((ty, t, v) -> if(ty = 1 AND t >= first_exposure, v, 0), tys, ts, vs) AS y1,
               arrayCount((ty, t) -> ty = 2 AND t >= first_exposure, tys, ts) AS y2,
               arrayExists((ty, t) -> ty = 1 AND t < first_exposure AND t >= first_exposure - 604800, tys, ts) AS x0,
               arraySum((ty, t, v) -> if(ty = 1 AND t < first_exposure AND t >= first_exposure - 604800, v, 0), tys, ts, vs) AS x1,
               arrayCount((ty, t) -> ty = 2 AND t < first_exposure AND t >= first_exposure - 604800, tys, ts) AS x2
        FROM
        (
            SELECT if(user_id != '', user_id, device_id) AS unit, argMin(variant, time) AS arm, min(time) AS first_exposure
            FROM exposures WHERE project_id = {Project} AND flag_key = {Flag} GROUP BY unit
        )
        ANY LEFT JOIN
        (
            SELECT if(user_id != '', user_id, device_id) AS unit, groupArray(toUInt8(indexOf(['purchase', 'page_view'], event_type))) AS tys,
                   groupArray(time) AS ts, groupArray(visitParamExtractFloat(event_properties, 'revenue')) AS vs
            FROM events WHERE project_id = {Project} AND has(['purchase', 'page_view'], event_type) GROUP BY unit
        ) USING unit
    )
    GROUP BY arm
    """);

var bareTimes = new List<double>();
var bareMetricsTimes = new List<double>();
var fullTimes = new List<double>();
AnalysisOutcome? outcome = null;
for (var run = 0; run < runs + 1; run++)
{
    var watch = Stopwatch.StartNew();
    await clickHouse.QueryAsync(bare, row => row.GetString(0));
    var bareMs = watch.Elapsed.TotalMilliseconds;
    watch.Restart();
    await clickHouse.QueryAsync(bareMetrics, row => row.GetString(0));
    var bareMetricsMs = watch.Elapsed.TotalMilliseconds;
    watch.Restart();
    outcome = await analysis.RunAsync(experiment, new AnalysisOptions(Cuped: true, CupedWindowDays: 7), CancellationToken.None);
    var fullMs = watch.Elapsed.TotalMilliseconds;
    if (run > 0) // the first run warms caches
    {
        bareTimes.Add(bareMs);
        bareMetricsTimes.Add(bareMetricsMs);
        fullTimes.Add(fullMs);
    }
}
static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
Console.WriteLine($"Users {outcome!.Response.DataQuality.ExposedUsers:N0}; primary p-value {outcome.Response.Comparisons[0].PValue:G4}");
static string Runs(List<double> values) => string.Join(", ", values.Select(t => t.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)));
Console.WriteLine($"Bare ClickHouse aggregate (1 metric):                         median {Median(bareTimes),8:F0} ms  ({Runs(bareTimes)})");
Console.WriteLine($"Bare ClickHouse aggregate (3 metrics + CUPED covariates):     median {Median(bareMetricsTimes),8:F0} ms  ({Runs(bareMetricsTimes)})");
Console.WriteLine($"Full analysis (3 metrics, CUPED, diagnostics, charts):        median {Median(fullTimes),8:F0} ms  ({Runs(fullTimes)})");
Console.WriteLine($"Ratio full / bare (1 metric): {Median(fullTimes) / Median(bareTimes):F2}; full / bare (3 metrics + CUPED): {Median(fullTimes) / Median(bareMetricsTimes):F2}");
Console.WriteLine($"Load average after the runs: {File.ReadAllText("/proc/loadavg").Trim()}");
