using Experiments.TestInfrastructure.Servers;

namespace Experiments.ClickHouse.Tests.Fixtures;

/// <summary>
/// The real ClickHouse started by deploy/local/servers.sh, with a fresh database for one test class
/// (dropped afterwards). <see cref="Client"/> uses that database by default.
/// </summary>
public sealed class ClickHouseDatabaseFixture : IAsyncLifetime
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromMinutes(5) };

    public string Database { get; } = UniqueNames.Database("ch");

    public ClickHouseClient Client { get; private set; } = null!;

    /// <summary>The client on the server's default database (for server-wide statements).</summary>
    public ClickHouseClient ServerClient { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var servers = await LocalServers.EnsureStartedAsync();
        ServerClient = new ClickHouseClient(_http, servers.ClickHouse);
        await ServerClient.ExecuteAsync(ClickHouseSql.Format($"CREATE DATABASE IF NOT EXISTS {ClickHouseSql.Identifier(Database)}"));
        Client = ServerClient.WithDatabase(Database);
    }

    public async Task DisposeAsync()
    {
        if (ServerClient is not null)
        {
            await ServerClient.ExecuteAsync(ClickHouseSql.Format($"DROP DATABASE IF EXISTS {ClickHouseSql.Identifier(Database)}"));
        }

        _http.Dispose();
    }
}
