using Experiments.Contracts.Messages;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Experiments.Ingest.Pipeline;

public enum PublishOutcome
{
    /// <summary>The broker confirmed the message: it is durably queued.</summary>
    Confirmed,

    /// <summary>Too many batches are waiting for confirms: the client should come back later (429).</summary>
    Saturated,

    /// <summary>The broker did not confirm in time or could not be reached (503); nothing is known to be stored.</summary>
    Unavailable,
}

/// <summary>
/// Sends accepted batches straight to the durable <see cref="IngestQueues.Events"/> queue (declared by the send, so
/// a batch is kept even before a consumer ever started) and waits for the broker's publisher confirm. Bounds the
/// batches in flight, which is what "saturated" means for the API. With <see cref="IngestOptions.QueueExpiry"/> set (test
/// platforms) it sends through <see cref="ExpiringEventQueue"/> instead, mandatory.
/// </summary>
public sealed class EventBatchPublisher(
    IBus bus, IngestQueues queues, ExpiringEventQueue expiring, IOptions<IngestOptions> options, ILogger<EventBatchPublisher> logger)
{
    private readonly Uri _queue = new($"queue:{queues.Events}");
    private readonly bool _expiring = options.Value.QueueExpiry is not null;
    private int _inFlight;

    public int InFlight => Volatile.Read(ref _inFlight);

    public async Task<PublishOutcome> SendAsync(EventBatchReceived batch, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _inFlight) > options.Value.MaxInFlightBatches)
        {
            Interlocked.Decrement(ref _inFlight);
            return PublishOutcome.Saturated;
        }
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.Value.PublishTimeout);
            if (!_expiring)
            {
                var endpoint = await bus.GetSendEndpoint(_queue);
                await endpoint.Send(batch, timeout.Token);
                return PublishOutcome.Confirmed;
            }
            await expiring.EnsureDeclaredAsync(timeout.Token);
            var exchange = await bus.GetSendEndpoint(expiring.SendAddress);
            await exchange.Send(batch, Pipe.Execute<SendContext>(context =>
            {
                if (context is RabbitMqSendContext rabbit)
                {
                    rabbit.Mandatory = true;
                }
            }), timeout.Token);
            return PublishOutcome.Confirmed;
        }
        catch (MessageReturnedException ex) when (!cancellationToken.IsCancellationRequested)
        {
            expiring.Invalidate();
            logger.LogWarning(ex, "Batch {BatchId} of {Count} events was returned unrouted (queue {Queue} gone); it will be declared again", batch.BatchId, batch.EventCount, queues.Events);
            return PublishOutcome.Unavailable;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Batch {BatchId} of {Count} events was not confirmed by the broker", batch.BatchId, batch.EventCount);
            return PublishOutcome.Unavailable;
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }
}
