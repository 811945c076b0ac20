using System.Net.Sockets;
using Experiments.TestInfrastructure.Networking;
using Experiments.TestInfrastructure.Servers;
using Npgsql;

namespace Experiments.ClickHouse.Tests.Infrastructure;

/// <summary>The shared test infrastructure against the real servers started by deploy/local/servers.sh.</summary>
public sealed class LocalServersTests
{
    [Fact]
    public async Task Starts_the_servers_once_and_exposes_their_connection_strings()
    {
        var first = await LocalServers.EnsureStartedAsync();
        var second = await LocalServers.EnsureStartedAsync();

        Assert.Same(first, second);
        Assert.Contains("Port=", first.Postgres, StringComparison.Ordinal);
        Assert.StartsWith("amqp://", first.RabbitMq, StringComparison.Ordinal);
        Assert.Contains("Database=other", first.ClickHouseFor("other"), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task RabbitMq_answers_on_its_port()
    {
        var uri = new Uri((await LocalServers.EnsureStartedAsync()).RabbitMq);

        using var client = new TcpClient();
        await client.ConnectAsync(uri.Host, uri.Port);
        Assert.True(client.Connected);
    }

    [Fact]
    public async Task Creates_and_drops_a_fresh_postgres_database()
    {
        string name;
        await using (var database = await PostgresDatabase.CreateAsync(nameof(LocalServersTests)))
        {
            name = database.Name;
            Assert.StartsWith("t_localserverstests_", name, StringComparison.Ordinal);
            await using var connection = new NpgsqlConnection(database.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("select current_database()", connection);
            Assert.Equal(name, await command.ExecuteScalarAsync());
        }

        await using var admin = new NpgsqlConnection((await LocalServers.EnsureStartedAsync()).Postgres);
        await admin.OpenAsync();
        await using var exists = new NpgsqlCommand("select count(*) from pg_database where datname = @name", admin);
        exists.Parameters.AddWithValue("name", name);
        Assert.Equal(0L, await exists.ExecuteScalarAsync());
    }

    [Fact]
    public void Unique_names_differ_and_are_identifier_safe()
    {
        var a = UniqueNames.Database("My Tests-1");
        var b = UniqueNames.Database("My Tests-1");

        Assert.NotEqual(a, b);
        Assert.Matches("^t_my_tests_1_[0-9a-f]{12}$", a);
    }

    [Fact]
    public void Free_port_can_be_bound()
    {
        var port = FreePort.Next();

        using var listener = new TcpListener(System.Net.IPAddress.Loopback, port);
        listener.Start();
        Assert.InRange(port, 1, 65535);
    }
}
