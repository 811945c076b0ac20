namespace Experiments.ClickHouse.Tests.Sql;

/// <summary>How values are rendered as SQL literals (no server needed).</summary>
public sealed class ClickHouseLiteralTests
{
    [Theory]
    [InlineData("plain", "'plain'")]
    [InlineData("it's", @"'it\'s'")]
    [InlineData(@"back\slash", @"'back\\slash'")]
    [InlineData("a\0b", @"'a\0b'")]
    [InlineData("line\nbreak\ttab\rcr", @"'line\nbreak\ttab\rcr'")]
    [InlineData("bell\u0007del\u007f", @"'bell\x07del\x7F'")]
    [InlineData("é😀", "'é😀'")]
    public void Strings_are_quoted_and_escaped(string value, string expected) =>
        Assert.Equal(expected, ClickHouseSql.Literal(value));

    [Fact]
    public void Numbers_are_invariant()
    {
        Assert.Equal("-42", ClickHouseSql.Literal(-42));
        Assert.Equal("18446744073709551615", ClickHouseSql.Literal(ulong.MaxValue));
        Assert.Equal("1.5", ClickHouseSql.Literal(1.5));
        Assert.Equal("0.1", ClickHouseSql.Literal(0.1f));
        Assert.Equal("123.45", ClickHouseSql.Literal(123.45m));
        Assert.Equal("nan", ClickHouseSql.Literal(double.NaN));
        Assert.Equal("-inf", ClickHouseSql.Literal(double.NegativeInfinity));
        Assert.Equal("1", ClickHouseSql.Literal(true));
    }

    [Fact]
    public void Times_uuids_arrays_and_null_have_their_functions()
    {
        Assert.Equal("toDateTime('2024-01-02 03:04:05', 'UTC')", ClickHouseSql.Literal(new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc)));
        Assert.Equal("toDateTime('2024-01-02 01:04:05', 'UTC')", ClickHouseSql.Literal(new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.FromHours(2))));
        Assert.Equal("toDate('2024-01-02')", ClickHouseSql.Literal(new DateOnly(2024, 1, 2)));
        Assert.Equal("toUUID('01234567-89ab-cdef-0123-456789abcdef')", ClickHouseSql.Literal(Guid.Parse("01234567-89ab-cdef-0123-456789abcdef")));
        Assert.Equal("[1, 2, 3]", ClickHouseSql.Literal(new[] { 1, 2, 3 }));
        Assert.Equal(@"['a', 'b\'c']", ClickHouseSql.Literal(new List<string> { "a", "b'c" }));
        Assert.Equal("NULL", ClickHouseSql.Literal(null));
    }

    [Fact]
    public void Format_escapes_every_hole_and_keeps_identifiers_and_fragments()
    {
        var user = "x' OR '1'='1";
        var limit = 10;
        var filter = ClickHouseSql.Format($"AND variant = {"b"}");

        var sql = ClickHouseSql.Format($"SELECT count() FROM {ClickHouseSql.Identifier("db.events")} WHERE user_id = {user} {filter} LIMIT {limit}");

        Assert.Equal(@"SELECT count() FROM `db`.`events` WHERE user_id = 'x\' OR \'1\'=\'1' AND variant = 'b' LIMIT 10", sql.Text);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1abc")]
    [InlineData("a b")]
    [InlineData("a`b")]
    [InlineData("a.b.c")]
    [InlineData("t; DROP TABLE x")]
    public void Identifiers_are_validated(string name) =>
        Assert.ThrowsAny<ArgumentException>(() => ClickHouseSql.Identifier(name));

    [Fact]
    public void Format_strings_and_unknown_types_are_refused()
    {
        Assert.Throws<FormatException>(() => ClickHouseSql.Format($"SELECT {1.5:F1}"));
        Assert.Throws<ArgumentException>(() => ClickHouseSql.Format($"SELECT {new object()}"));
        Assert.Throws<ArgumentException>(() => ClickHouseSql.Format($"SELECT {DayOfWeek.Monday}"));
    }
}
