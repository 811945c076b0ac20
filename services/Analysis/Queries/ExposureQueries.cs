using Experiments.ClickHouse;

namespace Experiments.Analysis.Queries;

/// <summary>Per variant: distinct exposed users, and how many of them converted.</summary>
public sealed record VariantCounts(long Users, long Conversions);

/// <summary>
/// Aggregates inside ClickHouse to sufficient statistics, one row per variant: never rows to C#.
/// A user (user id, else device id) counts once, in the variant of their first exposure; they convert
/// when they did the metric's event at or after that first exposure. Duplicated inserts change nothing:
/// both sides reduce to distinct users.
/// </summary>
public sealed class ExposureQueries(ClickHouseClient clickHouse)
{
    public async Task<IReadOnlyDictionary<string, VariantCounts>> BinaryConversionsAsync(
        string projectId, string flagKey, string eventType, CancellationToken cancellationToken)
    {
        var sql = ClickHouseSql.Format($"""
            SELECT variant, count() AS users, countIf(last_event >= first_exposure) AS conversions
            FROM
            (
                SELECT if(user_id != '', user_id, device_id) AS unit, argMin(variant, time) AS variant, min(time) AS first_exposure
                FROM exposures
                WHERE project_id = {projectId} AND flag_key = {flagKey}
                GROUP BY unit
            )
            ANY LEFT JOIN
            (
                SELECT if(user_id != '', user_id, device_id) AS unit, max(time) AS last_event
                FROM events
                WHERE project_id = {projectId} AND event_type = {eventType}
                GROUP BY unit
            ) USING unit
            GROUP BY variant
            """);
        var rows = await clickHouse.QueryAsync(sql, row => (Variant: row.GetString(0), Counts: new VariantCounts(row.GetInt64(1), row.GetInt64(2))),
            cancellationToken);
        return rows.ToDictionary(r => r.Variant, r => r.Counts);
    }
}
