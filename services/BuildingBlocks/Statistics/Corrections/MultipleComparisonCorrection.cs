using Experiments.Statistics.Contracts;

namespace Experiments.Statistics.Corrections;

/// <summary>
/// Adjusted p-values for a family of tests: Bonferroni (m·p), Holm (step-down) and
/// Benjamini–Hochberg (step-up, false discovery rate). Usable across the treatments of one request
/// or across the metrics of an experiment. Null p-values (held back by the data-quality gate) are
/// not part of the family and stay null.
/// </summary>
public static class MultipleComparisonCorrection
{
    public static double?[] Adjust(IReadOnlyList<double?> pValues, CorrectionMethod method)
    {
        var adjusted = new double?[pValues.Count];
        var order = new List<int>(pValues.Count);
        for (var i = 0; i < pValues.Count; i++)
        {
            if (pValues[i] is not null)
            {
                order.Add(i);
            }
        }

        var m = order.Count;
        if (method == CorrectionMethod.None || m == 0)
        {
            for (var i = 0; i < pValues.Count; i++)
            {
                adjusted[i] = pValues[i];
            }

            return adjusted;
        }

        order.Sort((a, b) => pValues[a]!.Value.CompareTo(pValues[b]!.Value));
        switch (method)
        {
            case CorrectionMethod.Bonferroni:
                foreach (var index in order)
                {
                    adjusted[index] = Math.Min(1.0, m * pValues[index]!.Value);
                }

                break;

            case CorrectionMethod.Holm:
                var runningMax = 0.0;
                for (var rank = 0; rank < m; rank++)
                {
                    var index = order[rank];
                    runningMax = Math.Max(runningMax, Math.Min(1.0, (m - rank) * pValues[index]!.Value));
                    adjusted[index] = runningMax;
                }

                break;

            case CorrectionMethod.BenjaminiHochberg:
                var runningMin = 1.0;
                for (var rank = m - 1; rank >= 0; rank--)
                {
                    var index = order[rank];
                    runningMin = Math.Min(runningMin, (double)m / (rank + 1) * pValues[index]!.Value);
                    adjusted[index] = runningMin;
                }

                break;

            default:
                throw new ArgumentOutOfRangeException(nameof(method), method, "unknown correction");
        }

        return adjusted;
    }
}
