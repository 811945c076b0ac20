using System.Text.Json;

namespace Experiments.Ingest.Model;

/// <summary>One event as SDKs post it (our format and Amplitude's HTTP API v2 share these names).</summary>
public sealed record IncomingEvent(
    string? EventType,
    string? UserId,
    string? DeviceId,
    long? Time,
    string? InsertId,
    JsonElement? EventProperties,
    JsonElement? UserProperties,
    string? Platform,
    string? OsName);

/// <summary><c>POST /v1/events</c> and <c>POST /2/httpapi</c> bodies.</summary>
public sealed record EventBatchRequest(string? ApiKey, IReadOnlyList<IncomingEvent?>? Events);
