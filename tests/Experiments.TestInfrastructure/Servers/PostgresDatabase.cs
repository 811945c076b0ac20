using Npgsql;
using Xunit;

namespace Experiments.TestInfrastructure.Servers;

/// <summary>A fresh, uniquely named PostgreSQL database on the local server, dropped on dispose.</summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    private readonly string _adminConnectionString;

    private PostgresDatabase(string name, string connectionString, string adminConnectionString)
    {
        Name = name;
        ConnectionString = connectionString;
        _adminConnectionString = adminConnectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    /// <summary>Creates a database named <c>t_{prefix}_{random}</c> on the server of <see cref="LocalServers"/>.</summary>
    public static async Task<PostgresDatabase> CreateAsync(string? prefix = null)
    {
        var servers = await LocalServers.EnsureStartedAsync();
        var name = UniqueNames.Database(prefix);
        var admin = servers.Postgres;
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new PostgresDatabase(name, servers.PostgresFor(name), admin);
    }

    /// <summary>Runs one statement with named parameters (null sends SQL NULL).</summary>
    public async Task ExecuteAsync(string sql, params (string Name, object? Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>
/// One fresh PostgreSQL database per test class: <c>IClassFixture&lt;PostgresDatabaseFixture&gt;</c>.
/// </summary>
public sealed class PostgresDatabaseFixture : IAsyncLifetime
{
    private PostgresDatabase? _database;

    public PostgresDatabase Database =>
        _database ?? throw new InvalidOperationException("The fixture is not initialized yet.");

    public string ConnectionString => Database.ConnectionString;

    public async Task InitializeAsync() => _database = await PostgresDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
