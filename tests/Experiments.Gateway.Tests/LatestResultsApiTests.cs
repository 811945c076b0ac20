using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Experiments.TestInfrastructure.Http;
using Experiments.TestInfrastructure.Networking;
using Experiments.TestInfrastructure.Processes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;

namespace Experiments.Gateway.Tests;

/// <summary>
/// The gateway in-process (<see cref="GatewayFactory"/>) talking gRPC to the real analysis service, run as a process
/// over the same database (its schedule and change consumer off: the tests write the snapshots a scheduled pass stores).
/// </summary>
public sealed class GatewayWithAnalysis : IAsyncLifetime
{
    private readonly GatewayFactory _factory = new();
    private readonly int _analysisGrpcPort = FreePort.Next();
    private WebApplicationFactory<Program>? _gateway;
    private ServiceProcess? _analysis;

    public string ConnectionString => _factory.ConnectionString;

    public async Task InitializeAsync()
    {
        await ((IAsyncLifetime)_factory).InitializeAsync();
        _gateway = _factory.WithWebHostBuilder(b => b.UseSetting("services:analysis:grpc:0", $"http://127.0.0.1:{_analysisGrpcPort}"));
        using (var warmUp = _gateway.CreateClient())
        {
            await warmUp.GetAsync("/alive"); // the gateway's migrations run at start
        }

        var servers = await LocalServers.EnsureStartedAsync();
        var http = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        _analysis = new ServiceProcess("Analysis", new Dictionary<string, string>
        {
            ["ConnectionStrings__postgres"] = ConnectionString,
            ["ConnectionStrings__rabbitmq"] = servers.RabbitMq,
            ["ConnectionStrings__clickhouse"] = servers.ClickHouseFor(UniqueNames.Database("gw_latest")),
            ["Kestrel__Endpoints__Http__Url"] = http.ToString(),
            ["Kestrel__Endpoints__Grpc__Url"] = $"http://127.0.0.1:{_analysisGrpcPort}",
            ["Kestrel__Endpoints__Grpc__Protocols"] = "Http2",
            ["Schedule__Enabled"] = "false",
            ["ExperimentChanges__Enabled"] = "false",
            ["ExperimentChanges__QueuePrefix"] = $"gw-latest-{Guid.NewGuid():N}"[..30],
            ["ExperimentChanges__AutoDeleteQueues"] = "true",
        });
        _analysis.Start();
        await _analysis.WaitUntilAnswersAsync(new Uri(http, "/alive").ToString(), TimeSpan.FromSeconds(60));
        await Eventually.TrueAsync(async () =>
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT to_regclass('analysis.snapshots') IS NOT NULL", connection);
            return (bool)(await command.ExecuteScalarAsync())!;
        }, "the analysis service created its schema");
    }

    public HttpClient Admin(string key = GatewayFactory.AdminKey)
    {
        var client = _gateway!.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public async Task DisposeAsync()
    {
        if (_analysis is not null)
        {
            await _analysis.StopAsync(TimeSpan.FromSeconds(10));
            await _analysis.DisposeAsync();
        }
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }
        await ((IAsyncLifetime)_factory).DisposeAsync();
    }
}

/// <summary>
/// GET /v1/admin/experiments/results: each experiment's latest stored result through the analysis service's gRPC
/// LatestResults: empty for a project with none, one key's project only, filtered by experiment_id, bad input named.
/// </summary>
public sealed class LatestResultsApiTests(GatewayWithAnalysis platform) : IClassFixture<GatewayWithAnalysis>
{
    private const string Route = "/v1/admin/experiments/results";

    [Fact]
    public async Task A_project_without_stored_results_gets_an_empty_list()
    {
        var project = $"empty-{Guid.NewGuid():N}"[..16];
        var key = $"key-{Guid.NewGuid():N}";
        await GatewayTestData.SeedProjectAsync(platform.ConnectionString, project, key);
        using var admin = platform.Admin(key);
        await CreateExperimentAsync(admin, project, "never analysed");

        var body = await admin.GetAsync(Route).ExpectAsync(HttpStatusCode.OK);
        Assert.Empty(body["results"]!.AsArray());
        body = await admin.GetAsync($"{Route}?project_id={project}").ExpectAsync(HttpStatusCode.OK);
        Assert.Empty(body["results"]!.AsArray());
    }

    [Fact]
    public async Task A_key_sees_its_own_projects_latest_results_only()
    {
        var betaProject = $"beta-{Guid.NewGuid():N}"[..16];
        var betaKey = $"key-{Guid.NewGuid():N}";
        await GatewayTestData.SeedProjectAsync(platform.ConnectionString, betaProject, betaKey);
        using var alpha = platform.Admin();
        using var beta = platform.Admin(betaKey);
        var winner = await CreateExperimentAsync(alpha, GatewayFactory.Project, "alpha winner");
        var flat = await CreateExperimentAsync(alpha, GatewayFactory.Project, "alpha flat");
        var theirs = await CreateExperimentAsync(beta, betaProject, "beta winner");
        var at = DateTimeOffset.Parse("2025-06-02T08:30:00Z");
        await SnapshotAsync(GatewayFactory.Project, winner, at, pValue: 0.001, significant: true);
        await SnapshotAsync(GatewayFactory.Project, flat, at.AddMinutes(1), pValue: 0.6, significant: false);
        await SnapshotAsync(betaProject, theirs, at, pValue: 0.002, significant: true);

        var results = (await alpha.GetAsync(Route).ExpectAsync(HttpStatusCode.OK))["results"]!.AsArray()
            .ToDictionary(r => (string)r!["experiment_id"]!, r => r!);
        Assert.Contains(winner, results.Keys);
        Assert.Contains(flat, results.Keys);
        Assert.DoesNotContain(theirs, results.Keys);
        var won = results[winner];
        Assert.Equal("treatment", (string?)won["winner"]);
        Assert.Equal(at, DateTimeOffset.Parse((string)won["computed_at"]!));
        Assert.Equal("2025-06-02", (string?)won["snapshot_date"]);
        Assert.Equal("purchase", (string?)won["primary_metric"]);
        Assert.True((bool)won["significant"]!);
        Assert.Equal(0.001, (double)won["primary_p_value"]!, 12);
        Assert.False((bool)won["srm_detected"]!);
        var comparison = Assert.Single(won["comparisons"]!.AsArray())!;
        Assert.Equal("treatment", (string?)comparison["variant"]);
        Assert.Equal(0.5, (double)comparison["relative_lift"]!, 12);
        Assert.Null(comparison["ci_absolute"]);
        Assert.Null(results[flat]["winner"]);
        Assert.False((bool)results[flat]["significant"]!);

        var betaResults = (await beta.GetAsync(Route).ExpectAsync(HttpStatusCode.OK))["results"]!.AsArray();
        Assert.Equal(theirs, (string?)Assert.Single(betaResults)!["experiment_id"]);

        // Another project's id asked for explicitly gives nothing; the key's own ids are filtered.
        var asked = await alpha.GetAsync($"{Route}?experiment_id={theirs}&experiment_id={winner}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(winner, (string?)Assert.Single(asked["results"]!.AsArray())!["experiment_id"]);
        await alpha.GetAsync($"{Route}?project_id={betaProject}").ExpectAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Bad_input_is_a_problem_naming_the_field_and_the_route_is_in_the_openapi_document()
    {
        using var admin = platform.Admin();
        var problem = await admin.GetAsync($"{Route}?experiment_id=not-a-uuid").ExpectAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]?["experiment_id"]);
        var tooMany = string.Join("&", Enumerable.Range(0, 1001).Select(_ => $"experiment_id={Guid.NewGuid()}"));
        problem = await admin.GetAsync($"{Route}?{tooMany}").ExpectAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]?["experiment_id"]);

        using var anonymous = platform.Admin("not-a-key");
        using var response = await anonymous.GetAsync(Route);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        var openApi = await admin.GetAsync("/openapi/v1.json").ExpectAsync(HttpStatusCode.OK);
        Assert.NotNull(openApi["paths"]?[Route]?["get"]);
    }

    private static async Task<string> CreateExperimentAsync(HttpClient admin, string project, string name)
    {
        var created = await admin.PostAsJsonAsync("/v1/admin/experiments",
            new { name, key = $"{Validation.Slug.From(name)}-{Guid.NewGuid():N}"[..40], project_id = project }).ExpectAsync(HttpStatusCode.Created);
        return (string)created["id"]!;
    }

    /// <summary>A snapshot row as the analysis service's scheduled pass stores it (treatment against control on "purchase").</summary>
    private async Task SnapshotAsync(string project, string experimentId, DateTimeOffset computedAt, double pValue, bool significant)
    {
        var metrics = new JsonArray(new JsonObject
        {
            ["key"] = "purchase",
            ["comparisons"] = new JsonArray(new JsonObject
            {
                ["variant"] = "treatment", ["control_mean"] = 0.1, ["mean"] = 0.15, ["absolute_lift"] = 0.05, ["relative_lift"] = 0.5,
                ["p_value"] = pValue, ["significant"] = significant,
            }),
            ["means"] = new JsonObject { ["control"] = 0.1, ["treatment"] = 0.15 },
        });
        await using var connection = new NpgsqlConnection(platform.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            INSERT INTO analysis.snapshots (experiment_id, snapshot_date, project_id, computed_at, metrics)
            VALUES (@id, @date, @project, @at, @metrics::jsonb)
            """, connection);
        command.Parameters.AddWithValue("id", Guid.Parse(experimentId));
        command.Parameters.AddWithValue("date", DateOnly.FromDateTime(computedAt.UtcDateTime));
        command.Parameters.AddWithValue("project", project);
        command.Parameters.AddWithValue("at", computedAt);
        command.Parameters.AddWithValue("metrics", metrics.ToJsonString());
        await command.ExecuteNonQueryAsync();
    }
}
