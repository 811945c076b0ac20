namespace Experiments.Gateway.Console.Models;

/// <summary>A subscription as <c>/v1/admin/subscriptions</c> shows it (the secret never, a Slack URL masked).</summary>
public sealed record SubscriptionItem(
    Guid Id, string ProjectId, Guid? ExperimentId, string Name, string Kind, string Url, bool HasSecret,
    IReadOnlyList<string> EventTypes, bool Enabled, DateTimeOffset CreatedAt);

/// <summary>A row of the delivery log.</summary>
public sealed record DeliveryItem(
    string Id, string SubscriptionId, string EventId, string EventType, string? ExperimentId, string Status, int Attempts, int MaxAttempts,
    string? LastError, int? LastStatusCode, string CreatedAt, string UpdatedAt, string? NextAttemptAt, string? DeliveredAt);

public sealed record CreateSubscriptionBody(
    string ProjectId, Guid? ExperimentId, string Name, string Kind, string Url, string? Secret, IReadOnlyList<string> EventTypes);

public static class NotificationEventTypes
{
    /// <summary>The event types a subscription can ask for, with the words the console shows.</summary>
    public static readonly (string Type, string Label)[] Subscribable =
    [
        ("experiment.about_to_start", "About to start"), ("experiment.started", "Started"), ("experiment.ended", "Ended"),
        ("experiment.srm_detected", "SRM detected"), ("experiment.long_running", "Long-running"),
        ("experiment.stat_sig_reached", "Stat-sig reached"), ("experiment.bandit_weights_updated", "Bandit allocation changed"),
    ];

    public static string Label(string type) => Subscribable.FirstOrDefault(s => s.Type == type).Label ?? (type == "notification.test" ? "Test" : type);
}
