using Experiments.AppHost.Infrastructure;

namespace Experiments.AppHost.Orchestration;

/// <summary>
/// The five services, started with Aspire's configuration conventions so that any orchestrator
/// (an Aspire AppHost included) can start them the same way: <c>ConnectionStrings__name</c>,
/// <c>services__name__http__0</c> / <c>services__name__grpc__0</c>, <c>OTEL_*</c>.
/// </summary>
public sealed class Platform(
    RepositoryLayout layout, PlatformOptions options, IReadOnlyDictionary<string, ServiceOptions> services, string environmentName, string configuration)
{
    private readonly List<ServiceProcess> _processes = [];

    public IReadOnlyList<ServiceProcess> Processes => _processes;

    public static string HttpUrl(ServiceOptions s) => $"http://127.0.0.1:{s.HttpPort}";

    public static string? GrpcUrl(ServiceOptions s) => s.GrpcPort is { } port ? $"http://127.0.0.1:{port}" : null;

    public void Start(IReadOnlyDictionary<string, string> connectionStrings)
    {
        var shared = new Dictionary<string, string>
        {
            ["DOTNET_ENVIRONMENT"] = environmentName,
            ["ASPNETCORE_ENVIRONMENT"] = environmentName,
            ["EXPERIMENTS_PARENT_PID"] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ConnectionStrings__postgres"] = WithDatabase(connectionStrings["postgres"], options.PostgresDatabase),
            ["ConnectionStrings__rabbitmq"] = connectionStrings["rabbitmq"],
            ["ConnectionStrings__clickhouse"] = WithDatabase(connectionStrings["clickhouse"], options.ClickHouseDatabase),
            ["Logging__Console__FormatterName"] = "simple",
            ["Logging__Console__FormatterOptions__SingleLine"] = "true",
        };
        foreach (var variable in new[] { "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_HEADERS" })
        {
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value)
            {
                shared[variable] = value;
            }
        }
        foreach (var (name, service) in services)
        {
            shared[$"services__{name}__http__0"] = HttpUrl(service);
            if (GrpcUrl(service) is { } grpc)
            {
                shared[$"services__{name}__grpc__0"] = grpc;
            }
        }

        foreach (var (name, service) in services)
        {
            var environment = new Dictionary<string, string>(shared)
            {
                ["OTEL_SERVICE_NAME"] = name,
                ["Kestrel__Endpoints__Http__Url"] = HttpUrl(service),
            };
            if (GrpcUrl(service) is { } grpc)
            {
                environment["Kestrel__Endpoints__Grpc__Url"] = grpc;
                environment["Kestrel__Endpoints__Grpc__Protocols"] = "Http2";
            }
            if (name == "gateway" && options.SeedProject)
            {
                environment["Seed__ProjectId"] = options.ProjectId;
                environment["Seed__AdminKey"] = options.AdminKey;
                environment["Seed__SdkKey"] = options.SdkKey;
            }

            var process = new ServiceProcess(name, layout.ServiceAssembly(service.Project, configuration), environment);
            process.Start();
            _processes.Add(process);
        }
    }

    /// <summary>Waits until every service's <c>/health</c> answers 200; fails fast if one exits.</summary>
    public async Task WaitHealthyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        var pending = services.ToDictionary(s => s.Key, s => HttpUrl(s.Value) + "/health");
        var lastAnswer = new Dictionary<string, string>();
        while (pending.Count > 0)
        {
            foreach (var process in _processes.Where(p => p.HasExited && pending.ContainsKey(p.Name)))
            {
                throw new InvalidOperationException($"{process.Name} exited with code {process.ExitCode} before it was healthy; see its log above.");
            }
            foreach (var (name, url) in pending.ToList())
            {
                try
                {
                    using var response = await http.GetAsync(url, cancellationToken);
                    if (response.IsSuccessStatusCode)
                    {
                        pending.Remove(name);
                    }
                    else
                    {
                        lastAnswer[name] = await response.Content.ReadAsStringAsync(cancellationToken);
                    }
                }
                catch (HttpRequestException ex)
                {
                    lastAnswer[name] = ex.Message;
                }
                catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    lastAnswer[name] = ex.Message;
                }
            }
            if (pending.Count == 0)
            {
                break;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Not healthy in time: " + string.Join("; ", pending.Keys.Select(n => $"{n}: {lastAnswer.GetValueOrDefault(n)}")));
            }
            await Task.Delay(500, cancellationToken);
        }
    }

    public async Task StopAsync()
    {
        await Task.WhenAll(_processes.Select(p => p.StopAsync(TimeSpan.FromSeconds(15))));
    }

    public static string WithDatabase(string connectionString, string database)
    {
        var parts = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Where(p => !p.TrimStart().StartsWith("Database=", StringComparison.OrdinalIgnoreCase))
            .Append($"Database={database}");
        return string.Join(';', parts);
    }
}
