using BenchmarkDotNet.Attributes;
using Experiments.Assignment.Configuration;
using Experiments.Postgres.Configuration;
using Experiments.Sdk.Evaluation;

namespace Experiments.Assignment.Benchmarks;

/// <summary>
/// In-process evaluation of one flag for a user with 10 properties: a targeting segment of 3 rules (string
/// equality, version comparison, number comparison) that the user passes, then bucketing into 3 variants.
/// </summary>
[MemoryDiagnoser]
public class EvaluationBenchmarks
{
    private FlagSet _flags = FlagSet.Empty;
    private int _index;
    private EvaluationUser _user = new("u");
    private EvaluationUser _setUser = new("u");
    private FlagSet _setFlags = FlagSet.Empty;
    private int _setIndex;

    [GlobalSetup]
    public void Setup()
    {
        var experiment = new ExperimentConfig(Guid.NewGuid(), "bench", "checkout-flow", "Checkout flow", ExperimentStatuses.Running, false, "user_id",
            "checkout-flow", null, null, null,
            [new(Guid.NewGuid(), "control", "control", 1, null), new(Guid.NewGuid(), "one-page", "one-page", 1, null), new(Guid.NewGuid(), "express", "express", 1, null)])
        {
            Segments =
            [
                new TargetingSegment("eu mobile buyers",
                [
                    new("user.country", "is", ["DE", "FR", "NL", "ES"]),
                    new("app_version", "version greater or equal", ["4.2.0"]),
                    new("orders", "greater", ["2"]),
                ]),
            ],
        };
        (_flags, _index) = Compile(experiment);
        var properties = new Dictionary<string, string>
        {
            ["app_version"] = "4.10.3", ["orders"] = "7", ["plan"] = "pro", ["email"] = "jane@example.com", ["age"] = "34",
            ["city"] = "Berlin", ["referrer"] = "newsletter", ["theme"] = "dark", ["locale"] = "de-DE", ["cohort"] = "2024-03",
        };
        _user = new EvaluationUser("user-123456", "device-abcdef", properties, null, new Dictionary<string, string> { ["country"] = "DE" });

        var withSet = experiment with
        {
            Segments = [experiment.Segments[0] with { Rules = [.. experiment.Segments[0].Rules.Take(2), new TargetingRule("tags", "set contains any", ["beta"])] }],
        };
        (_setFlags, _setIndex) = Compile(withSet);
        _setUser = _user with { Properties = new Dictionary<string, string>(properties) { ["tags"] = """["beta","vip"]""" } };
    }

    [Benchmark(Baseline = true, Description = "one flag, 10 properties, 3 rules (is, version, number)")]
    public string? EvaluateOneFlag() => _flags.Evaluate(_user, _index)?.Key;

    [Benchmark(Description = "same with a set rule on a JSON-array property")]
    public string? EvaluateOneFlagWithSetRule() => _setFlags.Evaluate(_setUser, _setIndex)?.Key;

    [Benchmark(Description = "murmur3 of salt/user id")]
    public uint Hash() => Murmur3.HashSalted("checkout-flow", "user-123456");

    private static (FlagSet, int) Compile(ExperimentConfig experiment)
    {
        var flags = new FlagSet(FlagBuilder.Build([experiment], [], new Dictionary<Guid, IReadOnlyDictionary<string, double>>()).Select(b => b.Flag));
        flags.TryGetIndex(experiment.Key, out var index);
        return (flags, index);
    }
}
