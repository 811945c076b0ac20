using System.Reflection;
using Experiments.ServiceDefaults.Health;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Experiments.Postgres;

public static class PostgresExtensions
{
    public const string ConnectionName = "postgres";

    /// <summary>
    /// Registers the <see cref="NpgsqlDataSource"/> from <c>ConnectionStrings:postgres</c> and its health check.
    /// With <paramref name="ownedSchema"/>, also applies the embedded <c>Migrations/NNNN_name.sql</c>
    /// scripts of <paramref name="migrationsAssembly"/> to that schema before the service starts serving.
    /// </summary>
    public static IHostApplicationBuilder AddPostgres(
        this IHostApplicationBuilder builder, string? ownedSchema = null, Assembly? migrationsAssembly = null)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{ConnectionName} is not configured.");

        builder.Services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString)
        {
            Name = builder.Environment.ApplicationName,
        }.Build());

        builder.Services.AddHealthChecks().AddDependency<NpgsqlDataSource>(ConnectionName, async (dataSource, ct) =>
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(ct);
        });

        if (ownedSchema is not null)
        {
            var migrations = MigrationScript.LoadEmbedded(migrationsAssembly ?? throw new ArgumentNullException(nameof(migrationsAssembly), "Name the assembly that embeds the migrations."));
            builder.Services.AddSingleton(sp => new MigrationRunner(
                connectionString, ownedSchema, migrations, sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<MigrationRunner>>()));
            builder.Services.AddHostedService<MigrationHostedService>();
        }
        return builder;
    }
}
