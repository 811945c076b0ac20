using System.Net.Http.Headers;
using System.Text.Json;
using Experiments.Contracts.Assignment.V1;
using Experiments.Contracts.Grpc;
using Experiments.Postgres;
using Experiments.Postgres.Configuration;
using Experiments.TestInfrastructure.Networking;
using Experiments.TestInfrastructure.Processes;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Experiments.Assignment.Tests.Support;

/// <summary>
/// A fresh database with the gateway's schema (its migrations, applied from services/Gateway/Migrations) and a
/// project with an SDK key, and assignment services run as real processes over the real PostgreSQL and RabbitMQ.
/// Configuration is written as the gateway stores it; the services' periodic refresh (1 s here) picks changes up.
/// </summary>
public sealed class AssignmentPlatform : IAsyncLifetime
{
    public const string Project = "assign";
    public const string SdkKey = "assign-sdk-key";
    public const string AdminKey = "assign-admin-key";

    private PostgresDatabase? _database;
    private ServerConnections? _servers;
    private readonly List<ServiceProcess> _services = [];

    public string ConnectionString => _database!.ConnectionString;

    public ServerConnections Servers => _servers!;

    public async Task InitializeAsync()
    {
        _servers = await LocalServers.EnsureStartedAsync();
        _database = await PostgresDatabase.CreateAsync("assign");
        var migrations = Directory.GetFiles(RepositoryRoot.Combine("services", "Gateway", "Migrations"), "*.sql")
            .Select(path => (Path: path, Name: Path.GetFileNameWithoutExtension(path)))
            .Select(f => new MigrationScript(int.Parse(f.Name[..4], System.Globalization.CultureInfo.InvariantCulture), f.Name[5..], File.ReadAllText(f.Path)))
            .OrderBy(m => m.Version).ToList();
        await new MigrationRunner(ConnectionString, "gateway", migrations, NullLogger<MigrationRunner>.Instance).ApplyAsync(CancellationToken.None);
        await ExecuteAsync("""
            INSERT INTO gateway.projects (id, name) VALUES (@p, @p);
            INSERT INTO gateway.api_keys (key_hash, project_id, kind) VALUES (@k, @p, 'sdk');
            """, ("p", Project), ("k", ApiKeyHasher.Hash(SdkKey)));
    }

    /// <summary>
    /// Starts an assignment service process and waits until it is healthy; returns its HTTP and gRPC base URLs.
    /// <paramref name="postgres"/> replaces the database's connection string (e.g. through a proxy that a test cuts);
    /// <paramref name="refreshInterval"/> the periodic refresh (1 s by default here); <paramref name="settings"/> more
    /// configuration or replacements (environment variables, e.g. <c>Assignment__RecorderCapacity</c>, <c>ConnectionStrings__rabbitmq</c>).
    /// </summary>
    public async Task<(ServiceProcess Process, Uri Http, Uri Grpc)> StartAssignmentAsync(string? postgres = null, TimeSpan? refreshInterval = null,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        var http = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var grpc = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__postgres"] = postgres ?? ConnectionString,
            ["ConnectionStrings__rabbitmq"] = _servers!.RabbitMq,
            ["Kestrel__Endpoints__Http__Url"] = http.ToString(),
            ["Kestrel__Endpoints__Grpc__Url"] = grpc.ToString(),
            ["Assignment__RefreshInterval"] = (refreshInterval ?? TimeSpan.FromSeconds(1)).ToString("c", System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }
        var service = new ServiceProcess("Assignment", environment);
        service.Start();
        _services.Add(service);
        await service.WaitUntilAnswersAsync(new Uri(http, "/health").ToString(), TimeSpan.FromSeconds(60));
        return (service, http, grpc);
    }

    /// <summary>
    /// Starts the real gateway as a process over the same database and RabbitMQ (its admin key
    /// <see cref="AdminKey"/> seeded for <see cref="Project"/>), so that a test can change an experiment through the
    /// admin API and the gateway's own <c>ExperimentChanged</c> event reaches the assignment services.
    /// Returns an admin client.
    /// </summary>
    public async Task<HttpClient> StartGatewayAsync()
    {
        var http = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var service = new ServiceProcess("Gateway", new Dictionary<string, string>
        {
            ["ConnectionStrings__postgres"] = ConnectionString,
            ["ConnectionStrings__rabbitmq"] = _servers!.RabbitMq,
            ["Kestrel__Endpoints__Http__Url"] = http.ToString(),
            ["services__analysis__grpc__0"] = "http://127.0.0.1:9",
            ["Scheduler__Enabled"] = "false",
            ["Seed__ProjectId"] = Project,
            ["Seed__AdminKey"] = AdminKey,
        });
        service.Start();
        _services.Add(service);
        await service.WaitUntilAnswersAsync(new Uri(http, "/health").ToString(), TimeSpan.FromSeconds(60));
        var client = new HttpClient { BaseAddress = http, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
    }

    /// <summary>Evaluates one flag for these users (by user id) in one gRPC <c>EvaluateBatch</c> call.</summary>
    public static async Task<EvaluateBatchResponse> EvaluateBatchAsync(Uri grpcUrl, IEnumerable<string> users, string flag)
    {
        using var channel = GrpcHttpChannel.ForAddress(grpcUrl);
        return await new AssignmentService.AssignmentServiceClient(channel).EvaluateBatchAsync(new EvaluateBatchRequest
        {
            ProjectId = Project,
            Users = { users.Select(u => new User { UserId = u }) },
            FlagKeys = { flag },
        }, deadline: DateTime.UtcNow.AddSeconds(10));
    }

    public static HttpClient Client(Uri baseAddress)
    {
        var client = new HttpClient { BaseAddress = baseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Api-Key", SdkKey);
        return client;
    }

    /// <summary>Creates a running experiment as the gateway stores it; returns its id.</summary>
    public async Task<Guid> CreateRunningAsync(string key, (string Key, double Weight)[] variants, int allocation = 100, bool sticky = false,
        IReadOnlyList<TargetingSegment>? segments = null, IReadOnlyList<TesterGroup>? testers = null, string unit = "user_id")
    {
        var id = Guid.CreateVersion7();
        await ExecuteAsync("""
            INSERT INTO gateway.experiments (id, project_id, key, name, status, bucketing_unit, salt, traffic_allocation, sticky_bucketing, segments, testers, started_at)
            VALUES (@id, @p, @key, @key, 'running', @unit, @key, @allocation, @sticky, @segments::jsonb, @testers::jsonb, now())
            """, ("id", id), ("p", Project), ("key", key), ("unit", unit), ("allocation", allocation), ("sticky", sticky),
            ("segments", JsonSerializer.Serialize(segments ?? [], TargetingJson.Options)), ("testers", JsonSerializer.Serialize(testers ?? [], TargetingJson.Options)));
        for (var i = 0; i < variants.Length; i++)
        {
            await ExecuteAsync("INSERT INTO gateway.variants (id, experiment_id, key, name, traffic_weight, position, payload) VALUES (@v, @id, @key, @key, @w, @pos, @payload::jsonb)",
                ("v", Guid.CreateVersion7()), ("id", id), ("key", variants[i].Key), ("w", variants[i].Weight), ("pos", i),
                ("payload", JsonSerializer.Serialize(new { index = i })));
        }
        return id;
    }

    public Task ExecuteAsync(string sql, params (string Name, object? Value)[] parameters) => _database!.ExecuteAsync(sql, parameters);

    public async Task DisposeAsync()
    {
        foreach (var service in _services)
        {
            await service.DisposeAsync();
        }
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
