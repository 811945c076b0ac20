using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Experiments.ServiceDefaults.Health;

/// <summary>A dependency check written as one async probe that throws when the dependency is away.</summary>
public static class DependencyHealthChecks
{
    public static IHealthChecksBuilder AddDependency<TService>(
        this IHealthChecksBuilder builder, string name, Func<TService, CancellationToken, Task> probe, TimeSpan? timeout = null)
        where TService : notnull
    {
        var limit = timeout ?? TimeSpan.FromSeconds(3);
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new ProbeHealthCheck(ct => probe(sp.GetRequiredService<TService>(), ct)),
            HealthStatus.Unhealthy,
            tags: ["ready"],
            timeout: limit));
    }

    private sealed class ProbeHealthCheck(Func<CancellationToken, Task> probe) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await probe(cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return new HealthCheckResult(context.Registration.FailureStatus, ex.Message, ex);
            }
        }
    }
}
