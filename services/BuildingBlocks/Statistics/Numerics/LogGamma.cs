using MathNet.Numerics;

namespace Experiments.Statistics.Numerics;

/// <summary>
/// Logarithms of gamma-function ratios that stay accurate when the arguments are large, where the
/// naive difference of two huge <c>ln Γ</c> values would cancel away most of the significant digits.
/// </summary>
public static class LogGamma
{
    private const double HalfLogTwoPi = 0.91893853320467274178;
    private const double StirlingThreshold = 10.0;

    /// <summary>ln Γ(x) for x &gt; 0.</summary>
    public static double Ln(double x) => SpecialFunctions.GammaLn(x);

    /// <summary>ln Γ(a) − ln Γ(a + b), accurate for large a and any b ≥ 0.</summary>
    public static double Ratio(double a, double b)
    {
        if (a < StirlingThreshold)
        {
            return Ln(a) - Ln(a + b);
        }

        // (a−½)ln a − (a+b−½)ln(a+b) rewritten without cancellation.
        return -(a - 0.5) * Elementary.LogOnePlus(b / a) - b * Math.Log(a + b) + b
            + StirlingCorrection(a) - StirlingCorrection(a + b);
    }

    /// <summary>ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b), accurate for large arguments.</summary>
    public static double LogBeta(double a, double b)
    {
        var large = Math.Max(a, b);
        var small = Math.Min(a, b);

        if (large < StirlingThreshold)
        {
            return Ln(a) + Ln(b) - Ln(a + b);
        }

        if (small < StirlingThreshold)
        {
            return Ln(small) + Ratio(large, small);
        }

        var sum = large + small;
        return HalfLogTwoPi + (small - 0.5) * Math.Log(small)
            - small * Math.Log(sum)
            - (large - 0.5) * Elementary.LogOnePlus(small / large)
            + StirlingCorrection(small) + StirlingCorrection(large) - StirlingCorrection(sum);
    }

    /// <summary>ln Γ(z) − [(z − ½) ln z − z + ½ ln 2π], the Stirling series remainder, for z ≥ 10.</summary>
    private static double StirlingCorrection(double z)
    {
        var inverse = 1.0 / z;
        var inverseSquared = inverse * inverse;
        return inverse * (1.0 / 12.0 + inverseSquared * (-1.0 / 360.0 + inverseSquared
            * (1.0 / 1260.0 + inverseSquared * (-1.0 / 1680.0 + inverseSquared * (1.0 / 1188.0)))));
    }
}
