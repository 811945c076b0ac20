namespace Experiments.Statistics.Numerics;

/// <summary>Elementary functions that .NET computes naively (its <c>double.LogP1</c> is <c>Log(1 + x)</c>).</summary>
public static class Elementary
{
    /// <summary>ln(1 + v), accurate to a few ulps for small v (Goldberg's correction).</summary>
    public static double LogOnePlus(double v)
    {
        var u = 1.0 + v;
        if (u == 1.0)
        {
            return v;
        }

        return Math.Log(u) * v / (u - 1.0);
    }
}
