using System.Collections.Concurrent;
using System.Threading.Channels;
using Npgsql;

namespace Experiments.Assignment.Sticky;

/// <summary>
/// Sticky bucketing: the first variant a bucketing value gets in a sticky experiment is kept, whatever the
/// weights become. Held in memory (loaded from <c>assignment.sticky_assignments</c> when an experiment becomes
/// sticky here, then synced every second with what other instances wrote) and written behind in batches, first
/// writer wins: an instance that lost a race adopts the stored variant at its next flush. A clean stop writes
/// what is still pending, so a restart keeps every user's first variant.
/// </summary>
public sealed class StickyAssignments(NpgsqlDataSource dataSource, ILogger<StickyAssignments> logger) : BackgroundService
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan StopFlushTimeout = TimeSpan.FromSeconds(15);
    private readonly ConcurrentDictionary<(Guid Experiment, string Value), string> _known = new();
    private readonly ConcurrentDictionary<Guid, bool> _loaded = new();
    private readonly Channel<Pending> _pending = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private DateTime _syncedUpTo = DateTime.MinValue;

    private sealed record Pending(Guid ExperimentId, string ProjectId, string FlagKey, string BucketingValue, string Variant);

    public string? Find(Guid experimentId, string bucketingValue) => _known.TryGetValue((experimentId, bucketingValue), out var v) ? v : null;

    /// <summary>The stored variant, or <paramref name="variant"/> recorded as the first one.</summary>
    public string GetOrAdd(Guid experimentId, string projectId, string flagKey, string bucketingValue, string variant)
    {
        var stored = _known.GetOrAdd((experimentId, bucketingValue), variant);
        if (ReferenceEquals(stored, variant))
        {
            _pending.Writer.TryWrite(new Pending(experimentId, projectId, flagKey, bucketingValue, variant));
        }
        return stored;
    }

    /// <summary>Loads the stored assignments of sticky experiments not loaded yet (at start, this is what makes stickiness survive restarts).</summary>
    public async Task LoadAsync(IEnumerable<Guid> experimentIds, CancellationToken cancellationToken)
    {
        var missing = experimentIds.Where(id => !_loaded.ContainsKey(id)).ToArray();
        if (missing.Length == 0)
        {
            return;
        }
        await using var command = dataSource.CreateCommand(
            "SELECT experiment_id, bucketing_value, variant FROM assignment.sticky_assignments WHERE experiment_id = ANY(@ids)");
        command.Parameters.AddWithValue("ids", missing);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            _known[(reader.GetGuid(0), reader.GetString(1))] = reader.GetString(2);
        }
        foreach (var id in missing)
        {
            _loaded[id] = true;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushInterval);
        var batch = new List<Pending>();
        var sinceSync = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var sync = ++sinceSync >= 4 && !_loaded.IsEmpty;
                if (sync)
                {
                    sinceSync = 0;
                }
                await WriteAsync(batch, 5000, sync, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // A clean stop writes everything still pending (the host stops this service before the database pool goes).
        using var timeout = new CancellationTokenSource(StopFlushTimeout);
        await WriteAsync(batch, int.MaxValue, sync: false, timeout.Token);
        if (batch.Count > 0) // everything pending was read into the batch
        {
            logger.LogError("Stopped with {Count} sticky assignments not written", batch.Count);
        }
    }

    /// <summary>Writes up to <paramref name="limit"/> pending assignments (kept in <paramref name="batch"/> until written), then syncs if asked.</summary>
    private async Task WriteAsync(List<Pending> batch, int limit, bool sync, CancellationToken cancellationToken)
    {
        while (batch.Count < limit && _pending.Reader.TryRead(out var item))
        {
            batch.Add(item);
        }
        try
        {
            if (batch.Count > 0)
            {
                await FlushAsync(batch, cancellationToken);
                batch.Clear();
            }
            if (sync)
            {
                await SyncAsync(cancellationToken);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Sticky assignments not written yet ({Message}); {Count} kept for the next attempt", ex.Message, batch.Count);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task FlushAsync(List<Pending> batch, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH incoming AS (
                SELECT * FROM unnest(@experiments, @values, @projects, @flags, @variants) AS t(experiment_id, bucketing_value, project_id, flag_key, variant)
            ), inserted AS (
                INSERT INTO assignment.sticky_assignments (experiment_id, bucketing_value, project_id, flag_key, variant)
                SELECT experiment_id, bucketing_value, project_id, flag_key, variant FROM incoming
                ON CONFLICT (experiment_id, bucketing_value) DO NOTHING
                RETURNING experiment_id, bucketing_value
            )
            SELECT s.experiment_id, s.bucketing_value, s.variant
            FROM incoming i
            JOIN assignment.sticky_assignments s ON s.experiment_id = i.experiment_id AND s.bucketing_value = i.bucketing_value
            WHERE s.variant <> i.variant
            """);
        command.Parameters.AddWithValue("experiments", batch.Select(p => p.ExperimentId).ToArray());
        command.Parameters.AddWithValue("values", batch.Select(p => p.BucketingValue).ToArray());
        command.Parameters.AddWithValue("projects", batch.Select(p => p.ProjectId).ToArray());
        command.Parameters.AddWithValue("flags", batch.Select(p => p.FlagKey).ToArray());
        command.Parameters.AddWithValue("variants", batch.Select(p => p.Variant).ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            // Another instance stored a different first variant: adopt it.
            _known[(reader.GetGuid(0), reader.GetString(1))] = reader.GetString(2);
        }
    }

    private async Task SyncAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT experiment_id, bucketing_value, variant, assigned_at FROM assignment.sticky_assignments
            WHERE assigned_at > @since AND experiment_id = ANY(@ids) ORDER BY assigned_at
            """);
        command.Parameters.AddWithValue("since", _syncedUpTo == DateTime.MinValue ? DateTime.UtcNow.AddMinutes(-1) : _syncedUpTo.AddSeconds(-2));
        command.Parameters.AddWithValue("ids", _loaded.Keys.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            _known[(reader.GetGuid(0), reader.GetString(1))] = reader.GetString(2);
            _syncedUpTo = reader.GetDateTime(3);
        }
    }
}
