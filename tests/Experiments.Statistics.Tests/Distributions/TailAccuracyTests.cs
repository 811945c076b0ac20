using Experiments.Statistics.Distributions;

namespace Experiments.Statistics.Tests.Distributions;

/// <summary>
/// Tails and quantiles far beyond where <c>1 − CDF</c> or a bracketed root search break down.
/// Expected values computed with mpmath at 50 significant digits.
/// </summary>
public sealed class TailAccuracyTests
{
    private static void AssertRelative(double expected, double actual, double relative)
    {
        Assert.True(Math.Abs(actual - expected) <= relative * Math.Abs(expected),
            $"expected {expected:R}, got {actual:R} (relative error {Math.Abs(actual - expected) / Math.Abs(expected):E2})");
    }

    [Theory]
    [InlineData(1, 1e6, 6.3661977236736914e-7)]
    [InlineData(1, 1e12, 6.3661977236758134e-13)]
    [InlineData(2, 1e6, 9.999999999985e-13)]
    [InlineData(3, 1e4, 2.2053155022958098e-12)]
    [InlineData(3, 2.5, 0.087706647008065547)]
    [InlineData(10, 20, 2.1460623172042518e-9)]
    [InlineData(30, 12, 5.5801854151992561e-13)]
    [InlineData(1000, 7.5, 1.4057293461211588e-13)]
    [InlineData(1e6, 7, 2.5612241113740789e-12)]
    [InlineData(1e6, 9, 2.2609730334928604e-19)]
    [InlineData(12345.6, 8, 1.3548797773097364e-15)]
    public void Two_sided_t_p_value_keeps_relative_precision_in_the_far_tail(double degreesOfFreedom, double t, double expected)
    {
        AssertRelative(expected, StudentTDistribution.TwoSidedTail(t, degreesOfFreedom), 1e-9);
        AssertRelative(expected, StudentTDistribution.TwoSidedTail(-t, degreesOfFreedom), 1e-9);
        AssertRelative(expected / 2, StudentTDistribution.UpperTail(t, degreesOfFreedom), 1e-9);
    }

    [Theory]
    [InlineData(1, 0.025, 12.706204736174704)]
    [InlineData(1, 1e-06, 318309.88618274349)]
    [InlineData(1, 1e-12, 318309886183.79068)]
    [InlineData(1, 1e-20, 3.1830988618379069e+19)]
    [InlineData(2, 0.025, 4.3026527297494637)]
    [InlineData(2, 1e-06, 707.10572052593382)]
    [InlineData(2, 1e-12, 707106.78118548687)]
    [InlineData(2, 1e-20, 7071067811.8654754)]
    [InlineData(3, 0.025, 3.1824463052837095)]
    [InlineData(3, 1e-06, 103.29946778041934)]
    [InlineData(3, 1e-12, 10331.108244292486)]
    [InlineData(3, 1e-20, 4795275.7204689732)]
    [InlineData(1e6, 0.025, 1.959966356814107)]
    [InlineData(1e6, 1e-06, 4.7534523482796808)]
    [InlineData(1e6, 1e-12, 7.0345726084112566)]
    [InlineData(1e6, 1e-20, 9.2625410652916584)]
    public void T_quantile_is_accurate_at_every_df_and_extreme_probability(double degreesOfFreedom, double upperTail, double expected)
    {
        AssertRelative(expected, StudentTDistribution.UpperQuantile(upperTail, degreesOfFreedom), 1e-10);
        AssertRelative(-expected, StudentTDistribution.Quantile(upperTail, degreesOfFreedom), 1e-10);
    }

    [Theory]
    [InlineData(2.5)]
    [InlineData(7.3)]
    [InlineData(40)]
    [InlineData(4321.5)]
    public void T_quantile_inverts_the_tail_across_probabilities(double degreesOfFreedom)
    {
        foreach (var q in new[] { 0.49, 0.3, 0.1, 0.025, 1e-4, 1e-9, 1e-15, 1e-50, 1e-200 })
        {
            var t = StudentTDistribution.UpperQuantile(q, degreesOfFreedom);
            AssertRelative(q, StudentTDistribution.UpperTail(t, degreesOfFreedom), 1e-12);
        }
    }

    [Theory]
    [InlineData(1, 60, 9.4857375710738484e-15)]
    [InlineData(2, 50, 1.3887943864964021e-11)]
    [InlineData(7, 100, 1.0787979671702883e-18)]
    [InlineData(3, 7.81472790325118, 0.049999999999999998)]
    public void Chi_square_upper_tail_comes_from_the_incomplete_gamma(double degreesOfFreedom, double x, double expected)
    {
        AssertRelative(expected, ChiSquareDistribution.UpperTail(x, degreesOfFreedom), 1e-10);
    }

    [Theory]
    [InlineData(1e-12, 7.0344838253011319)]
    [InlineData(1e-100, 21.273453560965324)]
    public void Normal_quantile_is_accurate_for_tiny_tails(double upperTail, double expected)
    {
        AssertRelative(expected, NormalDistribution.UpperQuantile(upperTail), 1e-12);
    }

    [Fact]
    public void Normal_log_cdf_stays_finite_where_the_cdf_underflows()
    {
        // mpmath: ln Φ(−40), ln Φ(−36)
        AssertRelative(-804.60844201375378817, NormalDistribution.LogCdf(-40.0), 1e-14);
        AssertRelative(-652.50322759379839685, NormalDistribution.LogCdf(-36.0), 1e-14);
        AssertRelative(Math.Log(NormalDistribution.Cdf(-5.0)), NormalDistribution.LogCdf(-5.0), 1e-14);
    }
}
