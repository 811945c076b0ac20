namespace Experiments.Assignment.Evaluation;

/// <summary>
/// Amplitude's bucketing: <c>hash = murmur3_x86_32("{salt}/{bucketing value}", seed 0)</c>; the user is in the
/// allocation when <c>hash % 100</c> falls below the allocation percentage, and gets the variant whose range of
/// <c>floor(hash / 100)</c> (over 0..42949672, split by weight) holds the value.
/// </summary>
public static class Bucketing
{
    public const long MaxVariantHashValue = uint.MaxValue / 100; // 42949672

    /// <summary>Exclusive upper ends of each variant's distribution range, in order, from relative weights.</summary>
    public static long[] DistributionEnds(IReadOnlyList<double> weights)
    {
        var total = weights.Sum();
        var ends = new long[weights.Count];
        double cumulative = 0;
        for (var i = 0; i < weights.Count; i++)
        {
            cumulative += weights[i];
            ends[i] = i == weights.Count - 1 ? MaxVariantHashValue + 1 : (long)Math.Round(cumulative / total * (MaxVariantHashValue + 1));
        }
        return ends;
    }

    /// <summary>The index of the variant for the bucketing value, or -1 when outside the allocation.</summary>
    public static int Assign(string salt, string bucketingValue, int allocationPercent, ReadOnlySpan<long> distributionEnds)
    {
        var hash = Murmur3.HashSalted(salt, bucketingValue);
        if (hash % 100 >= allocationPercent)
        {
            return -1;
        }
        long distribution = hash / 100;
        for (var i = 0; i < distributionEnds.Length; i++)
        {
            if (distribution < distributionEnds[i])
            {
                return i;
            }
        }
        return -1;
    }
}
