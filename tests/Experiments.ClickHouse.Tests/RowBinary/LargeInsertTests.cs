using System.Diagnostics;
using Experiments.ClickHouse.Tests.Fixtures;
using Xunit.Abstractions;

namespace Experiments.ClickHouse.Tests.RowBinary;

/// <summary>
/// A million rows in one streamed insert, and the raw RowBinary insert rate on this machine (printed:
/// run with <c>--logger "console;verbosity=detailed"</c>); the ingest service compares against it.
/// </summary>
public sealed class LargeInsertTests(ClickHouseDatabaseFixture clickHouse, ITestOutputHelper output)
    : IClassFixture<ClickHouseDatabaseFixture>
{
    private const int RowCount = 1_000_000;
    private static readonly string[] Variants = ["control", "treatment-a", "treatment-b"];
    private static readonly string[] Columns = ["event_id", "experiment_id", "user_id", "variant", "event_type", "value", "ts"];

    [Fact]
    public async Task A_million_event_rows_are_inserted_and_counted_exactly()
    {
        await clickHouse.Client.ExecuteAsync(ClickHouseSql.Raw("""
            CREATE TABLE events (
                event_id UUID, experiment_id UInt64, user_id String, variant String, event_type String,
                value Float64, ts DateTime('UTC')
            ) ENGINE = MergeTree ORDER BY (experiment_id, user_id)
            """));
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var userIds = Enumerable.Range(0, 50_000).Select(i => $"user-{i:D6}").ToArray();

        var stopwatch = Stopwatch.StartNew();
        var written = await clickHouse.Client.InsertAsync("events", Columns, async (w, ct) =>
        {
            for (var i = 0; i < RowCount; i++)
            {
                w.WriteUuid(Guid.NewGuid());
                w.WriteUInt64((ulong)(i % 7));
                w.WriteString(userIds[i % userIds.Length]);
                w.WriteString(Variants[i % Variants.Length]);
                w.WriteString(i % 10 == 0 ? "purchase" : "exposure");
                w.WriteFloat64(i * 0.01);
                w.WriteDateTime(start.AddSeconds(i));
                await w.EndRowAsync(ct);
            }
        });
        stopwatch.Stop();

        var total = await clickHouse.Client.QueryScalarAsync<ulong>(ClickHouseSql.Raw("SELECT count() FROM events"));
        var purchases = await clickHouse.Client.QueryScalarAsync<ulong>(
            ClickHouseSql.Format($"SELECT count() FROM events WHERE event_type = {"purchase"}"));
        var users = await clickHouse.Client.QueryScalarAsync<ulong>(ClickHouseSql.Raw("SELECT uniqExact(user_id) FROM events"));

        Assert.Equal(RowCount, written);
        Assert.Equal((ulong)RowCount, total);
        Assert.Equal((ulong)RowCount / 10, purchases);
        Assert.Equal((ulong)userIds.Length, users);
        output.WriteLine(
            $"RowBinary insert: {RowCount:N0} rows (7 columns) in {stopwatch.Elapsed.TotalSeconds:F2} s = {RowCount / stopwatch.Elapsed.TotalSeconds:N0} rows/s");
    }
}
