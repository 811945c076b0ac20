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

public sealed class EventBatchConsumerDefinition(IOptions<IngestOptions> options, IngestQueues queues)
    : BatchConsumerDefinition<EventBatchConsumer>(options.Value, queues.Events);
