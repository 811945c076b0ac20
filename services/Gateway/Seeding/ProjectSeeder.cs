using Experiments.Postgres.Configuration;
using Npgsql;

namespace Experiments.Gateway.Seeding;

/// <summary>What <see cref="ProjectSeeder"/> creates: a project with one admin key and one SDK key (development only).</summary>
public sealed class SeedOptions
{
    public string? ProjectId { get; set; }
    public string? AdminKey { get; set; }
    public string? SdkKey { get; set; }
}

/// <summary>
/// Creates the configured project and its keys at start when <c>Seed:ProjectId</c> is set, as the
/// AppHost does in development (project <c>demo</c>). Idempotent; never removes anything.
/// </summary>
public sealed class ProjectSeeder(NpgsqlDataSource dataSource, Microsoft.Extensions.Options.IOptions<SeedOptions> options, ILogger<ProjectSeeder> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var seed = options.Value;
        if (string.IsNullOrWhiteSpace(seed.ProjectId))
        {
            return;
        }

        await using var command = dataSource.CreateCommand("""
            INSERT INTO gateway.projects (id, name) VALUES (@project, @project) ON CONFLICT (id) DO NOTHING;
            INSERT INTO gateway.api_keys (key_hash, project_id, kind, label)
            SELECT hash, @project, kind, 'seed' FROM (VALUES (@admin, 'admin'), (@sdk, 'sdk')) AS k(hash, kind) WHERE hash <> ''
            ON CONFLICT (key_hash) DO NOTHING;
            """);
        command.Parameters.AddWithValue("project", seed.ProjectId);
        command.Parameters.AddWithValue("admin", string.IsNullOrEmpty(seed.AdminKey) ? "" : ApiKeyHasher.Hash(seed.AdminKey));
        command.Parameters.AddWithValue("sdk", string.IsNullOrEmpty(seed.SdkKey) ? "" : ApiKeyHasher.Hash(seed.SdkKey));
        await command.ExecuteNonQueryAsync(cancellationToken);
        logger.LogInformation("Seeded project {Project} with its admin and SDK keys", seed.ProjectId);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
