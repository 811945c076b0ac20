using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Experiments.TestInfrastructure.Http;
using Npgsql;

namespace Experiments.Gateway.Tests;

/// <summary>
/// GET /v1/admin/experiments/results returns the verdict a snapshot stores (analysis migration 0003): the stored winner
/// (not the one today's rule would derive from the comparisons), recommendation, control, SRM p-value and the primary
/// metric's per-variant exposures and conversions.
/// </summary>
public sealed class LatestResultsVerdictApiTests(GatewayWithAnalysis platform) : IClassFixture<GatewayWithAnalysis>
{
    private const string Route = "/v1/admin/experiments/results";

    [Fact]
    public async Task The_stored_verdict_and_per_variant_figures_are_returned()
    {
        using var admin = platform.Admin();
        var created = await admin.PostAsJsonAsync("/v1/admin/experiments",
            new { name = "stored verdict", key = $"stored-verdict-{Guid.NewGuid():N}"[..40], project_id = GatewayFactory.Project }).ExpectAsync(HttpStatusCode.Created);
        var id = Guid.Parse((string)created["id"]!);
        // The analysis service's migrations run in order at its start: wait for the verdict columns.
        await Eventually.TrueAsync(async () => await ScalarAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'analysis' AND table_name = 'snapshots' AND column_name = 'variants')"),
            "the analysis service added the verdict columns");

        // The comparison alone would make 'treatment' the winner; the analysis named 'control' (e.g. its direction was a decrease then).
        await using (var connection = new NpgsqlConnection(platform.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("""
                INSERT INTO analysis.snapshots (experiment_id, snapshot_date, project_id, computed_at, metrics,
                                                winner, recommendation, control, srm_p_value, srm_detected, variants)
                VALUES (@id, '2025-06-02', @project, '2025-06-02T08:30:00Z',
                        '[{"key":"purchase","comparisons":[{"variant":"treatment","control_mean":0.1,"mean":0.15,"absolute_lift":0.05,"relative_lift":0.5,"p_value":0.001,"significant":true}],"means":{"control":0.1,"treatment":0.15}}]',
                        'control', 'Every significant difference favours ''control''.', 'control', 0.42, false,
                        '[{"key":"control","name":"Control","exposures":1000,"conversions":100},{"key":"treatment","name":"Treatment","exposures":990,"conversions":149}]')
                """, connection);
            command.Parameters.AddWithValue("id", id);
            command.Parameters.AddWithValue("project", GatewayFactory.Project);
            await command.ExecuteNonQueryAsync();
        }

        var body = await admin.GetAsync($"{Route}?experiment_id={id}").ExpectAsync(HttpStatusCode.OK);
        var result = Assert.Single(body["results"]!.AsArray())!;
        Assert.True((bool)result["verdict_stored"]!);
        Assert.Equal("control", (string?)result["winner"]);
        Assert.Equal("Every significant difference favours 'control'.", (string?)result["recommendation"]);
        Assert.Equal("control", (string?)result["control"]);
        Assert.Equal(0.42, (double)result["srm_p_value"]!, 12);
        Assert.False((bool)result["srm_detected"]!);
        var variants = result["variants"]!.AsArray();
        Assert.Equal(["control", "treatment"], variants.Select(v => (string)v!["key"]!));
        Assert.Equal("Treatment", (string?)variants[1]!["name"]);
        Assert.Equal(990, (long)variants[1]!["exposures"]!);
        Assert.Equal(149, (long)variants[1]!["conversions"]!);
        Assert.Equal(149.0 / 990, (double)variants[1]!["rate"]!, 12);
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(platform.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
