using Experiments.Contracts.Messages;
using Experiments.Gateway.Data;
using Experiments.Postgres.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Experiments.Gateway.Scheduling;

public sealed class SchedulerOptions
{
    /// <summary>How often due schedules are checked.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long before a scheduled start ExperimentAboutToStart is published.</summary>
    public TimeSpan AboutToStartLead { get; set; } = TimeSpan.FromHours(1);

    public bool Enabled { get; set; } = true;
}

/// <summary>
/// Scheduled starts and ends, through the same store transitions (and audit, and outbox) and so the same messages as
/// the launch and stop routes: ExperimentChanged plus ExperimentStarted / ExperimentEnded. ExperimentAboutToStart is
/// published once per experiment, <see cref="SchedulerOptions.AboutToStartLead"/> before its scheduled start: its
/// notice row and its outbox row are written in one transaction.
/// </summary>
public sealed class ExperimentScheduler(
    NpgsqlDataSource dataSource, ExperimentStore store, GatewayOutbox outbox, IOptions<SchedulerOptions> options, TimeProvider time)
{
    public const string Actor = "scheduler";

    /// <summary>One pass; returns what it did ("started:key", "ended:key", "about_to_start:key").</summary>
    public async Task<IReadOnlyList<string>> RunOnceAsync(CancellationToken cancellationToken)
    {
        var done = new List<string>();
        var now = time.GetUtcNow();
        foreach (var (projectId, id, key, name, startsAt) in await DueAsync("""
            SELECT e.project_id, e.id, e.key, e.name, s.scheduled_start_at FROM gateway.experiment_settings s JOIN gateway.experiments e ON e.id = s.experiment_id
            WHERE e.status = 'draft' AND s.scheduled_start_at <= @until
              AND NOT EXISTS (SELECT 1 FROM gateway.schedule_notices n WHERE n.experiment_id = e.id AND n.cause = 'about_to_start')
            """, now + options.Value.AboutToStartLead, cancellationToken))
        {
            if (await NoticeAsync(id, "about_to_start", new ExperimentAboutToStart(Guid.CreateVersion7(), projectId, id, key, name, startsAt, now), cancellationToken))
            {
                done.Add($"about_to_start:{key}");
            }
        }
        foreach (var (projectId, id, _, _, _) in await DueAsync("""
            SELECT e.project_id, e.id, e.key, e.name, s.scheduled_start_at FROM gateway.experiment_settings s JOIN gateway.experiments e ON e.id = s.experiment_id
            WHERE e.status = 'draft' AND s.scheduled_start_at <= @until
            """, now, cancellationToken))
        {
            var result = await store.TransitionAsync(projectId, id, ExperimentStatuses.Draft, ExperimentStatuses.Running, Actor, cancellationToken);
            if (result.Value is { } experiment)
            {
                done.Add($"started:{experiment.Key}");
            }
        }
        foreach (var (projectId, id, _, _, _) in await DueAsync("""
            SELECT e.project_id, e.id, e.key, e.name, s.scheduled_end_at FROM gateway.experiment_settings s JOIN gateway.experiments e ON e.id = s.experiment_id
            WHERE e.status = 'running' AND s.scheduled_end_at <= @until
            """, now, cancellationToken))
        {
            var result = await store.TransitionAsync(projectId, id, ExperimentStatuses.Running, ExperimentStatuses.Stopped, Actor, cancellationToken);
            if (result.Value is { } experiment)
            {
                done.Add($"ended:{experiment.Key}");
            }
        }
        return done;
    }

    private async Task<List<(string ProjectId, Guid Id, string Key, string Name, DateTimeOffset At)>> DueAsync(string sql, DateTimeOffset until, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.AddWithValue("until", until);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var due = new List<(string, Guid, string, string, DateTimeOffset)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            due.Add((reader.GetString(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4)));
        }
        return due;
    }

    /// <summary>Records the notice once per experiment and cause, with its message in the outbox; false when already noticed.</summary>
    private async Task<bool> NoticeAsync(Guid experimentId, string cause, object message, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand(
            "INSERT INTO gateway.schedule_notices (experiment_id, cause) VALUES (@id, @cause) ON CONFLICT DO NOTHING", connection, transaction))
        {
            command.Parameters.AddWithValue("id", experimentId);
            command.Parameters.AddWithValue("cause", cause);
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return false;
            }
        }
        await GatewayOutbox.WriteAsync(connection, transaction, [message], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        outbox.Committed();
        return true;
    }
}

/// <summary>Runs <see cref="ExperimentScheduler"/> every <see cref="SchedulerOptions.Interval"/>.</summary>
public sealed class ExperimentSchedulerService(ExperimentScheduler scheduler, IOptions<SchedulerOptions> options, ILogger<ExperimentSchedulerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }
        using var timer = new PeriodicTimer(options.Value.Interval);
        do
        {
            try
            {
                var done = await scheduler.RunOnceAsync(stoppingToken);
                if (done.Count > 0)
                {
                    logger.LogInformation("Scheduler: {Done}", string.Join(", ", done));
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Scheduler pass failed");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
