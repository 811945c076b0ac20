using Experiments.Contracts.Messages;
using Experiments.Gateway.Model;
using Experiments.Postgres.Configuration;

namespace Experiments.Gateway.Data;

/// <summary>
/// The events of an experiment change, built in one place for the admin routes and the scheduler and written to the
/// outbox in the change's transaction. Each gets a new EventId here; the outbox keeps it, so a republish carries the same.
/// </summary>
public static class ExperimentMessages
{
    public static object[] Changed(string projectId, Guid experimentId, string experimentKey, string change, DateTimeOffset now)
        => [new ExperimentChanged(Guid.NewGuid(), projectId, experimentId, experimentKey, change, now)];

    public static object[] Changed(Experiment experiment, string change, DateTimeOffset now)
        => Changed(experiment.ProjectId, experiment.Id, experiment.Key, change, now);

    /// <summary>Draft to running: ExperimentChanged("launched") then ExperimentStarted.</summary>
    public static object[] Launched(Experiment experiment, DateTimeOffset now) =>
    [
        .. Changed(experiment, "launched", now),
        new ExperimentStarted(Guid.NewGuid(), experiment.ProjectId, experiment.Id, experiment.Key, experiment.Name, experiment.StartedAt ?? now),
    ];

    /// <summary>Running to stopped: ExperimentChanged("stopped") then ExperimentEnded.</summary>
    public static object[] Stopped(Experiment experiment, DateTimeOffset now) =>
    [
        .. Changed(experiment, "stopped", now),
        new ExperimentEnded(Guid.NewGuid(), experiment.ProjectId, experiment.Id, experiment.Key, experiment.Name, experiment.StoppedAt ?? now),
    ];

    /// <summary>The messages of a transition to <paramref name="to"/>.</summary>
    public static object[] Transitioned(Experiment experiment, string to, DateTimeOffset now)
        => to == ExperimentStatuses.Running ? Launched(experiment, now) : Stopped(experiment, now);
}
