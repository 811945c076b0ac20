using Experiments.Statistics.Contracts;

namespace Experiments.Statistics.Hypothesis;

/// <summary>What a test says about one comparison: p-value, intervals on both scales, and test-specific figures.</summary>
public readonly record struct TestOutcome(
    double PValue,
    Interval CiAbsolute,
    Interval? CiRelative,
    double? MsprtLogLr = null,
    double? DegreesOfFreedom = null);
