using System.Reflection;
using System.Runtime.InteropServices;
using Experiments.AppHost;
using Experiments.AppHost.Demo;
using Experiments.AppHost.Infrastructure;
using Experiments.AppHost.Orchestration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

// The launcher: what an Aspire AppHost would do, written small because Aspire doesn't restore here.
// 1. PostgreSQL, RabbitMQ and ClickHouse (deploy/local/servers.sh, or the user's own via ConnectionStrings__x);
// 2. the five services as child processes, configured by Aspire's conventions; 3. wait until healthy;
// 4. in development, the demo project and experiment; 5. Ctrl-C stops everything it started.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = args,
    EnvironmentName = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? Environments.Development,
    ContentRootPath = AppContext.BaseDirectory,
});
builder.Configuration.AddEnvironmentVariables("EXPERIMENTS_");
var options = builder.Configuration.GetSection("Platform").Get<PlatformOptions>() ?? new PlatformOptions();
options.AdminKey = builder.Configuration["ADMIN_KEY"] ?? options.AdminKey;
options.SdkKey = builder.Configuration["SDK_KEY"] ?? options.SdkKey;
options.SeedProject &= builder.Environment.IsDevelopment();
options.Demo &= options.SeedProject;
var services = builder.Configuration.GetSection("Services").GetChildren()
    .ToDictionary(s => s.Key, s => s.Get<ServiceOptions>()!);
var configuration = typeof(Program).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

using var stopping = new CancellationTokenSource();
var stopSignals = new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP }
    .Select(signal => PosixSignalRegistration.Create(signal, context =>
    {
        context.Cancel = true;
        ConsoleLog.Write("apphost", $"{context.Signal}: stopping everything this run started");
        stopping.Cancel();
    }))
    .ToList();

var layout = RepositoryLayout.Locate();
var servers = new LocalServers(layout);
var platform = new Platform(layout, options, services, builder.Environment.EnvironmentName, configuration);
var exitCode = 0;
try
{
    ConsoleLog.Write("apphost", "starting PostgreSQL, RabbitMQ and ClickHouse (deploy/local/servers.sh)");
    await servers.StartAsync(stopping.Token);

    platform.Start(servers.ConnectionStrings);
    await platform.WaitHealthyAsync(TimeSpan.FromSeconds(options.HealthTimeoutSeconds), stopping.Token);

    string? demoId = null;
    if (options.Demo)
    {
        ConsoleLog.Write("apphost", "seeding the demo experiment with simulated traffic");
        demoId = await new DemoExperiment(Platform.HttpUrl(services["gateway"]), Platform.HttpUrl(services["assignment"]),
            Platform.HttpUrl(services["ingest"]), options.ProjectId, options.AdminKey, options.SdkKey).EnsureAsync(stopping.Token);
    }

    Console.WriteLine(StatusTable.Render(services, servers.ConnectionStrings, options, demoId));
    await Task.Delay(Timeout.Infinite, stopping.Token);
}
catch (OperationCanceledException) when (stopping.IsCancellationRequested)
{
}
catch (Exception ex)
{
    ConsoleLog.Write("apphost", $"failed: {ex.Message}");
    exitCode = 1;
}
finally
{
    await platform.StopAsync();
    await servers.StopWhatWeStartedAsync();
    stopSignals.ForEach(s => s.Dispose());
}
return exitCode;
