using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Experiments.TestInfrastructure.Http;
using Npgsql;

namespace Experiments.Gateway.Tests;

/// <summary>Metrics, settings with the schedule, and saved analysis segments: validation naming fields, 409s, audit.</summary>
public sealed class AnalysisConfigApiTests(GatewayFactory factory) : IClassFixture<GatewayFactory>
{
    [Fact]
    public async Task Metrics_are_added_listed_and_removed_with_one_primary_per_experiment_and_audited()
    {
        using var admin = factory.Admin();
        var id = await GatewayTestData.CreateExperimentAsync(admin, "Metrics");

        var primary = await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/metrics",
            new { name = "Purchase", role = "primary", event_type = "purchase", conversion_window_hours = 24, goal = 0.05 }).ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("purchase", (string?)primary["key"]);
        Assert.Equal("unique_conversions", (string?)primary["kind"]);
        Assert.Equal("increase", (string?)primary["direction"]);
        await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/metrics",
            new { name = "Revenue", role = "secondary", kind = "property_sum", event_type = "purchase", property = "price" }).ExpectAsync(HttpStatusCode.Created);
        await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/metrics",
            new { name = "Errors", role = "guardrail", kind = "event_totals", event_type = "error", direction = "decrease" }).ExpectAsync(HttpStatusCode.Created);

        var second = await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/metrics",
            new { name = "Signup", role = "primary", event_type = "signup" }).ExpectAsync(HttpStatusCode.Conflict);
        Assert.NotNull(second["errors"]?["role"]);
        var duplicate = await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/metrics",
            new { name = "Purchase", event_type = "purchase" }).ExpectAsync(HttpStatusCode.Conflict);
        Assert.NotNull(duplicate["errors"]?["key"]);

        var listed = await admin.GetAsync($"/v1/admin/experiments/{id}/metrics").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(["errors", "purchase", "revenue"], listed.AsArray().Select(m => (string)m!["key"]!).Order(StringComparer.Ordinal));

        await admin.DeleteAsync($"/v1/admin/experiments/{id}/metrics/purchase").ExpectAsync(HttpStatusCode.NoContent);
        await admin.DeleteAsync($"/v1/admin/experiments/{id}/metrics/purchase").ExpectAsync(HttpStatusCode.NotFound);
        // With the primary gone another metric may take the role.
        await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/metrics",
            new { name = "Signup", role = "primary", event_type = "signup" }).ExpectAsync(HttpStatusCode.Created);

        var audit = await GatewayTestData.AuditAsync(factory.ConnectionString, id);
        Assert.Equal(4, audit.Count(a => a.Action == "add_metric" && a.Actor == "admin-key:alpha"));
        Assert.Single(audit, a => a.Action == "remove_metric" && a.Before is not null && a.After is null);
    }

    [Theory]
    [InlineData("""{"event_type":"e"}""", "name")]
    [InlineData("""{"name":"n"}""", "event_type")]
    [InlineData("""{"name":"n","event_type":"e","key":"Not A Slug"}""", "key")]
    [InlineData("""{"name":"n","event_type":"e","role":"main"}""", "role")]
    [InlineData("""{"name":"n","event_type":"e","kind":"median"}""", "kind")]
    [InlineData("""{"name":"n","event_type":"e","kind":"property_sum"}""", "property")]
    [InlineData("""{"name":"n","event_type":"e","property":"price"}""", "property")]
    [InlineData("""{"name":"n","event_type":"e","direction":"up"}""", "direction")]
    [InlineData("""{"name":"n","event_type":"e","goal":1000}""", "goal")]
    [InlineData("""{"name":"n","event_type":"e","conversion_window_hours":0}""", "conversion_window_hours")]
    [InlineData("""{"name":"n","event_type":"e","kind":"event_totals","conversion_window_hours":5}""", "conversion_window_hours")]
    [InlineData("""{"name":"n","event_type":"e","goal":"big"}""", "goal")]
    [InlineData("""{"name":"n","event_type":"e","conversion_window_hours":1.5}""", "conversion_window_hours")]
    public async Task Invalid_metrics_are_400_problems_naming_the_field(string json, string field)
    {
        using var admin = factory.Admin();
        var id = await GatewayTestData.CreateExperimentAsync(admin, "Bad metric");
        var problem = await admin.PostAsync($"/v1/admin/experiments/{id}/metrics", Json(json)).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]?[field]);
    }

    [Fact]
    public async Task Metrics_of_an_unknown_or_foreign_experiment_are_404()
    {
        using var admin = factory.Admin();
        var missing = Guid.NewGuid();
        await admin.GetAsync($"/v1/admin/experiments/{missing}/metrics").ExpectAsync(HttpStatusCode.NotFound);
        await admin.PostAsJsonAsync($"/v1/admin/experiments/{missing}/metrics", new { name = "n", event_type = "e" }).ExpectAsync(HttpStatusCode.NotFound);
        await admin.DeleteAsync($"/v1/admin/experiments/{missing}/metrics/n").ExpectAsync(HttpStatusCode.NotFound);
        await admin.GetAsync($"/v1/admin/experiments/{missing}/settings").ExpectAsync(HttpStatusCode.NotFound);
        await admin.PutAsJsonAsync($"/v1/admin/experiments/{missing}/settings", new { cuped = true }).ExpectAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Settings_default_then_keep_fields_left_out_and_are_audited()
    {
        using var admin = factory.Admin();
        var id = await GatewayTestData.CreateExperimentAsync(admin, "Settings", variants: ["control", "treatment"]);

        var defaults = await admin.GetAsync($"/v1/admin/experiments/{id}/settings").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(0.95, (double)defaults["confidence_level"]!);
        Assert.Equal("sequential", (string?)defaults["test"]);
        Assert.False((bool)defaults["cuped"]!);

        var start = DateTimeOffset.UtcNow.AddDays(2);
        await admin.PutAsJsonAsync($"/v1/admin/experiments/{id}/settings", new
        {
            confidence_level = 0.9, test = "ttest", control = "treatment", cuped = true, cuped_window_days = 7, correction = "holm",
            scheduled_start_at = start, scheduled_end_at = start.AddDays(14), planned_end_at = start.AddDays(10),
        }).ExpectAsync(HttpStatusCode.OK);
        var kept = await admin.PutAsJsonAsync($"/v1/admin/experiments/{id}/settings", new { confidence_level = 0.99 }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(0.99, (double)kept["confidence_level"]!);
        Assert.Equal("ttest", (string?)kept["test"]);
        Assert.Equal("treatment", (string?)kept["control"]);
        Assert.True((bool)kept["cuped"]!);
        Assert.Equal(7, (int)kept["cuped_window_days"]!);
        Assert.Equal("holm", (string?)kept["correction"]);
        Assert.Equal(start.AddDays(14).ToUnixTimeSeconds(), ((DateTimeOffset)kept["scheduled_end_at"]!).ToUnixTimeSeconds());
        var read = await admin.GetAsync($"/v1/admin/experiments/{id}/settings").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(kept.ToJsonString(), read.ToJsonString());

        var audit = await GatewayTestData.AuditAsync(factory.ConnectionString, id);
        Assert.Equal(2, audit.Count(a => a.Action == "update_settings"));
    }

    [Theory]
    [InlineData("""{"confidence_level":1.2}""", "confidence_level")]
    [InlineData("""{"test":"bayesian"}""", "test")]
    [InlineData("""{"cuped_window_days":0}""", "cuped_window_days")]
    [InlineData("""{"correction":"sidak"}""", "correction")]
    [InlineData("""{"control":"nope"}""", "control")]
    [InlineData("""{"cuped":"yes"}""", "cuped")]
    [InlineData("""{"scheduled_start_at":"tomorrow"}""", "scheduled_start_at")]
    [InlineData("""{"scheduled_end_at":"2001-01-01T00:00:00Z"}""", "scheduled_end_at")]
    [InlineData("""{"scheduled_start_at":"2100-01-02T00:00:00Z","scheduled_end_at":"2100-01-01T00:00:00Z"}""", "scheduled_end_at")]
    public async Task Invalid_settings_are_400_problems_naming_the_field(string json, string field)
    {
        using var admin = factory.Admin();
        var id = await GatewayTestData.CreateExperimentAsync(admin, "Bad settings", variants: ["control", "treatment"]);
        var problem = await admin.PutAsync($"/v1/admin/experiments/{id}/settings", Json(json)).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]?[field]);
    }

    [Fact]
    public async Task Scheduling_the_start_of_a_running_or_the_end_of_a_stopped_experiment_is_409()
    {
        using var admin = factory.Admin();
        var id = await GatewayTestData.CreateExperimentAsync(admin, "Schedule conflicts", variants: ["control", "treatment"]);
        await admin.PostAsync($"/v1/admin/experiments/{id}/launch", null).ExpectAsync(HttpStatusCode.OK);

        var start = await admin.PutAsJsonAsync($"/v1/admin/experiments/{id}/settings",
            new { scheduled_start_at = DateTimeOffset.UtcNow.AddDays(1) }).ExpectAsync(HttpStatusCode.Conflict);
        Assert.NotNull(start["errors"]?["scheduled_start_at"]);
        // A running experiment may still be scheduled to end.
        await admin.PutAsJsonAsync($"/v1/admin/experiments/{id}/settings",
            new { scheduled_end_at = DateTimeOffset.UtcNow.AddDays(1) }).ExpectAsync(HttpStatusCode.OK);

        await admin.PostAsync($"/v1/admin/experiments/{id}/stop", null).ExpectAsync(HttpStatusCode.OK);
        var end = await admin.PutAsJsonAsync($"/v1/admin/experiments/{id}/settings",
            new { scheduled_end_at = DateTimeOffset.UtcNow.AddDays(2) }).ExpectAsync(HttpStatusCode.Conflict);
        Assert.NotNull(end["errors"]?["scheduled_end_at"]);
        // Analysis settings of a stopped experiment stay editable.
        await admin.PutAsJsonAsync($"/v1/admin/experiments/{id}/settings", new { cuped = true }).ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Saved_segments_are_created_listed_and_deleted_per_project_and_audited()
    {
        using var admin = factory.Admin();
        var key = $"paid-de-{Guid.NewGuid():N}"[..20];
        var created = await admin.PostAsJsonAsync("/v1/admin/analysis-segments", new
        {
            key, name = "Paid users in Germany",
            filters = new object[] { new { property = "plan", @operator = "is", values = new[] { "pro", "team" } }, new { property = "country", @operator = "is_not", values = new[] { "DE" } } },
        }).ExpectAsync(HttpStatusCode.Created);
        Assert.Equal(key, (string?)created["key"]);
        Assert.Equal("is_not", (string?)created["filters"]![1]!["operator"]);

        var duplicate = await admin.PostAsJsonAsync("/v1/admin/analysis-segments",
            new { key, name = "Again", filters = new[] { new { property = "plan", values = new[] { "pro" } } } }).ExpectAsync(HttpStatusCode.Conflict);
        Assert.NotNull(duplicate["errors"]?["key"]);

        var listed = await admin.GetAsync("/v1/admin/analysis-segments").ExpectAsync(HttpStatusCode.OK);
        Assert.Contains(listed.AsArray(), s => (string?)s!["key"] == key);

        await admin.DeleteAsync($"/v1/admin/analysis-segments/{key}").ExpectAsync(HttpStatusCode.NoContent);
        await admin.DeleteAsync($"/v1/admin/analysis-segments/{key}").ExpectAsync(HttpStatusCode.NotFound);
        listed = await admin.GetAsync("/v1/admin/analysis-segments").ExpectAsync(HttpStatusCode.OK);
        Assert.DoesNotContain(listed.AsArray(), s => (string?)s!["key"] == key);

        var audit = await GatewayTestData.AuditAsync(factory.ConnectionString, key);
        Assert.Equal(["create", "delete"], audit.Select(a => a.Action));
    }

    [Theory]
    [InlineData("""{"filters":[{"property":"plan","values":["pro"]}]}""", "name")]
    [InlineData("""{"name":"n"}""", "filters")]
    [InlineData("""{"name":"n","filters":[]}""", "filters")]
    [InlineData("""{"name":"n","key":"new_users","filters":[{"property":"plan","values":["pro"]}]}""", "key")]
    [InlineData("""{"name":"n","key":"Bad Key","filters":[{"property":"plan","values":["pro"]}]}""", "key")]
    [InlineData("""{"name":"n","filters":[{"values":["pro"]}]}""", "filters[0].property")]
    [InlineData("""{"name":"n","filters":[{"property":"plan","operator":"like","values":["pro"]}]}""", "filters[0].operator")]
    [InlineData("""{"name":"n","filters":[{"property":"plan","values":[]}]}""", "filters[0].values")]
    [InlineData("""{"name":"n","filters":[{"property":"plan","values":["pro"]},{"property":"x","values":[""]}]}""", "filters[1].values")]
    [InlineData("""{"name":"n","filters":[null]}""", "filters[0].property")]
    [InlineData("""{"name":"n","filters":"plan=pro"}""", "filters")]
    public async Task Invalid_segments_are_400_problems_naming_the_field(string json, string field)
    {
        using var admin = factory.Admin();
        var problem = await admin.PostAsync("/v1/admin/analysis-segments", Json(json)).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]?[field]);
    }

    [Fact]
    public async Task Another_projects_segments_are_not_visible()
    {
        await GatewayTestData.SeedProjectAsync(factory.ConnectionString, "gamma", "gw-admin-g");
        using var alpha = factory.Admin();
        using var gamma = factory.Admin("gw-admin-g");
        var key = $"alpha-only-{Guid.NewGuid():N}"[..20];
        await alpha.PostAsJsonAsync("/v1/admin/analysis-segments",
            new { key, name = "Alpha only", filters = new[] { new { property = "plan", values = new[] { "pro" } } } }).ExpectAsync(HttpStatusCode.Created);
        var listed = await gamma.GetAsync("/v1/admin/analysis-segments").ExpectAsync(HttpStatusCode.OK);
        Assert.DoesNotContain(listed.AsArray(), s => (string?)s!["key"] == key);
        await gamma.DeleteAsync($"/v1/admin/analysis-segments/{key}").ExpectAsync(HttpStatusCode.NotFound);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
