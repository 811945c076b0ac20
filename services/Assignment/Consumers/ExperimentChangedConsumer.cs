using Experiments.Assignment.Configuration;
using Experiments.Contracts.Messages;
using MassTransit;

namespace Experiments.Assignment.Consumers;

/// <summary>Reloads the configuration as soon as the gateway says something changed (idempotent: a reload is a reload).</summary>
public sealed class ExperimentChangedConsumer(ConfigurationCache cache) : IConsumer<ExperimentChanged>
{
    public Task Consume(ConsumeContext<ExperimentChanged> context) => cache.ReloadAsync(context.CancellationToken);
}
