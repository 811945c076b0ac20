using Experiments.Statistics.Contracts;
using Experiments.Statistics.Distributions;
using Experiments.Statistics.Validation;

namespace Experiments.Statistics.Planning;

/// <summary>
/// Users per variant for a binary metric (two-sided test, pooled variance under H0):
/// n = (z₁₋α/₂·√(2p̄(1−p̄)) + z₁₋β·√(p1(1−p1) + p2(1−p2)))² / (p2 − p1)², rounded up,
/// and the days that takes at a given daily traffic across all variants.
/// </summary>
public static class SampleSizeCalculator
{
    public const double DefaultConfidenceLevel = 0.95;
    public const double DefaultPower = 0.8;

    public static SampleSizeResult Calculate(SampleSizeRequest request)
    {
        var errors = SampleSizeRequestValidator.Validate(request);
        if (errors.Count > 0)
        {
            throw new InvalidStatisticsRequestException(errors);
        }

        var usersPerVariant = UsersPerVariant(
            request.BaselineRate!.Value,
            request.RelativeMde!.Value,
            request.ConfidenceLevel ?? DefaultConfidenceLevel,
            request.Power ?? DefaultPower);

        if (request.DailyUsers is not { } dailyUsers)
        {
            return new SampleSizeResult { UsersPerVariant = usersPerVariant };
        }

        var totalUsers = usersPerVariant * (request.VariantCount ?? 2);
        return new SampleSizeResult
        {
            UsersPerVariant = usersPerVariant,
            TotalUsers = totalUsers,
            Days = (long)Math.Ceiling(totalUsers / dailyUsers),
        };
    }

    public static long UsersPerVariant(double baselineRate, double relativeMde, double confidenceLevel, double power)
    {
        var p1 = baselineRate;
        var p2 = baselineRate * (1.0 + relativeMde);
        var pooled = 0.5 * (p1 + p2);
        var zAlpha = NormalDistribution.UpperQuantile(0.5 * (1.0 - confidenceLevel));
        var zBeta = NormalDistribution.UpperQuantile(1.0 - power);
        var numerator = zAlpha * Math.Sqrt(2.0 * pooled * (1.0 - pooled)) + zBeta * Math.Sqrt(p1 * (1.0 - p1) + p2 * (1.0 - p2));
        var difference = p2 - p1;
        return (long)Math.Ceiling(numerator * numerator / (difference * difference));
    }
}
