using Experiments.Statistics.Contracts;
using FsCheck.Xunit;

namespace Experiments.Statistics.Tests.Properties;

[Properties(Arbitrary = [typeof(ExperimentArbitraries)], MaxTest = 300)]
public sealed class AnalysisPropertyTests
{
    private static bool Close(double? a, double? b, double relative = 1e-7) =>
        a is { } x && b is { } y && Math.Abs(x - y) <= relative * Math.Max(Math.Abs(x), Math.Abs(y)) + 1e-300;

    [Property]
    public bool P_value_lies_in_the_unit_interval(TwoArmExperiment experiment)
    {
        var comparison = ExperimentAnalyzer.Analyze(experiment.Request()).Comparisons[0];
        return comparison.PValue is >= 0.0 and <= 1.0;
    }

    [Property]
    public bool Intervals_contain_the_estimates(TwoArmExperiment experiment)
    {
        var comparison = ExperimentAnalyzer.Analyze(experiment.Request()).Comparisons[0];
        return comparison.CiAbsolute!.Value.Contains(comparison.AbsoluteLift!.Value)
            && comparison.CiRelative!.Value.Contains(comparison.RelativeLift!.Value);
    }

    [Property]
    public bool Swapping_control_and_treatment_mirrors_the_lift_and_keeps_the_p_value(TwoArmExperiment experiment)
    {
        var forward = ExperimentAnalyzer.Analyze(experiment.Request()).Comparisons[0];
        var backward = ExperimentAnalyzer.Analyze(experiment.Request(swapped: true)).Comparisons[0];
        return Close(forward.AbsoluteLift, -backward.AbsoluteLift, 1e-9)
            && Close(forward.PValue, backward.PValue, 1e-6)
            && Close(forward.CiAbsolute!.Value.Lower, -backward.CiAbsolute!.Value.Upper, 1e-9)
            && Close(forward.CiAbsolute!.Value.Upper, -backward.CiAbsolute!.Value.Lower, 1e-9)
            && forward.Significant == backward.Significant;
    }

    [Property]
    public bool Scaling_the_metric_leaves_p_value_and_relative_lift_unchanged(TwoArmExperiment experiment, bool negative)
    {
        var scale = negative ? -37.5 : 0.001;
        var original = ExperimentAnalyzer.Analyze(experiment.Request()).Comparisons[0];
        var scaled = ExperimentAnalyzer.Analyze(experiment.Request(scale)).Comparisons[0];
        return Close(original.PValue, scaled.PValue, 1e-6)
            && Close(original.RelativeLift, scaled.RelativeLift, 1e-9)
            && Close(original.AbsoluteLift * scale, scaled.AbsoluteLift, 1e-9);
    }

    [Property]
    public bool Significance_agrees_with_the_interval_excluding_zero_for_the_t_test(TwoArmExperiment experiment)
    {
        var comparison = ExperimentAnalyzer.Analyze(experiment.Request() with { Test = TestKind.Ttest }).Comparisons[0];
        var interval = comparison.CiAbsolute!.Value;
        var excludesZero = interval.Lower > 0 || interval.Upper < 0;

        // Duality holds exactly in theory; allow the boundary where p is within rounding of alpha.
        var alpha = 1 - experiment.ConfidenceLevel;
        return excludesZero == comparison.Significant || Math.Abs(comparison.PValue!.Value - alpha) < 1e-9;
    }
}
