using Experiments.Ingest.Pipeline;
using MassTransit;

namespace Experiments.Ingest.Consumers;

/// <summary>
/// The endpoint shared by both batch consumers (<see cref="EventBatchConsumer"/>, <see cref="AssignmentBatchConsumer"/>):
/// their own queue, a prefetch that keeps every concurrent insert fed plus one batch gathering, and MassTransit
/// batches of <see cref="IngestOptions.MessagesPerInsert"/> messages or <see cref="IngestOptions.InsertTimeLimit"/>,
/// at most <see cref="IngestOptions.ConcurrentInserts"/> at a time. With <see cref="IngestOptions.QueueExpiry"/> set (test
/// platforms) the queue is declared with <c>x-expires</c>; unset, it has no arguments (durable, kept forever).
/// </summary>
public abstract class BatchConsumerDefinition<TConsumer> : ConsumerDefinition<TConsumer>
    where TConsumer : class, IConsumer
{
    private readonly IngestOptions _options;

    protected BatchConsumerDefinition(IngestOptions options, string queue)
    {
        _options = options;
        EndpointName = queue;
        Endpoint(e => e.PrefetchCount = _options.MessagesPerInsert * (_options.ConcurrentInserts + 1));
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<TConsumer> consumerConfigurator, IRegistrationContext context)
    {
        if (IngestQueues.ExpiryMilliseconds(_options.QueueExpiry) is { } expiry && endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQueueArgument(IngestQueues.ExpiresArgument, expiry);
        }
        consumerConfigurator.Options<BatchOptions>(batch => batch
            .SetMessageLimit(_options.MessagesPerInsert)
            .SetTimeLimit(_options.InsertTimeLimit)
            .SetConcurrencyLimit(_options.ConcurrentInserts));
    }
}
