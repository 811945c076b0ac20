using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Experiments.TestInfrastructure.Http;
using Experiments.Postgres.Configuration;
using Npgsql;

namespace Experiments.Gateway.Tests;

public sealed class ExperimentsApiTests(GatewayFactory factory) : IClassFixture<GatewayFactory>
{
    [Fact]
    public async Task Create_defaults_the_key_to_a_slug_of_the_name_and_starts_as_draft()
    {
        using var admin = factory.Admin();
        var created = await admin.PostAsJsonAsync("/v1/admin/experiments",
            new { name = "Pricing Page: Annual First!", hypothesis = "h", bandit_enabled = true, project_id = GatewayFactory.Project }).ExpectAsync(HttpStatusCode.Created);

        Assert.Equal("pricing-page-annual-first", (string?)created["key"]);
        Assert.Equal("draft", (string?)created["status"]);
        Assert.True((bool)created["bandit_enabled"]!);
        Assert.Empty(created["variants"]!.AsArray());
    }

    [Fact]
    public async Task A_duplicate_key_in_the_project_is_a_conflict_naming_the_key()
    {
        using var admin = factory.Admin();
        var body = new { name = "Duplicate me", key = "dup-key", project_id = GatewayFactory.Project };
        await admin.PostAsJsonAsync("/v1/admin/experiments", body).ExpectAsync(HttpStatusCode.Created);
        var conflict = await admin.PostAsJsonAsync("/v1/admin/experiments", body).ExpectAsync(HttpStatusCode.Conflict);
        Assert.NotNull(conflict["errors"]?["key"]);
    }

    [Theory]
    [InlineData("""{"hypothesis":"h","project_id":"alpha"}""", "name")]
    [InlineData("""{"name":"n"}""", "project_id")]
    [InlineData("""{"name":"n","project_id":"alpha","key":"Not A Slug"}""", "key")]
    [InlineData("""{"name":"n","project_id":"alpha","primary_metric":{}}""", "primary_metric.event_type")]
    [InlineData("""{"name":"n","project_id":"alpha","bandit_enabled":"yes"}""", "bandit_enabled")]
    public async Task Invalid_create_requests_are_400_problems_naming_the_field(string json, string field)
    {
        using var admin = factory.Admin();
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        var problem = await admin.PostAsync("/v1/admin/experiments", content).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]?[field]);
    }

    [Fact]
    public async Task Launch_needs_two_variants_and_stop_needs_a_running_experiment()
    {
        using var admin = factory.Admin();
        var id = await CreateAsync(admin, "Lifecycle");
        await admin.PostAsync($"/v1/admin/experiments/{id}/stop", null).ExpectAsync(HttpStatusCode.Conflict);
        await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/variants", new { name = "control", traffic_weight = 1 }).ExpectAsync(HttpStatusCode.Created);
        await admin.PostAsync($"/v1/admin/experiments/{id}/launch", null).ExpectAsync(HttpStatusCode.Conflict);
        await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/variants", new { name = "treatment", traffic_weight = 3 }).ExpectAsync(HttpStatusCode.Created);
        await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/variants", new { name = "control", traffic_weight = 1 }).ExpectAsync(HttpStatusCode.Conflict);

        var running = await admin.PostAsync($"/v1/admin/experiments/{id}/launch", null).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("running", (string?)running["status"]);
        Assert.NotNull(running["started_at"]);
        await admin.PostAsync($"/v1/admin/experiments/{id}/launch", null).ExpectAsync(HttpStatusCode.Conflict);
        await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/variants", new { name = "late", traffic_weight = 1 }).ExpectAsync(HttpStatusCode.Conflict);

        var stopped = await admin.PostAsync($"/v1/admin/experiments/{id}/stop", null).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("stopped", (string?)stopped["status"]);
        Assert.Equal([1.0, 3.0], stopped["variants"]!.AsArray().Select(v => (double)v!["traffic_weight"]!));
    }

    [Fact]
    public async Task Every_change_is_audited_with_before_and_after()
    {
        using var admin = factory.Admin();
        var id = await CreateAsync(admin, "Audited");
        await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/variants", new { name = "a", traffic_weight = 1 }).ExpectAsync(HttpStatusCode.Created);

        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT action, actor, before IS NULL, after->>'Name' FROM gateway.audit_log WHERE entity_id = @id ORDER BY id", connection);
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string Action, string Actor, bool NoBefore, string Name)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetBoolean(2), reader.GetString(3)));
        }
        Assert.Equal([("create", "admin-key:alpha", true, "Audited"), ("add_variant", "admin-key:alpha", false, "Audited")], rows);
    }

    [Fact]
    public async Task Keys_see_only_their_own_project_and_sdk_keys_are_refused()
    {
        await using (var connection = new NpgsqlConnection(factory.ConnectionString))
        {
            await connection.OpenAsync();
            await using var seed = new NpgsqlCommand("""
                INSERT INTO gateway.projects (id, name) VALUES ('beta', 'beta') ON CONFLICT DO NOTHING;
                INSERT INTO gateway.api_keys (key_hash, project_id, kind) VALUES (@hash, 'beta', 'admin') ON CONFLICT DO NOTHING;
                """, connection);
            seed.Parameters.AddWithValue("hash", ApiKeyHasher.Hash("gw-admin-b"));
            await seed.ExecuteNonQueryAsync();
        }

        using var alpha = factory.Admin();
        using var beta = factory.Admin("gw-admin-b");
        var id = await CreateAsync(alpha, "Alpha only");

        await beta.GetAsync($"/v1/admin/experiments/{id}").ExpectAsync(HttpStatusCode.NotFound);
        await beta.PostAsync($"/v1/admin/experiments/{id}/launch", null).ExpectAsync(HttpStatusCode.NotFound);
        await beta.GetAsync($"/v1/admin/experiments?project_id={GatewayFactory.Project}").ExpectAsync(HttpStatusCode.Forbidden);
        var listed = await beta.GetAsync("/v1/admin/experiments?project_id=beta").ExpectAsync(HttpStatusCode.OK);
        Assert.DoesNotContain(listed.AsArray(), e => (string?)e!["id"] == id);

        using var sdk = factory.Admin(GatewayFactory.SdkKey);
        await sdk.GetAsync($"/v1/admin/experiments?project_id={GatewayFactory.Project}").ExpectAsync(HttpStatusCode.Unauthorized);
        using var wrong = factory.Admin("not-a-key");
        await wrong.GetAsync($"/v1/admin/experiments?project_id={GatewayFactory.Project}").ExpectAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Analyze_answers_503_when_the_analysis_service_is_away_and_400_for_bad_settings()
    {
        using var admin = factory.Admin();
        var id = await CreateAsync(admin, "Analyze me");
        await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/analyze", new { confidence_level = 7 }).ExpectAsync(HttpStatusCode.BadRequest);
        await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/analyze", new { control = "nope" }).ExpectAsync(HttpStatusCode.BadRequest);
        var away = await admin.PostAsync($"/v1/admin/experiments/{id}/analyze", null).ExpectAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Contains("Unavailable", (string?)away["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_checks_postgres_and_the_bus_and_openapi_is_served()
    {
        using var client = factory.CreateClient();
        var health = await client.GetAsync("/health").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("Healthy", (string?)health["checks"]?["postgres"]?["status"]);
        await client.GetAsync("/alive").ExpectAsync(HttpStatusCode.OK);
        var openApi = await client.GetAsync("/openapi/v1.json").ExpectAsync(HttpStatusCode.OK);
        Assert.NotNull(openApi["paths"]?["/v1/admin/experiments"]);
    }

    private static async Task<string> CreateAsync(HttpClient admin, string name)
    {
        var created = await admin.PostAsJsonAsync("/v1/admin/experiments",
            new { name, key = $"{Validation.Slug.From(name)}-{Guid.NewGuid():N}"[..40], project_id = GatewayFactory.Project }).ExpectAsync(HttpStatusCode.Created);
        return (string)created["id"]!;
    }
}
