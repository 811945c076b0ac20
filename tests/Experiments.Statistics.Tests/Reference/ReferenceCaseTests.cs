using System.Text.Json;
using Experiments.Statistics.Contracts;
using Experiments.Statistics.Planning;
using Experiments.Statistics.Serialization;

namespace Experiments.Statistics.Tests.Reference;

/// <summary>Every case of shared/reference/stats-cases.json (computed with scipy) must match to its stated tolerances.</summary>
public sealed class ReferenceCaseTests
{
    private static readonly ToleranceComparer Comparer = ToleranceComparer.FromReference();

    public static TheoryData<string> AnalyzeCases => ReferenceCases.AnalyzeNames;

    public static TheoryData<string> SampleSizeCases => ReferenceCases.SampleSizeNames;

    [Fact]
    public void Reference_file_holds_the_expected_number_of_cases()
    {
        Assert.Equal(42, ReferenceCases.Analyze.Count());
        Assert.Equal(10, ReferenceCases.SampleSize.Count());
    }

    [Theory]
    [MemberData(nameof(AnalyzeCases))]
    public void Analysis_matches_reference(string name)
    {
        var reference = ReferenceCases.Find("analyze", name);
        var request = reference.GetProperty("request").Deserialize<AnalysisRequest>(StatisticsJson.Options)!;

        var result = ExperimentAnalyzer.Analyze(request);

        var actual = JsonSerializer.SerializeToElement(result, StatisticsJson.Options);
        var mismatches = Comparer.Compare(reference.GetProperty("expected"), actual);
        Assert.True(mismatches.Count == 0, $"{name}:\n{string.Join('\n', mismatches)}");
    }

    [Theory]
    [MemberData(nameof(SampleSizeCases))]
    public void Sample_size_matches_reference(string name)
    {
        var reference = ReferenceCases.Find("sample_size", name);
        var request = reference.GetProperty("request").Deserialize<SampleSizeRequest>(StatisticsJson.Options)!;

        var result = SampleSizeCalculator.Calculate(request);

        var actual = JsonSerializer.SerializeToElement(result, StatisticsJson.Options);
        var mismatches = Comparer.Compare(reference.GetProperty("expected"), actual);
        Assert.True(mismatches.Count == 0, $"{name}:\n{string.Join('\n', mismatches)}");
    }
}
