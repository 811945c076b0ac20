namespace Experiments.Statistics.Estimation;

/// <summary>Users, mean and sample variance (n − 1) of one variant, possibly CUPED-adjusted.</summary>
public readonly record struct SampleMoments(long Users, double Mean, double Variance)
{
    /// <summary>m = Σy/n, v = (Σy² − (Σy)²/n)/(n − 1); the mean is NaN without users, the variance 0 below two.</summary>
    public static SampleMoments FromSums(long users, double sum, double sumSquares)
    {
        if (users <= 0)
        {
            return new(0, double.NaN, double.NaN);
        }

        var mean = sum / users;
        var variance = users > 1 ? Math.Max(0.0, (sumSquares - sum * mean) / (users - 1)) : 0.0;
        return new(users, mean, variance);
    }

    /// <summary>Variance of the mean, v/n.</summary>
    public double MeanVariance => Variance / Users;
}
