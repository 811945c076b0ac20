using Experiments.Analysis.Consumers;
using Experiments.Postgres.Configuration;
using Microsoft.Extensions.Options;

namespace Experiments.Analysis.Scheduling;

/// <summary>
/// Runs the analyses that ExperimentChanged asked for (<see cref="PendingAnalyses"/>) when they are due: woken by this
/// instance's consumer, polling for the rest. The experiment's status at analysis time decides: running => the same
/// analysis as a scheduled pass (snapshot, alerts once per cause, bandit weights); stopped => its final analysis
/// (<see cref="ScheduledAnalyses.AnalyseAsync"/>); a draft or a deleted experiment => nothing.
/// </summary>
public sealed class PendingAnalysisService(
    PendingAnalyses pending, PendingAnalysisSignal signal, ExperimentConfigReader experiments, ScheduledAnalyses analyses,
    IOptions<ExperimentChangeOptions> options, TimeProvider time, ILogger<PendingAnalysisService> logger) : BackgroundService
{
    private const int BatchSize = 4;
    private DateTimeOffset _forgotAt = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = options.Value.PollInterval;
            try
            {
                await ForgetOldEventsAsync(stoppingToken);
                var claimed = await pending.ClaimDueAsync(BatchSize, stoppingToken);
                foreach (var analysis in claimed)
                {
                    await RunAsync(analysis, stoppingToken);
                }
                if (claimed.Count > 0)
                {
                    continue;
                }
                if (await pending.NextDueAsync(stoppingToken) is { } next)
                {
                    var until = next - time.GetUtcNow();
                    wait = until <= TimeSpan.Zero ? TimeSpan.FromMilliseconds(50) : until < wait ? until : wait;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Looking for analyses requested by experiment changes failed");
            }
            try
            {
                await signal.WaitAsync(wait, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task RunAsync(PendingAnalysis analysis, CancellationToken cancellationToken)
    {
        try
        {
            var experiment = await experiments.FindAsync(analysis.ProjectId, analysis.ExperimentId, cancellationToken);
            if (experiment is { Status: ExperimentStatuses.Running or ExperimentStatuses.Stopped })
            {
                var published = await analyses.AnalyseAsync(experiment, cancellationToken);
                logger.LogInformation("Analysed {Status} experiment {Experiment} after a change; published {Published}",
                    experiment.Status, experiment.Key, string.Join(", ", published));
            }
            await pending.CompleteAsync(analysis, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Analysis of experiment {ExperimentId} after a change failed (attempt {Attempt}); it will be tried again",
                analysis.ExperimentId, analysis.Attempts);
            await pending.RetryLaterAsync(analysis, CancellationToken.None);
        }
    }

    private async Task ForgetOldEventsAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now - _forgotAt < TimeSpan.FromHours(1))
        {
            return;
        }
        _forgotAt = now;
        await pending.ForgetOldEventsAsync(cancellationToken);
    }
}
