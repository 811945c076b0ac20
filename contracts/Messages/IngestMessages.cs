namespace Experiments.Contracts.Messages;

/// <summary>
/// A batch of SDK events accepted by the ingest API, on its way to ClickHouse. <see cref="BatchId"/> is stable
/// across redeliveries; each event carries its own insert id.
/// </summary>
/// <remarks>
/// The events travel as one compact binary <see cref="Payload"/> (about a third of the size of a JSON list of
/// records, and no per-event object on either side): a format version byte, then per target table a row count,
/// a byte length and the rows in ClickHouse's RowBinary layout of that version's columns. The ingest service
/// writes and reads it (<c>services/Ingest/Model/EventPayload.cs</c> documents the layout); a consumer of another
/// version parks the message instead of guessing.
/// </remarks>
public sealed record EventBatchReceived(Guid BatchId, string ProjectId, DateTimeOffset ReceivedAt, int EventCount, byte[] Payload)
{
    /// <summary>The type of Amplitude's exposure events: <c>event_properties.flag_key</c> and <c>variant</c>.</summary>
    public const string ExposureEventType = "$exposure";
}
