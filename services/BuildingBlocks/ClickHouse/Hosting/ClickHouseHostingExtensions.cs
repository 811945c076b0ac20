using Experiments.ServiceDefaults.Health;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Experiments.ClickHouse.Hosting;

public static class ClickHouseHostingExtensions
{
    public const string ConnectionName = "clickhouse";

    /// <summary>
    /// Registers a <see cref="ClickHouseClient"/> for <c>ConnectionStrings:clickhouse</c> and a health check
    /// that pings the server. The client owns a plain HttpClient, outside the default resilience pipeline:
    /// inserts stream their bodies (not replayable) and queries may run longer than its per-attempt
    /// timeout; callers retry at their own level (the ingest consumer does, with backoff).
    /// </summary>
    public static IHostApplicationBuilder AddClickHouse(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{ConnectionName} is not configured.");
        var settings = ClickHouseSettings.Parse(connectionString);

        builder.Services.AddSingleton(_ => new ClickHouseClient(
            new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromMinutes(5) },
            settings));
        builder.Services.AddHealthChecks().AddDependency<ClickHouseClient>(ConnectionName, async (client, ct) =>
        {
            if (!await client.PingAsync(ct))
            {
                throw new InvalidOperationException($"ClickHouse at {settings.Endpoint} does not answer.");
            }
        });
        return builder;
    }
}
