using Experiments.Statistics.Contracts;
using Experiments.Statistics.Distributions;

namespace Experiments.Statistics.Hypothesis;

/// <summary>
/// Sample ratio mismatch: χ² = Σ (O_i − E_i)²/E_i with E_i = N·w_i (weights normalised),
/// p = Q(χ²; k − 1), detected when p &lt; threshold.
/// </summary>
public static class SampleRatioMismatchTest
{
    public const double DefaultThreshold = 0.001;

    /// <param name="users">Users seen per variant.</param>
    /// <param name="weights">Configured weights (any positive scale), same order.</param>
    public static SrmResult Run(ReadOnlySpan<long> users, ReadOnlySpan<double> weights, double threshold)
    {
        double totalWeight = 0;
        long totalUsers = 0;
        for (var i = 0; i < users.Length; i++)
        {
            totalWeight += weights[i];
            totalUsers += users[i];
        }

        if (totalUsers == 0)
        {
            return new SrmResult(0.0, 1.0, false);
        }

        var chiSquare = 0.0;
        var categories = 0;
        for (var i = 0; i < users.Length; i++)
        {
            var expected = totalUsers * weights[i] / totalWeight;
            if (expected > 0.0)
            {
                var deviation = users[i] - expected;
                chiSquare += deviation * deviation / expected;
                categories++;
            }
            else if (users[i] > 0)
            {
                // Users in a variant configured to receive none: certainly a mismatch.
                return new SrmResult(null, 0.0, true);
            }
        }

        if (categories < 2)
        {
            return new SrmResult(0.0, 1.0, false);
        }

        var pValue = ChiSquareDistribution.UpperTail(chiSquare, categories - 1);
        return new SrmResult(chiSquare, pValue, pValue < threshold);
    }
}
