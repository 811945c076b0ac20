using Experiments.Contracts.Messages;
using Experiments.Notifications.Events;
using MassTransit;

namespace Experiments.Notifications.Consumers;

// One consumer (and queue) per event: each hands the event to the intake, which deduplicates by event id and
// by (event id, subscription id).

public sealed class ExperimentAboutToStartConsumer(EventIntake intake) : IConsumer<ExperimentAboutToStart>
{
    public Task Consume(ConsumeContext<ExperimentAboutToStart> context) => intake.AcceptAsync(NotificationEvent.From(context.Message), context.CancellationToken);
}

public sealed class ExperimentStartedConsumer(EventIntake intake) : IConsumer<ExperimentStarted>
{
    public Task Consume(ConsumeContext<ExperimentStarted> context) => intake.AcceptAsync(NotificationEvent.From(context.Message), context.CancellationToken);
}

public sealed class ExperimentEndedConsumer(EventIntake intake) : IConsumer<ExperimentEnded>
{
    public Task Consume(ConsumeContext<ExperimentEnded> context) => intake.AcceptAsync(NotificationEvent.From(context.Message), context.CancellationToken);
}

public sealed class SrmDetectedConsumer(EventIntake intake) : IConsumer<SrmDetected>
{
    public Task Consume(ConsumeContext<SrmDetected> context) => intake.AcceptAsync(NotificationEvent.From(context.Message), context.CancellationToken);
}

public sealed class ExperimentLongRunningConsumer(EventIntake intake) : IConsumer<ExperimentLongRunning>
{
    public Task Consume(ConsumeContext<ExperimentLongRunning> context) => intake.AcceptAsync(NotificationEvent.From(context.Message), context.CancellationToken);
}

public sealed class StatSigReachedConsumer(EventIntake intake) : IConsumer<StatSigReached>
{
    public Task Consume(ConsumeContext<StatSigReached> context) => intake.AcceptAsync(NotificationEvent.From(context.Message), context.CancellationToken);
}

public sealed class BanditWeightsUpdatedConsumer(EventIntake intake) : IConsumer<BanditWeightsUpdated>
{
    public Task Consume(ConsumeContext<BanditWeightsUpdated> context) => intake.AcceptAsync(NotificationEvent.From(context.Message), context.CancellationToken);
}
