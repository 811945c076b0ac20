using System.Net;
using Experiments.ClickHouse.Tests.Fixtures;
using Experiments.TestInfrastructure.Networking;

namespace Experiments.ClickHouse.Tests.Errors;

/// <summary>Errors carry ClickHouse's own code and text, and tell transient from permanent.</summary>
public sealed class ClickHouseErrorTests(ClickHouseDatabaseFixture clickHouse) : IClassFixture<ClickHouseDatabaseFixture>
{
    [Theory]
    [InlineData("Code: 60, e.displayText() = DB::Exception: Table default.t doesn't exist., e.what() = DB::Exception\n", null)]
    [InlineData("Code: 60, e.displayText() = DB::Exception: Table default.t doesn't exist. (version 20.3.1.1)", null)]
    [InlineData("Code: 60. DB::Exception: Table default.t doesn't exist. (UNKNOWN_TABLE) (version 23.8.1.1 (official build))\n", "UNKNOWN_TABLE")]
    public void Parses_the_old_and_new_error_formats(string body, string? name)
    {
        var error = ClickHouseException.FromResponse(HttpStatusCode.NotFound, body);

        Assert.Equal(60, error.Code);
        Assert.Equal(name, error.ErrorName);
        Assert.StartsWith("DB::Exception: Table default.t doesn't exist.", error.ServerMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("e.what()", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("version", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public void A_5xx_without_a_code_or_an_overload_code_is_transient()
    {
        Assert.True(ClickHouseException.FromResponse(HttpStatusCode.BadGateway, "<html>bad gateway</html>").IsTransient);
        Assert.True(ClickHouseException.FromResponse(HttpStatusCode.InternalServerError,
            "Code: 202, e.displayText() = DB::Exception: Too many simultaneous queries. Maximum: 100, e.what() = DB::Exception").IsTransient);
        Assert.False(ClickHouseException.FromResponse(HttpStatusCode.InternalServerError,
            "Code: 62, e.displayText() = DB::Exception: Syntax error, e.what() = DB::Exception").IsTransient);
    }

    [Fact]
    public async Task An_unknown_table_reports_code_60_and_the_servers_message()
    {
        var error = await Assert.ThrowsAsync<ClickHouseException>(() =>
            clickHouse.Client.QueryAsync(ClickHouseSql.Raw("SELECT count() FROM no_such_table"), row => row.GetInt64(0)));

        Assert.Equal(60, error.Code);
        Assert.Contains("no_such_table", error.Message, StringComparison.Ordinal);
        Assert.Contains("exist", error.ServerMessage, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task A_syntax_error_reports_code_62()
    {
        var error = await Assert.ThrowsAsync<ClickHouseException>(() =>
            clickHouse.Client.ExecuteAsync(ClickHouseSql.Raw("SELEC 1")));

        Assert.Equal(62, error.Code);
        Assert.Contains("Syntax error", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failure_midway_through_a_result_is_an_error_not_a_truncated_body()
    {
        var error = await Assert.ThrowsAsync<ClickHouseException>(() => clickHouse.Client.QueryAsync(
            ClickHouseSql.Raw("SELECT throwIf(number = 100000) FROM system.numbers LIMIT 200000"), row => row.GetInt64(0)));

        Assert.Equal(395, error.Code);
    }

    [Fact]
    public async Task Inserting_into_a_missing_table_reports_the_server_error()
    {
        var error = await Assert.ThrowsAsync<ClickHouseException>(() => clickHouse.Client.InsertAsync(
            "missing_table", ["x"], Enumerable.Range(0, 100_000), static (w, i) => w.WriteInt32(i)));

        Assert.Equal(60, error.Code);
    }

    [Fact]
    public async Task An_unreachable_server_is_transient_and_ping_says_false()
    {
        using var http = new HttpClient();
        var client = new ClickHouseClient(http, $"Host=127.0.0.1;Port={FreePort.Next()}");

        var error = await Assert.ThrowsAsync<ClickHouseException>(() => client.ExecuteAsync(ClickHouseSql.Raw("SELECT 1")));

        Assert.True(error.IsTransient);
        Assert.Null(error.Code);
        Assert.False(await client.PingAsync());
        Assert.True(await clickHouse.Client.PingAsync());
    }

    [Fact]
    public async Task A_wrong_user_is_a_permanent_error()
    {
        using var http = new HttpClient();
        var settings = clickHouse.Client.Settings with { Username = "nobody" };

        var error = await Assert.ThrowsAsync<ClickHouseException>(() =>
            new ClickHouseClient(http, settings).ExecuteAsync(ClickHouseSql.Raw("SELECT 1")));

        Assert.Equal(192, error.Code);
        Assert.False(error.IsTransient);
    }
}
