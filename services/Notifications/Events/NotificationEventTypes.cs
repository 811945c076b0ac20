namespace Experiments.Notifications.Events;

/// <summary>
/// The event type names subscribers choose from and webhooks carry in <c>type</c>. They are part of the public
/// contract (subscriptions store them, receivers switch on them): add, never rename.
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
