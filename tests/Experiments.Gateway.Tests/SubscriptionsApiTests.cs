using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Experiments.TestInfrastructure.Http;
using Npgsql;

namespace Experiments.Gateway.Tests;

public sealed class SubscriptionsApiTests(GatewayFactory factory) : IClassFixture<GatewayFactory>
{
    private const string Secret = "whsec-gateway-test-0123456789";

    [Fact]
    public async Task A_webhook_subscription_is_created_listed_and_deleted_and_its_secret_never_comes_back()
    {
        using var admin = factory.Admin();
        var created = await admin.PostAsJsonAsync("/v1/admin/subscriptions", new
        {
            project_id = GatewayFactory.Project, name = "Ops hook", kind = "webhook", url = "https://hooks.example.com/experiments",
            secret = Secret, event_types = new[] { "experiment.started", "experiment.srm_detected" },
        }).ExpectAsync(HttpStatusCode.Created);
        var id = (string)created["id"]!;
        Assert.Equal("https://hooks.example.com/experiments", (string?)created["url"]);
        Assert.True((bool)created["has_secret"]!);
        Assert.True((bool)created["enabled"]!);
        Assert.Equal(["experiment.started", "experiment.srm_detected"], created["event_types"]!.AsArray().Select(t => (string)t!));

        var listed = await admin.GetAsync("/v1/admin/subscriptions").ExpectAsync(HttpStatusCode.OK);
        Assert.Contains(listed.AsArray(), s => (string)s!["id"]! == id);
        var raw = (await (await admin.GetAsync($"/v1/admin/subscriptions/{id}")).Content.ReadAsStringAsync())
            + await (await admin.GetAsync("/v1/admin/subscriptions")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(Secret, raw);
        Assert.DoesNotContain(Secret, await AuditTextAsync(id));

        await admin.DeleteAsync($"/v1/admin/subscriptions/{id}").ExpectAsync(HttpStatusCode.NoContent);
        await admin.GetAsync($"/v1/admin/subscriptions/{id}").ExpectAsync(HttpStatusCode.NotFound);
        await admin.DeleteAsync($"/v1/admin/subscriptions/{id}").ExpectAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_slack_url_is_shown_masked_and_a_subscription_can_target_one_experiment()
    {
        using var admin = factory.Admin();
        var experiment = await admin.PostAsJsonAsync("/v1/admin/experiments", new { name = $"Sub target {Guid.NewGuid():N}", project_id = GatewayFactory.Project })
            .ExpectAsync(HttpStatusCode.Created);
        var experimentId = (string)experiment["id"]!;
        var created = await admin.PostAsJsonAsync("/v1/admin/subscriptions", new
        {
            kind = "slack", url = "https://hooks.slack.com/services/T000/B000/XXXXSECRETTOKEN", experiment_id = experimentId,
            event_types = new[] { "experiment.stat_sig_reached" },
        }).ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("https://hooks.slack.com/services/T000/…", (string?)created["url"]);
        Assert.False((bool)created["has_secret"]!);
        Assert.Equal(experimentId, (string?)created["experiment_id"]);
        Assert.DoesNotContain("XXXXSECRETTOKEN", await AuditTextAsync((string)created["id"]!));

        var forExperiment = await admin.GetAsync($"/v1/admin/subscriptions?experiment_id={experimentId}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal((string)created["id"]!, (string?)Assert.Single(forExperiment.AsArray())!["id"]);
    }

    [Theory]
    [InlineData("""{"url":"https://x.example.com","event_types":["experiment.started"]}""", "kind")]
    [InlineData("""{"kind":"email","url":"https://x.example.com","event_types":["experiment.started"]}""", "kind")]
    [InlineData("""{"kind":"slack","event_types":["experiment.started"]}""", "url")]
    [InlineData("""{"kind":"slack","url":"ftp://x.example.com/hook","event_types":["experiment.started"]}""", "url")]
    [InlineData("""{"kind":"slack","url":"not a url","event_types":["experiment.started"]}""", "url")]
    [InlineData("""{"kind":"slack","url":"https://user:pw@x.example.com/hook","event_types":["experiment.started"]}""", "url")]
    [InlineData("""{"kind":"webhook","url":"https://x.example.com","event_types":["experiment.started"]}""", "secret")]
    [InlineData("""{"kind":"webhook","url":"https://x.example.com","secret":"short","event_types":["experiment.started"]}""", "secret")]
    [InlineData("""{"kind":"slack","url":"https://x.example.com","secret":"0123456789abcdef0","event_types":["experiment.started"]}""", "secret")]
    [InlineData("""{"kind":"slack","url":"https://x.example.com","event_types":[]}""", "event_types")]
    [InlineData("""{"kind":"slack","url":"https://x.example.com"}""", "event_types")]
    [InlineData("""{"kind":"slack","url":"https://x.example.com","event_types":["experiment.exploded"]}""", "event_types")]
    [InlineData("""{"kind":"slack","url":"https://x.example.com","event_types":["experiment.started"],"experiment_id":"00000000-0000-0000-0000-000000000001"}""", "experiment_id")]
    [InlineData("""{"kind":"slack","url":"https://x.example.com","event_types":["experiment.started"],"experiment_id":"nope"}""", "experiment_id")]
    public async Task Invalid_subscriptions_are_400_problems_naming_the_field(string json, string field)
    {
        using var admin = factory.Admin();
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        var problem = await admin.PostAsync("/v1/admin/subscriptions", content).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.True(problem["errors"]?[field] is not null, $"The problem names '{field}': {problem.ToJsonString()}");
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("http://localhost/hook")]
    [InlineData("http://10.0.0.5/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://[::1]/hook")]
    public async Task Private_addresses_are_refused_unless_the_deployment_allows_them(string url)
    {
        await using var strict = factory.WithWebHostBuilder(b => b.UseSetting("Notifications:AllowPrivateNetworks", "false"));
        using var admin = strict.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new("Bearer", GatewayFactory.AdminKey);
        var problem = await admin.PostAsJsonAsync("/v1/admin/subscriptions", new { kind = "slack", url, event_types = new[] { "experiment.started" } })
            .ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Contains("private, loopback or link-local", (string?)problem["errors"]!["url"]![0]);

        // Development (the factory's environment) allows them.
        using var dev = factory.Admin();
        await dev.PostAsJsonAsync("/v1/admin/subscriptions", new { kind = "slack", url, event_types = new[] { "experiment.started" } })
            .ExpectAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Another_projects_key_and_missing_keys_are_refused()
    {
        using var admin = factory.Admin();
        var problem = await admin.PostAsJsonAsync("/v1/admin/subscriptions", new
        {
            project_id = "someone-else", kind = "slack", url = "https://x.example.com/hook", event_types = new[] { "experiment.started" },
        }).ExpectAsync(HttpStatusCode.Forbidden);
        Assert.NotNull(problem["errors"]?["project_id"]);
        using var anonymous = factory.CreateClient();
        await anonymous.GetAsync("/v1/admin/subscriptions").ExpectAsync(HttpStatusCode.Unauthorized);
        await admin.GetAsync($"/v1/admin/subscriptions/{Guid.NewGuid()}/deliveries").ExpectAsync(HttpStatusCode.NotFound);
        await admin.PostAsync($"/v1/admin/subscriptions/{Guid.NewGuid()}/test", null).ExpectAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Delivery_routes_validate_their_query_and_answer_503_when_notifications_is_away()
    {
        await using var away = factory.WithWebHostBuilder(b => b.UseSetting("services:notifications:grpc:0", "http://127.0.0.1:9"));
        using var admin = away.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new("Bearer", GatewayFactory.AdminKey);
        var bad = await admin.GetAsync("/v1/admin/subscriptions/deliveries?status=lost&limit=0").ExpectAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(bad["errors"]?["status"]);
        Assert.NotNull(bad["errors"]?["limit"]);
        await admin.GetAsync("/v1/admin/subscriptions/deliveries?status=failed").ExpectAsync(HttpStatusCode.ServiceUnavailable);
        await admin.PostAsync($"/v1/admin/subscriptions/deliveries/{Guid.NewGuid()}/replay", null).ExpectAsync(HttpStatusCode.ServiceUnavailable);
    }

    private async Task<string> AuditTextAsync(string subscriptionId)
    {
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT coalesce(string_agg(coalesce(before::text, '') || coalesce(after::text, ''), ' '), '') FROM gateway.audit_log WHERE entity_type = 'subscription' AND entity_id = @id", connection);
        command.Parameters.AddWithValue("id", subscriptionId);
        var text = (string)(await command.ExecuteScalarAsync())!;
        Assert.NotEmpty(text);
        return text;
    }
}
