using Experiments.Contracts.Messages;
using MassTransit;

namespace Experiments.Notifications.Consumers;

/// <summary>Experiment started: recorded once per event id (delivery to subscribers comes with subscriptions).</summary>
public sealed class ExperimentStartedConsumer(ReceivedEventLog log, ILogger<ExperimentStartedConsumer> logger) : IConsumer<ExperimentStarted>
{
    public async Task Consume(ConsumeContext<ExperimentStarted> context)
    {
        var m = context.Message;
        if (await log.TryRecordAsync(m.EventId, m.ProjectId, m.ExperimentId, m, context.CancellationToken))
        {
            logger.LogInformation("Experiment {Key} of project {Project} started at {At}", m.ExperimentKey, m.ProjectId, m.StartedAt);
        }
    }
}

/// <summary>Experiment ended: recorded once per event id.</summary>
public sealed class ExperimentEndedConsumer(ReceivedEventLog log, ILogger<ExperimentEndedConsumer> logger) : IConsumer<ExperimentEnded>
{
    public async Task Consume(ConsumeContext<ExperimentEnded> context)
    {
        var m = context.Message;
        if (await log.TryRecordAsync(m.EventId, m.ProjectId, m.ExperimentId, m, context.CancellationToken))
        {
            logger.LogInformation("Experiment {Key} of project {Project} ended at {At}", m.ExperimentKey, m.ProjectId, m.EndedAt);
        }
    }
}
