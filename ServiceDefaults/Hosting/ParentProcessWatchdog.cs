using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Experiments.ServiceDefaults.Hosting;

/// <summary>
/// When a launcher started this service (it sets <c>EXPERIMENTS_PARENT_PID</c>), the service stops itself as soon
/// as the launcher is gone, however the launcher ended: nothing the AppHost starts outlives it.
/// </summary>
public sealed class ParentProcessWatchdog(IConfiguration configuration, IHostApplicationLifetime lifetime, ILogger<ParentProcessWatchdog> logger)
    : BackgroundService
{
    public const string ParentPidVariable = "EXPERIMENTS_PARENT_PID";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!int.TryParse(configuration[ParentPidVariable], out var parentPid))
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!IsAlive(parentPid))
            {
                logger.LogWarning("The launcher (pid {Pid}) is gone; stopping", parentPid);
                lifetime.StopApplication();
                return;
            }
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

public static class ParentProcessWatchdogExtensions
{
    public static IServiceCollection AddParentProcessWatchdog(this IServiceCollection services)
        => services.AddHostedService<ParentProcessWatchdog>();
}
