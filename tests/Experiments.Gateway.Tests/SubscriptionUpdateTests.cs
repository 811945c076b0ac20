using System.Net;
using System.Net.Http.Json;
using System.Text;
using Experiments.TestInfrastructure.Http;

namespace Experiments.Gateway.Tests;

/// <summary>PATCH /v1/admin/subscriptions/{id}: fields left out kept, the secret rotated but never shown, audited.</summary>
public sealed class SubscriptionUpdateTests(GatewayFactory factory) : IClassFixture<GatewayFactory>
{
    private const string Secret = "whsec-first-0123456789";
    private const string Rotated = "whsec-rotated-0123456789";

    [Fact]
    public async Task A_subscription_is_patched_keeping_fields_left_out_and_its_secret_never_comes_back()
    {
        using var admin = factory.Admin();
        var experimentId = await GatewayTestData.CreateExperimentAsync(admin, "Patched sub");
        var id = await CreateAsync(admin);

        var renamed = await admin.PatchAsJsonAsync($"/v1/admin/subscriptions/{id}", new { name = "Renamed", enabled = false }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("Renamed", (string?)renamed["name"]);
        Assert.False((bool)renamed["enabled"]!);
        Assert.Equal("https://hooks.example.com/a", (string?)renamed["url"]);

        var patched = await admin.PatchAsJsonAsync($"/v1/admin/subscriptions/{id}", new
        {
            url = "https://hooks.example.com/b", secret = Rotated, event_types = new[] { "experiment.ended" }, experiment_id = experimentId,
        }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("https://hooks.example.com/b", (string?)patched["url"]);
        Assert.Equal(["experiment.ended"], patched["event_types"]!.AsArray().Select(t => (string)t!));
        Assert.Equal(experimentId, (string?)patched["experiment_id"]);
        Assert.Equal("Renamed", (string?)patched["name"]);
        Assert.True((bool)patched["has_secret"]!);
        Assert.DoesNotContain(Rotated, patched.ToJsonString());

        var audit = await GatewayTestData.AuditAsync(factory.ConnectionString, id);
        Assert.Equal(["create", "update", "update_rotate_secret"], audit.Select(a => a.Action));
        Assert.DoesNotContain(audit, a => (a.Before + a.After).Contains(Rotated, StringComparison.Ordinal) || (a.Before + a.After).Contains(Secret, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"url":"ftp://x.example.com/hook"}""", "url")]
    [InlineData("""{"url":""}""", "url")]
    [InlineData("""{"secret":"short"}""", "secret")]
    [InlineData("""{"event_types":[]}""", "event_types")]
    [InlineData("""{"event_types":["experiment.exploded"]}""", "event_types")]
    [InlineData("""{"experiment_id":"00000000-0000-0000-0000-000000000001"}""", "experiment_id")]
    [InlineData("""{"experiment_id":"nope"}""", "experiment_id")]
    [InlineData("""{"enabled":"yes"}""", "enabled")]
    public async Task Invalid_patches_are_400_problems_naming_the_field(string json, string field)
    {
        using var admin = factory.Admin();
        var id = await CreateAsync(admin);
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        var problem = await admin.PatchAsync($"/v1/admin/subscriptions/{id}", content).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.True(problem["errors"]?[field] is not null, problem.ToJsonString());
    }

    [Fact]
    public async Task A_private_address_is_refused_on_patch_as_on_create_unless_allowed()
    {
        await using var strict = factory.WithWebHostBuilder(b => b.UseSetting("Notifications:AllowPrivateNetworks", "false"));
        using var admin = strict.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", GatewayFactory.AdminKey);
        var id = await CreateAsync(admin);
        var problem = await admin.PatchAsJsonAsync($"/v1/admin/subscriptions/{id}", new { url = "http://127.0.0.1:8080/hook" }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]?["url"]);
    }

    [Fact]
    public async Task Patching_an_unknown_subscription_is_404()
    {
        using var admin = factory.Admin();
        await admin.PatchAsJsonAsync($"/v1/admin/subscriptions/{Guid.NewGuid()}", new { name = "x" }).ExpectAsync(HttpStatusCode.NotFound);
    }

    private static async Task<string> CreateAsync(HttpClient admin)
    {
        var created = await admin.PostAsJsonAsync("/v1/admin/subscriptions", new
        {
            name = "Hook", kind = "webhook", url = "https://hooks.example.com/a", secret = Secret, event_types = new[] { "experiment.started" },
        }).ExpectAsync(HttpStatusCode.Created);
        return (string)created["id"]!;
    }
}
