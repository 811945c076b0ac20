namespace Experiments.Contracts.Messages;

// Events about an experiment's health and results, published by the analysis service (and, for schedule-driven
// ones, the gateway) and consumed by the notifications service, which turns them into Slack messages and signed
// webhooks. Every record carries a stable EventId: publish the same EventId again (a retry, a redelivery, a
// re-run of the same check) and each subscriber is still notified once. Publish a NEW EventId only for a new
// occurrence (e.g. SRM detected again after it had cleared).

/// <summary>
/// A sample ratio mismatch: the observed exposures per variant differ from the configured traffic weights more
/// than chance allows (chi-square goodness-of-fit test), so the experiment's results can't be trusted.
/// </summary>
/// <param name="EventId">Stable id of this occurrence; deduplicates notifications.</param>
/// <param name="ProjectId">The experiment's project (subscriptions are per project).</param>
/// <param name="ExperimentId">The experiment.</param>
/// <param name="ExperimentKey">The experiment's key (flag key).</param>
/// <param name="Name">The experiment's display name.</param>
/// <param name="PValue">The chi-square test's p-value (small means mismatch).</param>
/// <param name="ChiSquare">The chi-square statistic.</param>
/// <param name="ObservedCounts">Exposed users per variant key.</param>
/// <param name="ExpectedWeights">Configured traffic weight per variant key (summing to 1).</param>
/// <param name="DetectedAt">When the analysis detected it.</param>
public sealed record SrmDetected(Guid EventId, string ProjectId, Guid ExperimentId, string ExperimentKey, string Name,
    double PValue, double ChiSquare, IReadOnlyDictionary<string, long> ObservedCounts,
    IReadOnlyDictionary<string, double> ExpectedWeights, DateTimeOffset DetectedAt);

/// <summary>
/// The recommendation (primary) metric reached statistical significance for a variant against control.
/// </summary>
/// <param name="EventId">Stable id of this occurrence; deduplicates notifications.</param>
/// <param name="ProjectId">The experiment's project.</param>
/// <param name="ExperimentId">The experiment.</param>
/// <param name="ExperimentKey">The experiment's key (flag key).</param>
/// <param name="Name">The experiment's display name.</param>
/// <param name="Metric">The recommendation metric (its event type or name).</param>
/// <param name="Variant">The variant key that differs significantly from control.</param>
/// <param name="Control">The control variant key.</param>
/// <param name="Lift">Relative lift of <paramref name="Variant"/> over control (0.05 = +5%); null when the control's mean is 0.</param>
/// <param name="PValue">The test's p-value.</param>
/// <param name="IntervalLower">Lower bound of the lift's confidence interval (relative, like Lift); null when unbounded or undefined.</param>
/// <param name="IntervalUpper">Upper bound of the lift's confidence interval (relative, like Lift); null when unbounded or undefined.</param>
/// <param name="ConfidenceLevel">The interval's confidence level (0.95).</param>
/// <param name="ReachedAt">When the analysis found it.</param>
public sealed record StatSigReached(Guid EventId, string ProjectId, Guid ExperimentId, string ExperimentKey, string Name,
    string Metric, string Variant, string Control, double? Lift, double PValue, double? IntervalLower, double? IntervalUpper,
    double ConfidenceLevel, DateTimeOffset ReachedAt);

/// <summary>A running experiment is past its planned end and still running.</summary>
/// <param name="EventId">Stable id of this occurrence; deduplicates notifications.</param>
/// <param name="ProjectId">The experiment's project.</param>
/// <param name="ExperimentId">The experiment.</param>
/// <param name="ExperimentKey">The experiment's key (flag key).</param>
/// <param name="Name">The experiment's display name.</param>
/// <param name="StartedAt">When it was launched.</param>
/// <param name="PlannedEndAt">When it was planned to end.</param>
/// <param name="DetectedAt">When the check noticed it.</param>
public sealed record ExperimentLongRunning(Guid EventId, string ProjectId, Guid ExperimentId, string ExperimentKey, string Name,
    DateTimeOffset StartedAt, DateTimeOffset PlannedEndAt, DateTimeOffset DetectedAt);

/// <summary>A scheduled experiment will start soon.</summary>
/// <param name="EventId">Stable id of this occurrence; deduplicates notifications.</param>
/// <param name="ProjectId">The experiment's project.</param>
/// <param name="ExperimentId">The experiment.</param>
/// <param name="ExperimentKey">The experiment's key (flag key).</param>
/// <param name="Name">The experiment's display name.</param>
/// <param name="StartsAt">When it is scheduled to start.</param>
/// <param name="AnnouncedAt">When this notice was produced.</param>
public sealed record ExperimentAboutToStart(Guid EventId, string ProjectId, Guid ExperimentId, string ExperimentKey, string Name,
    DateTimeOffset StartsAt, DateTimeOffset AnnouncedAt);

/// <summary>
/// The event type names of the records above and of the lifecycle events, as subscribers choose them (gateway
/// subscriptions) and webhooks carry them in <c>type</c>. They are part of the public contract (subscriptions store
/// them, receivers switch on them): add, never rename.
/// </summary>
public static class NotificationEventTypes
{
    public const string AboutToStart = "experiment.about_to_start";
    public const string Started = "experiment.started";
    public const string Ended = "experiment.ended";
    public const string SrmDetected = "experiment.srm_detected";
    public const string LongRunning = "experiment.long_running";
    public const string StatSigReached = "experiment.stat_sig_reached";
    public const string BanditWeightsUpdated = "experiment.bandit_weights_updated";

    /// <summary>A test send from the admin API: delivered to the one subscription asked, whatever its event types.</summary>
    public const string Test = "notification.test";

    public static readonly IReadOnlyList<string> Subscribable =
        [AboutToStart, Started, Ended, SrmDetected, LongRunning, StatSigReached, BanditWeightsUpdated];
}
