using System.Data.Common;
using System.Globalization;

namespace Experiments.ClickHouse;

/// <summary>
/// Where and as whom to reach ClickHouse's HTTP interface. Parsed from the connection string
/// shape ClickHouse.Client also reads (<c>Host=..;Port=..;Username=..;Password=..;Database=..</c>)
/// or from a URL (<c>http://user:password@host:8123/?database=db</c>).
/// </summary>
public sealed record ClickHouseSettings
{
    public const int DefaultPort = 8123;

    public required Uri Endpoint { get; init; }

    public string Username { get; init; } = "default";

    public string Password { get; init; } = "";

    public string Database { get; init; } = "default";

    public static ClickHouseSettings Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var text = connectionString.Trim();
        return text.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            ? ParseUrl(new Uri(text))
            : ParseKeyValues(text);
    }

    /// <summary>The same server, another database.</summary>
    public ClickHouseSettings WithDatabase(string database) => this with { Database = database };

    public override string ToString() =>
        $"Host={Endpoint.Host};Port={Endpoint.Port};Username={Username};Password=***;Database={Database}";

    private static ClickHouseSettings ParseKeyValues(string connectionString)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
        string? Get(params string[] keys) =>
            keys.Select(key => builder.TryGetValue(key, out var value) ? Convert.ToString(value, CultureInfo.InvariantCulture) : null)
                .FirstOrDefault(value => value is not null);

        var host = Get("Host", "Server") ?? "127.0.0.1";
        var port = Get("Port") is { } portText ? int.Parse(portText, CultureInfo.InvariantCulture) : DefaultPort;
        var scheme = Get("Protocol") is { } protocol && protocol.Equals("https", StringComparison.OrdinalIgnoreCase) ? "https" : "http";
        return new ClickHouseSettings
        {
            Endpoint = new UriBuilder(scheme, host, port).Uri,
            Username = NonEmpty(Get("Username", "User", "User ID", "UserId")) ?? "default",
            Password = Get("Password") ?? "",
            Database = NonEmpty(Get("Database")) ?? "default",
        };
    }

    private static ClickHouseSettings ParseUrl(Uri url)
    {
        var user = url.UserInfo.Split(':', 2);
        var database = url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .Where(pair => pair.Length == 2 && pair[0] == "database")
            .Select(pair => Uri.UnescapeDataString(pair[1]))
            .FirstOrDefault();
        return new ClickHouseSettings
        {
            Endpoint = new UriBuilder(url.Scheme, url.Host, url.IsDefaultPort ? DefaultPort : url.Port).Uri,
            Username = NonEmpty(Uri.UnescapeDataString(user[0])) ?? "default",
            Password = user.Length > 1 ? Uri.UnescapeDataString(user[1]) : "",
            Database = NonEmpty(database) ?? "default",
        };
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
