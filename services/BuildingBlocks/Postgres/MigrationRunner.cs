using Microsoft.Extensions.Logging;
using Npgsql;

namespace Experiments.Postgres;

/// <summary>
/// Applies a service's migrations to its own schema, each once, in version order, in a transaction,
/// under an advisory lock so that several instances starting together don't race. Creates the
/// database itself when it does not exist yet, and waits for PostgreSQL while it is starting.
/// </summary>
public sealed class MigrationRunner(string connectionString, string schema, IReadOnlyList<MigrationScript> migrations, ILogger<MigrationRunner> logger)
{
    public string Schema { get; } = schema;

    public async Task<int> ApplyAsync(CancellationToken cancellationToken)
    {
        await EnsureDatabaseExistsAsync(cancellationToken);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);

        await using (var init = new NpgsqlCommand(
            $"""
            SELECT pg_advisory_lock(hashtext('migrations:' || @schema));
            CREATE SCHEMA IF NOT EXISTS "{Schema}";
            CREATE TABLE IF NOT EXISTS "{Schema}".schema_migrations (
                version int PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now());
            """, connection))
        {
            init.Parameters.AddWithValue("schema", Schema);
            await init.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            var applied = new HashSet<int>();
            await using (var read = new NpgsqlCommand($"SELECT version FROM \"{Schema}\".schema_migrations", connection))
            await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    applied.Add(reader.GetInt32(0));
                }
            }

            var count = 0;
            foreach (var migration in migrations.Where(m => !applied.Contains(m.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await using (var apply = new NpgsqlCommand($"SET LOCAL search_path TO \"{Schema}\", public;\n{migration.Sql}", connection, transaction))
                {
                    await apply.ExecuteNonQueryAsync(cancellationToken);
                }
                await using (var record = new NpgsqlCommand(
                    $"INSERT INTO \"{Schema}\".schema_migrations (version, name) VALUES (@v, @n)", connection, transaction))
                {
                    record.Parameters.AddWithValue("v", migration.Version);
                    record.Parameters.AddWithValue("n", migration.Name);
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }
                await transaction.CommitAsync(cancellationToken);
                logger.LogInformation("Applied migration {Schema}/{Version:D4}_{Name}", Schema, migration.Version, migration.Name);
                count++;
            }
            return count;
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtext('migrations:' || @schema))", connection);
            unlock.Parameters.AddWithValue("schema", Schema);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private async Task EnsureDatabaseExistsAsync(CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var database = builder.Database ?? throw new InvalidOperationException("The PostgreSQL connection string names no database.");
        builder.Database = "postgres";
        builder.Pooling = false;

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                await connection.OpenAsync(cancellationToken);
                await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @d", connection);
                exists.Parameters.AddWithValue("d", database);
                if (await exists.ExecuteScalarAsync(cancellationToken) is null)
                {
                    await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
                    try
                    {
                        await create.ExecuteNonQueryAsync(cancellationToken);
                        logger.LogInformation("Created database {Database}", database);
                    }
                    catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
                    {
                        // Another service created it at the same moment.
                    }
                }
                return;
            }
            catch (NpgsqlException ex) when (attempt < 30 && ex is not PostgresException)
            {
                logger.LogWarning("PostgreSQL not reachable yet ({Message}); retrying", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }
}
