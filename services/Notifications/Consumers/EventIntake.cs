using Experiments.Notifications.Deliveries;
using Experiments.Notifications.Events;

namespace Experiments.Notifications.Consumers;

/// <summary>
/// Takes an event in: records it and queues one delivery per matching subscription (idempotent under
/// redelivery), then wakes the dispatcher. Sending happens outside the consumer, so RabbitMQ never waits on
/// an endpoint.
/// </summary>
public sealed partial class EventIntake(DeliveryStore store, DeliverySignal signal, NotificationOptions options, ILogger<EventIntake> logger)
{
    public async Task AcceptAsync(NotificationEvent e, CancellationToken cancellationToken)
    {
        var queued = await store.AcceptAsync(e, options.MaxAttempts, cancellationToken);
        if (queued > 0)
        {
            signal.Notify();
        }
        LogAccepted(e.Type, e.EventId, e.ProjectId, queued);
    }

    [LoggerMessage(LogLevel.Information, "Event {EventType} {EventId} of project {ProjectId}: {Queued} new deliveries")]
    private partial void LogAccepted(string eventType, Guid eventId, string projectId, int queued);
}
