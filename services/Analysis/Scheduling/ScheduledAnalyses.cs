using Experiments.Analysis.Analyses;
using Experiments.Analysis.Snapshots;
using Experiments.Contracts.Messages;
using Experiments.Postgres.Configuration;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Experiments.Analysis.Scheduling;

public sealed class ScheduleOptions
{
    /// <summary>How often running experiments are analysed.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Every bandit arm needs this many exposed users before weights are recomputed.</summary>
    public long BanditMinimumExposures { get; set; } = 100;

    /// <summary>Off in tests that drive <see cref="ScheduledAnalyses.RunOnceAsync"/> themselves.</summary>
    public bool Enabled { get; set; } = true;
}

/// <summary>What one scheduled pass did, for logs and tests.</summary>
public sealed record ScheduledPass(int Analysed, IReadOnlyList<string> Published, IReadOnlyList<string> Failed);

/// <summary>
/// One scheduled pass over every running experiment: analyse it, store the day's snapshot, publish SrmDetected,
/// StatSigReached (primary metric) and ExperimentLongRunning once per experiment and cause, and in bandit mode
/// recompute the Thompson-sampling weights once every variant has enough exposures (stored with alpha and beta,
/// published as BanditWeightsUpdated).
/// </summary>
public sealed class ScheduledAnalyses(
    ExperimentConfigReader experiments, AnalysisConfigReader config, ExperimentAnalysis analysis, SnapshotStore snapshots,
    NpgsqlDataSource dataSource, IBus publisher, IOptions<ScheduleOptions> options, TimeProvider time, ILogger<ScheduledAnalyses> logger)
{
    public const string SrmCause = "srm";
    public const string StatSigCause = "stat_sig";
    public const string LongRunningCause = "long_running";

    public async Task<ScheduledPass> RunOnceAsync(CancellationToken cancellationToken)
    {
        var published = new List<string>();
        var failed = new List<string>();
        var analysed = 0;
        foreach (var experiment in await experiments.ListRunningAsync(cancellationToken))
        {
            try
            {
                published.AddRange(await AnalyseAsync(experiment, cancellationToken));
                analysed++;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Scheduled analysis of experiment {ExperimentId} failed", experiment.Id);
                failed.Add($"{experiment.Id}: {ex.Message}");
            }
        }
        return new ScheduledPass(analysed, published, failed);
    }

    /// <summary>
    /// Analyses one experiment as a pass does (also run by <see cref="PendingAnalysisService"/> after a change). A stopped
    /// experiment gets its final analysis: the data up to its stop, stored as the snapshot of the day it stopped, SRM
    /// and stat-sig alerts still once per cause, no long-running alert and no bandit weights (it serves no traffic).
    /// Returns what was published, as <c>key:cause</c>.
    /// </summary>
    public async Task<IReadOnlyList<string>> AnalyseAsync(ExperimentConfig experiment, CancellationToken cancellationToken)
    {
        var published = new List<string>();
        var now = time.GetUtcNow();
        var final = experiment.Status == ExperimentStatuses.Stopped;
        var settings = await config.SettingsAsync(experiment.Id, cancellationToken);
        if (!final && settings.PlannedEndAt is { } plannedEnd && plannedEnd < now
            && await ClaimAsync(experiment.Id, LongRunningCause, cancellationToken) is { } longId)
        {
            await PublishOrReleaseAsync(experiment.Id, LongRunningCause, new ExperimentLongRunning(longId, experiment.ProjectId, experiment.Id,
                experiment.Key, experiment.Name, experiment.StartedAt ?? now, plannedEnd, now), cancellationToken);
            published.Add($"{experiment.Key}:{LongRunningCause}");
        }

        AnalysisOutcome outcome;
        try
        {
            outcome = await analysis.RunAsync(experiment, new AnalysisOptions(), cancellationToken);
        }
        catch (AnalysisNotPossibleException)
        {
            return published; // nothing to analyse yet (no metric): not a failure of the schedule
        }
        var response = outcome.Response;
        var snapshotDate = final && experiment.StoppedAt is { } stoppedAt ? DateOnly.FromDateTime(stoppedAt.UtcDateTime) : (DateOnly?)null;
        await snapshots.SaveAsync(experiment.ProjectId, experiment.Id, response, snapshotDate, cancellationToken);

        if (outcome.Srm.Detected && await ClaimAsync(experiment.Id, SrmCause, cancellationToken) is { } srmId)
        {
            var total = experiment.Variants.Sum(v => v.TrafficWeight);
            await PublishOrReleaseAsync(experiment.Id, SrmCause, new SrmDetected(srmId, experiment.ProjectId, experiment.Id, experiment.Key, experiment.Name,
                outcome.Srm.PValue, outcome.Srm.ChiSquare ?? double.PositiveInfinity,
                response.Variants.ToDictionary(v => v.Key, v => v.Exposures),
                experiment.Variants.ToDictionary(v => v.Key, v => v.TrafficWeight / total), now), cancellationToken);
            published.Add($"{experiment.Key}:{SrmCause}");
        }

        var primary = response.Metrics[0];
        var significant = primary.Comparisons.Where(c => c.Significant).OrderBy(c => c.HasAdjustedPValue ? c.AdjustedPValue : c.PValue).FirstOrDefault();
        if (significant is not null && await ClaimAsync(experiment.Id, StatSigCause, cancellationToken) is { } sigId)
        {
            await PublishOrReleaseAsync(experiment.Id, StatSigCause, new StatSigReached(sigId, experiment.ProjectId, experiment.Id, experiment.Key,
                experiment.Name, primary.Name, significant.Variant, response.Control, significant.RelativeLiftOrNull, significant.PValue,
                // JSON has no infinity (the bus' serializer would refuse it): an unbounded or missing side is null.
                Finite(significant.CiRelative?.Lower), Finite(significant.CiRelative?.Upper),
                response.ConfidenceLevel, now), cancellationToken);
            published.Add($"{experiment.Key}:{StatSigCause}");
        }

        if (!final && experiment.BanditEnabled && await UpdateBanditAsync(outcome, now, cancellationToken))
        {
            published.Add($"{experiment.Key}:bandit_weights");
        }
        return published;
    }

    /// <summary>Thompson weights of the primary (binary) metric once every arm has the minimum exposures.</summary>
    private async Task<bool> UpdateBanditAsync(AnalysisOutcome outcome, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var primary = outcome.Metrics[0];
        if (primary.Result.Bandit is not { } arms || outcome.Response.Variants.Any(v => v.Exposures < options.Value.BanditMinimumExposures))
        {
            return false;
        }
        await using (var batch = dataSource.CreateBatch())
        {
            foreach (var arm in arms)
            {
                var command = new NpgsqlBatchCommand("""
                    INSERT INTO analysis.bandit_state (experiment_id, variant, alpha, beta, probability_best, weight, computed_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7)
                    ON CONFLICT (experiment_id, variant) DO UPDATE SET alpha = excluded.alpha, beta = excluded.beta,
                        probability_best = excluded.probability_best, weight = excluded.weight, computed_at = excluded.computed_at
                    """);
                command.Parameters.Add(new NpgsqlParameter { Value = outcome.Experiment.Id });
                command.Parameters.Add(new NpgsqlParameter { Value = arm.Key });
                command.Parameters.Add(new NpgsqlParameter { Value = arm.Alpha });
                command.Parameters.Add(new NpgsqlParameter { Value = arm.Beta });
                command.Parameters.Add(new NpgsqlParameter { Value = arm.ProbabilityBest });
                command.Parameters.Add(new NpgsqlParameter { Value = arm.TrafficWeight });
                command.Parameters.Add(new NpgsqlParameter { Value = now });
                batch.BatchCommands.Add(command);
            }
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
        var experiment = outcome.Experiment;
        await publisher.Publish(new BanditWeightsUpdated(Guid.NewGuid(), experiment.ProjectId, experiment.Id, experiment.Key,
            arms.ToDictionary(a => a.Key, a => a.TrafficWeight), now), cancellationToken);
        return true;
    }

    /// <summary>Records that (experiment, cause) is being published; null when it already was.</summary>
    private async Task<Guid?> ClaimAsync(Guid experimentId, string cause, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO analysis.published_events (experiment_id, cause, event_id, published_at) VALUES (@id, @cause, @event, @now)
            ON CONFLICT (experiment_id, cause) DO NOTHING RETURNING event_id
            """);
        command.Parameters.AddWithValue("id", experimentId);
        command.Parameters.AddWithValue("cause", cause);
        command.Parameters.AddWithValue("event", Guid.CreateVersion7());
        command.Parameters.AddWithValue("now", time.GetUtcNow());
        return await command.ExecuteScalarAsync(cancellationToken) is Guid id ? id : null;
    }

    private async Task PublishOrReleaseAsync<T>(Guid experimentId, string cause, T message, CancellationToken cancellationToken) where T : class
    {
        try
        {
            await publisher.Publish(message, cancellationToken);
        }
        catch
        {
            await using var command = dataSource.CreateCommand("DELETE FROM analysis.published_events WHERE experiment_id = @id AND cause = @cause");
            command.Parameters.AddWithValue("id", experimentId);
            command.Parameters.AddWithValue("cause", cause);
            await command.ExecuteNonQueryAsync(CancellationToken.None);
            throw;
        }
    }

    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;
}

/// <summary>Runs <see cref="ScheduledAnalyses"/> every <see cref="ScheduleOptions.Interval"/>.</summary>
public sealed class ScheduledAnalysisService(IServiceProvider services, IOptions<ScheduleOptions> options, ILogger<ScheduledAnalysisService> logger) : BackgroundService
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
                var pass = await services.GetRequiredService<ScheduledAnalyses>().RunOnceAsync(stoppingToken);
                logger.LogInformation("Scheduled analysis: {Analysed} experiments, published {Published}", pass.Analysed, string.Join(", ", pass.Published));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Scheduled analysis pass failed");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
