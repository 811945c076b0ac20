namespace Experiments.Notifications.Deliveries;

/// <summary>
/// Runs one claimed try and records its outcome: delivered; retried later with exponential backoff and jitter
/// (or after the endpoint's Retry-After); or parked as failed after the last try or on a permanent refusal.
/// </summary>
public sealed partial class DeliveryProcessor(DeliverySender sender, DeliveryStore store, NotificationOptions options, ILogger<DeliveryProcessor> logger)
{
    public async Task<SendOutcome> ProcessAsync(DeliveryWork work, CancellationToken cancellationToken)
    {
        var outcome = await sender.SendAsync(work, cancellationToken);
        // Record the outcome even when shutting down mid-way: the request was made.
        var ct = CancellationToken.None;
        if (outcome.Delivered)
        {
            await store.CompleteAsync(work, outcome.StatusCode ?? 200, ct);
            LogDelivered(work.Id, work.Event.Type, work.SubscriptionId, work.Attempt);
        }
        else if (outcome.Retryable && work.Attempt < work.MaxAttempts)
        {
            var delay = NextDelay(work.Attempt, outcome.RetryAfter);
            await store.RetryLaterAsync(work, delay, outcome.StatusCode, outcome.Error!, ct);
            LogRetry(work.Id, work.SubscriptionId, work.Attempt, work.MaxAttempts, outcome.Error!, delay.TotalMilliseconds);
        }
        else
        {
            await store.ParkAsync(work, outcome.StatusCode, outcome.Error!, ct);
            LogParked(work.Id, work.SubscriptionId, work.Attempt, outcome.Error!);
        }
        return outcome;
    }

    /// <summary>Retry-After when the endpoint gave one (capped), else initial × 2^(attempt-1) capped, times a jitter in [0.5, 1).</summary>
    public TimeSpan NextDelay(int attempt, TimeSpan? retryAfter)
    {
        if (retryAfter is { } wait)
        {
            return wait < options.MaxRetryAfter ? wait : options.MaxRetryAfter;
        }
        var exponential = options.InitialRetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        var capped = Math.Min(exponential, options.MaxRetryDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + Random.Shared.NextDouble() / 2));
    }

    [LoggerMessage(LogLevel.Information, "Delivered {DeliveryId} ({EventType}) to subscription {SubscriptionId} on try {Attempt}")]
    private partial void LogDelivered(Guid deliveryId, string eventType, Guid subscriptionId, int attempt);

    [LoggerMessage(LogLevel.Warning, "Delivery {DeliveryId} to subscription {SubscriptionId} failed on try {Attempt} of {MaxAttempts}: {Error}; retrying in {DelayMs} ms")]
    private partial void LogRetry(Guid deliveryId, Guid subscriptionId, int attempt, int maxAttempts, string error, double delayMs);

    [LoggerMessage(LogLevel.Warning, "Delivery {DeliveryId} to subscription {SubscriptionId} parked as failed after try {Attempt}: {Error}")]
    private partial void LogParked(Guid deliveryId, Guid subscriptionId, int attempt, string error);
}
