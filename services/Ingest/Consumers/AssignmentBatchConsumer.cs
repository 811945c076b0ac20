using Experiments.Contracts.Messages;
using Experiments.Ingest.Pipeline;
using Experiments.Ingest.Storage;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Experiments.Ingest.Consumers;

/// <summary>
/// Writes the assignment service's batches to ClickHouse's <c>assignments</c> table, many messages per insert;
/// acknowledged after ClickHouse accepted them. A batch ClickHouse could never hold is parked.
/// </summary>
public sealed class AssignmentBatchConsumer(BatchStore store, EventWriter writer, IngestQueues queues) : IConsumer<Batch<AssignmentBatchRecorded>>
{
    public Task Consume(ConsumeContext<Batch<AssignmentBatchRecorded>> context)
        => store.WriteAsync(context.Message, queues.Assignments, Readable, writer.WriteAssignmentsAsync, context.CancellationToken);

    private static AssignmentBatchRecorded Readable(AssignmentBatchRecorded batch)
        => EventWriter.Refusal(batch) is { } refusal ? throw new InvalidDataException(refusal) : batch;
}

public sealed class AssignmentBatchConsumerDefinition(IOptions<IngestOptions> options, IngestQueues queues)
    : BatchConsumerDefinition<AssignmentBatchConsumer>(options.Value, queues.Assignments);
