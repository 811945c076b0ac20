using Experiments.Statistics.Contracts;
using Experiments.Statistics.Distributions;
using Experiments.Statistics.Estimation;

namespace Experiments.Statistics.Hypothesis;

/// <summary>
/// Welch's unequal-variance t-test: t = d/se, Welch–Satterthwaite df, p from the t tail and
/// intervals d ± q·se, r ± q·se_rel. With a direction the test and intervals are one-sided.
/// </summary>
public static class WelchTTest
{
    public static TestOutcome Run(SampleMoments control, SampleMoments treatment, LiftEstimate lift, double alpha, Direction direction)
    {
        var treatmentTerm = treatment.MeanVariance;
        var controlTerm = control.MeanVariance;
        var variance = lift.Absolute.Variance;
        var degreesOfFreedom = variance * variance
            / (treatmentTerm * treatmentTerm / (treatment.Users - 1) + controlTerm * controlTerm / (control.Users - 1));

        var t = lift.Absolute.Value / lift.Absolute.StandardError;
        double pValue;
        double quantile;
        switch (direction)
        {
            case Direction.Increase:
                pValue = StudentTDistribution.UpperTail(t, degreesOfFreedom);
                quantile = StudentTDistribution.UpperQuantile(alpha, degreesOfFreedom);
                break;
            case Direction.Decrease:
                pValue = StudentTDistribution.UpperTail(-t, degreesOfFreedom);
                quantile = StudentTDistribution.UpperQuantile(alpha, degreesOfFreedom);
                break;
            default:
                pValue = StudentTDistribution.TwoSidedTail(t, degreesOfFreedom);
                quantile = StudentTDistribution.UpperQuantile(0.5 * alpha, degreesOfFreedom);
                break;
        }

        return new TestOutcome(
            pValue,
            IntervalAround(lift.Absolute, quantile, direction),
            lift.Relative is { } relative ? IntervalAround(relative, quantile, direction) : null,
            DegreesOfFreedom: degreesOfFreedom);
    }

    private static Interval IntervalAround(Estimate estimate, double quantile, Direction direction)
    {
        var halfWidth = quantile * estimate.StandardError;
        return direction switch
        {
            Direction.Increase => new(estimate.Value - halfWidth, null),
            Direction.Decrease => new(null, estimate.Value + halfWidth),
            _ => new(estimate.Value - halfWidth, estimate.Value + halfWidth),
        };
    }
}
