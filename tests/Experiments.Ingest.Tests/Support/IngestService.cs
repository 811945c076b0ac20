using System.Net.Http.Headers;
using Experiments.ClickHouse;
using Experiments.Postgres.Configuration;
using Experiments.TestInfrastructure.Networking;
using Experiments.TestInfrastructure.Platform;
using Experiments.TestInfrastructure.Processes;
using Npgsql;

namespace Experiments.Ingest.Tests.Support;

/// <summary>
/// The ingest service as a child process over the given servers, with a fresh PostgreSQL database holding the
/// gateway's key table (an SDK key and an admin key for <see cref="ProjectId"/>) and a fresh ClickHouse database.
/// </summary>
public sealed class IngestService : IAsyncDisposable
{
    public const string ProjectId = "ingest-tests";
    public const string SdkKey = "ingest-tests-sdk-key";
    public const string AdminKey = "ingest-tests-admin-key";

    private readonly PostgresDatabase _postgres;

    private IngestService(ServerConnections servers, PostgresDatabase postgres, string clickHouseDatabase, IReadOnlyDictionary<string, string>? settings)
    {
        _postgres = postgres;
        Servers = servers;
        ClickHouseDatabase = clickHouseDatabase;
        Url = $"http://127.0.0.1:{FreePort.Next()}";
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__postgres"] = postgres.ConnectionString,
            ["ConnectionStrings__rabbitmq"] = servers.RabbitMq,
            ["ConnectionStrings__clickhouse"] = servers.ClickHouseFor(clickHouseDatabase),
            ["Kestrel__Endpoints__Http__Url"] = Url,
            ["OTEL_SERVICE_NAME"] = "ingest",
            // Its queues (named for the fresh ClickHouse database) go away 5 minutes after the last test used them; long
            // enough to outlive a SIGKILL and restart of the service or a broker restart.
            ["Ingest__QueueExpiry"] = LaunchedPlatform.QueueExpiry,
        };
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            if (value.Length == 0)
            {
                environment.Remove(name); // "" removes a default setting
            }
            else
            {
                environment[name] = value;
            }
        }
        Process = new ServiceProcess("Ingest", environment);
        ClickHouse = new ClickHouseClient(new HttpClient { Timeout = TimeSpan.FromSeconds(60) }, servers.ClickHouseFor(clickHouseDatabase));
    }

    public ServerConnections Servers { get; }

    public string ClickHouseDatabase { get; }

    /// <summary>The service's event queue: named for the ClickHouse database it fills.</summary>
    public string EventsQueue => $"ingest-events-{ClickHouseDatabase}";

    /// <summary>The service's assignment queue: named for the ClickHouse database it fills.</summary>
    public string AssignmentsQueue => $"ingest-assignments-{ClickHouseDatabase}";

    public string Url { get; }

    public ServiceProcess Process { get; }

    /// <summary>The service's ClickHouse database, to check what arrived.</summary>
    public ClickHouseClient ClickHouse { get; }

    public static async Task<IngestService> StartAsync(ServerConnections servers, IReadOnlyDictionary<string, string>? settings = null)
    {
        var postgres = await PostgresDatabase.CreateAsync("ingest");
        await using (var connection = new NpgsqlConnection(postgres.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("""
                CREATE SCHEMA gateway;
                CREATE TABLE gateway.api_keys (key_hash text PRIMARY KEY, project_id text NOT NULL, kind text NOT NULL, revoked_at timestamptz);
                INSERT INTO gateway.api_keys (key_hash, project_id, kind) VALUES (@sdk, @project, 'sdk'), (@admin, @project, 'admin');
                """, connection);
            command.Parameters.AddWithValue("sdk", ApiKeyHasher.Hash(SdkKey));
            command.Parameters.AddWithValue("admin", ApiKeyHasher.Hash(AdminKey));
            command.Parameters.AddWithValue("project", ProjectId);
            await command.ExecuteNonQueryAsync();
        }
        var service = new IngestService(servers, postgres, UniqueNames.Database("ingest"), settings);
        await service.StartProcessAsync();
        return service;
    }

    public async Task StartProcessAsync()
    {
        Process.Start();
        await Process.WaitUntilAnswersAsync($"{Url}/alive", TimeSpan.FromSeconds(90));
    }

    /// <summary>An HTTP client for the service with the SDK key (or none) in <c>Authorization: Api-Key</c>.</summary>
    public HttpClient Client(string? key = SdkKey)
    {
        var client = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Api-Key", key);
        }
        return client;
    }

    /// <summary>Distinct insert ids of <paramref name="table"/> whose insert id starts with <paramref name="prefix"/> (the dedup rule).</summary>
    public async Task<long> DistinctAsync(string table, string prefix)
        => await ClickHouse.QueryScalarAsync<long>(ClickHouseSql.Format(
            $"SELECT uniqExact(insert_id) FROM {ClickHouseSql.Identifier(table)} WHERE project_id = {ProjectId} AND startsWith(insert_id, {prefix})"));

    /// <summary>Rows after ReplacingMergeTree's folding (<c>FINAL</c>): what is stored once per insert id.</summary>
    public async Task<long> FinalRowsAsync(string table, string prefix)
        => await ClickHouse.QueryScalarAsync<long>(ClickHouseSql.Format(
            $"SELECT count() FROM {ClickHouseSql.Identifier(table)} FINAL WHERE project_id = {ProjectId} AND startsWith(insert_id, {prefix})"));

    /// <summary>Rows as inserted, redeliveries included (before any merge folded them).</summary>
    public async Task<long> RawRowsAsync(string table, string prefix)
        => await ClickHouse.QueryScalarAsync<long>(ClickHouseSql.Format(
            $"SELECT count() FROM {ClickHouseSql.Identifier(table)} WHERE project_id = {ProjectId} AND startsWith(insert_id, {prefix})"));

    /// <summary>Waits until <paramref name="expected"/> distinct insert ids with the prefix are visible (or the timeout).</summary>
    public async Task<long> WaitForDistinctAsync(string table, string prefix, long expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long seen = -1;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                seen = await DistinctAsync(table, prefix);
                if (seen >= expected)
                {
                    return seen;
                }
            }
            catch (Exception ex) when (ex is ClickHouseException or HttpRequestException)
            {
                // ClickHouse restarting
            }
            await Task.Delay(250);
        }
        return seen;
    }

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();
        try
        {
            await ClickHouse.WithDatabase("default").ExecuteAsync(ClickHouseSql.Format($"DROP DATABASE IF EXISTS {ClickHouseSql.Identifier(ClickHouseDatabase)}"));
        }
        catch (Exception ex) when (ex is ClickHouseException or HttpRequestException)
        {
            // dedicated servers may already be gone
        }
        await _postgres.DisposeAsync();
    }
}
