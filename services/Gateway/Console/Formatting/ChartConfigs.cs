using Experiments.Gateway.Console.Models;

namespace Experiments.Gateway.Console.Formatting;

/// <summary>
/// Chart.js configurations (serialized into the page, drawn by js/console.js). <c>format</c> is ours: "percent" or
/// "number" for the value axis and the tooltips.
/// </summary>
public static class ChartConfigs
{
    /// <summary>Relative lift per treatment: the interval as a floating bar, the estimate as a point.</summary>
    public static object LiftIntervals(MetricView metric, Func<string, string> nameOf) => new
    {
        type = "bar",
        format = "percent",
        data = new
        {
            labels = metric.Comparisons.Select(c => nameOf(c.Variant)).ToArray(),
            datasets = new object[]
            {
                new { label = "Confidence interval (relative lift)", data = metric.Comparisons.Select(c => c.CiRelative ?? [0, 0]).ToArray(), barPercentage = 0.4 },
                new { type = "line", label = "Relative lift", data = metric.Comparisons.Select(c => c.RelativeLift).ToArray(), showLine = false, pointRadius = 6, pointStyle = "rectRot" },
            },
        },
        options = new { plugins = new { legend = new { position = "bottom" } } },
    };

    /// <summary>Each variant's mean (rate) with its interval, from <c>charts.confidence_intervals</c> or the variants' own intervals.</summary>
    public static object? VariantIntervals(MetricView metric, AnalysisView analysis, Func<string, string> nameOf)
    {
        var fromCharts = (analysis.Charts?["confidence_intervals"] as System.Text.Json.Nodes.JsonArray ?? [])
            .OfType<System.Text.Json.Nodes.JsonObject>()
            .Where(i => AnalysisView.Str(i, "metric") is not { Length: > 0 } m || m == metric.Key || m == metric.Name)
            .Select(i => (Variant: AnalysisView.Str(i, "variant") ?? "", Mean: AnalysisView.Num(i, "mean"), Ci: AnalysisView.Pair(i, "ci")))
            .Where(i => i.Ci is not null)
            .ToList();
        var rows = fromCharts.Count > 0 ? fromCharts : metric.Variants.Where(v => v.Ci is not null).Select(v => (Variant: v.Key, Mean: v.Mean ?? v.Rate, v.Ci)).ToList();
        if (rows.Count == 0)
        {
            return null;
        }
        return new
        {
            type = "bar",
            format = metric.IsRate ? "percent" : "number",
            data = new
            {
                labels = rows.Select(r => nameOf(r.Variant)).ToArray(),
                datasets = new object[]
                {
                    new { label = "Confidence interval", data = rows.Select(r => r.Ci!).ToArray(), barPercentage = 0.4 },
                    new { type = "line", label = "Mean", data = rows.Select(r => r.Mean).ToArray(), showLine = false, pointRadius = 6, pointStyle = "rectRot" },
                },
            },
            options = new { plugins = new { legend = new { position = "bottom" } } },
        };
    }

    /// <summary>One bar per variant.</summary>
    public static object Bars(string label, IEnumerable<(string Name, double Value)> values, string format = "number") => new
    {
        type = "bar",
        format,
        data = new
        {
            labels = values.Select(v => v.Name).ToArray(),
            datasets = new object[] { new { label, data = values.Select(v => v.Value).ToArray() } },
        },
        options = new { plugins = new { legend = new { display = false } } },
    };

    /// <summary>One line per variant over the union of the series' dates.</summary>
    public static object Lines(IReadOnlyList<SeriesView> series, Func<string, string> nameOf, string format = "number")
    {
        var dates = series.SelectMany(s => s.Points.Select(p => p.Date)).Distinct().Order(StringComparer.Ordinal).ToArray();
        return new
        {
            type = "line",
            format,
            data = new
            {
                labels = dates,
                datasets = series.Select(s =>
                {
                    var byDate = s.Points.GroupBy(p => p.Date).ToDictionary(g => g.Key, g => g.Last().Value);
                    return new { label = nameOf(s.Variant), data = dates.Select(d => byDate.TryGetValue(d, out var v) ? v : (double?)null).ToArray(), spanGaps = true, tension = 0.2 };
                }).ToArray(),
            },
            options = new { plugins = new { legend = new { position = "bottom" } } },
        };
    }
}
