namespace Experiments.Contracts.Messages;

/// <summary>Anything about an experiment's configuration changed; assignment caches reload it.</summary>
public sealed record ExperimentChanged(Guid EventId, string ProjectId, Guid ExperimentId, string ExperimentKey, string Change, DateTimeOffset OccurredAt);

/// <summary>An experiment was launched and is now running.</summary>
public sealed record ExperimentStarted(Guid EventId, string ProjectId, Guid ExperimentId, string ExperimentKey, string Name, DateTimeOffset StartedAt);

/// <summary>A running experiment was stopped (by hand or by its schedule).</summary>
public sealed record ExperimentEnded(Guid EventId, string ProjectId, Guid ExperimentId, string ExperimentKey, string Name, DateTimeOffset EndedAt);
