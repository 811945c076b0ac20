using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Experiments.Contracts.Messages;

namespace Experiments.Ingest.Model;

/// <summary>
/// Checks a batch event by event and turns accepted events into <see cref="TrackedEvent"/>s. A batch is
/// accepted whole or refused whole; a refusal names each bad event's index and field.
/// </summary>
public sealed class EventValidator(TimeProvider time)
{
    public const int MaxEventsPerBatch = 2000;
    public const int MaxPropertiesBytes = 32 * 1024;
    public const int MaxStringLength = 1024;
    public static readonly TimeSpan MaxFuture = TimeSpan.FromHours(1);
    public static readonly TimeSpan MaxPast = TimeSpan.FromDays(30);

    public (IReadOnlyList<TrackedEvent> Events, Dictionary<string, string[]> Errors) Validate(IReadOnlyList<IncomingEvent?>? events)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (events is null || events.Count == 0)
        {
            errors["events"] = ["'events' must hold at least one event."];
            return ([], errors);
        }
        if (events.Count > MaxEventsPerBatch)
        {
            errors["events"] = [$"A batch holds at most {MaxEventsPerBatch} events; this one has {events.Count}."];
            return ([], errors);
        }

        var now = time.GetUtcNow();
        var accepted = new List<TrackedEvent>(events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var prefix = $"events[{i}]";
            if (e is null)
            {
                errors[prefix] = ["The event is null."];
                continue;
            }

            var eventErrors = new List<(string Field, string Message)>();
            if (string.IsNullOrWhiteSpace(e.EventType))
            {
                eventErrors.Add(("event_type", "'event_type' is required."));
            }
            if (string.IsNullOrWhiteSpace(e.UserId) && string.IsNullOrWhiteSpace(e.DeviceId))
            {
                eventErrors.Add(("user_id", "'user_id' or 'device_id' is required."));
            }
            foreach (var (field, value) in new[] { ("event_type", e.EventType), ("user_id", e.UserId), ("device_id", e.DeviceId), ("insert_id", e.InsertId) })
            {
                if (value is { Length: > MaxStringLength })
                {
                    eventErrors.Add((field, $"'{field}' must be at most {MaxStringLength} characters."));
                }
            }

            var at = now;
            if (e.Time is { } ms)
            {
                if (ms < 0 || ms > 253402300799999)
                {
                    eventErrors.Add(("time", "'time' must be milliseconds since the Unix epoch."));
                }
                else
                {
                    at = DateTimeOffset.FromUnixTimeMilliseconds(ms);
                    if (at > now + MaxFuture)
                    {
                        eventErrors.Add(("time", $"'time' is more than {MaxFuture.TotalHours:0} hour in the future."));
                    }
                    else if (at < now - MaxPast)
                    {
                        eventErrors.Add(("time", $"'time' is more than {MaxPast.TotalDays:0} days in the past."));
                    }
                }
            }

            var eventProperties = Serialize(e.EventProperties, "event_properties", eventErrors);
            var userProperties = Serialize(e.UserProperties, "user_properties", eventErrors);
            if (e.EventType == TrackedEvent.ExposureEventType && !HasStringProperty(e.EventProperties, "flag_key"))
            {
                eventErrors.Add(("event_properties.flag_key", "An '$exposure' event needs 'event_properties.flag_key'."));
            }
            if (e.EventType == TrackedEvent.ExposureEventType && !HasStringProperty(e.EventProperties, "variant"))
            {
                eventErrors.Add(("event_properties.variant", "An '$exposure' event needs 'event_properties.variant'."));
            }

            if (eventErrors.Count > 0)
            {
                foreach (var group in eventErrors.GroupBy(x => x.Field))
                {
                    errors[$"{prefix}.{group.Key}"] = group.Select(x => x.Message).ToArray();
                }
                continue;
            }

            var userId = e.UserId?.Trim() ?? "";
            var deviceId = e.DeviceId?.Trim() ?? "";
            var insertId = string.IsNullOrWhiteSpace(e.InsertId)
                ? ContentInsertId(e.EventType!, userId, deviceId, e.Time, eventProperties)
                : e.InsertId;
            accepted.Add(new TrackedEvent(e.EventType!, userId, deviceId, at, insertId, eventProperties, userProperties, e.Platform, e.OsName));
        }
        return (accepted, errors);
    }

    /// <summary>
    /// Events sent without an insert id get one derived from their content, so that an SDK's retry of the
    /// same event still counts once. Events with an explicit time are told apart by it.
    /// </summary>
    private static string ContentInsertId(string eventType, string userId, string deviceId, long? time, string? properties)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes($"{eventType}\n{userId}\n{deviceId}\n{time}\n{properties}"));
        return "h:" + Convert.ToHexStringLower(digest.AsSpan(0, 16));
    }

    private static string? Serialize(JsonElement? element, string field, List<(string, string)> errors)
    {
        if (element is not { } value || value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add((field, $"'{field}' must be a JSON object."));
            return null;
        }
        var raw = value.GetRawText();
        if (Encoding.UTF8.GetByteCount(raw) > MaxPropertiesBytes)
        {
            errors.Add((field, $"'{field}' must be at most {MaxPropertiesBytes / 1024} KiB of JSON."));
            return null;
        }
        return raw;
    }

    private static bool HasStringProperty(JsonElement? element, string name)
        => element is { ValueKind: JsonValueKind.Object } obj && obj.TryGetProperty(name, out var p)
           && p.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(p.GetString());
}
