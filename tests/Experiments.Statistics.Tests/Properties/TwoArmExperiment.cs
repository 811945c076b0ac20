using Experiments.Statistics.Contracts;
using FsCheck;
using FsCheck.Fluent;

namespace Experiments.Statistics.Tests.Properties;

/// <summary>A random, valid two-variant continuous experiment for property tests.</summary>
public sealed record TwoArmExperiment(
    TestKind Test,
    double ConfidenceLevel,
    long ControlUsers,
    double ControlMean,
    double ControlDeviation,
    long TreatmentUsers,
    double TreatmentMean,
    double TreatmentDeviation)
{
    public AnalysisRequest Request(double scale = 1.0, bool swapped = false)
    {
        var control = Variant("control", ControlUsers, ControlMean * scale, ControlDeviation * Math.Abs(scale));
        var treatment = Variant("treatment", TreatmentUsers, TreatmentMean * scale, TreatmentDeviation * Math.Abs(scale));
        return new AnalysisRequest
        {
            MetricType = MetricType.Continuous,
            Test = Test,
            ConfidenceLevel = ConfidenceLevel,
            Control = swapped ? "treatment" : "control",
            Variants = swapped ? [treatment, control] : [control, treatment],
        };
    }

    private static VariantStatistics Variant(string key, long users, double mean, double deviation) => new()
    {
        Key = key,
        ExpectedWeight = 0.5,
        Users = users,
        Sum = users * mean,
        SumSquares = (users - 1) * deviation * deviation + users * mean * mean,
    };

    public override string ToString() =>
        $"{Test} @{ConfidenceLevel}: control n={ControlUsers} m={ControlMean} sd={ControlDeviation}; treatment n={TreatmentUsers} m={TreatmentMean} sd={TreatmentDeviation}";
}

public static class ExperimentArbitraries
{
    public static Arbitrary<TwoArmExperiment> TwoArmExperiments()
    {
        var users = Gen.Choose(100, 200_000).Select(n => (long)n);
        var mean = Gen.Choose(-5000, 5000).Select(m => m / 100.0).Where(m => Math.Abs(m) > 0.05);
        // Standard deviations from 0.1 to 100 against means up to ±50: a coefficient of variation below
        // ~1e-3 would make Σy² − (Σy)²/n cancel most digits, an ill-conditioned input rather than a bug.
        var deviation = Gen.Choose(-100, 200).Select(e => Math.Pow(10, e / 100.0));
        var test = Gen.Elements(TestKind.Sequential, TestKind.Ttest);
        var confidence = Gen.Elements(0.8, 0.9, 0.95, 0.99);

        var generator =
            from t in test
            from c in confidence
            from nc in users
            from mc in mean
            from sc in deviation
            from nt in users
            from shift in Gen.Choose(-300, 300)
            from st in deviation
            select new TwoArmExperiment(t, c, nc, mc, sc, nt, mc + shift / 100.0 * sc / 10, st);
        return generator.ToArbitrary();
    }
}
