using System.Net;
using System.Net.Http.Json;
using Experiments.Postgres.Configuration;
using Experiments.TestInfrastructure.Http;
using Npgsql;

namespace Experiments.Gateway.Tests;

/// <summary>Experiments, projects and audit rows for the gateway tests.</summary>
internal static class GatewayTestData
{
    public static async Task<string> CreateExperimentAsync(HttpClient admin, string name, IReadOnlyList<string>? variants = null)
    {
        var created = await admin.PostAsJsonAsync("/v1/admin/experiments",
            new { name, key = $"{Validation.Slug.From(name)}-{Guid.NewGuid():N}"[..40], project_id = GatewayFactory.Project }).ExpectAsync(HttpStatusCode.Created);
        var id = (string)created["id"]!;
        foreach (var variant in variants ?? [])
        {
            await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/variants", new { name = variant, key = variant, traffic_weight = 1 }).ExpectAsync(HttpStatusCode.Created);
        }
        return id;
    }

    public static async Task SeedProjectAsync(string connectionString, string projectId, string adminKey)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var seed = new NpgsqlCommand("""
            INSERT INTO gateway.projects (id, name) VALUES (@project, @project) ON CONFLICT DO NOTHING;
            INSERT INTO gateway.api_keys (key_hash, project_id, kind) VALUES (@hash, @project, 'admin') ON CONFLICT DO NOTHING;
            """, connection);
        seed.Parameters.AddWithValue("project", projectId);
        seed.Parameters.AddWithValue("hash", ApiKeyHasher.Hash(adminKey));
        await seed.ExecuteNonQueryAsync();
    }

    public sealed record AuditRow(string Action, string Actor, string? Before, string? After);

    public static async Task<List<AuditRow>> AuditAsync(string connectionString, string entityId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT action, actor, before::text, after::text FROM gateway.audit_log WHERE entity_id = @id ORDER BY id", connection);
        command.Parameters.AddWithValue("id", entityId);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<AuditRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new AuditRow(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
        }
        return rows;
    }
}
