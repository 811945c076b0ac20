namespace Experiments.Ingest.Pipeline;

/// <summary>The pipeline's knobs (configuration section <c>Ingest</c>); the defaults are what the benchmarks ran with.</summary>
public sealed class IngestOptions
{
    public const string Section = "Ingest";

    /// <summary>Batches waiting for the broker's confirm at once; beyond it the API answers 429 with Retry-After.</summary>
    public int MaxInFlightBatches { get; set; } = 256;

    /// <summary>How long a request waits for the broker's confirm before answering 503 with Retry-After.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Messages the consumer gathers into one ClickHouse insert per table.</summary>
    public int MessagesPerInsert { get; set; } = 250;

    /// <summary>How long the consumer waits to fill an insert before writing what it has.</summary>
    public TimeSpan InsertTimeLimit { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Inserts running at once per consumer process.</summary>
    public int ConcurrentInserts { get; set; } = 2;

    /// <summary>The longest pause between two attempts while ClickHouse is away.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Unset (the default, production, the AppHost): the queues are durable and kept forever, so accepted data is never
    /// lost. Set (test platforms): the queues are declared with RabbitMQ's <c>x-expires</c>, so the broker deletes them
    /// once they went unused (no consumer, no declare) that long, and a stopped test platform no longer leaves queues
    /// that every later assignment batch is copied into. RabbitMQ refuses to re-declare a queue with other arguments:
    /// set it only for queues that never existed without it (fresh ClickHouse database names).
    /// </summary>
    public TimeSpan? QueueExpiry { get; set; }
}

/// <summary>
/// The ingest service's queues, named for the ClickHouse database they fill: <c>ingest-events</c> and
/// <c>ingest-assignments</c> for the database <c>default</c>, <c>ingest-events-{database}</c> otherwise. Replicas that
/// fill one database share its queues; platforms that fill different databases on one broker (several launched
/// AppHosts, the end-to-end tests of several checkouts) never take each other's batches. Each queue has an
/// <c>_error</c> queue beside it for parked messages.
/// </summary>
public sealed class IngestQueues
{
    public IngestQueues(string clickHouseDatabase)
    {
        var suffix = clickHouseDatabase == "default" ? "" : "-" + clickHouseDatabase;
        Events = "ingest-events" + suffix;
        Assignments = "ingest-assignments" + suffix;
        All = [Events, Assignments];
    }

    public string Events { get; }

    public string Assignments { get; }

    public IReadOnlyList<string> All { get; }

    public static string ErrorQueue(string queue) => queue + "_error";

    /// <summary>RabbitMQ's queue argument: delete the queue after it went unused this many milliseconds.</summary>
    public const string ExpiresArgument = "x-expires";

    /// <summary>The <see cref="ExpiresArgument"/> value for <paramref name="expiry"/>, or null when the queues are kept forever.</summary>
    public static int? ExpiryMilliseconds(TimeSpan? expiry)
        => expiry is { } e ? (int)Math.Clamp(Math.Ceiling(e.TotalMilliseconds), 1, int.MaxValue) : null;
}
