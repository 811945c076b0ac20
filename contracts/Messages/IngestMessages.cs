namespace Experiments.Contracts.Messages;

/// <summary>
/// A batch of SDK events accepted by the ingest API, on its way to ClickHouse.
/// <see cref="BatchId"/> is stable across redeliveries; each event carries its own insert id.
/// </summary>
public sealed record EventBatchReceived(Guid BatchId, string ProjectId, DateTimeOffset ReceivedAt, IReadOnlyList<TrackedEvent> Events);

/// <summary>One SDK event. Exposures are events of type <c>$exposure</c> with <c>flag_key</c> and <c>variant</c> properties.</summary>
public sealed record TrackedEvent(
    string EventType,
    string UserId,
    string DeviceId,
    DateTimeOffset Time,
    string InsertId,
    string? EventPropertiesJson,
    string? UserPropertiesJson,
    string? Platform = null,
    string? OsName = null)
{
    public const string ExposureEventType = "$exposure";
}
