using Experiments.Statistics.Numerics;

namespace Experiments.Statistics.Bandits;

/// <summary>
/// Thompson sampling for binary metrics, computed deterministically: P(arm i is best) =
/// ∫ f_i(x) Π_{j≠i} F_j(x) dx by quadrature over Beta posteriors, and traffic weights that follow
/// those probabilities with a floor per arm.
/// </summary>
public static class ThompsonSampling
{
    public const double DefaultMinimumWeight = 0.01;

    /// <summary>Where each posterior's grid gets a breakpoint, in its own standard deviations from its mean.</summary>
    private static ReadOnlySpan<double> Offsets => [-14, -9, -6, -4, -3, -2, -1, 0, 1, 2, 3, 4, 6, 9, 14];

    /// <summary>Uniform steps per sub-interval between breakpoints (even, for Simpson's rule).</summary>
    private const int Steps = 8;

    /// <summary>
    /// P(arm i has the highest rate) for each posterior. The integration grid is piecewise uniform with
    /// breakpoints at every posterior's mean ± up to 14 standard deviations, so that each density and
    /// each CDF is resolved on its own scale however different the arms are. CDFs are accumulated on
    /// the same grid with a fourth-order rule; the products are integrated with Simpson's rule.
    /// </summary>
    public static double[] ProbabilityBest(ReadOnlySpan<BetaPosterior> posteriors)
    {
        var arms = posteriors.Length;
        var result = new double[arms];
        if (arms == 0)
        {
            return result;
        }

        if (arms == 1)
        {
            result[0] = 1.0;
            return result;
        }

        var breakpoints = Breakpoints(posteriors);
        var intervals = breakpoints.Length - 1;
        var nodes = intervals * Steps + 1;

        // density[arm * nodes + node], then cumulative[arm * nodes + node]
        var density = new double[arms * nodes];
        var cumulative = new double[arms * nodes];
        var grid = new double[nodes];
        for (var interval = 0; interval < intervals; interval++)
        {
            var start = breakpoints[interval];
            var step = (breakpoints[interval + 1] - start) / Steps;
            for (var k = 0; k < Steps; k++)
            {
                grid[interval * Steps + k] = start + k * step;
            }
        }

        grid[nodes - 1] = breakpoints[^1];

        // ln x and ln(1 − x) once per node, shared by every arm's density.
        var logX = new double[nodes];
        var logOneMinusX = new double[nodes];
        for (var node = 0; node < nodes; node++)
        {
            logX[node] = Math.Log(grid[node]);
            logOneMinusX[node] = Elementary.LogOnePlus(-grid[node]);
        }

        for (var arm = 0; arm < arms; arm++)
        {
            var posterior = posteriors[arm];
            var logNormaliser = posterior.LogNormaliser;
            var offset = arm * nodes;
            for (var node = 0; node < nodes; node++)
            {
                density[offset + node] = posterior.Density(grid[node], logX[node], logOneMinusX[node], logNormaliser);
            }

            Accumulate(density.AsSpan(offset, nodes), cumulative.AsSpan(offset, nodes), breakpoints);
        }

        var integrand = new double[nodes];
        var total = 0.0;
        for (var arm = 0; arm < arms; arm++)
        {
            for (var node = 0; node < nodes; node++)
            {
                var value = density[arm * nodes + node];
                for (var other = 0; other < arms && value != 0.0; other++)
                {
                    if (other != arm)
                    {
                        value *= cumulative[other * nodes + node];
                    }
                }

                integrand[node] = value;
            }

            result[arm] = Simpson(integrand, breakpoints);
            total += result[arm];
        }

        for (var arm = 0; arm < arms; arm++)
        {
            result[arm] = Math.Clamp(result[arm] / total, 0.0, 1.0);
        }

        return result;
    }

    /// <summary>
    /// Traffic weights proportional to the probabilities of being best, each at least
    /// <paramref name="minimumWeight"/>: arms below the floor are pinned to it and the rest share
    /// what remains in proportion, until no arm falls below.
    /// </summary>
    public static double[] TrafficWeights(ReadOnlySpan<double> probabilityBest, double minimumWeight)
    {
        var arms = probabilityBest.Length;
        var weights = new double[arms];
        var pinned = new bool[arms];
        if (arms == 0)
        {
            return weights;
        }

        minimumWeight = Math.Clamp(minimumWeight, 0.0, 1.0 / arms);
        while (true)
        {
            var pinnedCount = 0;
            var freeMass = 0.0;
            for (var arm = 0; arm < arms; arm++)
            {
                if (pinned[arm])
                {
                    pinnedCount++;
                }
                else
                {
                    freeMass += probabilityBest[arm];
                }
            }

            var remaining = 1.0 - pinnedCount * minimumWeight;
            var freeCount = arms - pinnedCount;
            var newlyPinned = false;
            for (var arm = 0; arm < arms; arm++)
            {
                if (pinned[arm])
                {
                    weights[arm] = minimumWeight;
                    continue;
                }

                weights[arm] = freeMass > 0.0 ? remaining * probabilityBest[arm] / freeMass : remaining / freeCount;
                if (weights[arm] < minimumWeight)
                {
                    pinned[arm] = true;
                    newlyPinned = true;
                }
            }

            if (!newlyPinned)
            {
                return weights;
            }
        }
    }

    private static double[] Breakpoints(ReadOnlySpan<BetaPosterior> posteriors)
    {
        var points = new List<double>(posteriors.Length * Offsets.Length);
        foreach (var posterior in posteriors)
        {
            var mean = posterior.Mean;
            var deviation = posterior.StandardDeviation;
            foreach (var offset in Offsets)
            {
                points.Add(Math.Clamp(mean + offset * deviation, 0.0, 1.0));
            }
        }

        points.Sort();
        var distinct = new List<double>(points.Count) { points[0] };
        foreach (var point in points)
        {
            if (point - distinct[^1] > 1e-15)
            {
                distinct.Add(point);
            }
        }

        if (distinct.Count == 1)
        {
            distinct.Add(Math.Min(1.0, distinct[0] + 1e-12));
        }

        return [.. distinct];
    }

    /// <summary>Running integral of the density over the grid, fourth order inside each sub-interval.</summary>
    private static void Accumulate(ReadOnlySpan<double> density, Span<double> cumulative, double[] breakpoints)
    {
        var running = 0.0;
        cumulative[0] = 0.0;
        for (var interval = 0; interval < breakpoints.Length - 1; interval++)
        {
            var h = (breakpoints[interval + 1] - breakpoints[interval]) / Steps;
            var f = density.Slice(interval * Steps, Steps + 1);
            for (var k = 0; k < Steps; k++)
            {
                var piece = k switch
                {
                    0 => h / 12.0 * (5.0 * f[0] + 8.0 * f[1] - f[2]),
                    Steps - 1 => h / 12.0 * (-f[Steps - 2] + 8.0 * f[Steps - 1] + 5.0 * f[Steps]),
                    _ => h / 24.0 * (-f[k - 1] + 13.0 * f[k] + 13.0 * f[k + 1] - f[k + 2]),
                };
                running += piece;
                cumulative[interval * Steps + k + 1] = Math.Clamp(running, 0.0, 1.0);
            }
        }
    }

    private static double Simpson(ReadOnlySpan<double> values, double[] breakpoints)
    {
        var total = 0.0;
        for (var interval = 0; interval < breakpoints.Length - 1; interval++)
        {
            var h = (breakpoints[interval + 1] - breakpoints[interval]) / Steps;
            var f = values.Slice(interval * Steps, Steps + 1);
            var sum = f[0] + f[Steps];
            for (var k = 1; k < Steps; k++)
            {
                sum += (k % 2 == 1 ? 4.0 : 2.0) * f[k];
            }

            total += h / 3.0 * sum;
        }

        return total;
    }
}
