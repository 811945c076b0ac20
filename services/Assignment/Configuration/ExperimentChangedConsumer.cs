using Experiments.Assignment.Configuration;
using Experiments.Contracts.Messages;
using MassTransit;
using Npgsql;

namespace Experiments.Assignment.Configuration;

/// <summary>
/// Reloads the configuration as soon as the gateway says something changed (idempotent: a reload is a reload).
/// Every instance has its own queue, so every instance reloads. When PostgreSQL is away the periodic refresh catches up.
/// </summary>
public sealed class ExperimentChangedConsumer(ConfigurationCache cache, ILogger<ExperimentChangedConsumer> logger) : IConsumer<ExperimentChanged>
{
    public async Task Consume(ConsumeContext<ExperimentChanged> context)
    {
        try
        {
            await cache.ReloadAsync(context.CancellationToken);
        }
        catch (NpgsqlException ex)
        {
            logger.LogWarning("Reload after {Change} of {Experiment} failed ({Message}); the periodic refresh will retry",
                context.Message.Change, context.Message.ExperimentKey, ex.Message);
        }
    }
}
