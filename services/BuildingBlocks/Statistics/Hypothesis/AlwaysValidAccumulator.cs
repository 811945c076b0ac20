using Experiments.Statistics.Contracts;

namespace Experiments.Statistics.Hypothesis;

/// <summary>
/// Over the life of an experiment the sequential test reports the running minimum of its snapshots'
/// p-values and the running intersection of their intervals: both stay valid at any stopping time.
/// Feed snapshots oldest first (one comparison of the same variant and metric per snapshot).
/// </summary>
public static class AlwaysValidAccumulator
{
    /// <summary>Combines the running result so far with the newest snapshot.</summary>
    public static ComparisonResult Accumulate(ComparisonResult? running, ComparisonResult snapshot, double alpha)
    {
        if (running?.PValue is not { } runningP || snapshot.PValue is not { } snapshotP)
        {
            // Nothing to carry over yet (or the gate holds this snapshot back: keep what was established).
            return running is { PValue: not null } && snapshot.PValue is null
                ? running with { ControlMean = snapshot.ControlMean, Mean = snapshot.Mean, AbsoluteLift = snapshot.AbsoluteLift, RelativeLift = snapshot.RelativeLift }
                : snapshot;
        }

        var pValue = Math.Min(runningP, snapshotP);
        var adjustedPValue = Min(running.AdjustedPValue, snapshot.AdjustedPValue);
        return snapshot with
        {
            PValue = pValue,
            AdjustedPValue = adjustedPValue,
            CiAbsolute = Intersect(running.CiAbsolute, snapshot.CiAbsolute),
            CiRelative = Intersect(running.CiRelative, snapshot.CiRelative),
            Significant = (adjustedPValue ?? pValue) < alpha,
        };
    }

    /// <summary>The running results after each snapshot in turn.</summary>
    public static IReadOnlyList<ComparisonResult> Run(IEnumerable<ComparisonResult> snapshots, double alpha)
    {
        var results = new List<ComparisonResult>();
        ComparisonResult? running = null;
        foreach (var snapshot in snapshots)
        {
            running = Accumulate(running, snapshot, alpha);
            results.Add(running);
        }

        return results;
    }

    /// <summary>
    /// The intersection of two intervals. An empty intersection (possible with probability at most α)
    /// collapses to the point where the two meet, rather than inventing an inverted interval.
    /// </summary>
    public static Interval? Intersect(Interval? first, Interval? second)
    {
        if (first is not { } a)
        {
            return second;
        }

        if (second is not { } b)
        {
            return first;
        }

        var lower = Max(a.Lower, b.Lower);
        var upper = Min(a.Upper, b.Upper);
        if (lower is { } l && upper is { } u && l > u)
        {
            var meeting = 0.5 * (l + u);
            return new Interval(meeting, meeting);
        }

        return new Interval(lower, upper);
    }

    private static double? Max(double? a, double? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);

    private static double? Min(double? a, double? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);
}
