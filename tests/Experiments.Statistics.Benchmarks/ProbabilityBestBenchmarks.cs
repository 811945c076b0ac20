using BenchmarkDotNet.Attributes;
using Experiments.Statistics.Bandits;

namespace Experiments.Statistics.Benchmarks;

/// <summary>Deterministic probability of being best by quadrature over Beta posteriors.</summary>
[MemoryDiagnoser]
public class ProbabilityBestBenchmarks
{
    private BetaPosterior[] posteriors = [];

    [Params(2, 8)]
    public int Arms { get; set; }

    [GlobalSetup]
    public void Setup() => posteriors = [.. Enumerable.Range(0, Arms).Select(i => BetaPosterior.FromConversions(40_000 + 37 * i, 4_000 + 60 * i))];

    [Benchmark]
    public double[] ProbabilityBest() => ThompsonSampling.ProbabilityBest(posteriors);
}
