using Experiments.Statistics.Bandits;
using Experiments.Statistics.Contracts;
using Experiments.Statistics.Corrections;
using Experiments.Statistics.Hypothesis;
using static Experiments.Statistics.Tests.Analysis.Requests;

namespace Experiments.Statistics.Tests.Analysis;

public sealed class AnalyzerBehaviourTests
{
    [Fact]
    public void Gate_holds_back_p_value_and_intervals_with_a_reason_below_100_users()
    {
        var result = ExperimentAnalyzer.Analyze(Of(MetricType.Continuous, TestKind.Ttest, Continuous("c", 99, 10, 2), Continuous("t", 500, 12, 2)));
        var comparison = Assert.Single(result.Comparisons);
        Assert.Null(comparison.PValue);
        Assert.Null(comparison.CiAbsolute);
        Assert.False(comparison.Significant);
        Assert.Contains("'c' has 99 users", comparison.DataQualityReason);
        Assert.Equal(2.0, comparison.AbsoluteLift!.Value, 12);
    }

    [Fact]
    public void Gate_requires_25_conversions_for_binary_metrics()
    {
        var result = ExperimentAnalyzer.Analyze(Of(MetricType.Binary, TestKind.Sequential, Binary("c", 5000, 300), Binary("t", 5000, 24)));
        var comparison = Assert.Single(result.Comparisons);
        Assert.Null(comparison.PValue);
        Assert.Null(comparison.MsprtLogLr);
        Assert.Contains("24 conversions", comparison.DataQualityReason);
    }

    [Fact]
    public void Any_variant_can_be_the_control_and_each_treatment_is_compared_with_it()
    {
        var request = Of(MetricType.Binary, TestKind.Ttest, Binary("a", 10_000, 1000), Binary("b", 10_000, 1100), Binary("c", 10_000, 900)) with { Control = "b" };
        var result = ExperimentAnalyzer.Analyze(request);
        Assert.Equal(["a", "c"], result.Comparisons.Select(c => c.Variant));
        Assert.All(result.Comparisons, c => Assert.Equal(0.11, c.ControlMean!.Value, 12));
        Assert.Equal(3, result.ProbabilityBest!.Count);
    }

    [Fact]
    public void Directional_t_test_halves_the_two_sided_p_value_and_opens_the_interval()
    {
        var twoSided = ExperimentAnalyzer.Analyze(Of(MetricType.Continuous, TestKind.Ttest, Continuous("c", 2000, 10, 3), Continuous("t", 2000, 10.2, 3))).Comparisons[0];
        var increase = ExperimentAnalyzer.Analyze(Of(MetricType.Continuous, TestKind.Ttest, Continuous("c", 2000, 10, 3), Continuous("t", 2000, 10.2, 3)) with { Direction = Direction.Increase }).Comparisons[0];
        var decrease = ExperimentAnalyzer.Analyze(Of(MetricType.Continuous, TestKind.Ttest, Continuous("c", 2000, 10, 3), Continuous("t", 2000, 10.2, 3)) with { Direction = Direction.Decrease }).Comparisons[0];

        Assert.Equal(twoSided.PValue!.Value / 2, increase.PValue!.Value, 12);
        Assert.Equal(1 - twoSided.PValue!.Value / 2, decrease.PValue!.Value, 12);
        Assert.Null(increase.CiAbsolute!.Value.Upper);
        Assert.True(increase.CiAbsolute.Value.Lower > twoSided.CiAbsolute!.Value.Lower);
        Assert.Null(decrease.CiAbsolute!.Value.Lower);
    }

    [Fact]
    public void Directional_sequential_test_is_at_most_the_two_sided_p_in_the_favoured_direction()
    {
        var request = Of(MetricType.Continuous, TestKind.Sequential, Continuous("c", 5000, 10, 3), Continuous("t", 5000, 10.25, 3));
        var twoSided = ExperimentAnalyzer.Analyze(request).Comparisons[0];
        var increase = ExperimentAnalyzer.Analyze(request with { Direction = Direction.Increase }).Comparisons[0];
        var decrease = ExperimentAnalyzer.Analyze(request with { Direction = Direction.Decrease }).Comparisons[0];

        Assert.True(increase.PValue < twoSided.PValue);
        Assert.True(increase.PValue >= twoSided.PValue / 2 * 0.999);
        Assert.Equal(1.0, decrease.PValue);
        var lower = increase.CiAbsolute!.Value.Lower!.Value;
        Assert.InRange(lower, twoSided.CiAbsolute!.Value.Lower!.Value, increase.AbsoluteLift!.Value);

        // The one-sided bound is where the half-normal mixture likelihood ratio reaches 1/alpha.
        var variance = 9.0 / 5000 * 2;
        var mixing = new SequentialTuning(null, SequentialTuning.DefaultOptimalSampleSize).AbsoluteMixingVariance(0.05, 10_000, variance);
        var atBound = MixtureSequentialTest.LogLikelihoodRatio(increase.AbsoluteLift.Value - lower, variance, mixing, Direction.Increase);
        Assert.Equal(-Math.Log(0.05), atBound, 6);
    }

    [Fact]
    public void Cuped_reduces_the_variance_and_reports_theta()
    {
        VariantStatistics WithCovariate(string key, long n, double meanY, double meanX, double sd, double correlation) =>
            Continuous(key, n, meanY, sd) with
            {
                Covariate = new CovariateStatistics
                {
                    Sum = n * meanX,
                    SumSquares = (n - 1) * sd * sd + n * meanX * meanX,
                    SumProduct = (n - 1) * correlation * sd * sd + n * meanX * meanY,
                },
            };

        var plain = ExperimentAnalyzer.Analyze(Of(MetricType.Continuous, TestKind.Ttest, Continuous("c", 4000, 10, 3), Continuous("t", 4000, 10.2, 3))).Comparisons[0];
        var cuped = ExperimentAnalyzer.Analyze(Of(MetricType.Continuous, TestKind.Ttest, WithCovariate("c", 4000, 10, 10, 3, 0.8), WithCovariate("t", 4000, 10.2, 10, 3, 0.8))).Comparisons[0];

        Assert.Equal(0.8, cuped.CupedTheta!.Value, 3);
        Assert.True(Width(cuped.CiAbsolute!.Value) < 0.7 * Width(plain.CiAbsolute!.Value));
        Assert.True(cuped.PValue < plain.PValue);
    }

    [Fact]
    public void Bonferroni_multiplies_p_values_and_widens_intervals()
    {
        var request = Of(MetricType.Continuous, TestKind.Ttest, Continuous("c", 3000, 10, 3), Continuous("t1", 3000, 10.2, 3), Continuous("t2", 3000, 10.1, 3));
        var none = ExperimentAnalyzer.Analyze(request);
        var bonferroni = ExperimentAnalyzer.Analyze(request with { Correction = CorrectionMethod.Bonferroni });

        for (var i = 0; i < 2; i++)
        {
            Assert.Null(none.Comparisons[i].AdjustedPValue);
            Assert.Equal(none.Comparisons[i].PValue, bonferroni.Comparisons[i].PValue);
            Assert.Equal(Math.Min(1, 2 * none.Comparisons[i].PValue!.Value), bonferroni.Comparisons[i].AdjustedPValue!.Value, 15);
            Assert.True(Width(bonferroni.Comparisons[i].CiAbsolute!.Value) > Width(none.Comparisons[i].CiAbsolute!.Value));
        }
    }

    [Fact]
    public void Holm_and_benjamini_hochberg_match_their_textbook_definitions()
    {
        double?[] p = [0.01, 0.04, 0.03, null, 0.005];
        Assert.Equal([0.03, 0.06, 0.06, null, 0.02], MultipleComparisonCorrection.Adjust(p, CorrectionMethod.Holm).Select(Round));
        Assert.Equal([0.02, 0.04, 0.04, null, 0.02], MultipleComparisonCorrection.Adjust(p, CorrectionMethod.BenjaminiHochberg).Select(Round));
        Assert.Equal([0.04, 0.16, 0.12, null, 0.02], MultipleComparisonCorrection.Adjust(p, CorrectionMethod.Bonferroni).Select(Round));
        Assert.Equal(p, MultipleComparisonCorrection.Adjust(p, CorrectionMethod.None));
    }

    [Fact]
    public void Srm_with_users_in_a_zero_weight_variant_is_detected_without_an_infinite_statistic()
    {
        var request = Of(MetricType.Continuous, TestKind.Ttest, Continuous("c", 1000, 1, 1), Continuous("t", 10, 1, 1) with { ExpectedWeight = 0 });
        var srm = ExperimentAnalyzer.Analyze(request).Srm;
        Assert.True(srm.Detected);
        Assert.Null(srm.ChiSquare);
        Assert.Equal(0.0, srm.PValue);
    }

    [Fact]
    public void Omitted_weights_mean_equal_shares()
    {
        var request = Of(MetricType.Continuous, TestKind.Ttest, Continuous("c", 1000, 1, 1) with { ExpectedWeight = null }, Continuous("t", 1200, 1, 1) with { ExpectedWeight = null });
        var srm = ExperimentAnalyzer.Analyze(request).Srm;
        Assert.Equal(2 * 100.0 * 100 / 1100, srm.ChiSquare!.Value, 9);
    }

    [Fact]
    public void Probability_best_of_identical_arms_is_uniform_and_sums_to_one()
    {
        var posteriors = Enumerable.Repeat(BetaPosterior.FromConversions(10_000, 1234), 8).ToArray();
        var probabilities = ThompsonSampling.ProbabilityBest(posteriors);
        Assert.All(probabilities, p => Assert.Equal(0.125, p, 4));
        Assert.Equal(1.0, probabilities.Sum(), 12);
    }

    [Fact]
    public void Probability_best_matches_the_closed_form_for_two_arms()
    {
        // P(B > A) for Beta posteriors by Evan Miller's exact sum.
        var a = BetaPosterior.FromConversions(400, 40);
        var b = BetaPosterior.FromConversions(380, 45);
        var exact = 0.0;
        for (var i = 0; i < (int)b.Alpha; i++)
        {
            exact += Math.Exp(Numerics.LogGamma.LogBeta(a.Alpha + i, a.Beta + b.Beta) - Math.Log(b.Beta + i)
                - Numerics.LogGamma.LogBeta(1 + i, b.Beta) - Numerics.LogGamma.LogBeta(a.Alpha, a.Beta));
        }

        var probabilities = ThompsonSampling.ProbabilityBest([a, b]);
        Assert.Equal(exact, probabilities[1], 6);
    }

    [Fact]
    public void Probability_best_resolves_arms_of_very_different_precision()
    {
        var probabilities = ThompsonSampling.ProbabilityBest([BetaPosterior.FromConversions(1_000_000, 100_000), BetaPosterior.FromConversions(50, 5)]);
        // The small arm's posterior is wide and nearly symmetric around ~0.1: roughly even odds.
        Assert.InRange(probabilities[1], 0.4, 0.6);
        Assert.Equal(1.0, probabilities.Sum(), 12);
    }

    [Fact]
    public void Traffic_weights_follow_probability_best_with_a_floor()
    {
        var weights = ThompsonSampling.TrafficWeights([0.97, 0.02, 0.01, 0.0], 0.05);
        Assert.Equal([0.85, 0.05, 0.05, 0.05], weights.Select(Round));
        Assert.Equal(1.0, weights.Sum(), 12);

        var unconstrained = ThompsonSampling.TrafficWeights([0.5, 0.3, 0.2], 0.1);
        Assert.Equal([0.5, 0.3, 0.2], unconstrained.Select(Round));
    }

    [Fact]
    public void Bandit_arms_carry_beta_posteriors_from_conversions()
    {
        var result = ExperimentAnalyzer.Analyze(Of(MetricType.Binary, TestKind.Ttest, Binary("c", 1000, 100), Binary("t", 1000, 150)) with { MinTrafficWeight = 0.2 });
        var arms = result.Bandit!;
        Assert.Equal((101.0, 901.0), (arms[0].Alpha, arms[0].Beta));
        Assert.Equal((151.0, 851.0), (arms[1].Alpha, arms[1].Beta));
        Assert.Equal(0.2, arms[0].TrafficWeight, 12);
        Assert.Equal(0.8, arms[1].TrafficWeight, 12);
    }

    [Fact]
    public void Running_sequential_result_keeps_the_minimum_p_and_the_intersection_of_intervals()
    {
        ComparisonResult Snapshot(double p, double lower, double upper) => new()
        {
            Variant = "t",
            PValue = p,
            CiAbsolute = new Interval(lower, upper),
            CiRelative = new Interval(lower / 10, upper / 10),
            Significant = p < 0.05,
        };

        var running = AlwaysValidAccumulator.Run([Snapshot(0.2, -1, 3), Snapshot(0.04, 0.1, 2), Snapshot(0.3, -0.5, 1.5)], 0.05);

        Assert.Equal([0.2, 0.04, 0.04], running.Select(r => r.PValue!.Value));
        Assert.Equal(new Interval(0.1, 1.5), running[^1].CiAbsolute);
        Assert.Equal(new Interval(0.01, 0.15), running[^1].CiRelative);
        Assert.True(running[^1].Significant);
    }

    private static double Width(Interval interval) => interval.Upper!.Value - interval.Lower!.Value;

    private static double? Round(double? value) => value is null ? null : Math.Round(value.Value, 12);

    private static double Round(double value) => Math.Round(value, 12);
}
