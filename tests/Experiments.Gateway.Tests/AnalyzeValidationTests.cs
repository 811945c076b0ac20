using System.Net;
using System.Net.Http.Json;
using System.Text;
using Experiments.TestInfrastructure.Http;

namespace Experiments.Gateway.Tests;

/// <summary>
/// The analyze body's settings and filter card are checked by the gateway before the analysis service is called
/// (it is away in these tests: a valid body answers 503, a bad one 400 naming the field).
/// </summary>
public sealed class AnalyzeValidationTests(GatewayFactory factory) : IClassFixture<GatewayFactory>
{
    [Theory]
    [InlineData("""{"cuped":"on"}""", "cuped")]
    [InlineData("""{"cuped_window_days":0}""", "cuped_window_days")]
    [InlineData("""{"cuped_window_days":400}""", "cuped_window_days")]
    [InlineData("""{"correction":"sidak"}""", "correction")]
    [InlineData("""{"from":"yesterday"}""", "from")]
    [InlineData("""{"to":"2026-13-01T00:00:00Z"}""", "to")]
    [InlineData("""{"from":"2026-02-01T00:00:00Z","to":"2026-01-01T00:00:00Z"}""", "to")]
    [InlineData("""{"segment":"martians"}""", "segment")]
    [InlineData("""{"segment":""}""", "segment")]
    [InlineData("""{"filters":{"plan":"pro"}}""", "filters")]
    [InlineData("""{"filters":[{"values":["pro"]}]}""", "filters[0].property")]
    [InlineData("""{"filters":[{"property":"plan","operator":"like","values":["pro"]}]}""", "filters[0].operator")]
    [InlineData("""{"filters":[{"property":"plan","values":[]}]}""", "filters[0].values")]
    [InlineData("""{"filters":[{"property":"plan"}]}""", "filters[0].values")]
    [InlineData("""{"group_by":""}""", "group_by")]
    [InlineData("""{"group_by":7}""", "group_by")]
    [InlineData("""{"confidence_level":"high"}""", "confidence_level")]
    [InlineData("""{"test":"bayesian"}""", "test")]
    [InlineData("""{"control":"nobody"}""", "control")]
    [InlineData("""[1,2]""", "body")]
    [InlineData("""{"cuped":""", "cuped")]
    public async Task Invalid_analyze_bodies_are_400_problems_naming_the_field(string json, string field)
    {
        using var admin = factory.Admin();
        var id = await GatewayTestData.CreateExperimentAsync(admin, "Analyze body", variants: ["control", "treatment"]);
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        var problem = await admin.PostAsync($"/v1/admin/experiments/{id}/analyze", content).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.True(problem["errors"]?[field] is not null, $"expected an error on '{field}': {problem.ToJsonString()}");
    }

    [Fact]
    public async Task A_valid_full_body_with_a_built_in_or_saved_segment_passes_validation()
    {
        using var admin = factory.Admin();
        var id = await GatewayTestData.CreateExperimentAsync(admin, "Analyze ok", variants: ["control", "treatment"]);
        var segment = $"saved-{Guid.NewGuid():N}"[..16];
        await admin.PostAsJsonAsync("/v1/admin/analysis-segments",
            new { key = segment, name = "Saved", filters = new[] { new { property = "plan", values = new[] { "pro" } } } }).ExpectAsync(HttpStatusCode.Created);

        foreach (var name in new[] { "exclude_testers_and_variant_jumpers", "new_users", segment })
        {
            // Passing validation reaches the (absent) analysis service: 503, not 400.
            await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/analyze", new
            {
                confidence_level = 0.9, test = "ttest", control = "treatment", cuped = true, cuped_window_days = 7, correction = "benjamini_hochberg",
                from = DateTimeOffset.UtcNow.AddDays(-7), to = DateTimeOffset.UtcNow, segment = name,
                filters = new[] { new { property = "country", @operator = "is_not", values = new[] { "DE", "FR" } } }, group_by = "plan",
            }).ExpectAsync(HttpStatusCode.ServiceUnavailable);
        }
    }

    [Fact]
    public async Task Another_projects_saved_segment_is_unknown()
    {
        await GatewayTestData.SeedProjectAsync(factory.ConnectionString, "delta", "gw-admin-d");
        using var delta = factory.Admin("gw-admin-d");
        var segment = $"delta-{Guid.NewGuid():N}"[..16];
        await delta.PostAsJsonAsync("/v1/admin/analysis-segments",
            new { key = segment, name = "Delta", filters = new[] { new { property = "plan", values = new[] { "pro" } } } }).ExpectAsync(HttpStatusCode.Created);

        using var admin = factory.Admin();
        var id = await GatewayTestData.CreateExperimentAsync(admin, "Foreign segment", variants: ["control", "treatment"]);
        var problem = await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/analyze", new { segment }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]?["segment"]);
    }
}
