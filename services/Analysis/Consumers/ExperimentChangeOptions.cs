namespace Experiments.Analysis.Consumers;

/// <summary>The <c>ExperimentChanges</c> configuration section: how changes announced by the gateway are analysed.</summary>
public sealed class ExperimentChangeOptions
{
    public const string Section = "ExperimentChanges";

    /// <summary>Prefix of this service's RabbitMQ queues (tests use their own so that they don't compete).</summary>
    public string QueuePrefix { get; set; } = "analysis";

    /// <summary>
    /// Queues deleted when their last consumer disconnects (tests; shared by the instances of one test, unlike MassTransit's
    /// exclusive temporary queues). Off in production: changes wait in the queue while no instance runs.
    /// </summary>
    public bool AutoDeleteQueues { get; set; }

    /// <summary>Off: changes are recorded but nothing analyses them (tests that drive the schedule themselves).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A running experiment is analysed this long after its last change (a burst of changes => one analysis).</summary>
    public TimeSpan Debounce { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>However long the burst, an experiment is analysed at most this long after the first change of it.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often the worker looks for due analyses when nothing wakes it (another instance's requests, retries).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a claimed analysis belongs to its instance; after that (a crash) another instance takes it over.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Longest wait before a failed analysis is tried again (the wait doubles from <see cref="Debounce"/>).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long received EventIds are kept to drop a redelivery.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);
}
