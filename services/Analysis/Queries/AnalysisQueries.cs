using System.Globalization;
using Experiments.ClickHouse;

namespace Experiments.Analysis.Queries;

/// <summary>Per variant, group value and day of first exposure: users included by the filters, and data-quality counts over all exposed users.</summary>
public sealed record PopulationRow(string Variant, string Group, DateOnly Day, long Users, long AllUsers, long Jumpers, long Anonymous, long WithoutAssignment);

/// <summary>Sufficient statistics of one metric for one variant and group value.</summary>
public sealed record MetricSums(long Users, long NonZero, double Sum, double SumSquares, double CovariateSum, double CovariateSumSquares, double SumProduct)
{
    /// <summary>The statistics of two disjoint sets of users together.</summary>
    public static MetricSums Add(MetricSums a, MetricSums b) => new(a.Users + b.Users, a.NonZero + b.NonZero, a.Sum + b.Sum,
        a.SumSquares + b.SumSquares, a.CovariateSum + b.CovariateSum, a.CovariateSumSquares + b.CovariateSumSquares, a.SumProduct + b.SumProduct);
}

/// <summary>Per variant and group value: each metric's sums (users without events add zero; averages count only users with events).</summary>
public sealed record MetricRow(string Variant, string Group, IReadOnlyList<MetricSums> Metrics);

/// <summary>A count per variant and day.</summary>
public sealed record DailyCount(string Variant, DateOnly Day, long Count);

/// <summary>
/// The population, the metrics' sums per variant and group, the first metric's events per variant and day, and the
/// users assigned per variant and day of first assignment in the date range (one query computes them).
/// </summary>
public sealed record AnalysisData(IReadOnlyList<PopulationRow> Population, IReadOnlyList<MetricRow> Metrics, IReadOnlyList<DailyCount> DailyEvents,
    IReadOnlyList<DailyCount> DailyAssignments);

/// <summary>
/// The analysis' ClickHouse queries. Each aggregates inside ClickHouse to sufficient statistics (one row per
/// variant, group value and, for series, day): never event rows to C#. A user (user id, else device id) counts
/// once, in the variant of their first exposure inside the date range; metric events count from that first
/// exposure on. Duplicated inserts change nothing: users are distinct by construction, and each user's events
/// are folded by their sorting key (type, user, device, insert_id; the newest received_at kept) inside the user's
/// array, as a merge or FINAL would (docs/ingest.md, "Deduplication"), without FINAL's merge-sorted read.
/// </summary>
public sealed class AnalysisQueries(ClickHouseClient clickHouse)
{
    private static readonly ClickHouseSql Unit = ClickHouseSql.Raw("if(user_id != '', user_id, device_id)");

    /// <summary>
    /// Every member (user id, else device id) exposed to the flag in the date range or assigned it, grouped once
    /// over the exposures and the assignments together: the exposed ones with their variant, group value, first
    /// exposure and flags (<c>included</c>: passes segment and property filters; <c>jumper</c>, <c>anonymous</c>,
    /// <c>assigned</c>: has an assignment of the flag at any time), and each member's first assignment in the date
    /// range as an <c>assigned_day</c> key (variant index × 65536 + day number) for the assignments per day.
    /// The join key <c>unit</c> is '' for members who were not exposed, so their events are not joined.
    /// </summary>
    private static ClickHouseSql Members(AnalysisScope scope)
    {
        var group = scope.GroupBy is { } g ? UserProperty(g) : ClickHouseSql.Raw("''");
        var assignedInRange = ClickHouseSql.Format($"NOT exposure AND time >= {scope.From} AND time <= {scope.To}");
        var variants = scope.Variants.ToArray();
        var assignedVariant = variants.Length == 0
            ? ClickHouseSql.Raw("toUInt64(0)")
            : ClickHouseSql.Format($"indexOf({variants}, argMinIf(variant, time, {assignedInRange}))");
        // The member's variant is called arm here: an alias named like the column would turn argMinIf(variant, ...) into a nested aggregate.
        return ClickHouseSql.Format($"""
            SELECT if(exposed, member, '') AS unit, argMinIf(variant, time, exposure) AS arm, minIf(time, exposure) AS first_exposure,
                   countIf(exposure) > 0 AND first_exposure >= {scope.From} AS exposed, {group} AS grp,
                   exposed AND {Included(scope)} AS included,
                   uniqUpToIf(1)(variant, exposure) > 1 AS jumper,
                   minIf(user_id = '', exposure) AS anonymous, countIf(NOT exposure) > 0 AS assigned,
                   {assignedVariant} AS assigned_variant,
                   if(countIf({assignedInRange}) > 0 AND assigned_variant > 0,
                      [toUInt64(assigned_variant) * 65536 + toUInt16(toDate(minIf(time, {assignedInRange})))], emptyArrayUInt64()) AS assigned_day
            FROM
            (
                SELECT {Unit} AS member, variant, time, user_id, user_properties, platform, os_name, toUInt8(1) AS exposure
                FROM exposures
                WHERE project_id = {scope.ProjectId} AND flag_key = {scope.FlagKey} AND time <= {scope.To}
                UNION ALL
                SELECT {Unit} AS member, variant, time, user_id, '' AS user_properties, '' AS platform, '' AS os_name, toUInt8(0) AS exposure
                FROM assignments
                WHERE project_id = {scope.ProjectId} AND flag_key = {scope.FlagKey}
            )
            GROUP BY member
            HAVING exposed OR notEmpty(assigned_day)
            """);
    }

    /// <summary>
    /// A user property of the user's first exposure as text, as the SDKs send it: a JSON string's value, a number,
    /// boolean or array as written (<c>31</c>, <c>true</c>, <c>["a","b"]</c>), and '' when missing or null.
    /// </summary>
    private static ClickHouseSql UserProperty(string property) => ClickHouseSql.Format($"""
        multiIf(startsWith(visitParamExtractRaw(argMinIf(user_properties, time, exposure), {property}), '"'), visitParamExtractString(argMinIf(user_properties, time, exposure), {property}),
                visitParamExtractRaw(argMinIf(user_properties, time, exposure), {property}) = 'null', '', visitParamExtractRaw(argMinIf(user_properties, time, exposure), {property}))
        """);

    /// <summary>The segment and property filters as one boolean over a user's grouped exposures.</summary>
    private static ClickHouseSql Included(AnalysisScope scope)
    {
        var conditions = new List<ClickHouseSql>();
        var testers = scope.Testers.ToArray();
        var isTester = testers.Length == 0 ? ClickHouseSql.Raw("0") : ClickHouseSql.Format($"has({testers}, member)");
        // Jumpers saw more than one variant: uniqUpTo(1) counts distinct variants by their 64-bit hash and stops at 2
        // (cheaper than min/max of the hash or of the strings; two variant names of one flag would have to collide).
        var jumperFree = ClickHouseSql.Raw("uniqUpToIf(1)(variant, exposure) <= 1");
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
                    $"member NOT IN (SELECT {Unit} FROM events WHERE project_id = {scope.ProjectId} AND time < {scope.NewUsersSince})"));
                break;
            case Segments.MobileWeb:
                conditions.Add(ClickHouseSql.Format($"lower(argMinIf(platform, time, exposure)) = 'web' AND match(argMinIf(os_name, time, exposure), {mobile})"));
                break;
            case Segments.DesktopWeb:
                conditions.Add(ClickHouseSql.Format($"lower(argMinIf(platform, time, exposure)) = 'web' AND NOT match(argMinIf(os_name, time, exposure), {mobile})"));
                break;
        }
        foreach (var filter in scope.Filters)
        {
            conditions.Add(PropertyFilterSql.Condition(filter, UserProperty(filter.Property)));
        }
        return conditions.Count == 0 ? ClickHouseSql.Raw("1") : ClickHouseSql.Raw("(" + string.Join(") AND (", conditions.Select(c => c.Text)) + ")");
    }

    /// <summary>
    /// The population (every exposed user, with the data-quality counts) and every metric's sufficient statistics
    /// per variant and group, and the first metric's events per variant and day, in one query: the exposures are
    /// grouped by user once, the events are grouped by user once (before the join, so the join is user to user),
    /// and the per-user figures are summed per variant, group and day of first exposure (sums are additive, so
    /// the C# side adds the days up).
    /// </summary>
    public async Task<AnalysisData> PopulationAndMetricsAsync(AnalysisScope scope, IReadOnlyList<MetricQuery> metrics, CancellationToken cancellationToken)
    {
        var eventTypes = metrics.Select(m => m.Definition.EventType).Distinct(StringComparer.Ordinal).ToArray();
        var lookback = metrics.Count == 0 ? TimeSpan.Zero : metrics.Max(m => m.CupedWindow ?? TimeSpan.Zero);
        var from = scope.From - lookback;

        // Per user and event type, an array of the user's events of that type (d0, d1, ...), one tuple per event:
        // (time, dedup key, received_at, that type's property values...). A metric only walks its own type's events.
        const int Time = 1, Key = 2, Received = 3, FirstValue = 4;
        var typeProperties = eventTypes.Select(t => metrics.Where(m => m.Definition.EventType == t && m.Definition.Property is not null)
            .Select(m => m.Definition.Property!).Distinct(StringComparer.Ordinal).ToList()).ToList();
        var eventArrays = new List<string>();
        var deduplicated = new List<string>();
        for (var i = 0; i < eventTypes.Length; i++)
        {
            var values = string.Concat(typeProperties[i].Select(p => ClickHouseSql.Format($", visitParamExtractFloat(event_properties, {p})").Text));
            eventArrays.Add($"groupArrayIf((time, cityHash64(event_type, user_id, device_id, insert_id), received_at{values}), "
                + ClickHouseSql.Format($"event_type = {eventTypes[i]}").Text + $") AS events{i}");
            // Duplicated inserts of an event (same sorting key, docs/ingest.md) count once, the newest received_at kept
            // as a merge or FINAL would: newest first, then the first of each key.
            deduplicated.Add($"arrayFilter((e, n) -> n = 1, arraySort(e -> -toInt64(tupleElement(e, {Received})), events{i}) AS newest{i}, "
                + $"arrayEnumerateUniq(arrayMap(e -> tupleElement(e, {Key}), newest{i}))) AS d{i}");
        }
        var perUser = new List<string>(deduplicated);
        var outer = new List<string>();
        for (var k = 0; k < metrics.Count; k++)
        {
            var m = metrics[k].Definition;
            var type = Array.IndexOf(eventTypes, m.EventType);
            var d = $"d{type}";
            var after = $"tupleElement(e, {Time}) >= first_exposure"
                + (m.ConversionWindowHours is { } hours ? $" AND tupleElement(e, {Time}) <= first_exposure + {hours * 3600}" : "");
            var window = (long)(metrics[k].CupedWindow ?? TimeSpan.Zero).TotalSeconds;
            var before = $"tupleElement(e, {Time}) < first_exposure AND tupleElement(e, {Time}) >= first_exposure - {window}";
            var v = m.Property is { } p ? $"tupleElement(e, {FirstValue + typeProperties[type].IndexOf(p)})" : "1";
            var cuped = metrics[k].CupedWindow is not null;
            var (y, x) = m.Kind switch
            {
                Postgres.Configuration.MetricKinds.UniqueConversions => ($"toFloat64(arrayExists(e -> {after}, {d}))", $"toFloat64(arrayExists(e -> {before}, {d}))"),
                Postgres.Configuration.MetricKinds.EventTotals => ($"toFloat64(arrayCount(e -> {after}, {d}))", $"toFloat64(arrayCount(e -> {before}, {d}))"),
                Postgres.Configuration.MetricKinds.PropertySum => ($"arraySum(e -> if({after}, {v}, 0), {d})", $"arraySum(e -> if({before}, {v}, 0), {d})"),
                _ => ($"if(c{k} > 0, arraySum(e -> if({after}, {v}, 0), {d}) / c{k}, 0)",
                      $"if(arrayCount(e -> {before}, {d}) > 0, arraySum(e -> if({before}, {v}, 0), {d}) / arrayCount(e -> {before}, {d}), 0)"),
            };
            var average = m.Kind == Postgres.Configuration.MetricKinds.PropertyAverage;
            if (average)
            {
                perUser.Add($"arrayCount(e -> {after}, {d}) AS c{k}");
            }
            perUser.Add($"{y} AS y{k}, {(cuped ? x : "toFloat64(0)")} AS x{k}");
            // Averages count only users who did the event; every other kind counts every included user (no events: zeros).
            var only = average ? $"included AND c{k} > 0" : "included";
            outer.Add($"countIf({only}), countIf(y{k} != 0 AND {only}), sumIf(y{k}, {only}), sumIf(y{k} * y{k}, {only}), "
                + $"sumIf(x{k}, {only}), sumIf(x{k} * x{k}, {only}), sumIf(x{k} * y{k}, {only})");
        }
        // The first metric's events by day (first_exposure >= From, so every one is inside the date range).
        var firstType = metrics.Count == 0 ? -1 : Array.IndexOf(eventTypes, metrics[0].Definition.EventType);
        perUser.Add(metrics.Count == 0
            ? "emptyArrayDate() AS days"
            : $"if(included, arrayMap(e -> toDate(tupleElement(e, {Time})), arrayFilter(e -> tupleElement(e, {Time}) >= first_exposure, d{firstType})), emptyArrayDate()) AS days");

        var metricColumns = ClickHouseSql.Raw(string.Concat(outer.Select(o => ",\n       " + o)));
        var userColumns = ClickHouseSql.Raw(string.Concat(perUser.Select(u => ",\n           " + u)));
        // Without metrics there are no events to read: an empty right side keeps the query's shape.
        var eventsSide = eventTypes.Length == 0
            ? ClickHouseSql.Raw("SELECT '' AS unit LIMIT 0")
            : ClickHouseSql.Format($"""
                SELECT {Unit} AS unit, {ClickHouseSql.Raw(string.Join(", ", eventArrays))}
                FROM events
                WHERE project_id = {scope.ProjectId} AND has({eventTypes}, event_type) AND time >= {from} AND time <= {scope.To}
                GROUP BY unit
                HAVING unit != ''
                """);
        // Members who were only assigned form a row of their own (arm '', no exposed users) that carries their
        // assignment days; it is not part of the population.
        var sql = ClickHouseSql.Format($"""
            SELECT arm, grp, toDate(first_exposure) AS day, countIf(included) AS users, countIf(exposed) AS all_users,
                   countIf(exposed AND jumper) AS jumpers, countIf(exposed AND anonymous) AS anonymous_users,
                   countIf(exposed AND NOT assigned) AS without_assignment,
                   tupleElement(sumMap(days, arrayMap(x -> toUInt64(1), days)) AS daily, 1), tupleElement(daily, 2),
                   tupleElement(sumMap(assigned_day, arrayMap(x -> toUInt64(1), assigned_day)) AS assigned_daily, 1), tupleElement(assigned_daily, 2)
                   {metricColumns}
            FROM
            (
                SELECT arm, grp, first_exposure, exposed, included, jumper, anonymous, assigned, assigned_day
                       {userColumns}
                FROM ({Members(scope)})
                ANY LEFT JOIN ({eventsSide}) USING unit
            )
            GROUP BY arm, grp, day
            """);
        var rows = await clickHouse.QueryAsync(sql, row =>
        {
            var variant = row.GetString(0);
            var group = row.GetString(1);
            var day = row.GetDate(2);
            var population = new PopulationRow(variant, group, day, row.GetInt64(3), row.GetInt64(4), row.GetInt64(5), row.GetInt64(6), row.GetInt64(7));
            var days = row.GetArray<DateOnly>(8);
            var counts = row.GetArray<long>(9);
            var assignedKeys = row.GetArray<long>(10);
            var assignedCounts = row.GetArray<long>(11);
            var sums = new MetricSums[metrics.Count];
            for (var k = 0; k < metrics.Count; k++)
            {
                var o = 12 + k * 7;
                sums[k] = new MetricSums(row.GetInt64(o), row.GetInt64(o + 1), row.GetDouble(o + 2), row.GetDouble(o + 3),
                    row.GetDouble(o + 4), row.GetDouble(o + 5), row.GetDouble(o + 6));
            }
            var assigned = assignedKeys.Select((key, i) => new DailyCount(scope.Variants[(int)(key / 65536) - 1],
                DateOnly.FromDayNumber(UnixEpochDay + (int)(key % 65536)), assignedCounts[i])).ToList();
            return (Population: population, Sums: sums, Daily: days.Select((d, i) => new DailyCount(variant, d, counts[i])).ToList(), Assigned: assigned);
        }, cancellationToken);

        // The row of members who were only assigned has no exposed users: it adds assignment days, nothing else.
        var exposed = rows.Where(r => r.Population.AllUsers > 0).ToList();
        var metricRows = exposed.GroupBy(r => (r.Population.Variant, r.Population.Group))
            .Select(g => new MetricRow(g.Key.Variant, g.Key.Group, Enumerable.Range(0, metrics.Count).Select(k => g.Select(r => r.Sums[k]).Aggregate(MetricSums.Add)).ToList()))
            .ToList();
        static List<DailyCount> PerVariantAndDay(IEnumerable<DailyCount> counts) =>
            counts.GroupBy(c => (c.Variant, c.Day)).Select(g => new DailyCount(g.Key.Variant, g.Key.Day, g.Sum(c => c.Count))).ToList();
        return new AnalysisData(exposed.Select(r => r.Population).ToList(), metricRows,
            PerVariantAndDay(exposed.SelectMany(r => r.Daily)), PerVariantAndDay(rows.SelectMany(r => r.Assigned)));
    }

    private static readonly int UnixEpochDay = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
}
