using BenchmarkDotNet.Attributes;
using Experiments.Statistics.Contracts;

namespace Experiments.Statistics.Benchmarks;

/// <summary>One full analysis (validation, SRM, every comparison) of a continuous metric.</summary>
[MemoryDiagnoser]
public class AnalysisBenchmarks
{
    private AnalysisRequest request = null!;

    [Params(2, 5)]
    public int Variants { get; set; }

    [Params(false, true)]
    public bool Cuped { get; set; }

    [Params(TestKind.Ttest, TestKind.Sequential)]
    public TestKind Test { get; set; }

    [GlobalSetup]
    public void Setup() => request = SampleRequests.Continuous(Variants, Cuped, Test);

    [Benchmark]
    public AnalysisResult Analyze() => ExperimentAnalyzer.Analyze(request);
}

/// <summary>A binary metric adds Thompson-sampling probability-best and traffic weights to every analysis.</summary>
[MemoryDiagnoser]
public class BinaryAnalysisBenchmarks
{
    private AnalysisRequest request = null!;

    [Params(2, 5)]
    public int Variants { get; set; }

    [Params(TestKind.Ttest, TestKind.Sequential)]
    public TestKind Test { get; set; }

    [GlobalSetup]
    public void Setup() => request = SampleRequests.Binary(Variants, Test);

    [Benchmark]
    public AnalysisResult Analyze() => ExperimentAnalyzer.Analyze(request);
}
