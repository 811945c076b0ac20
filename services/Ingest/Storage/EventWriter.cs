using System.Text.Json;
using Experiments.ClickHouse;
using Experiments.Contracts.Messages;

namespace Experiments.Ingest.Storage;

/// <summary>Writes a batch to ClickHouse as RowBinary: exposures to <c>exposures</c>, every other event to <c>events</c>.</summary>
public sealed class EventWriter(ClickHouseClient clickHouse)
{
    private static readonly string[] ExposureColumns =
        ["project_id", "flag_key", "variant", "user_id", "device_id", "time", "insert_id", "user_properties", "platform", "os_name", "received_at"];

    private static readonly string[] EventColumns =
        ["project_id", "event_type", "user_id", "device_id", "time", "insert_id", "event_properties", "user_properties", "platform", "os_name", "received_at"];

    public async Task WriteAsync(EventBatchReceived batch, CancellationToken cancellationToken)
    {
        var exposures = batch.Events.Where(e => e.EventType == TrackedEvent.ExposureEventType).ToList();
        var others = batch.Events.Where(e => e.EventType != TrackedEvent.ExposureEventType).ToList();

        if (exposures.Count > 0)
        {
            await clickHouse.InsertAsync("exposures", ExposureColumns, exposures, (w, e) =>
            {
                var (flagKey, variant) = ExposureOf(e);
                w.WriteString(batch.ProjectId);
                w.WriteString(flagKey);
                w.WriteString(variant);
                w.WriteString(e.UserId);
                w.WriteString(e.DeviceId);
                w.WriteDateTime(e.Time);
                w.WriteString(e.InsertId);
                w.WriteString(e.UserPropertiesJson ?? "");
                w.WriteString(e.Platform ?? "");
                w.WriteString(e.OsName ?? "");
                w.WriteDateTime(batch.ReceivedAt);
            }, cancellationToken);
        }
        if (others.Count > 0)
        {
            await clickHouse.InsertAsync("events", EventColumns, others, (w, e) =>
            {
                w.WriteString(batch.ProjectId);
                w.WriteString(e.EventType);
                w.WriteString(e.UserId);
                w.WriteString(e.DeviceId);
                w.WriteDateTime(e.Time);
                w.WriteString(e.InsertId);
                w.WriteString(e.EventPropertiesJson ?? "");
                w.WriteString(e.UserPropertiesJson ?? "");
                w.WriteString(e.Platform ?? "");
                w.WriteString(e.OsName ?? "");
                w.WriteDateTime(batch.ReceivedAt);
            }, cancellationToken);
        }
    }

    /// <summary>Amplitude's exposure convention: <c>event_properties.flag_key</c> and <c>event_properties.variant</c> (validated at the API).</summary>
    private static (string FlagKey, string Variant) ExposureOf(TrackedEvent e)
    {
        using var properties = JsonDocument.Parse(e.EventPropertiesJson ?? "{}");
        var root = properties.RootElement;
        return (root.GetProperty("flag_key").GetString() ?? "", root.GetProperty("variant").GetString() ?? "");
    }
}
