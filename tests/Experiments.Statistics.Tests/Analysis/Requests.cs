using Experiments.Statistics.Contracts;

namespace Experiments.Statistics.Tests.Analysis;

/// <summary>Builders for requests in tests.</summary>
public static class Requests
{
    public static VariantStatistics Continuous(string key, long users, double mean, double standardDeviation) => new()
    {
        Key = key,
        ExpectedWeight = 1.0,
        Users = users,
        Sum = users * mean,
        SumSquares = (users - 1) * standardDeviation * standardDeviation + users * mean * mean,
    };

    public static VariantStatistics Binary(string key, long users, long conversions) => new()
    {
        Key = key,
        ExpectedWeight = 1.0,
        Users = users,
        Sum = conversions,
        SumSquares = conversions,
    };

    public static AnalysisRequest Of(MetricType metricType, TestKind test, params VariantStatistics[] variants) => new()
    {
        MetricType = metricType,
        Test = test,
        ConfidenceLevel = 0.95,
        Control = variants[0].Key,
        Variants = variants,
    };
}
