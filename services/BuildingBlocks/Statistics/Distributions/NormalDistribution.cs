using MathNet.Numerics;

namespace Experiments.Statistics.Distributions;

/// <summary>The standard normal distribution, with tails computed from erfc (no <c>1 − CDF</c>).</summary>
public static class NormalDistribution
{
    private const double Sqrt2 = 1.41421356237309504880;
    private const double HalfLogTwoPi = 0.91893853320467274178;

    /// <summary>P(Z ≤ z).</summary>
    public static double Cdf(double z) => 0.5 * SpecialFunctions.Erfc(-z / Sqrt2);

    /// <summary>P(Z &gt; z).</summary>
    public static double UpperTail(double z) => 0.5 * SpecialFunctions.Erfc(z / Sqrt2);

    /// <summary>ln P(Z ≤ z), finite far into the lower tail where the CDF itself underflows.</summary>
    public static double LogCdf(double z)
    {
        if (z > -35.0)
        {
            return Math.Log(Cdf(z));
        }

        // Asymptotic (Mills ratio) series: Φ(z) ≈ φ(z)/|z| · (1 − 1/z² + 3/z⁴ − 15/z⁶ + 105/z⁸ − 945/z¹⁰).
        var inverseSquared = 1.0 / (z * z);
        var series = 1.0 - inverseSquared * (1.0 - inverseSquared * (3.0 - inverseSquared * (15.0 - inverseSquared * (105.0 - 945.0 * inverseSquared))));
        return -0.5 * z * z - HalfLogTwoPi - Math.Log(-z) + Math.Log(series);
    }

    /// <summary>The density φ(z).</summary>
    public static double Density(double z) => Math.Exp(-0.5 * z * z - HalfLogTwoPi);

    /// <summary>z such that P(Z &gt; z) = q, accurate for tiny q.</summary>
    public static double UpperQuantile(double q) => q switch
    {
        <= 0.0 => double.PositiveInfinity,
        >= 1.0 => double.NegativeInfinity,
        _ => Sqrt2 * SpecialFunctions.ErfcInv(2.0 * q),
    };

    /// <summary>z such that P(Z ≤ z) = p.</summary>
    public static double Quantile(double p) => -UpperQuantile(p);
}
