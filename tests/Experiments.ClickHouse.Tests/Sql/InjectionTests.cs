using Experiments.ClickHouse.Tests.Fixtures;

namespace Experiments.ClickHouse.Tests.Sql;

/// <summary>Hostile values go through Format as data: they come back unchanged and change no statement.</summary>
public sealed class InjectionTests(ClickHouseDatabaseFixture clickHouse) : IClassFixture<ClickHouseDatabaseFixture>
{
    public static TheoryData<string> Hostile() => new()
    {
        "'",
        "''",
        "\\",
        "\\'",
        "'\\",
        "'; DROP TABLE victims; --",
        "x' OR '1'='1",
        "\\'; DROP TABLE victims; --",
        "') FORMAT TabSeparated; SELECT ('",
        "a\0b",
        "\0",
        "line\nbreak\r\ncrlf\ttab",
        "\u0001\u0007\u0008\u000b\u000c\u001b\u001f\u007f",
        "é 😀 漢字 עברית",
        "`backquoted`",
        "{x:String}",
        "$1 ? %s /* comment */ -- dash",
        "\\x41\\0\\n",
        "",
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task A_hostile_string_round_trips_as_a_literal(string value)
    {
        var echoed = await clickHouse.Client.QueryScalarAsync<string>(ClickHouseSql.Format($"SELECT {value} AS v"));

        Assert.Equal(value, echoed);
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task A_hostile_string_matches_itself_stored_by_RowBinary_and_nothing_else(string value)
    {
        await clickHouse.Client.ExecuteAsync(ClickHouseSql.Raw("CREATE TABLE IF NOT EXISTS victims (id UInt32, s String) ENGINE = Memory"));
        var id = (uint)Random.Shared.Next();
        await clickHouse.Client.InsertAsync("victims", ["id", "s"], [value], (w, s) =>
        {
            w.WriteUInt32(id);
            w.WriteString(s);
        });

        var matches = await clickHouse.Client.QueryScalarAsync<long>(
            ClickHouseSql.Format($"SELECT count() FROM victims WHERE id = {id} AND s = {value}"));
        var lengths = await clickHouse.Client.QueryScalarAsync<ulong>(
            ClickHouseSql.Format($"SELECT length(s) FROM victims WHERE id = {id}"));

        Assert.Equal(1, matches);
        Assert.Equal((ulong)System.Text.Encoding.UTF8.GetByteCount(value), lengths);
    }

    [Fact]
    public async Task Hostile_strings_in_an_array_literal_round_trip()
    {
        var values = ((IEnumerable<object[]>)Hostile()).Select(row => (string)row[0]).ToArray();

        var echoed = await clickHouse.Client.QueryAsync(
            ClickHouseSql.Format($"SELECT arrayJoin({values}) AS v"), row => row.GetString(0));

        Assert.Equal(values, echoed);
    }
}
