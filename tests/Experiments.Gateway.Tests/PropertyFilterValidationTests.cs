using System.Net;
using System.Net.Http.Json;
using System.Text;
using Experiments.TestInfrastructure.Http;

namespace Experiments.Gateway.Tests;

/// <summary>
/// The property filters of the analyze body and of saved segments take the targeting operators; an unknown operator,
/// missing values, a non-number for a numeric operator or a non-version for a version operator are 400 problems
/// naming the field (the analysis service is away: a valid body answers 503).
/// </summary>
public sealed class PropertyFilterValidationTests(GatewayFactory factory) : IClassFixture<GatewayFactory>
{
    [Theory]
    [InlineData("""{"filters":[{"property":"plan","operator":"like","values":["pro"]}]}""", "filters[0].operator")]
    [InlineData("""{"filters":[{"property":"plan","operator":"regex match","values":["^p"]}]}""", "filters[0].operator")]
    [InlineData("""{"filters":[{"property":"plan","operator":"IS","values":["pro"]}]}""", "filters[0].operator")]
    [InlineData("""{"filters":[{"property":"plan","operator":"contains","values":[]}]}""", "filters[0].values")]
    [InlineData("""{"filters":[{"property":"plan","operator":"starts with"}]}""", "filters[0].values")]
    [InlineData("""{"filters":[{"property":"plan","operator":"set contains","values":[""]}]}""", "filters[0].values")]
    [InlineData("""{"filters":[{"property":"age","operator":"less","values":["ten"]}]}""", "filters[0].values")]
    [InlineData("""{"filters":[{"property":"plan","values":["pro"]},{"property":"age","operator":"greater or equal","values":["18","NaN"]}]}""", "filters[1].values")]
    [InlineData("""{"filters":[{"property":"app","operator":"version less","values":["2"]}]}""", "filters[0].values")]
    [InlineData("""{"filters":[{"property":"app","operator":"version greater","values":["v1.2.3"]}]}""", "filters[0].values")]
    public async Task Bad_filters_in_analyze_are_400_problems_naming_the_field(string json, string field)
    {
        using var admin = factory.Admin();
        var id = await GatewayTestData.CreateExperimentAsync(admin, "Filter body", variants: ["control", "treatment"]);
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        var problem = await admin.PostAsync($"/v1/admin/experiments/{id}/analyze", content).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.True(problem["errors"]?[field] is not null, $"expected an error on '{field}': {problem.ToJsonString()}");
    }

    [Theory]
    [InlineData("is", "pro")]
    [InlineData("is not", "pro")]
    [InlineData("is_not", "pro")]
    [InlineData("contains", "pro")]
    [InlineData("does not contain", "pro")]
    [InlineData("starts with", "pro")]
    [InlineData("less", "18")]
    [InlineData("less or equal", "-1.5")]
    [InlineData("greater", "1e3")]
    [InlineData("greater or equal", "0")]
    [InlineData("version less", "1.2")]
    [InlineData("version less or equal", "1.2.3")]
    [InlineData("version greater", "1.2.3-beta.1")]
    [InlineData("version greater or equal", "(none)")]
    [InlineData("set is", "a")]
    [InlineData("set is not", "a")]
    [InlineData("set contains", "a")]
    [InlineData("set does not contain", "a")]
    [InlineData("set contains any", "a")]
    [InlineData("set does not contain any", "a")]
    public async Task Every_targeting_operator_passes_validation(string op, string value)
    {
        using var admin = factory.Admin();
        var id = await GatewayTestData.CreateExperimentAsync(admin, "Filter ok", variants: ["control", "treatment"]);
        await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/analyze",
            new { filters = new[] { new { property = "p", @operator = op, values = new[] { value } } } }).ExpectAsync(HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task Saved_segments_take_the_same_operators_and_name_the_field()
    {
        using var admin = factory.Admin();
        var created = await admin.PostAsJsonAsync("/v1/admin/analysis-segments", new
        {
            key = $"ops-{Guid.NewGuid():N}"[..16], name = "Operators",
            filters = new[] { new { property = "app", @operator = "version greater or equal", values = new[] { "2.0" } } },
        }).ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("version greater or equal", (string?)created["filters"]![0]!["operator"]);

        var problem = await admin.PostAsJsonAsync("/v1/admin/analysis-segments", new
        {
            name = "Bad", filters = new[] { new { property = "age", @operator = "greater", values = new[] { "old" } } },
        }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]?["filters[0].values"]);
    }
}
