using Experiments.ClickHouse;
using Experiments.Ingest.Pipeline;
using Microsoft.Extensions.Options;

namespace Experiments.Ingest.Storage;

/// <summary>
/// Runs an insert until ClickHouse accepts it, waiting with exponential backoff (200 ms doubling up to
/// <see cref="IngestOptions.MaxRetryDelay"/>) for as long as ClickHouse is away. Only an error of a ClickHouse that
/// answers its ping and still refuses the rows comes out (the caller parks those rows); shutdown cancels the wait.
/// </summary>
public sealed class InsertRetry(ClickHouseClient clickHouse, IOptions<IngestOptions> options, ILogger<InsertRetry> logger)
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(200);

    public async Task RunAsync(Func<CancellationToken, Task> insert, string what, CancellationToken cancellationToken)
    {
        var delay = FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await insert(cancellationToken);
                if (attempt > 1)
                {
                    logger.LogInformation("ClickHouse accepted {What} after {Attempts} attempts", what, attempt);
                }
                return;
            }
            catch (ClickHouseException ex) when (!cancellationToken.IsCancellationRequested)
            {
                if (!ex.IsTransient && await clickHouse.PingAsync(cancellationToken))
                {
                    throw; // ClickHouse is there and refuses these rows: waiting will not help
                }
                if (attempt == 1 || attempt % 10 == 0)
                {
                    logger.LogWarning("ClickHouse did not take {What} (attempt {Attempt}): {Message}; retrying in {Delay}",
                        what, attempt, ex.Message, delay);
                }
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.Value.MaxRetryDelay.Ticks));
            }
        }
    }
}
