using Experiments.Analysis.Scheduling;
using Experiments.Contracts.Messages;
using Experiments.Postgres.Configuration;
using MassTransit;

namespace Experiments.Analysis.Consumers;

/// <summary>
/// Takes in the gateway's ExperimentChanged: a stop asks for the experiment's final analysis at once, a change of a
/// running experiment asks for one debounced analysis (a burst of changes coalesces into one), a change of a draft
/// (or of anything that is not an experiment of this database, such as an exclusion group) asks for nothing. The
/// request is a row in <c>analysis.pending_analyses</c>, written in the same transaction as the EventId, so a
/// redelivered event (the outbox publishes at least once) changes nothing; <see cref="PendingAnalysisService"/>
/// of any instance runs it. One durable queue shared by the instances: a change waits there while none runs.
/// </summary>
public sealed class ExperimentChangedConsumer(ExperimentConfigReader experiments, PendingAnalyses pending, ILogger<ExperimentChangedConsumer> logger)
    : IConsumer<ExperimentChanged>
{
    public const string StoppedChange = "stopped";

    public async Task Consume(ConsumeContext<ExperimentChanged> context)
    {
        var message = context.Message;
        var experiment = await experiments.FindAsync(message.ProjectId, message.ExperimentId, context.CancellationToken);
        if (experiment is null)
        {
            logger.LogDebug("{Change} of {ExperimentId} is not about an experiment here; ignored", message.Change, message.ExperimentId);
            return;
        }
        var request = experiment.Status switch
        {
            ExperimentStatuses.Stopped when message.Change == StoppedChange => AnalysisRequest.Now,
            ExperimentStatuses.Running or ExperimentStatuses.Stopped => AnalysisRequest.Debounced,
            _ => AnalysisRequest.None,
        };
        if (!await pending.TakeInAsync(message, experiment.ProjectId, request, context.CancellationToken))
        {
            logger.LogInformation("ExperimentChanged {EventId} ({Change} of {Experiment}) was already taken in; dropped",
                message.EventId, message.Change, message.ExperimentKey);
        }
    }
}
