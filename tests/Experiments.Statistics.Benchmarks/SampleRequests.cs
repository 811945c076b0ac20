using Experiments.Statistics.Contracts;

namespace Experiments.Statistics.Benchmarks;

/// <summary>Realistic requests: tens of thousands of users per variant, small lifts.</summary>
public static class SampleRequests
{
    public static AnalysisRequest Continuous(int variants, bool cuped, TestKind test) => new()
    {
        MetricType = MetricType.Continuous,
        Test = test,
        ConfidenceLevel = 0.95,
        Control = "v0",
        Variants = [.. Enumerable.Range(0, variants).Select(i => ContinuousVariant(i, cuped))],
    };

    public static AnalysisRequest Binary(int variants, TestKind test) => new()
    {
        MetricType = MetricType.Binary,
        Test = test,
        ConfidenceLevel = 0.95,
        Control = "v0",
        Variants = [.. Enumerable.Range(0, variants).Select(i => new VariantStatistics
        {
            Key = $"v{i}",
            ExpectedWeight = 1.0,
            Users = 40_000 + 37 * i,
            Sum = 4_000 + 60 * i,
            SumSquares = 4_000 + 60 * i,
        })],
    };

    private static VariantStatistics ContinuousVariant(int index, bool cuped)
    {
        const double deviation = 12.0;
        var users = 40_000L + 53 * index;
        var mean = 45.0 + 0.15 * index;
        var meanX = 44.0;
        return new VariantStatistics
        {
            Key = $"v{index}",
            ExpectedWeight = 1.0,
            Users = users,
            Sum = users * mean,
            SumSquares = (users - 1) * deviation * deviation + users * mean * mean,
            Covariate = cuped
                ? new CovariateStatistics
                {
                    Sum = users * meanX,
                    SumSquares = (users - 1) * deviation * deviation + users * meanX * meanX,
                    SumProduct = (users - 1) * 0.7 * deviation * deviation + users * meanX * mean,
                }
                : null,
        };
    }
}
