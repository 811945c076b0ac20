using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Experiments.Contracts.Messages;
using Experiments.Postgres.Configuration;
using Experiments.TestInfrastructure.Http;
using Experiments.TestInfrastructure.Messaging;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Experiments.Gateway.Tests;

/// <summary>
/// The targeting routes over the real PostgreSQL and RabbitMQ: validation naming fields, 409s while running,
/// project isolation, audit rows, and one ExperimentChanged (with the experiment's key) per change, consumed
/// from a queue this class binds on the real broker.
/// </summary>
public sealed class TargetingApiTests(GatewayFactory factory) : IClassFixture<GatewayFactory>, IAsyncLifetime
{
    private readonly ConcurrentQueue<ExperimentChanged> _changes = new();
    private HostReceiveEndpointHandle? _endpoint;

    public async Task InitializeAsync()
    {
        var bus = factory.Services.GetRequiredService<IBus>();
        _endpoint = await bus.ConnectTestEndpointAsync("gateway-targeting-changes", endpoint =>
        {
            endpoint.Handler<ExperimentChanged>(context =>
            {
                _changes.Enqueue(context.Message);
                return Task.CompletedTask;
            });
        });
    }

    public async Task DisposeAsync()
    {
        if (_endpoint is not null)
        {
            await _endpoint.StopAsync();
        }
    }

    [Fact]
    public async Task Targeting_round_trips_and_each_change_publishes_ExperimentChanged_with_the_key()
    {
        using var admin = factory.Admin();
        var (id, key) = await CreateAsync(admin, "Targeted", ("control", 1), ("treatment", 1));

        var initial = await admin.GetAsync($"/v1/admin/experiments/{id}/targeting").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(key, (string?)initial["experiment_key"]);
        Assert.Equal("user_id", (string?)initial["bucketing_unit"]);

        var updated = await admin.PutAsJsonAsync($"/v1/admin/experiments/{id}/targeting", new
        {
            bucketing_unit = "company_id",
            bucketing_salt = "salt-1",
            traffic_allocation = 40,
            sticky_bucketing = true,
            segments = new object[]
            {
                new { name = "EU", rules = new object[]
                {
                    new { property = "country", @operator = "is", values = new[] { "DE", "FR" } },
                    new { property = "app_version", @operator = "version greater or equal", values = new[] { "4.2.0" } },
                }, variant = "treatment" },
            },
        }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("company_id", (string?)updated["bucketing_unit"]);
        Assert.Equal(40, (int)updated["traffic_allocation"]!);
        Assert.True((bool)updated["sticky_bucketing"]!);

        var read = await admin.GetAsync($"/v1/admin/experiments/{id}/targeting").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("salt-1", (string?)read["bucketing_salt"]);
        var segment = read["segments"]!.AsArray().Single()!;
        Assert.Equal("treatment", (string?)segment["variant"]);
        Assert.Equal(["DE", "FR"], segment["rules"]![0]!["values"]!.AsArray().Select(v => (string?)v));

        var change = await ChangeAsync(Guid.Parse(id), "targeting_updated");
        Assert.Equal(key, change.ExperimentKey);
        Assert.Equal(GatewayFactory.Project, change.ProjectId);

        await admin.PutAsJsonAsync($"/v1/admin/experiments/{id}/testers",
            new { testers = new[] { new { variant = "control", user_ids = new[] { "qa-1" }, device_ids = Array.Empty<string>() } } }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(key, (await ChangeAsync(Guid.Parse(id), "testers_updated")).ExperimentKey);

        await admin.PatchAsJsonAsync($"/v1/admin/experiments/{id}/variants/treatment", new { name = "Treatment B" }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(key, (await ChangeAsync(Guid.Parse(id), "variant_updated")).ExperimentKey);
    }

    [Theory]
    [InlineData("""{"segments":[{"name":"s","rules":[{"property":"country","operator":"is","values":["DE"]},{"property":"orders","operator":"greater","values":["many"]}]}]}""", "segments[0].rules[1].values")]
    [InlineData("""{"segments":[{"name":"s","rules":[{"property":"v","operator":"version less","values":["one.two"]}]}]}""", "segments[0].rules[0].values")]
    [InlineData("""{"segments":[{"name":"s","rules":[{"property":"country","operator":"sounds like","values":["DE"]}]}]}""", "segments[0].rules[0].operator")]
    [InlineData("""{"segments":[{"name":"s","rules":[{"property":"","operator":"is","values":["DE"]}]}]}""", "segments[0].rules[0].property")]
    [InlineData("""{"segments":[{"name":"s","rules":[{"property":"p","operator":"regex match","values":["("]}]}]}""", "segments[0].rules[0].values")]
    [InlineData("""{"segments":[{"name":"s","rules":[]}]}""", "segments[0].rules")]
    [InlineData("""{"segments":[{"rules":[{"property":"p","operator":"is","values":["x"]}]}]}""", "segments[0].name")]
    [InlineData("""{"segments":[{"name":"s","traffic_allocation":101,"rules":[{"property":"p","operator":"is","values":["x"]}]}]}""", "segments[0].traffic_allocation")]
    [InlineData("""{"segments":[{"name":"s","variant":"nope","rules":[{"property":"p","operator":"is","values":["x"]}]}]}""", "variant")]
    [InlineData("""{"bucketing_unit":"Company ID"}""", "bucketing_unit")]
    [InlineData("""{"bucketing_salt":"a/b"}""", "bucketing_salt")]
    [InlineData("""{"traffic_allocation":-1}""", "traffic_allocation")]
    [InlineData("""{"traffic_allocation":"all"}""", "traffic_allocation")]
    public async Task Invalid_targeting_is_a_400_naming_the_field(string json, string field)
    {
        using var admin = factory.Admin();
        var (id, _) = await CreateAsync(admin, "Invalid targeting", ("control", 1), ("treatment", 1));
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        var problem = await admin.PutAsync($"/v1/admin/experiments/{id}/targeting", content).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.True(problem["errors"]?[field] is not null, $"Expected an error for '{field}': {problem.ToJsonString()}");
    }

    [Theory]
    [InlineData("""{}""", "testers")]
    [InlineData("""{"testers":[{"user_ids":["u"]}]}""", "testers[0].variant")]
    [InlineData("""{"testers":[{"variant":"control"}]}""", "testers[0]")]
    [InlineData("""{"testers":[{"variant":"control","user_ids":["u"]},{"variant":"treatment","user_ids":["u"]}]}""", "testers[1].user_ids")]
    [InlineData("""{"testers":[{"variant":"ghost","user_ids":["u"]}]}""", "variant")]
    public async Task Invalid_testers_are_a_400_naming_the_field(string json, string field)
    {
        using var admin = factory.Admin();
        var (id, _) = await CreateAsync(admin, "Invalid testers", ("control", 1), ("treatment", 1));
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        var problem = await admin.PutAsync($"/v1/admin/experiments/{id}/testers", content).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.True(problem["errors"]?[field] is not null, $"Expected an error for '{field}': {problem.ToJsonString()}");
    }

    [Fact]
    public async Task A_running_experiment_keeps_its_unit_salt_and_variants_but_takes_new_segments()
    {
        using var admin = factory.Admin();
        var (id, _) = await CreateAsync(admin, "Running targeting", ("control", 1), ("treatment", 1));
        await admin.PostAsync($"/v1/admin/experiments/{id}/launch", null).ExpectAsync(HttpStatusCode.OK);

        var unit = await admin.PutAsJsonAsync($"/v1/admin/experiments/{id}/targeting", new { bucketing_unit = "device_id" }).ExpectAsync(HttpStatusCode.Conflict);
        Assert.Contains("Stop it first", (string?)unit["detail"], StringComparison.Ordinal);
        await admin.PutAsJsonAsync($"/v1/admin/experiments/{id}/targeting", new { bucketing_salt = "other" }).ExpectAsync(HttpStatusCode.Conflict);
        await admin.PatchAsJsonAsync($"/v1/admin/experiments/{id}/variants/control", new { traffic_weight = 3 }).ExpectAsync(HttpStatusCode.Conflict);

        // Same unit restated, new allocation and segments: allowed while running.
        var current = await admin.GetAsync($"/v1/admin/experiments/{id}/targeting").ExpectAsync(HttpStatusCode.OK);
        await admin.PutAsJsonAsync($"/v1/admin/experiments/{id}/targeting", new
        {
            bucketing_unit = (string?)current["bucketing_unit"],
            traffic_allocation = 50,
            segments = new[] { new { name = "beta", rules = new[] { new { property = "plan", @operator = "is", values = new[] { "beta" } } } } },
        }).ExpectAsync(HttpStatusCode.OK);

        await admin.PostAsync($"/v1/admin/experiments/{id}/stop", null).ExpectAsync(HttpStatusCode.OK);
        await admin.PutAsJsonAsync($"/v1/admin/experiments/{id}/targeting", new { bucketing_unit = "device_id" }).ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Variant_patch_sets_name_weight_and_json_payload_and_null_clears_it()
    {
        using var admin = factory.Admin();
        var (id, _) = await CreateAsync(admin, "Payloads", ("control", 1), ("treatment", 1));

        var patched = await admin.PatchAsJsonAsync($"/v1/admin/experiments/{id}/variants/treatment",
            new { name = "Annual first", traffic_weight = 3.0, payload = new { layout = "annual", discount = 0.2, tiers = new[] { 1, 2 } } }).ExpectAsync(HttpStatusCode.OK);
        var treatment = patched["variants"]!.AsArray().Single(v => (string?)v!["key"] == "treatment")!;
        Assert.Equal("Annual first", (string?)treatment["name"]);
        Assert.Equal(3.0, (double)treatment["traffic_weight"]!);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"layout":"annual","discount":0.2,"tiers":[1,2]}"""), treatment["payload"]));

        var read = await admin.GetAsync($"/v1/admin/experiments/{id}/targeting").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("annual", (string?)read["variants"]!.AsArray().Single(v => (string?)v!["key"] == "treatment")!["payload"]!["layout"]);

        using var clear = new StringContent("""{"payload":null}""", Encoding.UTF8, "application/json");
        var cleared = await admin.PatchAsync($"/v1/admin/experiments/{id}/variants/treatment", clear).ExpectAsync(HttpStatusCode.OK);
        Assert.Null(cleared["variants"]!.AsArray().Single(v => (string?)v!["key"] == "treatment")!["payload"]);

        await admin.PatchAsJsonAsync($"/v1/admin/experiments/{id}/variants/ghost", new { name = "x" }).ExpectAsync(HttpStatusCode.BadRequest);
        foreach (var (json, field) in new[] { ("""{"traffic_weight":0}""", "traffic_weight"), ("""{"name":" "}""", "name"), ("""{"traffic_weight":"heavy"}""", "traffic_weight") })
        {
            using var content = new StringContent(json, Encoding.UTF8, "application/json");
            var problem = await admin.PatchAsync($"/v1/admin/experiments/{id}/variants/treatment", content).ExpectAsync(HttpStatusCode.BadRequest);
            Assert.True(problem["errors"]?[field] is not null, $"Expected an error for '{field}': {problem.ToJsonString()}");
        }
    }

    [Fact]
    public async Task Exclusion_groups_are_created_listed_joined_and_left_with_a_change_event_each()
    {
        using var admin = factory.Admin();
        var (first, _) = await CreateAsync(admin, "Grouped one", ("control", 1), ("treatment", 1));
        var (second, secondKey) = await CreateAsync(admin, "Grouped two", ("control", 1), ("treatment", 1));
        var groupKey = $"checkout-{Guid.NewGuid():N}"[..20];

        var group = await admin.PostAsJsonAsync("/v1/admin/exclusion-groups",
            new { name = "Checkout", key = groupKey, kind = "mutual_exclusion", project_id = GatewayFactory.Project }).ExpectAsync(HttpStatusCode.Created);
        var groupId = (string)group["id"]!;
        await admin.PostAsJsonAsync("/v1/admin/exclusion-groups",
            new { name = "Checkout", key = groupKey, kind = "mutual_exclusion", project_id = GatewayFactory.Project }).ExpectAsync(HttpStatusCode.Conflict);

        await admin.PutAsync($"/v1/admin/exclusion-groups/{groupId}/experiments/{first}", null).ExpectAsync(HttpStatusCode.OK);
        var joined = await admin.PutAsJsonAsync($"/v1/admin/exclusion-groups/{groupId}/experiments/{second}", new { weight = 2.0 }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(2, joined["members"]!.AsArray().Count);
        var change = await ChangeAsync(Guid.Parse(groupId), "exclusion_group_changed");
        Assert.Equal(groupKey, change.ExperimentKey);

        var listed = await admin.GetAsync("/v1/admin/exclusion-groups").ExpectAsync(HttpStatusCode.OK);
        Assert.Contains(listed.AsArray(), g => (string?)g!["key"] == groupKey && g["members"]!.AsArray().Count == 2);
        var targeting = await admin.GetAsync($"/v1/admin/experiments/{second}/targeting").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal([groupKey], targeting["exclusion_groups"]!.AsArray().Select(g => (string?)g));

        var left = await admin.DeleteAsync($"/v1/admin/exclusion-groups/{groupId}/experiments/{second}").ExpectAsync(HttpStatusCode.OK);
        Assert.DoesNotContain(left["members"]!.AsArray(), m => m!.ToJsonString().Contains(secondKey, StringComparison.Ordinal));

        // A running member locks the group's membership.
        await admin.PostAsync($"/v1/admin/experiments/{first}/launch", null).ExpectAsync(HttpStatusCode.OK);
        await admin.PutAsync($"/v1/admin/exclusion-groups/{groupId}/experiments/{second}", null).ExpectAsync(HttpStatusCode.Conflict);

        await admin.PutAsJsonAsync($"/v1/admin/exclusion-groups/{groupId}/experiments/{second}", new { weight = -1 }).ExpectAsync(HttpStatusCode.BadRequest);
        await admin.PutAsync($"/v1/admin/exclusion-groups/{Guid.NewGuid()}/experiments/{second}", null).ExpectAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{"key":"g1","kind":"mutual_exclusion","project_id":"alpha"}""", "name")]
    [InlineData("""{"name":"g","kind":"sometimes","project_id":"alpha"}""", "kind")]
    [InlineData("""{"name":"g","kind":"holdout","project_id":"alpha"}""", "holdout_percent")]
    [InlineData("""{"name":"g","kind":"holdout","holdout_percent":100,"project_id":"alpha"}""", "holdout_percent")]
    [InlineData("""{"name":"g","key":"Not A Key","kind":"mutual_exclusion","project_id":"alpha"}""", "key")]
    [InlineData("""{"name":"g","kind":"mutual_exclusion","bucketing_unit":"Org!","project_id":"alpha"}""", "bucketing_unit")]
    public async Task Invalid_exclusion_groups_are_a_400_naming_the_field(string json, string field)
    {
        using var admin = factory.Admin();
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        var problem = await admin.PostAsync("/v1/admin/exclusion-groups", content).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.True(problem["errors"]?[field] is not null, $"Expected an error for '{field}': {problem.ToJsonString()}");
    }

    [Fact]
    public async Task Another_projects_key_sees_none_of_it_and_changes_are_audited()
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
        var (id, _) = await CreateAsync(alpha, "Alpha targeting", ("control", 1), ("treatment", 1));
        var group = await alpha.PostAsJsonAsync("/v1/admin/exclusion-groups",
            new { name = "Alpha group", kind = "holdout", holdout_percent = 10, project_id = GatewayFactory.Project }).ExpectAsync(HttpStatusCode.Created);
        var groupId = (string)group["id"]!;

        await beta.GetAsync($"/v1/admin/experiments/{id}/targeting").ExpectAsync(HttpStatusCode.NotFound);
        await beta.PutAsJsonAsync($"/v1/admin/experiments/{id}/targeting", new { traffic_allocation = 5 }).ExpectAsync(HttpStatusCode.NotFound);
        await beta.PutAsJsonAsync($"/v1/admin/experiments/{id}/testers", new { testers = Array.Empty<object>() }).ExpectAsync(HttpStatusCode.NotFound);
        await beta.PatchAsJsonAsync($"/v1/admin/experiments/{id}/variants/control", new { name = "x" }).ExpectAsync(HttpStatusCode.NotFound);
        await beta.PutAsync($"/v1/admin/exclusion-groups/{groupId}/experiments/{id}", null).ExpectAsync(HttpStatusCode.NotFound);
        await beta.PostAsJsonAsync("/v1/admin/exclusion-groups",
            new { name = "Sneaky", kind = "mutual_exclusion", project_id = GatewayFactory.Project }).ExpectAsync(HttpStatusCode.Forbidden);
        var betaGroups = await beta.GetAsync("/v1/admin/exclusion-groups").ExpectAsync(HttpStatusCode.OK);
        Assert.DoesNotContain(betaGroups.AsArray(), g => (string?)g!["id"] == groupId);
        using var sdk = factory.Admin(GatewayFactory.SdkKey);
        await sdk.GetAsync($"/v1/admin/experiments/{id}/targeting").ExpectAsync(HttpStatusCode.Unauthorized);

        await alpha.PutAsJsonAsync($"/v1/admin/experiments/{id}/targeting", new { traffic_allocation = 25 }).ExpectAsync(HttpStatusCode.OK);
        await alpha.PutAsJsonAsync($"/v1/admin/experiments/{id}/testers",
            new { testers = new[] { new { variant = "treatment", user_ids = new[] { "qa" } } } }).ExpectAsync(HttpStatusCode.OK);
        await alpha.PatchAsJsonAsync($"/v1/admin/experiments/{id}/variants/control", new { name = "Control!" }).ExpectAsync(HttpStatusCode.OK);
        await alpha.PutAsync($"/v1/admin/exclusion-groups/{groupId}/experiments/{id}", null).ExpectAsync(HttpStatusCode.OK);

        await using var audit = new NpgsqlConnection(factory.ConnectionString);
        await audit.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT action, actor FROM gateway.audit_log
            WHERE entity_id = @id OR entity_id = @group ORDER BY id
            """, audit);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("group", groupId);
        await using var reader = await command.ExecuteReaderAsync();
        var actions = new List<string>();
        while (await reader.ReadAsync())
        {
            Assert.Equal("admin-key:alpha", reader.GetString(1));
            actions.Add(reader.GetString(0));
        }
        Assert.Equal(["update_targeting", "update_testers", "update_variant", "add_member"], actions.Where(a => a is not ("create" or "add_variant" or "create_group")));
    }

    private async Task<ExperimentChanged> ChangeAsync(Guid id, string change)
    {
        ExperimentChanged? found = null;
        await Eventually.TrueAsync(() =>
        {
            found = _changes.FirstOrDefault(c => c.ExperimentId == id && c.Change == change);
            return Task.FromResult(found is not null);
        }, $"ExperimentChanged '{change}' for {id} arrived on the test's queue", TimeSpan.FromSeconds(30));
        return found!;
    }

    private static async Task<(string Id, string Key)> CreateAsync(HttpClient admin, string name, params (string Key, double Weight)[] variants)
    {
        var key = $"{Validation.Slug.From(name)}-{Guid.NewGuid():N}"[..40];
        var created = await admin.PostAsJsonAsync("/v1/admin/experiments", new { name, key, project_id = GatewayFactory.Project }).ExpectAsync(HttpStatusCode.Created);
        var id = (string)created["id"]!;
        foreach (var (variant, weight) in variants)
        {
            await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/variants", new { name = variant, traffic_weight = weight }).ExpectAsync(HttpStatusCode.Created);
        }
        return (id, key);
    }
}
