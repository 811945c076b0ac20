using Experiments.Statistics.Bandits;
using Experiments.Statistics.Contracts;
using Experiments.Statistics.Corrections;
using Experiments.Statistics.Estimation;
using Experiments.Statistics.Hypothesis;
using Experiments.Statistics.Validation;

namespace Experiments.Statistics;

/// <summary>
/// The entry point: one metric's per-variant sufficient statistics in, the analysis of every
/// treatment against the control out, exactly as STATISTICS.md defines it. Pure and thread-safe.
/// </summary>
public static class ExperimentAnalyzer
{
    public const double DefaultConfidenceLevel = 0.95;

    /// <summary>Validates and analyses; throws <see cref="InvalidStatisticsRequestException"/> naming every bad field.</summary>
    public static AnalysisResult Analyze(AnalysisRequest request)
    {
        var errors = AnalysisRequestValidator.Validate(request);
        if (errors.Count > 0)
        {
            throw new InvalidStatisticsRequestException(errors);
        }

        return AnalyzeValidated(request);
    }

    /// <summary>Validates and analyses without throwing: either a result or the validation errors.</summary>
    public static bool TryAnalyze(AnalysisRequest request, out AnalysisResult? result, out IReadOnlyList<ValidationError> errors)
    {
        errors = AnalysisRequestValidator.Validate(request);
        result = errors.Count == 0 ? AnalyzeValidated(request) : null;
        return result is not null;
    }

    private static AnalysisResult AnalyzeValidated(AnalysisRequest request)
    {
        var variants = request.Variants!;
        var metricType = request.MetricType!.Value;
        var alpha = 1.0 - (request.ConfidenceLevel ?? DefaultConfidenceLevel);
        var test = request.Test ?? TestKind.Sequential;
        var direction = request.Direction ?? Direction.Any;
        var correction = request.Correction ?? CorrectionMethod.None;
        var tuning = new SequentialTuning(request.Tau, request.SequentialTuning ?? SequentialTuning.DefaultOptimalSampleSize);

        var cuped = CupedAdjustment.FromVariants(variants);
        var moments = new SampleMoments[variants.Count];
        var controlIndex = -1;
        for (var i = 0; i < variants.Count; i++)
        {
            var variant = variants[i];
            moments[i] = cuped is null
                ? SampleMoments.FromSums(variant.Users!.Value, variant.Sum!.Value, variant.SumSquares!.Value)
                : cuped.Adjust(variant);
            if (variant.Key == request.Control)
            {
                controlIndex = i;
            }
        }

        var srm = Srm(variants, request.SrmThreshold ?? SampleRatioMismatchTest.DefaultThreshold);

        // Gate first: Bonferroni intervals depend on how many comparisons are actually tested.
        var treatments = variants.Count - 1;
        var reasons = new string?[treatments];
        var tested = 0;
        for (int i = 0, slot = 0; i < variants.Count; i++)
        {
            if (i == controlIndex)
            {
                continue;
            }

            reasons[slot] = DataQualityGate.Check(metricType, request.Control!, variants[controlIndex], variants[i].Key!, variants[i])
                ?? DataQualityGate.CheckVariance(moments[controlIndex], moments[i]);
            tested += reasons[slot] is null ? 1 : 0;
            slot++;
        }

        var testAlpha = correction == CorrectionMethod.Bonferroni && tested > 1 ? alpha / tested : alpha;
        var comparisons = new ComparisonResult[treatments];
        var pValues = new double?[treatments];
        var control = moments[controlIndex];
        for (int i = 0, slot = 0; i < variants.Count; i++)
        {
            if (i == controlIndex)
            {
                continue;
            }

            var treatment = moments[i];
            var lift = LiftEstimate.Between(control, treatment);
            var comparison = new ComparisonResult
            {
                Variant = variants[i].Key!,
                ControlMean = Finite(control.Mean),
                Mean = Finite(treatment.Mean),
                AbsoluteLift = Finite(lift.Absolute.Value),
                RelativeLift = lift.Relative is { } relative ? Finite(relative.Value) : null,
                CupedTheta = cuped?.Theta,
                DataQualityReason = reasons[slot],
            };

            if (reasons[slot] is null)
            {
                var outcome = test == TestKind.Ttest
                    ? WelchTTest.Run(control, treatment, lift, testAlpha, direction)
                    : MixtureSequentialTest.Run(control, treatment, lift, testAlpha, direction, tuning);
                pValues[slot] = outcome.PValue;
                comparison = comparison with
                {
                    PValue = outcome.PValue,
                    CiAbsolute = outcome.CiAbsolute,
                    CiRelative = outcome.CiRelative,
                    MsprtLogLr = outcome.MsprtLogLr,
                    DegreesOfFreedom = outcome.DegreesOfFreedom,
                };
            }

            comparisons[slot++] = comparison;
        }

        var adjusted = MultipleComparisonCorrection.Adjust(pValues, correction);
        for (var slot = 0; slot < treatments; slot++)
        {
            var decisive = adjusted[slot];
            comparisons[slot] = comparisons[slot] with
            {
                AdjustedPValue = correction == CorrectionMethod.None ? null : decisive,
                Significant = decisive < alpha,
            };
        }

        var bandit = metricType == MetricType.Binary ? Bandit(variants, request.MinTrafficWeight ?? ThompsonSampling.DefaultMinimumWeight) : null;
        return new AnalysisResult
        {
            Srm = srm,
            Comparisons = comparisons,
            ProbabilityBest = bandit?.ToDictionary(arm => arm.Key, arm => arm.ProbabilityBest),
            Bandit = bandit,
            Variants = Summaries(variants, moments),
        };
    }

    private static SrmResult Srm(IReadOnlyList<VariantStatistics> variants, double threshold)
    {
        Span<long> users = variants.Count <= 64 ? stackalloc long[variants.Count] : new long[variants.Count];
        Span<double> weights = variants.Count <= 64 ? stackalloc double[variants.Count] : new double[variants.Count];
        var explicitWeights = variants[0].ExpectedWeight is not null;
        for (var i = 0; i < variants.Count; i++)
        {
            users[i] = variants[i].Users!.Value;
            weights[i] = explicitWeights ? variants[i].ExpectedWeight!.Value : 1.0;
        }

        return SampleRatioMismatchTest.Run(users, weights, threshold);
    }

    private static BanditArm[] Bandit(IReadOnlyList<VariantStatistics> variants, double minimumWeight)
    {
        var posteriors = new BetaPosterior[variants.Count];
        for (var i = 0; i < variants.Count; i++)
        {
            posteriors[i] = BetaPosterior.FromConversions(variants[i].Users!.Value, variants[i].Sum!.Value);
        }

        var probabilities = ThompsonSampling.ProbabilityBest(posteriors);
        var weights = ThompsonSampling.TrafficWeights(probabilities, minimumWeight);
        var arms = new BanditArm[variants.Count];
        for (var i = 0; i < variants.Count; i++)
        {
            arms[i] = new BanditArm(variants[i].Key!, posteriors[i].Alpha, posteriors[i].Beta, probabilities[i], weights[i]);
        }

        return arms;
    }

    private static VariantSummary[] Summaries(IReadOnlyList<VariantStatistics> variants, SampleMoments[] moments)
    {
        var summaries = new VariantSummary[variants.Count];
        for (var i = 0; i < variants.Count; i++)
        {
            summaries[i] = new VariantSummary(variants[i].Key!, moments[i].Users, Finite(moments[i].Mean), Finite(moments[i].Variance));
        }

        return summaries;
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}
