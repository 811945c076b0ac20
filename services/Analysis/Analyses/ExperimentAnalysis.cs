using Experiments.Postgres.Configuration;
using Experiments.Statistics;
using Experiments.Statistics.Contracts;
using Experiments.Analysis.Queries;

namespace Experiments.Analysis.Analyses;

/// <summary>The settings an analysis runs with.</summary>
public sealed record AnalysisSettings(double ConfidenceLevel, TestKind Test, string? Control);

/// <summary>One variant's counts and the statistics result, ready for the caller.</summary>
public sealed record ExperimentAnalysisResult(
    ExperimentConfig Experiment,
    string MetricEventType,
    string Control,
    AnalysisSettings Settings,
    IReadOnlyList<(VariantConfig Variant, VariantCounts Counts)> Variants,
    AnalysisResult Statistics,
    string? Winner,
    string Recommendation,
    DateTimeOffset ComputedAt);

/// <summary>
/// Analyses an experiment's primary (binary) metric: per-variant exposed users and converters come from
/// ClickHouse as sufficient statistics, the figures from the statistics library.
/// </summary>
public sealed class ExperimentAnalysis(ExposureQueries queries, TimeProvider time)
{
    public async Task<ExperimentAnalysisResult> RunAsync(ExperimentConfig experiment, AnalysisSettings settings, CancellationToken cancellationToken)
    {
        var eventType = experiment.PrimaryMetricEventType
            ?? throw new AnalysisNotPossibleException("The experiment has no primary metric to analyze.");
        if (experiment.Variants.Count < 2)
        {
            throw new AnalysisNotPossibleException("The experiment needs at least two variants to be analyzed.");
        }
        var control = settings.Control ?? experiment.Variants[0].Key;
        if (experiment.Variants.All(v => v.Key != control))
        {
            throw new AnalysisNotPossibleException($"'{control}' is not a variant of the experiment.");
        }

        var counts = await queries.BinaryConversionsAsync(experiment.ProjectId, experiment.Key, eventType, cancellationToken);
        var variants = experiment.Variants
            .Select(v => (Variant: v, Counts: counts.GetValueOrDefault(v.Key) ?? new VariantCounts(0, 0)))
            .ToList();

        var statistics = ExperimentAnalyzer.Analyze(new AnalysisRequest
        {
            MetricType = MetricType.Binary,
            Test = settings.Test,
            ConfidenceLevel = settings.ConfidenceLevel,
            Control = control,
            Variants = variants.Select(v => new VariantStatistics
            {
                Key = v.Variant.Key,
                ExpectedWeight = v.Variant.TrafficWeight,
                Users = v.Counts.Users,
                Sum = v.Counts.Conversions,
                SumSquares = v.Counts.Conversions,
            }).ToList(),
        });

        var (winner, recommendation) = Recommend(statistics, control);
        return new ExperimentAnalysisResult(experiment, eventType, control, settings, variants, statistics, winner, recommendation, time.GetUtcNow());
    }

    /// <summary>A first plain-English recommendation: the significant treatment with the largest lift wins.</summary>
    private static (string? Winner, string Recommendation) Recommend(AnalysisResult statistics, string control)
    {
        if (statistics.Srm.Detected)
        {
            return (null, "Sample ratio mismatch detected: the traffic split differs from the configured weights. Fix the assignment or exposure tracking before trusting these results.");
        }
        var gated = statistics.Comparisons.FirstOrDefault(c => c.DataQualityReason is not null);
        if (gated is not null)
        {
            return (null, $"Not enough data yet: {gated.DataQualityReason} Keep the experiment running.");
        }
        var best = statistics.Comparisons
            .Where(c => c.Significant && c.AbsoluteLift > 0)
            .OrderByDescending(c => c.RelativeLift ?? c.AbsoluteLift)
            .FirstOrDefault();
        if (best is not null)
        {
            return (best.Variant, $"'{best.Variant}' beats '{control}' by {best.RelativeLift:P1} with statistical significance: roll it out.");
        }
        if (statistics.Comparisons.Any(c => c.Significant))
        {
            return (control, $"Every significant difference favours '{control}': keep the control.");
        }
        return (null, "No significant difference yet: keep the experiment running, or stop it if the possible effect is too small to matter.");
    }
}

/// <summary>The experiment can't be analyzed as configured (answered as FAILED_PRECONDITION).</summary>
public sealed class AnalysisNotPossibleException(string message) : Exception(message);
