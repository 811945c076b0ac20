using Experiments.Statistics.Contracts;
using Experiments.Statistics.Validation;
using static Experiments.Statistics.Tests.Analysis.Requests;

namespace Experiments.Statistics.Tests.Analysis;

public sealed class ValidationTests
{
    private static AnalysisRequest Valid() =>
        Of(MetricType.Continuous, TestKind.Ttest, Continuous("control", 1000, 10, 2), Continuous("treatment", 1000, 10.5, 2));

    private static ValidationError SingleError(AnalysisRequest request)
    {
        var errors = AnalysisRequestValidator.Validate(request);
        return Assert.Single(errors);
    }

    private static AnalysisRequest WithVariant(AnalysisRequest request, int index, Func<VariantStatistics, VariantStatistics> change) =>
        request with { Variants = [.. request.Variants!.Select((v, i) => i == index ? change(v) : v)] };

    [Fact]
    public void A_valid_request_has_no_errors() => Assert.Empty(AnalysisRequestValidator.Validate(Valid()));

    [Fact]
    public void Sum_of_squares_below_what_the_sum_implies_is_reported_on_that_variant()
    {
        var error = SingleError(WithVariant(Valid(), 1, v => v with { SumSquares = 10 }));
        Assert.Equal("variants[1].sum_squares", error.Field);
        Assert.StartsWith("impossible for sum and users", error.Message);
    }

    [Fact]
    public void Negative_users_are_reported()
    {
        var error = SingleError(WithVariant(Valid(), 0, v => v with { Users = -1 }));
        Assert.Equal("variants[0].users", error.Field);
    }

    [Fact]
    public void Missing_fields_are_named()
    {
        var errors = AnalysisRequestValidator.Validate(WithVariant(Valid() with { MetricType = null }, 1, v => v with { Sum = null }));
        Assert.Contains(errors, e => e.Field == "metric_type");
        Assert.Contains(errors, e => e.Field == "variants[1].sum");
    }

    [Fact]
    public void Unknown_control_is_reported()
    {
        var error = SingleError(Valid() with { Control = "nobody" });
        Assert.Equal("control", error.Field);
        Assert.Contains("nobody", error.Message);
    }

    [Fact]
    public void Weights_that_sum_to_zero_are_reported()
    {
        var request = Valid() with { Variants = [.. Valid().Variants!.Select(v => v with { ExpectedWeight = 0 })] };
        var error = SingleError(request);
        Assert.Equal("variants[].expected_weight", error.Field);
        Assert.Contains("positive", error.Message);
    }

    [Fact]
    public void Binary_sums_must_be_whole_conversions_with_equal_sum_of_squares()
    {
        var request = Of(MetricType.Binary, TestKind.Ttest, Binary("control", 1000, 100), Binary("treatment", 1000, 120));
        Assert.Equal("variants[1].sum_squares", SingleError(WithVariant(request, 1, v => v with { SumSquares = 119 })).Field);
        Assert.Equal("variants[0].sum", SingleError(WithVariant(request, 0, v => v with { Sum = 1001, SumSquares = 1001 })).Field);
        Assert.Equal("variants[0].sum", SingleError(WithVariant(request, 0, v => v with { Sum = 10.5, SumSquares = 10.5 })).Field);
    }

    [Fact]
    public void A_covariate_on_some_variants_only_is_reported_on_the_others()
    {
        var covariate = new CovariateStatistics { Sum = 1000, SumSquares = 5000, SumProduct = 11000 };
        var error = SingleError(WithVariant(Valid(), 0, v => v with { Covariate = covariate }));
        Assert.Equal("variants[1].covariate", error.Field);
    }

    [Fact]
    public void A_covariate_product_implying_correlation_beyond_one_is_reported()
    {
        var request = Valid() with
        {
            Variants = [.. Valid().Variants!.Select(v => v with { Covariate = new CovariateStatistics { Sum = 10_000, SumSquares = 104_000, SumProduct = 1e9 } })],
        };
        var errors = AnalysisRequestValidator.Validate(request);
        Assert.Contains(errors, e => e.Field == "variants[0].covariate.sum_product");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(1.5)]
    public void Confidence_level_outside_the_open_unit_interval_is_reported(double level) =>
        Assert.Equal("confidence_level", SingleError(Valid() with { ConfidenceLevel = level }).Field);

    [Fact]
    public void Duplicate_keys_and_non_positive_tau_are_reported()
    {
        var errors = AnalysisRequestValidator.Validate(WithVariant(Valid(), 1, v => v with { Key = "control" }) with { Tau = 0 });
        Assert.Contains(errors, e => e.Field == "variants[1].key");
        Assert.Contains(errors, e => e.Field == "tau");
    }

    [Fact]
    public void Analyze_throws_with_every_error()
    {
        var exception = Assert.Throws<InvalidStatisticsRequestException>(() =>
            ExperimentAnalyzer.Analyze(Valid() with { Control = "x", ConfidenceLevel = 2 }));
        Assert.Equal(2, exception.Errors.Count);
        Assert.Contains("control: 'x' is not the key of any variant", exception.Message);
    }

    [Fact]
    public void TryAnalyze_returns_errors_instead_of_throwing()
    {
        Assert.False(ExperimentAnalyzer.TryAnalyze(Valid() with { Variants = null }, out var result, out var errors));
        Assert.Null(result);
        Assert.Equal("variants", Assert.Single(errors).Field);
    }
}
