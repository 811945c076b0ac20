using Experiments.Statistics.Contracts;
using Experiments.Statistics.Estimation;

namespace Experiments.Statistics.Hypothesis;

/// <summary>
/// Holds p-values and intervals back until both compared variants have enough data: at least
/// 100 users each and, for a binary metric, at least 25 conversions each.
/// </summary>
public static class DataQualityGate
{
    public const long MinimumUsers = 100;
    public const double MinimumConversions = 25;

    /// <summary>Null when the comparison may be tested, otherwise why not.</summary>
    public static string? Check(MetricType metricType, string controlKey, VariantStatistics control, string treatmentKey, VariantStatistics treatment)
    {
        return CheckVariant(metricType, controlKey, control) ?? CheckVariant(metricType, treatmentKey, treatment);
    }

    private static string? CheckVariant(MetricType metricType, string key, VariantStatistics variant)
    {
        var users = variant.Users!.Value;
        if (users < MinimumUsers)
        {
            return $"'{key}' has {users} users; at least {MinimumUsers} per variant are needed";
        }

        var conversions = variant.Sum!.Value;
        return metricType == MetricType.Binary && conversions < MinimumConversions
            ? $"'{key}' has {conversions} conversions; at least {MinimumConversions} per variant are needed"
            : null;
    }

    /// <summary>A test needs some spread: both variants constant leaves nothing to test.</summary>
    public static string? CheckVariance(SampleMoments control, SampleMoments treatment) =>
        control.Variance + treatment.Variance > 0.0
            ? null
            : "both variants have zero variance; no test is possible";
}
