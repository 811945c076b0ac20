using Experiments.Analysis.Consumers;
using Experiments.Contracts.Messages;
using Experiments.Messaging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Experiments.Analysis.Scheduling;

/// <summary>What a change asks for.</summary>
public enum AnalysisRequest
{
    /// <summary>Nothing (a draft).</summary>
    None,

    /// <summary><see cref="ExperimentChangeOptions.Debounce"/> after the last change, at most <see cref="ExperimentChangeOptions.MaxDelay"/> after the first.</summary>
    Debounced,

    /// <summary>At once (a stop: the final analysis).</summary>
    Now,
}

/// <summary>An analysis claimed by this instance until its lease ends.</summary>
public sealed record PendingAnalysis(Guid ExperimentId, string ProjectId, long Version, int Attempts);

/// <summary>Wakes <see cref="PendingAnalysisService"/> when this instance took in a change.</summary>
public sealed class PendingAnalysisSignal : WakeSignal;

/// <summary>
/// Analyses requested by ExperimentChanged, one row per experiment in <c>analysis.pending_analyses</c> (see the
/// migration 0002_experiment_changes.sql): requested with the event's id (duplicates dropped), claimed by one
/// instance at a time under a lease, deleted once done unless another change came meanwhile.
/// </summary>
public sealed class PendingAnalyses(NpgsqlDataSource dataSource, PendingAnalysisSignal signal, IOptions<ExperimentChangeOptions> options, TimeProvider time)
{
    /// <summary>Records the event and the analysis it asks for in one transaction; false when the event was already taken in.</summary>
    public async Task<bool> TakeInAsync(ExperimentChanged message, string projectId, AnalysisRequest request, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var received = new NpgsqlCommand("""
            INSERT INTO analysis.received_changes (event_id, experiment_id, change, received_at) VALUES (@event, @experiment, @change, @now)
            ON CONFLICT (event_id) DO NOTHING
            """, connection, transaction))
        {
            received.Parameters.AddWithValue("event", message.EventId);
            received.Parameters.AddWithValue("experiment", message.ExperimentId);
            received.Parameters.AddWithValue("change", message.Change);
            received.Parameters.AddWithValue("now", now);
            if (await received.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return false;
            }
        }
        if (request != AnalysisRequest.None)
        {
            await using var upsert = new NpgsqlCommand("""
                INSERT INTO analysis.pending_analyses (experiment_id, project_id, due_at, first_requested_at) VALUES (@experiment, @project, @due, @now)
                ON CONFLICT (experiment_id) DO UPDATE SET
                    due_at = LEAST(excluded.due_at, pending_analyses.first_requested_at + @max_delay),
                    version = pending_analyses.version + 1
                """, connection, transaction);
            upsert.Parameters.AddWithValue("experiment", message.ExperimentId);
            upsert.Parameters.AddWithValue("project", projectId);
            upsert.Parameters.AddWithValue("due", request == AnalysisRequest.Now ? now : now + options.Value.Debounce);
            upsert.Parameters.AddWithValue("now", now);
            upsert.Parameters.AddWithValue("max_delay", options.Value.MaxDelay);
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        if (request != AnalysisRequest.None)
        {
            signal.Notify();
        }
        return true;
    }

    /// <summary>Claims up to <paramref name="limit"/> due analyses that no other instance holds.</summary>
    public async Task<IReadOnlyList<PendingAnalysis>> ClaimDueAsync(int limit, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var command = dataSource.CreateCommand("""
            UPDATE analysis.pending_analyses p SET leased_until = @lease_end, attempts = p.attempts + 1
            FROM (SELECT experiment_id FROM analysis.pending_analyses
                  WHERE due_at <= @now AND (leased_until IS NULL OR leased_until < @now)
                  ORDER BY due_at LIMIT @limit FOR UPDATE SKIP LOCKED) due
            WHERE p.experiment_id = due.experiment_id
            RETURNING p.experiment_id, p.project_id, p.version, p.attempts
            """);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("lease_end", now + options.Value.Lease);
        command.Parameters.AddWithValue("limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var claimed = new List<PendingAnalysis>();
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new PendingAnalysis(reader.GetGuid(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt32(3)));
        }
        return claimed;
    }

    /// <summary>Done: the row goes, unless a change came during the analysis (then it is due again, released).</summary>
    public async Task CompleteAsync(PendingAnalysis analysis, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH done AS (DELETE FROM analysis.pending_analyses WHERE experiment_id = @experiment AND version = @version RETURNING 1)
            UPDATE analysis.pending_analyses SET leased_until = NULL, attempts = 0, first_requested_at = @now
            WHERE experiment_id = @experiment AND NOT EXISTS (SELECT 1 FROM done)
            """);
        command.Parameters.AddWithValue("experiment", analysis.ExperimentId);
        command.Parameters.AddWithValue("version", analysis.Version);
        command.Parameters.AddWithValue("now", time.GetUtcNow());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Failed: released, due again after a wait that doubles with each attempt.</summary>
    public async Task RetryLaterAsync(PendingAnalysis analysis, CancellationToken cancellationToken)
    {
        var wait = TimeSpan.FromTicks(Math.Min(options.Value.MaxRetryDelay.Ticks,
            Math.Max(TimeSpan.FromSeconds(1).Ticks, options.Value.Debounce.Ticks) * (1L << Math.Min(analysis.Attempts, 20))));
        await using var command = dataSource.CreateCommand(
            "UPDATE analysis.pending_analyses SET leased_until = NULL, due_at = GREATEST(due_at, @due) WHERE experiment_id = @experiment");
        command.Parameters.AddWithValue("experiment", analysis.ExperimentId);
        command.Parameters.AddWithValue("due", time.GetUtcNow() + wait);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>When the next analysis can be claimed (its due time, or the end of another instance's lease); null when none waits.</summary>
    public async Task<DateTimeOffset?> NextDueAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT min(GREATEST(due_at, COALESCE(leased_until, due_at))) FROM analysis.pending_analyses");
        return await command.ExecuteScalarAsync(cancellationToken) is DateTime at ? new DateTimeOffset(at, TimeSpan.Zero) : null;
    }

    /// <summary>Forgets EventIds older than the retention: a redelivery comes within minutes, not weeks.</summary>
    public async Task<int> ForgetOldEventsAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM analysis.received_changes WHERE received_at < @before");
        command.Parameters.AddWithValue("before", time.GetUtcNow() - options.Value.Retention);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
