using Experiments.Contracts.Messages;
using Experiments.Ingest.Model;
using Experiments.Ingest.Pipeline;
using Experiments.Ingest.Storage;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Experiments.Ingest.Consumers;

/// <summary>
/// Writes queued event batches to ClickHouse, many messages per insert (their RowBinary payloads concatenated).
/// Acknowledged only after ClickHouse accepted the rows; a redelivered batch writes the same insert ids again,
/// which the tables fold and analysis never counts twice.
/// </summary>
public sealed class EventBatchConsumer(BatchStore store, EventWriter writer, IngestQueues queues) : IConsumer<Batch<EventBatchReceived>>
{
    public Task Consume(ConsumeContext<Batch<EventBatchReceived>> context)
        => store.WriteAsync(context.Message, queues.Events, static m => EventPayload.Read(m.Payload), writer.WriteEventsAsync, context.CancellationToken);
}

public sealed class EventBatchConsumerDefinition : ConsumerDefinition<EventBatchConsumer>
{
    private readonly IngestOptions _options;

    public EventBatchConsumerDefinition(IOptions<IngestOptions> options, IngestQueues queues)
    {
        _options = options.Value;
        EndpointName = queues.Events;
        Endpoint(e => e.PrefetchCount = _options.MessagesPerInsert * (_options.ConcurrentInserts + 1));
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<EventBatchConsumer> consumerConfigurator, IRegistrationContext context)
        => consumerConfigurator.Options<BatchOptions>(batch => batch
            .SetMessageLimit(_options.MessagesPerInsert)
            .SetTimeLimit(_options.InsertTimeLimit)
            .SetConcurrencyLimit(_options.ConcurrentInserts));
}
