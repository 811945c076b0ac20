using Experiments.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Experiments.Gateway.Tests;

public sealed class MigrationRunnerTests
{
    private static readonly MigrationScript[] Scripts =
    [
        new(1, "create_things", "CREATE TABLE things (id int PRIMARY KEY);"),
        new(2, "add_name", "ALTER TABLE things ADD COLUMN name text;"),
    ];

    [Fact]
    public async Task Migrations_apply_once_in_order_and_concurrent_runners_do_not_race()
    {
        await using var database = await PostgresDatabase.CreateAsync("migrations");
        var runners = Enumerable.Range(0, 4)
            .Select(_ => new MigrationRunner(database.ConnectionString, "owned", Scripts, NullLogger<MigrationRunner>.Instance))
            .ToList();

        var applied = await Task.WhenAll(runners.Select(r => r.ApplyAsync(CancellationToken.None)));

        Assert.Equal(2, applied.Sum());
        Assert.Equal(0, await runners[0].ApplyAsync(CancellationToken.None));
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT string_agg(version || ':' || name, ',' ORDER BY version) FROM owned.schema_migrations", connection);
        Assert.Equal("1:create_things,2:add_name", await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_missing_database_is_created()
    {
        var name = UniqueNames.Database("created");
        var servers = await LocalServers.EnsureStartedAsync();
        var runner = new MigrationRunner(servers.PostgresFor(name), "owned", Scripts, NullLogger<MigrationRunner>.Instance);

        Assert.Equal(2, await runner.ApplyAsync(CancellationToken.None));

        await using var admin = new NpgsqlConnection(servers.PostgresFor("postgres"));
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE \"{name}\" WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task A_failing_migration_rolls_back_and_names_itself()
    {
        await using var database = await PostgresDatabase.CreateAsync("failing");
        var runner = new MigrationRunner(database.ConnectionString, "owned",
            [Scripts[0], new MigrationScript(2, "broken", "ALTER TABLE nothing_here ADD COLUMN x int;")], NullLogger<MigrationRunner>.Instance);

        await Assert.ThrowsAsync<PostgresException>(() => runner.ApplyAsync(CancellationToken.None));

        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM owned.schema_migrations", connection);
        Assert.Equal(1L, await command.ExecuteScalarAsync());
    }
}
