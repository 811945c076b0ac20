namespace Experiments.Statistics.Numerics;

/// <summary>
/// The regularized incomplete beta function I_x(a, b) and its complement, both computed directly
/// (never as <c>1 − something</c> on the small side), so that tail probabilities keep full
/// relative precision. Callers pass x and y = 1 − x separately so that neither loses digits.
/// </summary>
public static class IncompleteBeta
{
    private const int MaxIterations = 20_000;
    private const double Epsilon = 1e-16;
    private const double Tiny = 1e-300;

    /// <summary>I_x(a, b).</summary>
    public static double Lower(double a, double b, double x) => Evaluate(a, b, x, 1.0 - x).Lower;

    /// <summary>1 − I_x(a, b) = I_{1−x}(b, a).</summary>
    public static double Upper(double a, double b, double x) => Evaluate(a, b, x, 1.0 - x).Upper;

    /// <summary>
    /// Both I_x(a, b) and its complement. <paramref name="y"/> must equal 1 − x; passing it
    /// separately keeps precision when x is within rounding of 1.
    /// </summary>
    public static (double Lower, double Upper) Evaluate(double a, double b, double x, double y)
    {
        if (x <= 0.0)
        {
            return (0.0, 1.0);
        }

        if (y <= 0.0)
        {
            return (1.0, 0.0);
        }

        var logX = x > 0.5 ? Elementary.LogOnePlus(-y) : Math.Log(x);
        var logY = y > 0.5 ? Elementary.LogOnePlus(-x) : Math.Log(y);
        var logFront = a * logX + b * logY - LogGamma.LogBeta(a, b);

        if (x < (a + 1.0) / (a + b + 2.0))
        {
            var lower = Math.Exp(logFront) * ContinuedFraction(a, b, x, y) / a;
            return (lower, 1.0 - lower);
        }

        var upper = Math.Exp(logFront) * ContinuedFraction(b, a, y, x) / b;
        return (1.0 - upper, upper);
    }

    /// <summary>Lentz evaluation of the continued fraction for I_x(a, b) (converges for x below the mean).</summary>
    private static double ContinuedFraction(double a, double b, double x, double y)
    {
        var sumAb = a + b;
        var aPlusOne = a + 1.0;
        var aMinusOne = a - 1.0;
        var c = 1.0;
        // 1 − (a+b)x/(a+1), rewritten with y = 1 − x: it nearly cancels when a is large and x near 1.
        var d = Guard((1.0 - b + sumAb * y) / aPlusOne);
        d = 1.0 / d;
        var h = d;

        for (var m = 1; m <= MaxIterations; m++)
        {
            var twoM = 2 * m;
            var even = m * (b - m) * x / ((aMinusOne + twoM) * (a + twoM));
            d = 1.0 / Guard(1.0 + even * d);
            c = Guard(1.0 + even / c);
            h *= d * c;

            var odd = -(a + m) * (sumAb + m) * x / ((a + twoM) * (aPlusOne + twoM));
            d = 1.0 / Guard(1.0 + odd * d);
            c = Guard(1.0 + odd / c);
            var delta = d * c;
            h *= delta;

            if (Math.Abs(delta - 1.0) <= Epsilon)
            {
                break;
            }
        }

        return h;
    }

    private static double Guard(double value) => Math.Abs(value) < Tiny ? Tiny : value;
}
