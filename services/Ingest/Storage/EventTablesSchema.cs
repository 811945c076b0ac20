using Experiments.ClickHouse;

namespace Experiments.Ingest.Storage;

/// <summary>
/// Creates the ClickHouse database named in the connection string and the event tables (embedded
/// <c>Storage/Schema/*.sql</c>, idempotent <c>CREATE ... IF NOT EXISTS</c>) before the service serves.
/// The ingest service owns these tables; the analysis service only reads them.
/// </summary>
public sealed class EventTablesSchema(ClickHouseClient clickHouse, ILogger<EventTablesSchema> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var database = clickHouse.Settings.Database;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await clickHouse.WithDatabase("default").ExecuteAsync(
                    ClickHouseSql.Format($"CREATE DATABASE IF NOT EXISTS {ClickHouseSql.Identifier(database)}"), cancellationToken);
                break;
            }
            catch (Exception ex) when (attempt < 30 && ex is HttpRequestException or ClickHouseException { IsTransient: true })
            {
                logger.LogWarning("ClickHouse not reachable yet ({Message}); retrying", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }

        foreach (var statement in Statements())
        {
            await clickHouse.ExecuteAsync(ClickHouseSql.Raw(statement), cancellationToken);
        }
        logger.LogInformation("ClickHouse event tables ready in database {Database}", database);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The schema's statements, in file order; ClickHouse's HTTP interface takes one per request.</summary>
    public static IEnumerable<string> Statements()
    {
        var assembly = typeof(EventTablesSchema).Assembly;
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.EndsWith(".sql", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            var lines = reader.ReadToEnd().Split('\n').Where(l => !l.TrimStart().StartsWith("--", StringComparison.Ordinal));
            foreach (var statement in string.Join('\n', lines).Split(';'))
            {
                if (!string.IsNullOrWhiteSpace(statement))
                {
                    yield return statement.Trim();
                }
            }
        }
    }
}
