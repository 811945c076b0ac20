using MathNet.Numerics;

namespace Experiments.Statistics.Distributions;

/// <summary>The chi-square distribution; the upper tail comes straight from the regularized upper incomplete gamma Q.</summary>
public static class ChiSquareDistribution
{
    /// <summary>P(X &gt; x) for X ~ χ²(degreesOfFreedom).</summary>
    public static double UpperTail(double x, double degreesOfFreedom)
    {
        if (x <= 0.0)
        {
            return 1.0;
        }

        if (double.IsPositiveInfinity(x))
        {
            return 0.0;
        }

        return SpecialFunctions.GammaUpperRegularized(0.5 * degreesOfFreedom, 0.5 * x);
    }
}
