using System.Text.Json;
using System.Text.Json.Serialization;
using Experiments.Contracts.Messages;

namespace Experiments.Notifications.Events;

/// <summary>
/// One event as subscribers see it: its stable id, public type name, project and experiment (for matching
/// subscriptions), the time it happened, and the message as snake_case JSON (the webhook's <c>payload</c>).
/// </summary>
public sealed record NotificationEvent(Guid EventId, string Type, string ProjectId, Guid? ExperimentId, DateTimeOffset OccurredAt, string PayloadJson)
{
    public static readonly JsonSerializerOptions PayloadJsonOptions = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static NotificationEvent From(ExperimentAboutToStart m) => Create(m.EventId, NotificationEventTypes.AboutToStart, m.ProjectId, m.ExperimentId, m.AnnouncedAt, m);

    public static NotificationEvent From(ExperimentStarted m) => Create(m.EventId, NotificationEventTypes.Started, m.ProjectId, m.ExperimentId, m.StartedAt, m);

    public static NotificationEvent From(ExperimentEnded m) => Create(m.EventId, NotificationEventTypes.Ended, m.ProjectId, m.ExperimentId, m.EndedAt, m);

    public static NotificationEvent From(SrmDetected m) => Create(m.EventId, NotificationEventTypes.SrmDetected, m.ProjectId, m.ExperimentId, m.DetectedAt, m);

    public static NotificationEvent From(ExperimentLongRunning m) => Create(m.EventId, NotificationEventTypes.LongRunning, m.ProjectId, m.ExperimentId, m.DetectedAt, m);

    public static NotificationEvent From(StatSigReached m) => Create(m.EventId, NotificationEventTypes.StatSigReached, m.ProjectId, m.ExperimentId, m.ReachedAt, m);

    public static NotificationEvent From(BanditWeightsUpdated m) => Create(m.EventId, NotificationEventTypes.BanditWeightsUpdated, m.ProjectId, m.ExperimentId, m.ComputedAt, m);

    private static NotificationEvent Create<T>(Guid id, string type, string projectId, Guid experimentId, DateTimeOffset at, T message)
        => new(id, type, projectId, experimentId, at, JsonSerializer.Serialize(message, PayloadJsonOptions));
}
