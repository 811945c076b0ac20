namespace Experiments.Messaging;

/// <summary>
/// Wakes a background worker that otherwise polls (an outbox relay, a delivery dispatcher) as soon as there is
/// new work, so that normal latency is not the poll interval. Signals while the worker is busy fold into one.
/// </summary>
public class WakeSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    /// <summary>True when woken, false when <paramref name="timeout"/> passed first.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}
