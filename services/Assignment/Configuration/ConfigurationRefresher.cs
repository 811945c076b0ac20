namespace Experiments.Assignment.Configuration;

/// <summary>Loads the configuration at start and every <see cref="Interval"/> after, keeping the last good copy on failure.</summary>
public sealed class ConfigurationRefresher(ConfigurationCache cache, IConfiguration configuration, ILogger<ConfigurationRefresher> logger) : BackgroundService
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = configuration.GetValue("Assignment:RefreshInterval", DefaultInterval);
        using var timer = new PeriodicTimer(interval);
        do
        {
            try
            {
                await cache.ReloadAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Configuration reload failed; serving the copy loaded at {LoadedAt}", cache.LoadedAt);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
