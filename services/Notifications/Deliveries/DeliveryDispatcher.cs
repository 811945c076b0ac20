namespace Experiments.Notifications.Deliveries;

/// <summary>
/// Works the deliveries outbox: claims due rows (FOR UPDATE SKIP LOCKED) up to the free concurrency slots and
/// sends each on its own task, so a slow or dead endpoint holds one slot for at most the request timeout and
/// never delays the others.
/// </summary>
public sealed partial class DeliveryDispatcher(
    DeliveryStore store, DeliveryProcessor processor, DeliverySignal signal, NotificationOptions options, ILogger<DeliveryDispatcher> logger)
    : BackgroundService
{
    /// <summary>How long a claim lasts: a crashed instance's claims are taken over after it.</summary>
    public TimeSpan Lease => options.RequestTimeout + TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var slots = new SemaphoreSlim(options.Concurrency, options.Concurrency);
        var running = new HashSet<Task>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (slots.CurrentCount == 0)
                {
                    await slots.WaitAsync(stoppingToken);
                    slots.Release();
                }
                var claimed = await store.ClaimAsync(slots.CurrentCount, Lease, stoppingToken);
                foreach (var work in claimed)
                {
                    await slots.WaitAsync(stoppingToken);
                    var task = Task.Run(async () =>
                    {
                        try
                        {
                            await processor.ProcessAsync(work, stoppingToken);
                        }
                        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                        {
                            // The claim expires and another try follows.
                            LogProcessingFailed(ex, work.Id);
                        }
                        finally
                        {
                            slots.Release();
                        }
                    }, CancellationToken.None);
                    lock (running)
                    {
                        running.Add(task);
                    }
                    _ = task.ContinueWith(t => { lock (running) { running.Remove(t); } }, TaskScheduler.Default);
                }
                if (claimed.Count == 0)
                {
                    await signal.WaitAsync(options.PollInterval, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                LogClaimFailed(ex);
                await Task.Delay(options.PollInterval, CancellationToken.None);
            }
        }

        Task[] remaining;
        lock (running)
        {
            remaining = [.. running];
        }
        await Task.WhenAll(remaining).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    [LoggerMessage(LogLevel.Error, "Delivery {DeliveryId} could not be processed; its claim will expire and it will be tried again")]
    private partial void LogProcessingFailed(Exception exception, Guid deliveryId);

    [LoggerMessage(LogLevel.Error, "Claiming due deliveries failed")]
    private partial void LogClaimFailed(Exception exception);
}
