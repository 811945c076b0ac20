using System.Globalization;
using Experiments.TestInfrastructure.Networking;

namespace Experiments.TestInfrastructure.Servers;

/// <summary>
/// A second RabbitMQ and ClickHouse of this test's own (<c>servers.sh</c> with another state folder and free ports),
/// for fault tests that stop and restart servers: the shared servers, which other test assemblies use at the same
/// time, are never touched. PostgreSQL stays the shared one. Disposing stops them and deletes their state.
/// </summary>
public sealed class DedicatedServers : IAsyncDisposable
{
    public const string RabbitMq = "rabbitmq";
    public const string ClickHouse = "clickhouse";

    private readonly Dictionary<string, string?> _environment;
    private readonly string _stateDirectory;

    private DedicatedServers(string stateDirectory, Dictionary<string, string?> environment, ServerConnections connections)
    {
        _stateDirectory = stateDirectory;
        _environment = environment;
        Connections = connections;
    }

    /// <summary>PostgreSQL: the shared server; RabbitMQ and ClickHouse: this instance's own.</summary>
    public ServerConnections Connections { get; }

    public static async Task<DedicatedServers> StartAsync(string name)
    {
        var shared = await LocalServers.EnsureStartedAsync();
        var stateDirectory = Path.Combine(Path.GetTempPath(), $"experiments-{name}-{Guid.NewGuid():N}"[..(13 + name.Length + 8)]);
        string Port() => FreePort.Next().ToString(CultureInfo.InvariantCulture);
        var environment = new Dictionary<string, string?>
        {
            ["EXPERIMENTS_STATE_DIR"] = stateDirectory,
            ["EXPERIMENTS_RABBITMQ_PORT"] = Port(),
            ["EXPERIMENTS_RABBITMQ_DIST_PORT"] = Port(),
            ["EXPERIMENTS_EPMD_PORT"] = Port(),
            ["EXPERIMENTS_CLICKHOUSE_HTTP_PORT"] = Port(),
            ["EXPERIMENTS_CLICKHOUSE_TCP_PORT"] = Port(),
            ["EXPERIMENTS_CLICKHOUSE_INTERSERVER_PORT"] = Port(),
            // Never the user's or CI's servers: these two are ours.
            ["ConnectionStrings__rabbitmq"] = null,
            ["ConnectionStrings__clickhouse"] = null,
            ["ConnectionStrings__postgres"] = shared.Postgres,
        };
        var servers = new DedicatedServers(stateDirectory, environment, shared with
        {
            RabbitMq = $"amqp://guest:guest@127.0.0.1:{environment["EXPERIMENTS_RABBITMQ_PORT"]}/",
            ClickHouse = $"Host=127.0.0.1;Port={environment["EXPERIMENTS_CLICKHOUSE_HTTP_PORT"]};Username=default;Password=;Database=default",
        });
        try
        {
            await servers.StartAsync(RabbitMq, ClickHouse);
        }
        catch
        {
            await servers.DisposeAsync();
            throw;
        }
        return servers;
    }

    /// <summary>Starts the named servers (<see cref="RabbitMq"/>, <see cref="ClickHouse"/>) and waits until they answer.</summary>
    public Task StartAsync(params string[] servers) => LocalServers.RunScriptAsync("start", _environment, servers);

    /// <summary>Stops the named servers (a clean shutdown, then signals for what is left).</summary>
    public Task StopAsync(params string[] servers) => LocalServers.RunScriptAsync("stop", _environment, servers);

    public async Task RestartAsync(params string[] servers)
    {
        await StopAsync(servers);
        await StartAsync(servers);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(RabbitMq, ClickHouse);
        }
        finally
        {
            try
            {
                Directory.Delete(_stateDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A server's leftover file; the folder is in the temp directory.
            }
        }
    }
}
