using Experiments.Assignment.Configuration;
using Experiments.Contracts.Messages;
using MassTransit;

namespace Experiments.Assignment.Bandits;

/// <summary>Stores new bandit weights (idempotent: older or repeated weights change nothing) and recompiles the flags.</summary>
public sealed class BanditWeightsUpdatedConsumer(BanditWeightStore store, ConfigurationCache cache) : IConsumer<BanditWeightsUpdated>
{
    public async Task Consume(ConsumeContext<BanditWeightsUpdated> context)
    {
        await store.SaveAsync(context.Message, context.CancellationToken);
        await cache.ReloadAsync(context.CancellationToken);
    }
}
