using System.Diagnostics;
using Xunit.Abstractions;
using Experiments.Statistics.Contracts;
using MathNet.Numerics.Distributions;

namespace Experiments.Statistics.Tests.Simulation;

/// <summary>
/// Experiments looked at every day for 30 days, stopping at the first significant look. The
/// always-valid sequential test keeps its false-positive rate at or below alpha; the t-test, peeked
/// the same way, does not. Daily sufficient statistics are drawn exactly (sample mean normal, sample
/// variance scaled chi-square) so thousands of experiments take well under a few seconds.
/// </summary>
public sealed class PeekingSimulationTests(ITestOutputHelper output)
{
    private const int Days = 30;
    private const int UsersPerVariantPerDay = 200;
    private const double Alpha = 0.05;

    [Fact]
    public void Sequential_test_keeps_false_positives_at_alpha_under_daily_peeking_while_the_peeked_t_test_does_not()
    {
        const int experiments = 1000;
        var random = new Random(20240531);
        var stopwatch = Stopwatch.StartNew();

        var sequentialFalsePositives = 0;
        var tTestFalsePositives = 0;
        for (var experiment = 0; experiment < experiments; experiment++)
        {
            var (sequential, tTest) = PeekDaily(random, treatmentMean: 10.0);
            sequentialFalsePositives += sequential is null ? 0 : 1;
            tTestFalsePositives += tTest is null ? 0 : 1;
        }

        var sequentialRate = (double)sequentialFalsePositives / experiments;
        var tTestRate = (double)tTestFalsePositives / experiments;
        var simulationError = Math.Sqrt(Alpha * (1 - Alpha) / experiments);

        output.WriteLine($"sequential {sequentialRate:P2}, peeked t-test {tTestRate:P2}, {stopwatch.Elapsed.TotalSeconds:F2} s");
        Assert.True(sequentialRate <= Alpha + 2 * simulationError, $"sequential false-positive rate {sequentialRate:P2} exceeds {Alpha:P0}");
        Assert.True(tTestRate >= 2 * Alpha, $"peeked t-test false-positive rate {tTestRate:P2} should visibly exceed {Alpha:P0}");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"simulation took {stopwatch.Elapsed}");
    }

    [Fact]
    public void Sequential_test_reaches_significance_when_there_is_a_true_effect()
    {
        const int experiments = 200;
        var random = new Random(7);
        var detected = 0;
        var days = new List<int>();
        for (var experiment = 0; experiment < experiments; experiment++)
        {
            var (sequential, _) = PeekDaily(random, treatmentMean: 10.25);
            if (sequential is { } day)
            {
                detected++;
                days.Add(day);
            }
        }

        Assert.True(detected >= 0.95 * experiments, $"only {detected}/{experiments} experiments reached significance");
        Assert.True(days.Average() < Days, "detection should come before the last day on average");
    }

    /// <summary>The first day (1-based) each test was significant, or null if it never was.</summary>
    private static (int? Sequential, int? TTest) PeekDaily(Random random, double treatmentMean)
    {
        const double controlMean = 10.0;
        const double standardDeviation = 3.0;
        var control = new RunningSums();
        var treatment = new RunningSums();
        int? sequentialDay = null;
        int? tTestDay = null;

        for (var day = 1; day <= Days && (sequentialDay is null || tTestDay is null); day++)
        {
            control.AddDay(random, UsersPerVariantPerDay, controlMean, standardDeviation);
            treatment.AddDay(random, UsersPerVariantPerDay, treatmentMean, standardDeviation);

            if (sequentialDay is null && Significant(TestKind.Sequential, control, treatment))
            {
                sequentialDay = day;
            }

            if (tTestDay is null && Significant(TestKind.Ttest, control, treatment))
            {
                tTestDay = day;
            }
        }

        return (sequentialDay, tTestDay);
    }

    private static bool Significant(TestKind test, RunningSums control, RunningSums treatment)
    {
        var result = ExperimentAnalyzer.Analyze(new AnalysisRequest
        {
            MetricType = MetricType.Continuous,
            Test = test,
            ConfidenceLevel = 1 - Alpha,
            Control = "control",
            Variants = [control.ToVariant("control"), treatment.ToVariant("treatment")],
        });
        return result.Comparisons[0].Significant;
    }

    private sealed class RunningSums
    {
        private long users;
        private double sum;
        private double sumSquares;

        /// <summary>One day of n users from N(mean, sd²): ȳ ~ N(mean, sd²/n), (n−1)s²/sd² ~ χ²(n−1), independent.</summary>
        public void AddDay(Random random, int n, double mean, double standardDeviation)
        {
            var sampleMean = Normal.Sample(random, mean, standardDeviation / Math.Sqrt(n));
            var centredSquares = standardDeviation * standardDeviation * ChiSquared.Sample(random, n - 1);
            users += n;
            sum += n * sampleMean;
            sumSquares += centredSquares + n * sampleMean * sampleMean;
        }

        public VariantStatistics ToVariant(string key) => new()
        {
            Key = key,
            ExpectedWeight = 0.5,
            Users = users,
            Sum = sum,
            SumSquares = sumSquares,
        };
    }
}
