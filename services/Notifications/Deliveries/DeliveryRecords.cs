using Experiments.Notifications.Events;

namespace Experiments.Notifications.Deliveries;

/// <summary>Delivery statuses: pending (due at next_attempt_at), delivering (claimed), delivered, failed (parked).</summary>
public static class DeliveryStatuses
{
    public const string Pending = "pending";
    public const string Delivering = "delivering";
    public const string Delivered = "delivered";
    public const string Failed = "failed";

    public static readonly IReadOnlyList<string> All = [Pending, Delivering, Delivered, Failed];
}

/// <summary>A row of the delivery log.</summary>
public sealed record DeliveryRecord(
    Guid Id, Guid SubscriptionId, Guid EventId, string EventType, Guid? ExperimentId, string Status, int Attempts, int MaxAttempts,
    string? LastError, int? LastStatusCode, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? NextAttemptAt,
    DateTimeOffset? DeliveredAt);

/// <summary>Where a delivery goes, read from the gateway's subscriptions. The URL and secret are secrets: never log them.</summary>
public sealed record SubscriptionTarget(Guid Id, string Kind, string Url, string? Secret, bool Active)
{
    public const string Slack = "slack";
    public const string Webhook = "webhook";

    public override string ToString() => $"subscription {Id} ({Kind})";
}

/// <summary>A claimed delivery: this try's number, the event and its target (null when the subscription is gone).</summary>
public sealed record DeliveryWork(Guid Id, Guid SubscriptionId, int Attempt, int MaxAttempts, NotificationEvent Event, SubscriptionTarget? Target);

/// <summary>What one HTTP try gave.</summary>
public sealed record SendOutcome(bool Delivered, bool Retryable, int? StatusCode, string? Error, TimeSpan? RetryAfter)
{
    public static SendOutcome Success(int statusCode) => new(true, false, statusCode, null, null);
}
