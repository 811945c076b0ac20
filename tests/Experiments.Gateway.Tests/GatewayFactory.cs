using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Experiments.Gateway.Tests;

/// <summary>
/// The gateway in-process over the real PostgreSQL (a fresh database) and the real RabbitMQ, seeded with
/// two projects so that isolation between keys can be checked.
/// </summary>
public sealed class GatewayFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdminKey = "gw-admin-a";
    public const string SdkKey = "gw-sdk-a";
    public const string Project = "alpha";

    private PostgresDatabase? _database;
    private ServerConnections? _servers;

    public string ConnectionString => _database!.ConnectionString;

    public async Task InitializeAsync()
    {
        _servers = await LocalServers.EnsureStartedAsync();
        _database = await PostgresDatabase.CreateAsync("gateway");
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:postgres", _database!.ConnectionString);
        builder.UseSetting("ConnectionStrings:rabbitmq", _servers!.RabbitMq);
        builder.UseSetting("services:analysis:grpc:0", "http://127.0.0.1:9");
        builder.UseSetting("Seed:ProjectId", Project);
        builder.UseSetting("Seed:AdminKey", AdminKey);
        builder.UseSetting("Seed:SdkKey", SdkKey);
    }

    public HttpClient Admin(string key = AdminKey)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
