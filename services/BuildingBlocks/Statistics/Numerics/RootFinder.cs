namespace Experiments.Statistics.Numerics;

/// <summary>An increasing function with its derivative, evaluated together.</summary>
public interface IIncreasingFunction
{
    (double Value, double Slope) Evaluate(double x);
}

/// <summary>
/// Newton's method safeguarded by a bracket: every evaluation narrows the bracket, and a step that
/// would leave it is replaced by bisection (or by an expanding step while one side is unbounded).
/// Generic over a struct so that the hot path neither allocates nor calls through a delegate.
/// </summary>
public static class RootFinder
{
    private const int MaxIterations = 200;

    public static double SolveIncreasing<TFunction>(
        TFunction function,
        double start,
        double lower,
        double upper,
        double absoluteTolerance,
        double relativeTolerance)
        where TFunction : struct, IIncreasingFunction
    {
        var x = start;
        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            var (value, slope) = function.Evaluate(x);
            if (value == 0.0)
            {
                return x;
            }

            if (value < 0.0)
            {
                lower = x;
            }
            else
            {
                upper = x;
            }

            var next = x - value / slope;
            var newtonStep = next > lower && next < upper;
            if (!newtonStep)
            {
                next = (double.IsFinite(lower), double.IsFinite(upper)) switch
                {
                    (true, true) => 0.5 * (lower + upper),
                    (true, false) => x + Math.Max(1.0, Math.Abs(x)),
                    _ => x - Math.Max(1.0, Math.Abs(x)),
                };
            }

            var tolerance = absoluteTolerance + relativeTolerance * Math.Abs(next);
            var step = Math.Abs(next - x);

            // Newton converges quadratically: after a step of size s the error is about s², so a
            // Newton step below √tolerance (with margin) already lands within tolerance.
            if (step <= tolerance || upper - lower <= tolerance || (newtonStep && step <= 1e-3 * Math.Sqrt(tolerance * Math.Max(1.0, Math.Abs(next)))))
            {
                return next;
            }

            x = next;
        }

        return x;
    }
}
