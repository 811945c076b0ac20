namespace Experiments.Ingest.Tests.Support;

/// <summary>
/// One ingest service over dedicated RabbitMQ and ClickHouse servers (<see cref="DedicatedServers"/>) for every test
/// of this assembly: the fault tests stop and restart them, and no other test assembly's servers are ever touched.
/// The tests share the service and tell their data apart by insert-id prefix.
/// </summary>
public sealed class IngestFixture : IAsyncLifetime
{
    private DedicatedServers? _servers;
    private IngestService? _service;

    public DedicatedServers Servers => _servers ?? throw new InvalidOperationException("Not initialized.");

    public IngestService Service => _service ?? throw new InvalidOperationException("Not initialized.");

    public async Task InitializeAsync()
    {
        _servers = await DedicatedServers.StartAsync("ingest");
        _service = await IngestService.StartAsync(_servers.Connections, new Dictionary<string, string>
        {
            ["Ingest__MaxRetryDelay"] = "00:00:01",
        });
    }

    public async Task DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }
        if (_servers is not null)
        {
            await _servers.DisposeAsync();
        }
    }

    /// <summary>A fresh insert-id prefix for one test.</summary>
    public static string Prefix(string name) => $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)];
}

[CollectionDefinition(Name)]
public sealed class IngestCollection : ICollectionFixture<IngestFixture>
{
    public const string Name = "ingest";
}
