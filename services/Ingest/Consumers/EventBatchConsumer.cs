using Experiments.Contracts.Messages;
using Experiments.Ingest.Storage;
using MassTransit;

namespace Experiments.Ingest.Consumers;

/// <summary>
/// Writes queued batches to ClickHouse. The message is acknowledged only after ClickHouse accepted the
/// rows; a failure leaves it to the retry policy and, at last, the error queue. A redelivered batch
/// writes the same insert ids again, which analysis never counts twice.
/// </summary>
public sealed class EventBatchConsumer(EventWriter writer) : IConsumer<EventBatchReceived>
{
    public Task Consume(ConsumeContext<EventBatchReceived> context) => writer.WriteAsync(context.Message, context.CancellationToken);
}
