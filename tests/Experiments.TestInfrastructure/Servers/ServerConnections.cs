using System.Data.Common;

namespace Experiments.TestInfrastructure.Servers;

/// <summary>Connection strings of the three servers, in Aspire's <c>ConnectionStrings__name</c> shape.</summary>
public sealed record ServerConnections(string Postgres, string RabbitMq, string ClickHouse)
{
    /// <summary>The ClickHouse connection string with its <c>Database</c> replaced.</summary>
    public string ClickHouseFor(string database) => WithKey(ClickHouse, "Database", database);

    /// <summary>The PostgreSQL connection string with its <c>Database</c> replaced.</summary>
    public string PostgresFor(string database) => WithKey(Postgres, "Database", database);

    /// <summary>Environment variables a child process (a service under test) needs to reach the servers.</summary>
    public IReadOnlyDictionary<string, string> AsEnvironment() => new Dictionary<string, string>
    {
        ["ConnectionStrings__postgres"] = Postgres,
        ["ConnectionStrings__rabbitmq"] = RabbitMq,
        ["ConnectionStrings__clickhouse"] = ClickHouse,
    };

    private static string WithKey(string connectionString, string key, string value)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
        builder[key] = value;
        return builder.ConnectionString;
    }
}
