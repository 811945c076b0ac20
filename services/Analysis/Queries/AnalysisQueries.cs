using Experiments.ClickHouse;

namespace Experiments.Analysis.Queries;

/// <summary>Per variant, group value and day of first exposure: users included by the filters, and data-quality counts over all exposed users.</summary>
public sealed record PopulationRow(string Variant, string Group, DateOnly Day, long Users, long AllUsers, long Jumpers, long Anonymous, long WithoutAssignment);

/// <summary>Sufficient statistics of one metric for one variant and group value.</summary>
public sealed record MetricSums(long Users, long NonZero, double Sum, double SumSquares, double CovariateSum, double CovariateSumSquares, double SumProduct);

/// <summary>Per variant and group value: each metric's sums (users without events add zero; averages count only users with events).</summary>
public sealed record MetricRow(string Variant, string Group, IReadOnlyList<MetricSums> Metrics);

/// <summary>A count per variant and day.</summary>
public sealed record DailyCount(string Variant, DateOnly Day, long Count);

/// <summary>The metrics' sums per variant and group, and the first metric's events per variant and day (one query computes both).</summary>
public sealed record MetricResults(IReadOnlyList<MetricRow> Rows, IReadOnlyList<DailyCount> DailyEvents);

/// <summary>
/// The analysis' ClickHouse queries. Each aggregates inside ClickHouse to sufficient statistics (one row per
/// variant, group value and, for series, day): never event rows to C#. A user (user id, else device id) counts
/// once, in the variant of their first exposure inside the date range; metric events count from that first
/// exposure on. Duplicated inserts change nothing: users are distinct by construction and events are read
/// <c>FINAL</c>, which folds rows sharing the sorting key (project, type, user, device, insert_id) as the merges
/// will (docs/ingest.md, "Deduplication"): a merge-order fold, several times cheaper than a GROUP BY insert_id.
/// </summary>
public sealed class AnalysisQueries(ClickHouseClient clickHouse)
{
    private static readonly ClickHouseSql Unit = ClickHouseSql.Raw("if(user_id != '', user_id, device_id)");

    /// <summary>
    /// Every exposed user of the flag in the date range, with their variant, group value, first exposure and flags:
    /// <c>included</c> (passes segment and property filters), <c>jumper</c>, <c>anonymous</c>, <c>assigned</c>.
    /// </summary>
    public static ClickHouseSql Units(AnalysisScope scope, bool withDiagnostics)
    {
        var group = scope.GroupBy is { } g
            ? ClickHouseSql.Format($"visitParamExtractString(argMin(user_properties, time), {g})")
            : ClickHouseSql.Raw("''");
        var diagnostics = withDiagnostics
            ? ClickHouseSql.Format($"""
                , min(variant) != max(variant) AS jumper, min(user_id = '') AS anonymous,
                  unit IN (SELECT {Unit} FROM assignments WHERE project_id = {scope.ProjectId} AND flag_key = {scope.FlagKey}) AS assigned
                """)
            : ClickHouseSql.Raw(", 0 AS jumper");
        // The user's variant is called arm here: an alias named like the column would turn min(variant) into a nested aggregate.
        return ClickHouseSql.Format($"""
            SELECT {Unit} AS unit, argMin(variant, time) AS arm, min(time) AS first_exposure, {group} AS grp,
                   {Included(scope)} AS included {diagnostics}
            FROM exposures
            WHERE project_id = {scope.ProjectId} AND flag_key = {scope.FlagKey} AND time <= {scope.To}
            GROUP BY unit
            HAVING first_exposure >= {scope.From}
            """);
    }

    /// <summary>The segment and property filters as one boolean over a user's grouped exposures.</summary>
    private static ClickHouseSql Included(AnalysisScope scope)
    {
        var conditions = new List<ClickHouseSql>();
        var testers = scope.Testers.ToArray();
        var isTester = testers.Length == 0 ? ClickHouseSql.Raw("0") : ClickHouseSql.Format($"has({testers}, unit)");
        var jumperFree = ClickHouseSql.Raw("min(variant) = max(variant)");
        const string mobile = "(?i)android|ios|iphone|ipad|mobile";
        switch (scope.Segment)
        {
            case Segments.Testers:
                conditions.Add(isTester);
                break;
            case Segments.ExcludeTesters:
                conditions.Add(ClickHouseSql.Format($"NOT {isTester}"));
                break;
            case Segments.ExcludeVariantJumpers:
                conditions.Add(jumperFree);
                break;
            case Segments.ExcludeTestersAndVariantJumpers:
                conditions.Add(ClickHouseSql.Format($"NOT {isTester}"));
                conditions.Add(jumperFree);
                break;
            case Segments.NewUsers:
                conditions.Add(ClickHouseSql.Format(
                    $"unit NOT IN (SELECT {Unit} FROM events WHERE project_id = {scope.ProjectId} AND time < {scope.NewUsersSince})"));
                break;
            case Segments.MobileWeb:
                conditions.Add(ClickHouseSql.Format($"lower(argMin(platform, time)) = 'web' AND match(argMin(os_name, time), {mobile})"));
                break;
            case Segments.DesktopWeb:
                conditions.Add(ClickHouseSql.Format($"lower(argMin(platform, time)) = 'web' AND NOT match(argMin(os_name, time), {mobile})"));
                break;
        }
        foreach (var filter in scope.Filters)
        {
            conditions.Add(PropertyFilterSql.Condition(filter,
                ClickHouseSql.Format($"visitParamExtractString(argMin(user_properties, time), {filter.Property})")));
        }
        return conditions.Count == 0 ? ClickHouseSql.Raw("1") : ClickHouseSql.Raw("(" + string.Join(") AND (", conditions.Select(c => c.Text)) + ")");
    }

    /// <summary>Exposed users per variant, group and day of first exposure, with the data-quality counts.</summary>
    public async Task<IReadOnlyList<PopulationRow>> PopulationAsync(AnalysisScope scope, CancellationToken cancellationToken)
    {
        var sql = ClickHouseSql.Format($"""
            SELECT arm, grp, toDate(first_exposure) AS day, countIf(included) AS users, count() AS all_users,
                   countIf(jumper) AS jumpers, countIf(anonymous) AS anonymous_users, countIf(NOT assigned) AS without_assignment
            FROM ({Units(scope, withDiagnostics: true)})
            GROUP BY arm, grp, day
            """);
        return await clickHouse.QueryAsync(sql, row => new PopulationRow(row.GetString(0), row.GetString(1), row.GetDate(2),
            row.GetInt64(3), row.GetInt64(4), row.GetInt64(5), row.GetInt64(6), row.GetInt64(7)), cancellationToken);
    }

    /// <summary>
    /// Every metric's sufficient statistics per variant and group, and the first metric's events per variant and day
    /// (at or after each included user's first exposure), in one pass over the events.
    /// </summary>
    public async Task<MetricResults> MetricSumsAsync(AnalysisScope scope, IReadOnlyList<MetricQuery> metrics, CancellationToken cancellationToken)
    {
        if (metrics.Count == 0)
        {
            return new MetricResults([], []);
        }
        var eventTypes = metrics.Select(m => m.Definition.EventType).Distinct(StringComparer.Ordinal).ToArray();
        var properties = metrics.Where(m => m.Definition.Property is not null).Select(m => m.Definition.Property!).Distinct(StringComparer.Ordinal).ToList();
        var lookback = metrics.Max(m => m.CupedWindow ?? TimeSpan.Zero);
        var from = scope.From - lookback;

        // Each numeric property extracted once per event.
        var values = string.Concat(properties.Select((p, i) =>
            ClickHouseSql.Format($", visitParamExtractFloat(event_properties, {p}) AS v{i}").Text));
        if (values.Length == 0)
        {
            values = ", 0 AS no_properties";
        }
        var perUser = new List<string>();
        var outer = new List<string>();
        for (var k = 0; k < metrics.Count; k++)
        {
            var m = metrics[k].Definition;
            var after = ClickHouseSql.Format($"event_type = {m.EventType} AND t >= first_exposure").Text
                + (m.ConversionWindowHours is { } hours ? $" AND t <= first_exposure + {hours * 3600}" : "");
            var window = (long)(metrics[k].CupedWindow ?? TimeSpan.Zero).TotalSeconds;
            var before = metrics[k].CupedWindow is null
                ? "0"
                : ClickHouseSql.Format($"event_type = {m.EventType} AND t < first_exposure AND t >= first_exposure - {window}").Text;
            var v = m.Property is { } p ? $"v{properties.IndexOf(p)}" : "1";
            var (y, x) = m.Kind switch
            {
                Postgres.Configuration.MetricKinds.UniqueConversions => ($"toFloat64(max({after}))", $"toFloat64(max({before}))"),
                Postgres.Configuration.MetricKinds.EventTotals => ($"toFloat64(countIf({after}))", $"toFloat64(countIf({before}))"),
                Postgres.Configuration.MetricKinds.PropertySum => ($"sumIf({v}, {after})", $"sumIf({v}, {before})"),
                _ => ($"if(countIf({after}) > 0, sumIf({v}, {after}) / countIf({after}), 0)",
                      $"if(countIf({before}) > 0, sumIf({v}, {before}) / countIf({before}), 0)"),
            };
            perUser.Add($"{y} AS y{k}, {x} AS x{k}, countIf({after}) AS c{k}");
            // Averages count only users who did the event; every other kind counts every exposed user (no events: zeros).
            var only = m.Kind == Postgres.Configuration.MetricKinds.PropertyAverage ? $"c{k} > 0" : "1";
            outer.Add($"countIf({only}), countIf(y{k} != 0 AND {only}), sumIf(y{k}, {only}), sumIf(y{k} * y{k}, {only}), "
                + $"sumIf(x{k}, {only}), sumIf(x{k} * x{k}, {only}), sumIf(x{k} * y{k}, {only})");
        }
        // The first metric's events by day; first_exposure >= From, so every one is inside the date range.
        perUser.Add(ClickHouseSql.Format($"groupArrayIf(toDate(t), event_type = {metrics[0].Definition.EventType} AND t >= first_exposure) AS days").Text);

        var sql = ClickHouseSql.Format($"""
            SELECT variant, grp, {ClickHouseSql.Raw(string.Join(",\n    ", outer))},
                   tupleElement(sumMap(days, arrayMap(d -> toUInt64(1), days)) AS daily, 1), tupleElement(daily, 2)
            FROM
            (
                SELECT unit, any(arm) AS variant, any(grp) AS grp, {ClickHouseSql.Raw(string.Join(",\n        ", perUser))}
                FROM
                (
                    SELECT {Unit} AS unit, event_type, time AS t {ClickHouseSql.Raw(values)}
                    FROM events FINAL
                    WHERE project_id = {scope.ProjectId} AND has({eventTypes}, event_type) AND time >= {from} AND time <= {scope.To}
                )
                ALL INNER JOIN
                (
                    SELECT unit, arm, grp, first_exposure FROM ({Units(scope, withDiagnostics: false)}) WHERE included
                ) USING unit
                GROUP BY unit
            )
            GROUP BY variant, grp
            """);
        var rows = await clickHouse.QueryAsync(sql, row =>
        {
            var sums = new MetricSums[metrics.Count];
            for (var k = 0; k < metrics.Count; k++)
            {
                var o = 2 + k * 7;
                sums[k] = new MetricSums(row.GetInt64(o), row.GetInt64(o + 1), row.GetDouble(o + 2), row.GetDouble(o + 3),
                    row.GetDouble(o + 4), row.GetDouble(o + 5), row.GetDouble(o + 6));
            }
            var d = 2 + metrics.Count * 7;
            var days = row.GetArray<DateOnly>(d);
            var counts = row.GetArray<long>(d + 1);
            return (Row: new MetricRow(row.GetString(0), row.GetString(1), sums), Daily: days.Select((day, i) => new DailyCount(row.GetString(0), day, counts[i])).ToList());
        }, cancellationToken);
        var daily = rows.SelectMany(r => r.Daily).GroupBy(c => (c.Variant, c.Day)).Select(g => new DailyCount(g.Key.Variant, g.Key.Day, g.Sum(c => c.Count))).ToList();
        return new MetricResults(rows.Select(r => r.Row).ToList(), daily);
    }

    /// <summary>Users assigned per variant and day of first assignment (of the flag, in the date range).</summary>
    public async Task<IReadOnlyList<DailyCount>> DailyAssignmentsAsync(AnalysisScope scope, CancellationToken cancellationToken)
    {
        var sql = ClickHouseSql.Format($"""
            SELECT variant, toDate(first_assigned) AS day, count() AS users
            FROM
            (
                SELECT {Unit} AS unit, argMin(variant, time) AS variant, min(time) AS first_assigned
                FROM assignments
                WHERE project_id = {scope.ProjectId} AND flag_key = {scope.FlagKey} AND time >= {scope.From} AND time <= {scope.To}
                GROUP BY unit
            )
            GROUP BY variant, day
            """);
        return await clickHouse.QueryAsync(sql, row => new DailyCount(row.GetString(0), row.GetDate(1), row.GetInt64(2)), cancellationToken);
    }
}
