using System.Net;
using Experiments.Contracts.Grpc;
using Experiments.Contracts.Notifications.V1;
using Experiments.Notifications;
using Experiments.Notifications.Extensions;
using Experiments.Notifications.Grpc;
using Experiments.Postgres;
using Experiments.TestInfrastructure.Networking;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Experiments.Notifications.Tests.Support;

/// <summary>
/// The notifications service in-process on real Kestrel (HTTP and gRPC on free ports) over the real PostgreSQL
/// (a fresh database with the gateway's subscriptions table) and the real RabbitMQ (queues of its own, deleted
/// when it stops), with retry delays in milliseconds.
/// </summary>
public class NotificationsHost : IAsyncLifetime
{
    public const string ConsoleBaseUrl = "https://experiments.example.test";
    public const int MaxAttempts = 4;
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(1);

    private readonly bool _allowPrivateNetworks;
    private PostgresDatabase? _database;
    private WebApplication? _app;

    public NotificationsHost() : this(allowPrivateNetworks: true)
    {
    }

    protected NotificationsHost(bool allowPrivateNetworks) => _allowPrivateNetworks = allowPrivateNetworks;

    public string ConnectionString => _database!.ConnectionString;

    public IBus Bus => _app!.Services.GetRequiredService<IBus>();

    public NotificationService.NotificationServiceClient Grpc { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var servers = await LocalServers.EnsureStartedAsync();
        _database = await PostgresDatabase.CreateAsync("notifications");

        // The gateway owns subscriptions: its migrations create the table this service reads.
        var gatewayMigrations = new[] { "0001_configuration.sql", "0010_subscriptions.sql" }
            .Select(file => new MigrationScript(int.Parse(file[..4]), file[5..^4], File.ReadAllText(RepositoryRoot.Combine("services", "Gateway", "Migrations", file))))
            .ToList();
        await new MigrationRunner(_database.ConnectionString, "gateway", gatewayMigrations, NullLogger<MigrationRunner>.Instance).ApplyAsync(CancellationToken.None);

        var grpcPort = FreePort.Next();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = Environments.Production,
            ApplicationName = typeof(NotificationOptions).Assembly.GetName().Name,
        });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:postgres"] = _database.ConnectionString,
            ["ConnectionStrings:rabbitmq"] = servers.RabbitMq,
            ["Kestrel:Endpoints:Http:Url"] = $"http://127.0.0.1:{FreePort.Next()}",
            ["Kestrel:Endpoints:Grpc:Url"] = $"http://127.0.0.1:{grpcPort}",
            ["Kestrel:Endpoints:Grpc:Protocols"] = "Http2",
            ["Notifications:AllowPrivateNetworks"] = _allowPrivateNetworks ? "true" : "false",
            ["Notifications:ConsoleBaseUrl"] = ConsoleBaseUrl,
            ["Notifications:QueuePrefix"] = $"notifications-test-{Guid.NewGuid():N}"[..40],
            ["Notifications:TemporaryQueues"] = "true",
            ["Notifications:MaxAttempts"] = MaxAttempts.ToString(),
            ["Notifications:InitialRetryDelay"] = "00:00:00.050",
            ["Notifications:MaxRetryDelay"] = "00:00:00.200",
            ["Notifications:RequestTimeout"] = RequestTimeout.ToString(),
            ["Notifications:PollInterval"] = "00:00:00.100",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddServiceDefaults();
        builder.AddApplicationServices();

        _app = builder.Build();
        _app.MapDefaultEndpoints();
        _app.MapGrpcService<NotificationGrpcService>();
        await _app.StartAsync();

        Grpc = new NotificationService.NotificationServiceClient(GrpcHttpChannel.ForAddress($"http://127.0.0.1:{grpcPort}"));
    }

    /// <summary>A new project in the gateway's table, so that tests sharing the host never see each other's events.</summary>
    public async Task<string> NewProjectAsync()
    {
        var id = $"p-{Guid.NewGuid():N}"[..20];
        await ExecuteAsync("INSERT INTO gateway.projects (id, name) VALUES (@id, @id)", ("id", id));
        return id;
    }

    /// <summary>A subscription as the gateway stores it.</summary>
    public async Task<Guid> SubscribeAsync(string projectId, string kind, string url, string? secret, string[] eventTypes, Guid? experimentId = null)
    {
        var id = Guid.NewGuid();
        if (experimentId is { } experiment)
        {
            await ExecuteAsync("""
                INSERT INTO gateway.experiments (id, project_id, key, name, salt) VALUES (@id, @project, @key, @key, @key)
                ON CONFLICT DO NOTHING
                """, ("id", experiment), ("project", projectId), ("key", $"e-{experiment:N}"));
        }
        await ExecuteAsync("""
            INSERT INTO gateway.subscriptions (id, project_id, experiment_id, kind, url, secret, event_types)
            VALUES (@id, @project, @experiment, @kind, @url, @secret, @types)
            """, ("id", id), ("project", projectId), ("experiment", (object?)experimentId ?? DBNull.Value), ("kind", kind), ("url", url),
            ("secret", (object?)secret ?? DBNull.Value), ("types", eventTypes));
        return id;
    }

    public async Task<List<(string Status, int Attempts, string? LastError)>> DeliveriesAsync(Guid subscriptionId)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT status, attempts, last_error FROM notifications.deliveries WHERE subscription_id = @id ORDER BY created_at", connection);
        command.Parameters.AddWithValue("id", subscriptionId);
        var rows = new List<(string, int, string?)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }
        return rows;
    }

    private Task ExecuteAsync(string sql, params (string Name, object? Value)[] parameters) => _database!.ExecuteAsync(sql, parameters);

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}

/// <summary>The same host with the default safety setting: private, loopback and link-local addresses refused.</summary>
public sealed class StrictNotificationsHost() : NotificationsHost(allowPrivateNetworks: false);
