using Experiments.Statistics.Contracts;

namespace Experiments.Statistics.Estimation;

/// <summary>
/// CUPED: y − θ(x − x̄) with θ = pooled Σ(x − x̄)(y − ȳ) / Σ(x − x̄)² over all users of all variants.
/// Works on sufficient statistics only: adjusted mean m − θ(m_x − x̄), adjusted variance
/// v + θ²·v_x − 2θ·c_xy (sample variance and covariance, n − 1).
/// </summary>
public sealed record CupedAdjustment(double Theta, double PooledCovariateMean)
{
    /// <summary>The pooled adjustment, or null when some variant carries no covariate.</summary>
    public static CupedAdjustment? FromVariants(IReadOnlyList<VariantStatistics> variants)
    {
        double users = 0, sumX = 0, sumY = 0, sumXx = 0, sumXy = 0;
        foreach (var variant in variants)
        {
            if (variant.Covariate is not { } covariate)
            {
                return null;
            }

            users += variant.Users!.Value;
            sumY += variant.Sum!.Value;
            sumX += covariate.Sum!.Value;
            sumXx += covariate.SumSquares!.Value;
            sumXy += covariate.SumProduct!.Value;
        }

        if (users <= 0)
        {
            return new(0.0, 0.0);
        }

        var pooledMeanX = sumX / users;
        var centredXx = sumXx - sumX * pooledMeanX;
        var centredXy = sumXy - sumX * sumY / users;
        var theta = centredXx > 0.0 ? centredXy / centredXx : 0.0;
        return new(theta, pooledMeanX);
    }

    public SampleMoments Adjust(VariantStatistics variant)
    {
        var moments = SampleMoments.FromSums(variant.Users!.Value, variant.Sum!.Value, variant.SumSquares!.Value);
        var covariate = variant.Covariate!;
        var n = moments.Users;
        if (n <= 0)
        {
            return moments;
        }

        var sumX = covariate.Sum!.Value;
        var meanX = sumX / n;
        var mean = moments.Mean - Theta * (meanX - PooledCovariateMean);
        if (n < 2)
        {
            return moments with { Mean = mean };
        }

        var varianceX = Math.Max(0.0, (covariate.SumSquares!.Value - sumX * meanX) / (n - 1));
        var covariance = (covariate.SumProduct!.Value - sumX * moments.Mean) / (n - 1);
        var variance = Math.Max(0.0, moments.Variance + Theta * Theta * varianceX - 2.0 * Theta * covariance);
        return new(n, mean, variance);
    }
}
