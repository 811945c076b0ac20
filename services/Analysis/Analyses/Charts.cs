using System.Globalization;
using Experiments.Analysis.Queries;
using Experiments.Analysis.Snapshots;
using Experiments.Contracts.Analysis.V1;
using Experiments.Postgres.Configuration;
using Experiments.Statistics.Hypothesis;

namespace Experiments.Analysis.Analyses;

/// <summary>Chart and diagnostics series, built from the per-day aggregates and the daily snapshots.</summary>
public static class Charts
{
    public static Contracts.Analysis.V1.Charts Build(
        ExperimentConfig experiment, AnalyzeResponse response, IReadOnlyList<DailyCount> events, IReadOnlyList<PopulationRow> population,
        IReadOnlyList<Snapshot> history, string primaryMetric)
    {
        var charts = new Contracts.Analysis.V1.Charts();
        foreach (var metric in response.Metrics)
        {
            charts.ConfidenceIntervals.AddRange(metric.Variants.Select(v => new VariantInterval { Variant = v.Key, Metric = metric.Key, Mean = v.Mean, Ci = v.Ci }));
        }
        foreach (var variant in experiment.Variants)
        {
            charts.ExposuresCumulative.Add(Cumulative(variant.Key, population.Where(p => p.Variant == variant.Key).GroupBy(p => p.Day).Select(g => (g.Key, (double)g.Sum(p => p.Users)))));
            charts.EventTotals.Add(Daily(variant.Key, events.Where(e => e.Variant == variant.Key).Select(e => (e.Day, (double)e.Count)), primaryMetric));
        }

        // This analysis is the point of the day its data ends: today, or the day a stopped experiment (or a chosen
        // range) ends, which replaces that day's stored snapshot instead of adding a second point with the same figures.
        var computed = response.ComputedAt.ToDateTime();
        var end = response.Filters?.To?.ToDateTime() ?? computed;
        var today = DateOnly.FromDateTime(end < computed ? end : computed);
        var primary = response.Metrics.First(m => m.Key == primaryMetric);
        var past = history.Where(s => s.Date < today).ToList();
        foreach (var variant in primary.Variants)
        {
            var points = past.Select(s => (s.Date, Mean: s.Metrics.FirstOrDefault(m => m.Key == primaryMetric)?.Means.GetValueOrDefault(variant.Key)))
                .Where(p => p.Mean is not null).Select(p => (p.Date, p.Mean!.Value)).Append((today, variant.Mean));
            charts.MeanOverTime.Add(Daily(variant.Key, points, primaryMetric));
        }
        if (response.Test == "sequential")
        {
            var alpha = 1 - response.ConfidenceLevel;
            foreach (var comparison in primary.Comparisons)
            {
                var snapshots = past.Select(s => (s.Date, Result: s.Comparison(primaryMetric, comparison.Variant))).Where(s => s.Result is not null).ToList();
                snapshots.Add((today, SnapshotStore.FromProto(comparison)));
                var running = AlwaysValidAccumulator.Run(snapshots.Select(s => s.Result!), alpha);
                var series = new Series { Variant = comparison.Variant, Metric = primaryMetric };
                for (var i = 0; i < running.Count; i++)
                {
                    if (running[i].PValue is { } p)
                    {
                        series.Points.Add(new Point { Date = Format(snapshots[i].Date), Value = p });
                    }
                }
                charts.PValueOverTime.Add(series);
            }
        }
        return charts;
    }

    public static Diagnostics Diagnose(ExperimentConfig experiment, IReadOnlyList<PopulationRow> population, IReadOnlyList<DailyCount> assignments)
    {
        var diagnostics = new Diagnostics
        {
            VariantJumpers = population.Sum(p => p.Jumpers),
            AnonymousExposures = population.Sum(p => p.Anonymous),
            ExposuresWithoutAssignment = population.Sum(p => p.WithoutAssignment),
        };
        foreach (var variant in experiment.Variants)
        {
            var assigned = assignments.Where(a => a.Variant == variant.Key).Select(a => (a.Day, (double)a.Count)).ToList();
            var exposed = population.Where(p => p.Variant == variant.Key).GroupBy(p => p.Day).Select(g => (g.Key, (double)g.Sum(p => p.AllUsers))).ToList();
            diagnostics.AssignmentsDaily.Add(Daily(variant.Key, assigned));
            diagnostics.AssignmentsCumulative.Add(Cumulative(variant.Key, assigned));
            diagnostics.ExposuresDaily.Add(Daily(variant.Key, exposed));
            diagnostics.ExposuresCumulative.Add(Cumulative(variant.Key, exposed));
            diagnostics.VariantJumpersDaily.Add(Daily(variant.Key,
                population.Where(p => p.Variant == variant.Key).GroupBy(p => p.Day).Select(g => (g.Key, (double)g.Sum(p => p.Jumpers)))));
            var assignedTotal = (long)assigned.Sum(a => a.Item2);
            var exposedTotal = (long)exposed.Sum(e => e.Item2);
            diagnostics.AssignmentToExposure.Add(new VariantConversion
            {
                Variant = variant.Key,
                Assigned = assignedTotal,
                Exposed = exposedTotal,
                Rate = assignedTotal == 0 ? 0 : (double)exposedTotal / assignedTotal,
            });
        }
        return diagnostics;
    }

    private static Series Daily(string variant, IEnumerable<(DateOnly Day, double Value)> points, string metric = "")
    {
        var series = new Series { Variant = variant, Metric = metric };
        series.Points.AddRange(points.GroupBy(p => p.Day).OrderBy(g => g.Key).Select(g => new Point { Date = Format(g.Key), Value = g.Sum(p => p.Value) }));
        return series;
    }

    private static Series Cumulative(string variant, IEnumerable<(DateOnly Day, double Value)> points)
    {
        var series = Daily(variant, points);
        var total = 0.0;
        foreach (var point in series.Points)
        {
            total += point.Value;
            point.Value = total;
        }
        return series;
    }

    private static string Format(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
