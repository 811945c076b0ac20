using Experiments.Statistics.Contracts;
using Experiments.Statistics.Distributions;
using Experiments.Statistics.Estimation;
using Experiments.Statistics.Numerics;

namespace Experiments.Statistics.Hypothesis;

/// <summary>
/// The mixture sequential probability ratio test (Johari, Pekelis, Walsh, "Always Valid Inference")
/// with a normal mixture N(0, τ²) over the difference. With V = se²:
/// ln Λ = ½ ln(V/(V+τ²)) + d²τ²/(2V(V+τ²)), always-valid p = min(1, 1/Λ), and the confidence
/// sequence d ± sqrt(V(V+τ²)/τ² · (ln((V+τ²)/V) − 2 ln α)).
/// A direction restricts the mixture to the half-line of that direction (a half-normal mixture):
/// Λ₊ = 2Λ·Φ(d·τ/√(V(V+τ²))), which is again a test martingale, and the one-sided bound solves Λ₊ = 1/α.
/// </summary>
public static class MixtureSequentialTest
{
    private const double LogTwo = 0.69314718055994530942;

    public static TestOutcome Run(
        SampleMoments control,
        SampleMoments treatment,
        LiftEstimate lift,
        double alpha,
        Direction direction,
        SequentialTuning tuning)
    {
        var totalUsers = control.Users + treatment.Users;
        var absolute = lift.Absolute;
        var mixing = tuning.AbsoluteMixingVariance(alpha, totalUsers, absolute.Variance);
        var logLr = LogLikelihoodRatio(absolute.Value, absolute.Variance, mixing, direction);
        var pValue = Math.Min(1.0, Math.Exp(-logLr));

        Interval? relativeInterval = null;
        if (lift.Relative is { } relative)
        {
            var relativeMixing = tuning.RelativeMixingVariance(alpha, totalUsers, relative.Variance, control.Mean);
            relativeInterval = ConfidenceSequence(relative.Value, relative.Variance, relativeMixing, alpha, direction);
        }

        return new TestOutcome(
            pValue,
            ConfidenceSequence(absolute.Value, absolute.Variance, mixing, alpha, direction),
            relativeInterval,
            MsprtLogLr: logLr);
    }

    /// <summary>ln Λ for an observed difference d with variance V under mixing variance τ².</summary>
    public static double LogLikelihoodRatio(double difference, double variance, double mixingVariance, Direction direction)
    {
        var twoSided = -0.5 * Elementary.LogOnePlus(mixingVariance / variance)
            + difference * difference * mixingVariance / (2.0 * variance * (variance + mixingVariance));
        return direction switch
        {
            Direction.Increase => twoSided + LogTwo + NormalDistribution.LogCdf(difference * Slope(variance, mixingVariance)),
            Direction.Decrease => twoSided + LogTwo + NormalDistribution.LogCdf(-difference * Slope(variance, mixingVariance)),
            _ => twoSided,
        };
    }

    /// <summary>The always-valid interval: every δ for which Λ(d − δ) stays below 1/α.</summary>
    public static Interval ConfidenceSequence(double estimate, double variance, double mixingVariance, double alpha, Direction direction)
    {
        var halfWidth = TwoSidedHalfWidth(variance, mixingVariance, alpha);
        if (direction == Direction.Any)
        {
            return new(estimate - halfWidth, estimate + halfWidth);
        }

        // ln Λ₊(w) increases with w, is negative at w = 0 and at least ln Λ(w) = −ln α at the two-sided
        // half-width (2Φ(c·w) ≥ 1 for w ≥ 0): the one-sided distance lies in [0, halfWidth].
        var oneSided = RootFinder.SolveIncreasing(
            new OneSidedBoundary(variance, mixingVariance, -Math.Log(alpha)), 0.5 * halfWidth, 0.0, halfWidth, 0.0, 1e-14);
        return direction == Direction.Increase
            ? new(estimate - oneSided, null)
            : new(null, estimate + oneSided);
    }

    private static double TwoSidedHalfWidth(double variance, double mixingVariance, double alpha) =>
        Math.Sqrt(variance * (variance + mixingVariance) / mixingVariance
            * (Elementary.LogOnePlus(mixingVariance / variance) - 2.0 * Math.Log(alpha)));

    /// <summary>τ/√(V(V+τ²)): the posterior z-score of the effect per unit of observed difference.</summary>
    private static double Slope(double variance, double mixingVariance) =>
        Math.Sqrt(mixingVariance / (variance * (variance + mixingVariance)));

    /// <summary>ln Λ₊(w) − (−ln α) as a function of the distance w between estimate and bound.</summary>
    private readonly struct OneSidedBoundary(double variance, double mixingVariance, double target) : IIncreasingFunction
    {
        public (double Value, double Slope) Evaluate(double w)
        {
            var c = Slope(variance, mixingVariance);
            var value = LogLikelihoodRatio(w, variance, mixingVariance, Direction.Increase) - target;
            var millsRatio = Math.Exp(-0.5 * c * c * w * w - 0.91893853320467274178 - NormalDistribution.LogCdf(c * w));
            return (value, c * c * w + c * millsRatio);
        }
    }
}
