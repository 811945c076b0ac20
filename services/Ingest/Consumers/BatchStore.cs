using Experiments.ClickHouse;
using Experiments.Ingest.Pipeline;
using Experiments.Ingest.Storage;
using MassTransit;

namespace Experiments.Ingest.Consumers;

/// <summary>
/// What both batch consumers do with the messages MassTransit gathered: write them all in one insert per table,
/// waiting out a ClickHouse that is away (<see cref="InsertRetry"/>); the batch is acknowledged only when that
/// returns. A message that can never be written (undecodable, or refused by a ClickHouse that is up) is parked,
/// alone, in the queue's <c>_error</c> queue with the reason in its <c>MT-Fault-*</c> headers, for an operator to
/// inspect and replay (<c>docs/ingest.md</c>); the others are still written.
/// </summary>
public sealed class BatchStore(InsertRetry retry, ILogger<BatchStore> logger)
{
    public async Task WriteAsync<TMessage, TRows>(
        Batch<TMessage> batch,
        string queue,
        Func<TMessage, TRows> read,
        Func<IReadOnlyList<TRows>, CancellationToken, Task> write,
        CancellationToken cancellationToken)
        where TMessage : class
    {
        var readable = new List<(ConsumeContext<TMessage> Context, TRows Rows)>(batch.Length);
        foreach (var context in batch)
        {
            try
            {
                readable.Add((context, read(context.Message)));
            }
            catch (InvalidDataException ex)
            {
                await ParkAsync(context, queue, ex, cancellationToken);
            }
        }
        if (readable.Count == 0)
        {
            return;
        }

        try
        {
            await retry.RunAsync(ct => write(readable.ConvertAll(r => r.Rows), ct), $"{readable.Count} messages of {queue}", cancellationToken);
            return;
        }
        catch (ClickHouseException ex)
        {
            logger.LogWarning("ClickHouse refused a batch of {Count} messages of {Queue} ({Message}); writing them one by one",
                readable.Count, queue, ex.Message);
        }

        foreach (var (context, rows) in readable)
        {
            try
            {
                await retry.RunAsync(ct => write([rows], ct), $"message {context.MessageId} of {queue}", cancellationToken);
            }
            catch (ClickHouseException ex)
            {
                await ParkAsync(context, queue, ex, cancellationToken);
            }
        }
    }

    private async Task ParkAsync<TMessage>(ConsumeContext<TMessage> context, string queue, Exception reason, CancellationToken cancellationToken)
        where TMessage : class
    {
        var errorQueue = IngestQueues.ErrorQueue(queue);
        var endpoint = await context.GetSendEndpoint(new Uri($"queue:{errorQueue}"));
        await endpoint.Send(context.Message, send =>
        {
            send.Headers.Set("MT-Reason", "fault");
            send.Headers.Set("MT-Fault-ExceptionType", reason.GetType().FullName);
            send.Headers.Set("MT-Fault-Message", reason.Message);
            send.Headers.Set("MT-Fault-Timestamp", DateTime.UtcNow.ToString("O"));
            send.Headers.Set("MT-Fault-InputAddress", context.ReceiveContext.InputAddress.ToString());
            send.Headers.Set("MT-Fault-MessageId", context.MessageId?.ToString());
        }, cancellationToken);
        logger.LogError("Parked message {MessageId} of {Queue} in {ErrorQueue}: {Reason}", context.MessageId, queue, errorQueue, reason.Message);
    }
}
