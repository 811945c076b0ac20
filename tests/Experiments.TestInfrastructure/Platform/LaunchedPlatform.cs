using System.Diagnostics;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using Experiments.TestInfrastructure.Networking;
using Experiments.TestInfrastructure.Servers;
using Xunit;

namespace Experiments.TestInfrastructure.Platform;

/// <summary>
/// The whole platform, launched through the AppHost as a newcomer launches it, on free ports and fresh
/// databases (PostgreSQL and ClickHouse), over the real servers. Shared by the tests of a collection
/// (each test project declares its own <c>ICollectionFixture&lt;LaunchedPlatform&gt;</c>).
/// </summary>
public sealed class LaunchedPlatform : IAsyncLifetime
{
    public const string AdminKey = "e2e-admin-key";
    public const string SdkKey = "e2e-sdk-key";
    public const string ProjectId = "demo";

    private readonly StringBuilder _output = new();
    private Process? _appHost;

    public int GatewayPort { get; } = FreePort.Next();
    public int AssignmentPort { get; } = FreePort.Next();
    public int AssignmentGrpcPort { get; } = FreePort.Next();
    public int IngestPort { get; } = FreePort.Next();
    public int AnalysisPort { get; } = FreePort.Next();
    public int AnalysisGrpcPort { get; } = FreePort.Next();
    public int NotificationsPort { get; } = FreePort.Next();
    public int NotificationsGrpcPort { get; } = FreePort.Next();

    /// <summary>How long RabbitMQ keeps this platform's ingest queues once nothing uses them (<c>Ingest:QueueExpiry</c>).</summary>
    public const string QueueExpiry = "00:05:00";

    public string ClickHouseDatabase { get; } = UniqueNames.Database("e2e");
    public string PostgresDatabase { get; } = UniqueNames.Database("e2e");
    public ServerConnections Servers { get; private set; } = null!;

    public Uri Gateway => new($"http://127.0.0.1:{GatewayPort}");
    public Uri Assignment => new($"http://127.0.0.1:{AssignmentPort}");
    public Uri AssignmentGrpc => new($"http://127.0.0.1:{AssignmentGrpcPort}");
    public Uri Ingest => new($"http://127.0.0.1:{IngestPort}");

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public async Task InitializeAsync()
    {
        Servers = await LocalServers.EnsureStartedAsync();
        var configuration = typeof(LaunchedPlatform).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var appHost = RepositoryRoot.Combine("AppHost", "bin", configuration, "net10.0", "Experiments.AppHost.dll");

        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(appHost)!,
        };
        start.ArgumentList.Add(appHost);
        foreach (var (key, value) in Servers.AsEnvironment())
        {
            start.Environment[key] = value;
        }
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        start.Environment["EXPERIMENTS_ADMIN_KEY"] = AdminKey;
        start.Environment["EXPERIMENTS_SDK_KEY"] = SdkKey;
        start.Environment["Platform__Demo"] = "false";
        start.Environment["Platform__PostgresDatabase"] = PostgresDatabase;
        start.Environment["Platform__ClickHouseDatabase"] = ClickHouseDatabase;
        start.Environment["Services__gateway__HttpPort"] = $"{GatewayPort}";
        start.Environment["Services__assignment__HttpPort"] = $"{AssignmentPort}";
        start.Environment["Services__assignment__GrpcPort"] = $"{AssignmentGrpcPort}";
        start.Environment["Services__ingest__HttpPort"] = $"{IngestPort}";
        start.Environment["Services__analysis__HttpPort"] = $"{AnalysisPort}";
        start.Environment["Services__analysis__GrpcPort"] = $"{AnalysisGrpcPort}";
        start.Environment["Services__notifications__HttpPort"] = $"{NotificationsPort}";
        start.Environment["Services__notifications__GrpcPort"] = $"{NotificationsGrpcPort}";
        // Inherited by the services the AppHost starts: the ingest queues of this platform (named for its fresh ClickHouse
        // database) are deleted by RabbitMQ 5 minutes after the platform stopped, instead of collecting every later
        // assignment batch on the shared broker forever.
        start.Environment["Ingest__QueueExpiry"] = QueueExpiry;

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _appHost = Process.Start(start)!;
        _appHost.OutputDataReceived += (_, e) => Collect(e.Data, ready);
        _appHost.ErrorDataReceived += (_, e) => Collect(e.Data, ready);
        _appHost.BeginOutputReadLine();
        _appHost.BeginErrorReadLine();

        var exited = _appHost.WaitForExitAsync();
        var finished = await Task.WhenAny(ready.Task, exited, Task.Delay(TimeSpan.FromMinutes(3)));
        if (finished != ready.Task)
        {
            throw new InvalidOperationException($"The platform did not come up ({(finished == exited ? "the AppHost exited" : "timed out")}):\n{Output}");
        }
    }

    private void Collect(string? line, TaskCompletionSource ready)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
        if (line.Contains("Experiments platform is running", StringComparison.Ordinal))
        {
            ready.TrySetResult();
        }
    }

    public HttpClient AdminClient() => Client(Gateway, "Bearer", AdminKey);

    public HttpClient SdkClient(Uri service) => Client(service, "Api-Key", SdkKey);

    private static HttpClient Client(Uri baseAddress, string scheme, string key)
    {
        var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(scheme, key);
        return client;
    }

    public async Task DisposeAsync()
    {
        if (_appHost is { HasExited: false })
        {
            // SIGINT, as Ctrl-C: the AppHost stops its services.
            using var kill = Process.Start("kill", ["-INT", _appHost.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _appHost.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _appHost.Kill(entireProcessTree: true);
            }
        }
        _appHost?.Dispose();
    }
}
