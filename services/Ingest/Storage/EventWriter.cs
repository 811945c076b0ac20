using Experiments.ClickHouse;
using Experiments.Contracts.Messages;
using Experiments.Ingest.Model;

namespace Experiments.Ingest.Storage;

/// <summary>
/// Writes many queued batches in one RowBinary insert per table: the event payloads' rows are sent as they are
/// (no decoding), the assignments row by row. Rows carry their insert id, so writing a batch again is harmless.
/// </summary>
public sealed class EventWriter(ClickHouseClient clickHouse, TimeProvider time)
{
    public static readonly string[] AssignmentColumns =
        ["project_id", "flag_key", "variant", "user_id", "device_id", "time", "insert_id", "received_at"];

    public async Task WriteEventsAsync(IReadOnlyList<(PayloadSection Exposures, PayloadSection Events)> payloads, CancellationToken cancellationToken)
    {
        if (payloads.Any(p => p.Exposures.Rows > 0))
        {
            await clickHouse.InsertAsync("exposures", EventPayload.ExposureColumns, async (writer, ct) =>
            {
                foreach (var (exposures, _) in payloads)
                {
                    await writer.WriteRowsAsync(exposures.RowBinary, exposures.Rows, ct);
                }
            }, cancellationToken);
        }
        if (payloads.Any(p => p.Events.Rows > 0))
        {
            await clickHouse.InsertAsync("events", EventPayload.EventColumns, async (writer, ct) =>
            {
                foreach (var (_, events) in payloads)
                {
                    await writer.WriteRowsAsync(events.RowBinary, events.Rows, ct);
                }
            }, cancellationToken);
        }
    }

    public async Task WriteAssignmentsAsync(IReadOnlyList<AssignmentBatchRecorded> batches, CancellationToken cancellationToken)
    {
        var receivedAt = time.GetUtcNow();
        var rows = batches.SelectMany(b => b.Assignments.Select(a => (b.ProjectId, Assignment: a))).ToList();
        if (rows.Count == 0)
        {
            return;
        }
        await clickHouse.InsertAsync("assignments", AssignmentColumns, rows, (w, row) =>
        {
            var a = row.Assignment;
            w.WriteString(row.ProjectId);
            w.WriteString(a.FlagKey);
            w.WriteString(a.Variant);
            w.WriteString(a.UserId ?? "");
            w.WriteString(a.DeviceId ?? "");
            w.WriteDateTime(a.Time);
            w.WriteString(a.InsertId);
            w.WriteDateTime(receivedAt);
        }, cancellationToken);
    }

    /// <summary>Why ClickHouse could never take this batch, or null when it can.</summary>
    public static string? Refusal(AssignmentBatchRecorded batch)
    {
        if (string.IsNullOrEmpty(batch.ProjectId))
        {
            return "'ProjectId' is empty.";
        }
        if (batch.Assignments is null)
        {
            return "'Assignments' is missing.";
        }
        for (var i = 0; i < batch.Assignments.Count; i++)
        {
            var a = batch.Assignments[i];
            if (a is null || string.IsNullOrEmpty(a.FlagKey) || a.Variant is null || string.IsNullOrEmpty(a.InsertId))
            {
                return $"Assignments[{i}] lacks its flag key, variant or insert id.";
            }
            if (a.Time < DateTimeOffset.UnixEpoch || a.Time.ToUnixTimeSeconds() > uint.MaxValue)
            {
                return $"Assignments[{i}].Time {a.Time:O} is outside ClickHouse's DateTime range.";
            }
        }
        return null;
    }
}
