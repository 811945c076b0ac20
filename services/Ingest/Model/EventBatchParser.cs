using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Experiments.Contracts.Messages;

namespace Experiments.Ingest.Model;

/// <summary>How a batch fared: its events' count, or why none of it is stored.</summary>
public enum BatchOutcome
{
    Accepted,
    Invalid,
    TooManyEvents,
}

/// <summary>One problem of a refused batch: <c>events[Index].Field</c> (Index is null for the body or <c>events</c> itself).</summary>
public readonly record struct EventError(int? Index, string Field, string Message)
{
    public string Key => Index is { } i ? (Field.Length == 0 ? $"events[{i}]" : $"events[{i}].{Field}") : Field;
}

public sealed record BatchParseResult(BatchOutcome Outcome, int EventCount, IReadOnlyList<EventError> Errors, int TotalErrors);

/// <summary>
/// Reads a <c>POST /v1/events</c> or <c>/2/httpapi</c> body straight from its UTF-8 bytes (no object per event),
/// checks every event, and writes the accepted ones as RowBinary rows for the <c>exposures</c> and <c>events</c>
/// tables. A batch is accepted whole or refused whole; a refusal names each bad event's index and field.
/// </summary>
public sealed class EventBatchParser(TimeProvider time)
{
    public const int MaxEventsPerBatch = 2000;
    public const int MaxBodyBytes = 20 * 1024 * 1024;
    public const int MaxPropertiesBytes = 32 * 1024;
    public const int MaxStringBytes = 1024;
    public const int MaxReportedErrors = 200;
    public static readonly TimeSpan MaxFuture = TimeSpan.FromHours(1);
    public static readonly TimeSpan MaxPast = TimeSpan.FromDays(30);

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>
    /// The top-level <c>api_key</c> of a body (Amplitude's HTTP API puts the key there), or null. Stops at the key
    /// when it comes before the events, as Amplitude's SDKs send it.
    /// </summary>
    public static string? FindApiKey(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isKey = reader.ValueTextEquals("api_key"u8);
                reader.Read();
                if (isKey)
                {
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // The full parse reports where the body is malformed.
        }
        return null;
    }

    /// <summary>Parses and checks a body; accepted events are appended to <paramref name="exposures"/> and <paramref name="events"/>.</summary>
    public BatchParseResult Parse(ReadOnlySpan<byte> json, string projectId, DateTimeOffset receivedAt, RowBuffer exposures, RowBuffer events)
    {
        var errors = new ErrorList();
        var count = 0;
        try
        {
            var reader = new Utf8JsonReader(json, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                errors.Add(null, "body", "The body must be a JSON object with an 'events' array.");
                return errors.Result(BatchOutcome.Invalid, 0);
            }

            var sawEvents = false;
            var context = new RowContext(Encoding.UTF8.GetBytes(projectId), receivedAt, time.GetUtcNow(), exposures, events);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!reader.ValueTextEquals("events"u8))
                {
                    reader.Read();
                    reader.Skip();
                    continue;
                }
                reader.Read();
                sawEvents = true;
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    errors.Add(null, "events", "'events' must be an array of events.");
                    reader.Skip();
                    continue;
                }
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (count == MaxEventsPerBatch)
                    {
                        errors.Add(null, "events", $"A batch holds at most {MaxEventsPerBatch} events.");
                        return errors.Result(BatchOutcome.TooManyEvents, count + 1);
                    }
                    ReadEvent(ref reader, json, count, context, errors);
                    count++;
                }
            }
            if (!sawEvents || (count == 0 && errors.Total == 0))
            {
                errors.Add(null, "events", "'events' must hold at least one event.");
            }
        }
        catch (JsonException ex)
        {
            errors.Add(null, "body", $"The body is not valid JSON: {ex.Message}");
        }
        return errors.Total > 0 ? errors.Result(BatchOutcome.Invalid, count) : errors.Result(BatchOutcome.Accepted, count);
    }

    private static void ReadEvent(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, int index, RowContext context, ErrorList errors)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            errors.Add(index, "", reader.TokenType == JsonTokenType.Null ? "The event is null." : "An event must be a JSON object.");
            reader.Skip();
            return;
        }

        var e = new EventFields();
        var errorsBefore = errors.Total;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("event_type"u8)) { e.EventType = ReadString(ref reader, json, index, "event_type", errors); }
            else if (reader.ValueTextEquals("user_id"u8)) { e.UserId = ReadString(ref reader, json, index, "user_id", errors); }
            else if (reader.ValueTextEquals("device_id"u8)) { e.DeviceId = ReadString(ref reader, json, index, "device_id", errors); }
            else if (reader.ValueTextEquals("insert_id"u8)) { e.InsertId = ReadString(ref reader, json, index, "insert_id", errors); }
            else if (reader.ValueTextEquals("platform"u8)) { e.Platform = ReadString(ref reader, json, index, "platform", errors); }
            else if (reader.ValueTextEquals("os_name"u8)) { e.OsName = ReadString(ref reader, json, index, "os_name", errors); }
            else if (reader.ValueTextEquals("time"u8)) { e.Time = ReadTime(ref reader, index, errors); }
            else if (reader.ValueTextEquals("event_properties"u8)) { e.EventProperties = ReadProperties(ref reader, json, index, "event_properties", errors, ref e); }
            else if (reader.ValueTextEquals("user_properties"u8))
            {
                var ignored = new EventFields();
                e.UserProperties = ReadProperties(ref reader, json, index, "user_properties", errors, ref ignored);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        var eventType = e.EventType.Span(json);
        var userId = Trim(e.UserId.Span(json));
        var deviceId = Trim(e.DeviceId.Span(json));
        if (Trim(eventType).IsEmpty && !errors.Has(errorsBefore, index, "event_type"))
        {
            errors.Add(index, "event_type", "'event_type' is required.");
        }
        if (userId.IsEmpty && deviceId.IsEmpty && !errors.Has(errorsBefore, index, "user_id") && !errors.Has(errorsBefore, index, "device_id"))
        {
            errors.Add(index, "user_id", "'user_id' or 'device_id' is required.");
        }

        var at = context.Now;
        if (e.Time is { } ms)
        {
            at = DateTimeOffset.FromUnixTimeMilliseconds(ms);
            if (at > context.Now + MaxFuture)
            {
                errors.Add(index, "time", $"'time' is more than {MaxFuture.TotalHours:0} hour in the future.");
            }
            else if (at < context.Now - MaxPast)
            {
                errors.Add(index, "time", $"'time' is more than {MaxPast.TotalDays:0} days in the past.");
            }
        }

        var isExposure = eventType.SequenceEqual("$exposure"u8);
        if (isExposure)
        {
            if (Trim(e.FlagKey.Span(json)).IsEmpty)
            {
                errors.Add(index, "event_properties.flag_key", $"An '{EventBatchReceived.ExposureEventType}' event needs 'event_properties.flag_key'.");
            }
            if (Trim(e.Variant.Span(json)).IsEmpty)
            {
                errors.Add(index, "event_properties.variant", $"An '{EventBatchReceived.ExposureEventType}' event needs 'event_properties.variant'.");
            }
        }
        if (errors.Total > 0)
        {
            return; // the batch is refused: nothing more is written
        }

        var insertId = Trim(e.InsertId.Span(json));
        if (insertId.IsEmpty)
        {
            var derived = new byte[34];
            ContentInsertId(eventType, userId, deviceId, e.Time, e.EventProperties.Span(json), derived);
            insertId = derived;
        }

        var rows = isExposure ? context.Exposures : context.Events;
        rows.WriteString(context.ProjectId);
        if (isExposure)
        {
            rows.WriteString(e.FlagKey.Span(json));
            rows.WriteString(e.Variant.Span(json));
        }
        else
        {
            rows.WriteString(eventType);
        }
        rows.WriteString(userId);
        rows.WriteString(deviceId);
        rows.WriteDateTime(at);
        rows.WriteString(insertId);
        if (!isExposure)
        {
            rows.WriteString(e.EventProperties.Span(json));
        }
        rows.WriteString(e.UserProperties.Span(json));
        rows.WriteString(e.Platform.Span(json));
        rows.WriteString(e.OsName.Span(json));
        rows.WriteDateTime(context.ReceivedAt);
        rows.EndRow();
    }

    private static Utf8Value ReadString(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, int index, string field, ErrorList errors)
    {
        reader.Read();
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return default;
            case JsonTokenType.String:
                var value = Utf8Value.Of(ref reader);
                if (value.Length > MaxStringBytes)
                {
                    errors.Add(index, field, $"'{field}' must be at most {MaxStringBytes} bytes of UTF-8.");
                }
                return value;
            default:
                errors.Add(index, field, $"'{field}' must be a string.");
                reader.Skip();
                return default;
        }
    }

    private static long? ReadTime(ref Utf8JsonReader reader, int index, ErrorList errors)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var ms) && ms is >= 0 and <= 253402300799999)
        {
            return ms;
        }
        reader.Skip();
        errors.Add(index, "time", "'time' must be whole milliseconds since the Unix epoch.");
        return null;
    }

    /// <summary>An object kept as its raw JSON text; on the way, picks up the exposure's <c>flag_key</c> and <c>variant</c>.</summary>
    private static Utf8Value ReadProperties(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, int index, string field, ErrorList errors, ref EventFields e)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return default;
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            errors.Add(index, field, $"'{field}' must be a JSON object.");
            reader.Skip();
            return default;
        }
        var start = (int)reader.TokenStartIndex;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isFlag = reader.ValueTextEquals("flag_key"u8);
            var isVariant = !isFlag && reader.ValueTextEquals("variant"u8);
            reader.Read();
            if (reader.TokenType == JsonTokenType.String && (isFlag || isVariant))
            {
                var value = Utf8Value.Of(ref reader);
                if (value.Length > MaxStringBytes)
                {
                    errors.Add(index, $"{field}.{(isFlag ? "flag_key" : "variant")}", $"It must be at most {MaxStringBytes} bytes of UTF-8.");
                }
                if (isFlag)
                {
                    e.FlagKey = value;
                }
                else
                {
                    e.Variant = value;
                }
            }
            else
            {
                reader.Skip();
            }
        }
        var length = (int)reader.BytesConsumed - start;
        if (length > MaxPropertiesBytes)
        {
            errors.Add(index, field, $"'{field}' must be at most {MaxPropertiesBytes / 1024} KiB of JSON.");
        }
        return new Utf8Value(start, length, null);
    }

    /// <summary>
    /// Events sent without an insert id get one derived from their content (<c>h:</c> and 32 hex digits of
    /// SHA-256), so that an SDK's retry of the same event still counts once.
    /// </summary>
    private static void ContentInsertId(
        ReadOnlySpan<byte> eventType, ReadOnlySpan<byte> userId, ReadOnlySpan<byte> deviceId, long? time, ReadOnlySpan<byte> properties, Span<byte> target)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> newline = [(byte)'\n'];
        hash.AppendData(eventType);
        hash.AppendData(newline);
        hash.AppendData(userId);
        hash.AppendData(newline);
        hash.AppendData(deviceId);
        hash.AppendData(newline);
        hash.AppendData(Encoding.ASCII.GetBytes(time?.ToString(CultureInfo.InvariantCulture) ?? ""));
        hash.AppendData(newline);
        hash.AppendData(properties);
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        target[0] = (byte)'h';
        target[1] = (byte)':';
        Convert.TryToHexStringLower(digest[..16], target[2..], out _);
    }

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> value) => value[System.Text.Ascii.Trim(value)];

    /// <summary>A string of the body: a slice of it, or an unescaped copy when the JSON escaped it.</summary>
    private readonly record struct Utf8Value(int Start, int Length, byte[]? Copy)
    {
        public static Utf8Value Of(ref Utf8JsonReader reader)
        {
            if (!reader.ValueIsEscaped)
            {
                return new Utf8Value((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length, null);
            }
            var copy = new byte[reader.ValueSpan.Length];
            var written = reader.CopyString(copy);
            return new Utf8Value(0, written, copy[..written]);
        }

        public ReadOnlySpan<byte> Span(ReadOnlySpan<byte> json) => Copy ?? (Length == 0 ? [] : json.Slice(Start, Length));
    }

    private struct EventFields
    {
        public Utf8Value EventType;
        public Utf8Value UserId;
        public Utf8Value DeviceId;
        public Utf8Value InsertId;
        public Utf8Value Platform;
        public Utf8Value OsName;
        public Utf8Value EventProperties;
        public Utf8Value UserProperties;
        public Utf8Value FlagKey;
        public Utf8Value Variant;
        public long? Time;
    }

    private sealed record RowContext(byte[] ProjectId, DateTimeOffset ReceivedAt, DateTimeOffset Now, RowBuffer Exposures, RowBuffer Events);

    private sealed class ErrorList
    {
        private readonly List<EventError> _errors = [];

        public int Total { get; private set; }

        public void Add(int? index, string field, string message)
        {
            Total++;
            if (_errors.Count < MaxReportedErrors)
            {
                _errors.Add(new EventError(index, field, message));
            }
        }

        public bool Has(int since, int index, string field)
        {
            for (var i = Math.Min(since, _errors.Count); i < _errors.Count; i++)
            {
                if (_errors[i].Index == index && _errors[i].Field == field)
                {
                    return true;
                }
            }
            return false;
        }

        public BatchParseResult Result(BatchOutcome outcome, int count) => new(outcome, count, _errors, Total);
    }
}
