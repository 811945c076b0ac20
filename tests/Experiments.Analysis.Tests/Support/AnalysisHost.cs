using Experiments.Analysis.Analyses;
using Experiments.Analysis.Extensions;
using Experiments.Analysis.Scheduling;
using Experiments.ClickHouse;
using Experiments.Postgres;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Experiments.Analysis.Tests.Support;

/// <summary>
/// The analysis service in-process over the real servers: a fresh PostgreSQL database (gateway migrations applied,
/// configuration inserted as rows) and a fresh ClickHouse database (the ingest service's event tables), with its
/// MassTransit bus on the real RabbitMQ. The schedule is off: tests drive <see cref="ScheduledAnalyses.RunOnceAsync"/>.
/// <paramref name="settings"/> override the configuration (e.g. <c>ExperimentChanges:Debounce</c>).
/// </summary>
public sealed class AnalysisHost(IReadOnlyDictionary<string, string?>? settings = null) : IAsyncLifetime
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromMinutes(5) };
    private readonly Dictionary<string, string?> _configuration = new();
    private readonly List<WebApplication> _others = [];
    private PostgresDatabase? _database;
    private WebApplication? _app;

    public string ClickHouseDatabase { get; } = UniqueNames.Database("analysis");

    public ClickHouseClient ClickHouse { get; private set; } = null!;

    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public IServiceProvider Services => _app!.Services;

    public ExperimentAnalysis Analysis => Services.GetRequiredService<ExperimentAnalysis>();

    public ScheduledAnalyses Schedule => Services.GetRequiredService<ScheduledAnalyses>();

    public IBus Bus => Services.GetRequiredService<IBus>();

    public async Task InitializeAsync()
    {
        var servers = await LocalServers.EnsureStartedAsync();
        _database = await PostgresDatabase.CreateAsync("analysis");
        await new MigrationRunner(_database.ConnectionString, "gateway",
            MigrationScript.LoadEmbedded(typeof(Experiments.Gateway.Extensions.Extensions).Assembly), NullLogger<MigrationRunner>.Instance)
            .ApplyAsync(CancellationToken.None);

        var server = new ClickHouseClient(_http, servers.ClickHouse);
        await server.ExecuteAsync(ClickHouseSql.Format($"CREATE DATABASE IF NOT EXISTS {ClickHouseSql.Identifier(ClickHouseDatabase)}"));
        ClickHouse = server.WithDatabase(ClickHouseDatabase);
        // The ingest service's single-node DDL (deploy/clickhouse/single-node; formerly services/Ingest/Storage/Schema).
        var schemaFile = new[] { RepositoryRoot.Combine("deploy", "clickhouse", "single-node", "0001_event_tables.sql"),
            RepositoryRoot.Combine("services", "Ingest", "Storage", "Schema", "0001_event_tables.sql") }.First(File.Exists);
        var schema = await File.ReadAllTextAsync(schemaFile);
        var withoutComments = string.Join('\n', schema.Split('\n').Where(l => !l.TrimStart().StartsWith("--", StringComparison.Ordinal)));
        foreach (var statement in withoutComments.Split(';'))
        {
            if (!string.IsNullOrWhiteSpace(statement))
            {
                await ClickHouse.ExecuteAsync(ClickHouseSql.Raw(statement));
            }
        }

        _configuration["ConnectionStrings:postgres"] = _database.ConnectionString;
        _configuration["ConnectionStrings:rabbitmq"] = servers.RabbitMq;
        _configuration["ConnectionStrings:clickhouse"] = servers.ClickHouseFor(ClickHouseDatabase);
        _configuration["Schedule:Enabled"] = "false";
        _configuration["Kestrel:Endpoints:Http:Url"] = "http://127.0.0.1:0";
        // Its own auto-deleted ExperimentChanged queue (shared by its instances), so that no other analysis service on this broker takes its events.
        _configuration["ExperimentChanges:QueuePrefix"] = $"analysis-test-{Guid.NewGuid():N}"[..30];
        _configuration["ExperimentChanges:AutoDeleteQueues"] = "true";
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _configuration[key] = value;
        }
        _app = await StartInstanceAsync();
        DataSource = _app.Services.GetRequiredService<NpgsqlDataSource>();
    }

    /// <summary>Another instance of the service over the same databases and the same queues (as a second replica would run).</summary>
    public async Task<IServiceProvider> StartAnotherInstanceAsync()
    {
        var app = await StartInstanceAsync();
        _others.Add(app);
        return app.Services;
    }

    private async Task<WebApplication> StartInstanceAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(_configuration);
        builder.AddApplicationServices();
        var app = builder.Build();
        await app.StartAsync();
        return app;
    }

    public async Task DisposeAsync()
    {
        foreach (var other in _others)
        {
            await other.StopAsync();
            await other.DisposeAsync();
        }
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        if (ClickHouse is not null)
        {
            await ClickHouse.WithDatabase("default").ExecuteAsync(ClickHouseSql.Format($"DROP DATABASE IF EXISTS {ClickHouseSql.Identifier(ClickHouseDatabase)}"));
        }
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
        _http.Dispose();
    }

    public Task ExecuteAsync(string sql, params (string Name, object? Value)[] parameters) => _database!.ExecuteAsync(sql, parameters);
}
