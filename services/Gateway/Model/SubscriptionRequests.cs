namespace Experiments.Gateway.Model;

/// <summary>
/// <c>POST /v1/admin/subscriptions</c>: <c>kind</c> "slack" (url = a Slack incoming-webhook URL) or "webhook"
/// (url = any http(s) endpoint, <c>secret</c> required to sign requests); <c>experiment_id</c> narrows it to one experiment.
/// </summary>
public sealed record CreateSubscriptionRequest(
    string? ProjectId,
    Guid? ExperimentId,
    string? Name,
    string? Kind,
    string? Url,
    string? Secret,
    IReadOnlyList<string>? EventTypes,
    bool? Enabled);

/// <summary>A subscription as the API shows it: the secret never, a Slack URL masked (its path is a token).</summary>
public sealed record SubscriptionView(
    Guid Id, string ProjectId, Guid? ExperimentId, string Name, string Kind, string Url, bool HasSecret,
    IReadOnlyList<string> EventTypes, bool Enabled, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A row of the delivery log, from the notifications service.</summary>
public sealed record DeliveryView(
    string Id, string SubscriptionId, string EventId, string EventType, string? ExperimentId, string Status, int Attempts, int MaxAttempts,
    string? LastError, int? LastStatusCode, string CreatedAt, string UpdatedAt, string? NextAttemptAt, string? DeliveredAt);

/// <summary>PATCH body: fields left out keep their value; <c>secret</c> rotates a webhook's signing secret.</summary>
public sealed record UpdateSubscriptionRequest(
    string? Name, string? Url, string? Secret, IReadOnlyList<string>? EventTypes, Guid? ExperimentId, bool? Enabled);
