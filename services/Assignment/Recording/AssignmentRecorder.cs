using System.Threading.Channels;
using Experiments.Contracts.Messages;
using MassTransit;

namespace Experiments.Assignment.Recording;

/// <summary>
/// Turns assignments into <see cref="AssignmentBatchRecorded"/> messages for the ingest pipeline (ClickHouse's
/// <c>assignments</c> table): deduplicated in memory (one event per user, flag and variant while it stays in the
/// table of recent assignments), queued without blocking evaluation, and published in batches per project.
/// When the queue is full the oldest wait is dropped and counted rather than slowing evaluation.
/// Publishes through <see cref="IBus"/> (a singleton, as the gateway's outbox relay and the ingest publisher do):
/// <see cref="IPublishEndpoint"/> is scoped, and resolving it from the root provider fails in Development, where
/// scope validation is on.
/// </summary>
public sealed class AssignmentRecorder(IBus bus, TimeProvider time, ILogger<AssignmentRecorder> logger) : BackgroundService
{
    public const int MaxBatch = 1000;
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(500);
    private const int RecentSize = 1 << 20;

    private readonly ulong[] _recent = new ulong[RecentSize];
    private readonly Channel<(string ProjectId, AssignmentRecord Record)> _queue =
        Channel.CreateBounded<(string, AssignmentRecord)>(new BoundedChannelOptions(200_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private long _dropped;

    /// <summary>Records an assignment unless the same user, flag and variant was recorded recently. Allocates only for new ones.</summary>
    public void Record(string projectId, string flagKey, string variant, string? userId, string? deviceId)
    {
        var hash = ((ulong)(uint)HashCode.Combine(projectId, flagKey, variant, userId, deviceId) << 32)
            | (uint)HashCode.Combine(deviceId, userId, variant, flagKey, projectId, 0x5bd1e995);
        hash |= 1; // 0 marks an empty slot
        ref var slot = ref _recent[(int)(hash >> 44) & (RecentSize - 1)];
        if (Volatile.Read(ref slot) == hash)
        {
            return;
        }
        Volatile.Write(ref slot, hash);
        var now = time.GetUtcNow();
        var insertId = $"{projectId}/{flagKey}/{variant}/{userId}/{deviceId}/{now.ToUnixTimeMilliseconds()}";
        if (!_queue.Writer.TryWrite((projectId, new AssignmentRecord(flagKey, variant, userId ?? "", deviceId ?? "", now, insertId))))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pending = new Dictionary<string, List<AssignmentRecord>>(StringComparer.Ordinal);
        using var timer = new PeriodicTimer(FlushInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            while (_queue.Reader.TryRead(out var item))
            {
                if (!pending.TryGetValue(item.ProjectId, out var list))
                {
                    pending[item.ProjectId] = list = [];
                }
                list.Add(item.Record);
                if (list.Count >= MaxBatch * 20)
                {
                    break;
                }
            }
            if (pending.Count == 0)
            {
                continue;
            }
            try
            {
                foreach (var (project, records) in pending)
                {
                    for (var i = 0; i < records.Count; i += MaxBatch)
                    {
                        await bus.Publish(new AssignmentBatchRecorded(Guid.NewGuid(), project, records.GetRange(i, Math.Min(MaxBatch, records.Count - i))), stoppingToken);
                    }
                }
                pending.Clear();
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Assignment batches not published yet; {Count} projects' records kept for the next attempt", pending.Count);
            }
            if (Interlocked.Exchange(ref _dropped, 0) is > 0 and var dropped)
            {
                logger.LogWarning("Dropped {Count} assignment events: the queue was full", dropped);
            }
        }
    }
}
