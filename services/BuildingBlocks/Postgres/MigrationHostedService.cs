using Microsoft.Extensions.Hosting;

namespace Experiments.Postgres;

/// <summary>Applies the service's migrations before it starts serving requests.</summary>
internal sealed class MigrationHostedService(MigrationRunner runner) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => runner.ApplyAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
