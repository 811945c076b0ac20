namespace Experiments.Statistics.Hypothesis;

/// <summary>
/// The mixing variance τ² of the mSPRT on one scale: either explicit, or the default
/// τ² = ρ²·n·V with ρ² = (−2 ln α + ln(1 − 2 ln α)) / N* (Howard et al.'s confidence sequence,
/// tightest at total sample size N*).
/// </summary>
public readonly record struct SequentialTuning(double? Tau, double OptimalSampleSize)
{
    public const double DefaultOptimalSampleSize = 5000.0;

    /// <summary>τ² on the absolute scale.</summary>
    public double AbsoluteMixingVariance(double alpha, long totalUsers, double variance) =>
        Tau is { } tau ? tau * tau : DefaultMixingVariance(alpha, totalUsers, variance);

    /// <summary>τ² on the relative scale: (τ/|m_c|)² when τ is explicit.</summary>
    public double RelativeMixingVariance(double alpha, long totalUsers, double variance, double controlMean) =>
        Tau is { } tau ? tau * tau / (controlMean * controlMean) : DefaultMixingVariance(alpha, totalUsers, variance);

    private double DefaultMixingVariance(double alpha, long totalUsers, double variance)
    {
        var minusTwoLogAlpha = -2.0 * Math.Log(alpha);
        var rhoSquared = (minusTwoLogAlpha + Math.Log(1.0 + minusTwoLogAlpha)) / OptimalSampleSize;
        return rhoSquared * totalUsers * variance;
    }
}
