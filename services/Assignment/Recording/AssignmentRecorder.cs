using System.Threading.Channels;
using Experiments.Contracts.Messages;
using MassTransit;

namespace Experiments.Assignment.Recording;

/// <summary>
/// Turns assignments into <see cref="AssignmentBatchRecorded"/> messages for the ingest pipeline (ClickHouse's
/// <c>assignments</c> table): deduplicated in memory (one event per user, flag and variant while it stays in the
/// table of recent assignments), queued without blocking evaluation, and published in batches per project.
/// Nothing accepted is dropped: when the queue is full (<c>Assignment:RecorderCapacity</c>) the new assignment is
/// not queued and not remembered as recorded, so the user's next evaluation records it (counted and logged); a
/// clean stop publishes everything queued before the bus stops.
/// Publishes through <see cref="IBus"/> (a singleton, as the gateway's outbox relay and the ingest publisher do):
/// <see cref="IPublishEndpoint"/> is scoped, and resolving it from the root provider fails in Development, where
/// scope validation is on.
/// </summary>
public sealed class AssignmentRecorder(IBus bus, TimeProvider time, IConfiguration configuration, ILogger<AssignmentRecorder> logger) : BackgroundService
{
    public const int MaxBatch = 1000;
    public const int DefaultCapacity = 200_000;
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan StopFlushTimeout = TimeSpan.FromSeconds(15);
    private const int RecentSize = 1 << 20;

    private readonly ulong[] _recent = new ulong[RecentSize];
    private readonly int _capacity = CapacityOf(configuration);
    private readonly Channel<(string ProjectId, AssignmentRecord Record)> _queue = Channel.CreateBounded<(string, AssignmentRecord)>(
        new BoundedChannelOptions(CapacityOf(configuration)) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    private readonly Dictionary<string, List<AssignmentRecord>> _pending = new(StringComparer.Ordinal);
    private long _deferred;

    private static int CapacityOf(IConfiguration configuration)
    {
        var capacity = configuration.GetValue("Assignment:RecorderCapacity", DefaultCapacity);
        return capacity > 0 ? capacity
            : throw new InvalidOperationException($"Assignment:RecorderCapacity must be a positive number of records; it is {capacity}.");
    }

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
            // Full: not recorded, so not remembered either; the user's next evaluation tries again.
            Interlocked.CompareExchange(ref slot, 0, hash);
            Interlocked.Increment(ref _deferred);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(MaxBatch * 20, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // A clean stop publishes what was accepted; the bus stops after this service (registered before it).
        using var timeout = new CancellationTokenSource(StopFlushTimeout);
        await FlushAsync(int.MaxValue, timeout.Token);
        if (_pending.Count > 0 || _queue.Reader.Count > 0)
        {
            logger.LogError("Stopped with {Count} assignment events not published: the bus did not take them within {Timeout}",
                _pending.Values.Sum(l => l.Count) + _queue.Reader.Count, StopFlushTimeout);
        }
    }

    /// <summary>Moves queued records into the per-project batches (up to <paramref name="limit"/> for a project) and publishes them.</summary>
    private async Task FlushAsync(int limit, CancellationToken cancellationToken)
    {
        // While the bus does not take batches, what waits is bounded too: at most the queue's capacity again here,
        // then the queue fills and new assignments wait for the users' next evaluations.
        var room = _capacity - _pending.Values.Sum(l => l.Count);
        while (room-- > 0 && _queue.Reader.TryRead(out var item))
        {
            if (!_pending.TryGetValue(item.ProjectId, out var list))
            {
                _pending[item.ProjectId] = list = [];
            }
            list.Add(item.Record);
            if (list.Count >= limit)
            {
                break;
            }
        }
        if (Interlocked.Exchange(ref _deferred, 0) is > 0 and var deferred)
        {
            logger.LogWarning("{Count} assignment events not queued (the queue was full); each is recorded at the user's next evaluation", deferred);
        }
        try
        {
            foreach (var (project, records) in _pending)
            {
                while (records.Count > 0)
                {
                    var batch = records.GetRange(0, Math.Min(MaxBatch, records.Count));
                    await bus.Publish(new AssignmentBatchRecorded(Guid.NewGuid(), project, batch), cancellationToken);
                    records.RemoveRange(0, batch.Count);
                }
            }
            _pending.Clear();
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested || ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Assignment batches not published yet; {Count} records kept for the next attempt", _pending.Values.Sum(l => l.Count));
        }
        catch (OperationCanceledException)
        {
        }
    }
}
