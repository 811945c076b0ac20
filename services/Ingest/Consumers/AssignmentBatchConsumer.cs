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

public sealed class AssignmentBatchConsumerDefinition : ConsumerDefinition<AssignmentBatchConsumer>
{
    private readonly IngestOptions _options;

    public AssignmentBatchConsumerDefinition(IOptions<IngestOptions> options, IngestQueues queues)
    {
        _options = options.Value;
        EndpointName = queues.Assignments;
        Endpoint(e => e.PrefetchCount = _options.MessagesPerInsert * (_options.ConcurrentInserts + 1));
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<AssignmentBatchConsumer> consumerConfigurator, IRegistrationContext context)
        => consumerConfigurator.Options<BatchOptions>(batch => batch
            .SetMessageLimit(_options.MessagesPerInsert)
            .SetTimeLimit(_options.InsertTimeLimit)
            .SetConcurrencyLimit(_options.ConcurrentInserts));
}
