namespace Experiments.Notifications;

/// <summary>The <c>Notifications</c> configuration section.</summary>
public sealed class NotificationOptions
{
    public const string Section = "Notifications";

    /// <summary>
    /// Allow deliveries to private, loopback and link-local addresses (checked on the resolved IPs at connect time).
    /// Off by default; on in Development, where receivers run on 127.0.0.1.
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Base URL of the gateway's console for links in messages; defaults to <c>services:gateway:http:0</c>.</summary>
    public string? ConsoleBaseUrl { get; set; }

    /// <summary>Prefix of this service's RabbitMQ queues (tests use their own so that they don't compete).</summary>
    public string QueuePrefix { get; set; } = "notifications";

    /// <summary>Auto-deleted queues (tests).</summary>
    public bool TemporaryQueues { get; set; }

    /// <summary>Tries per delivery, the first included, before it is parked as failed.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Delay before the second try; doubles each try (with jitter), up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan InitialRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The longest <c>Retry-After</c> honoured; longer ones are cut to this.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromHours(6);

    /// <summary>Time allowed for one HTTP request (connect, send, response headers).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Deliveries in flight at once; each endpoint holds only its own slots.</summary>
    public int Concurrency { get; set; } = 32;

    /// <summary>How often the dispatcher looks for due deliveries when nothing wakes it.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}
