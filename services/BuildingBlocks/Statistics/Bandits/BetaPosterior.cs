using Experiments.Statistics.Numerics;

namespace Experiments.Statistics.Bandits;

/// <summary>Beta(α = conversions + 1, β = users − conversions + 1): the posterior of a conversion rate under a uniform prior.</summary>
public readonly record struct BetaPosterior(double Alpha, double Beta)
{
    public static BetaPosterior FromConversions(long users, double conversions) => new(conversions + 1.0, users - conversions + 1.0);

    public double Mean => Alpha / (Alpha + Beta);

    public double StandardDeviation
    {
        get
        {
            var total = Alpha + Beta;
            return Math.Sqrt(Alpha * Beta / (total * total * (total + 1.0)));
        }
    }

    /// <summary>ln B(α, β), the log normalising constant, to be computed once per posterior.</summary>
    public double LogNormaliser => LogGamma.LogBeta(Alpha, Beta);

    /// <summary>The density at x given the precomputed <see cref="LogNormaliser"/>.</summary>
    public double Density(double x, double logNormaliser) =>
        Density(x, Math.Log(x), Elementary.LogOnePlus(-x), logNormaliser);

    /// <summary>The density at x from precomputed ln x, ln(1 − x) and <see cref="LogNormaliser"/> (the quadrature's inner loop).</summary>
    public double Density(double x, double logX, double logOneMinusX, double logNormaliser)
    {
        if (x <= 0.0)
        {
            return Alpha == 1.0 ? Math.Exp(-logNormaliser) : Alpha < 1.0 ? double.PositiveInfinity : 0.0;
        }

        if (x >= 1.0)
        {
            return Beta == 1.0 ? Math.Exp(-logNormaliser) : Beta < 1.0 ? double.PositiveInfinity : 0.0;
        }

        return Math.Exp((Alpha - 1.0) * logX + (Beta - 1.0) * logOneMinusX - logNormaliser);
    }
}
