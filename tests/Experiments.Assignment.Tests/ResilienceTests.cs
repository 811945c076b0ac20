using System.Net;
using System.Net.Http.Json;
using Experiments.Assignment.Tests.Support;
using Experiments.Contracts.Messages;
using Experiments.TestInfrastructure.Http;
using Experiments.TestInfrastructure.Networking;
using MassTransit;
using Npgsql;

namespace Experiments.Assignment.Tests;

/// <summary>
/// The configuration's life outside the happy path, over the real servers: PostgreSQL going away (the service keeps
/// serving its last good copy and picks changes up when it is back) and bandit weights arriving over RabbitMQ.
/// </summary>
public sealed class ResilienceTests(AssignmentPlatform platform) : IClassFixture<AssignmentPlatform>
{
    private static readonly string[] Users = Enumerable.Range(0, 100).Select(i => $"res-user-{i}").ToArray();

    [Fact]
    public async Task With_PostgreSQL_away_the_last_good_configuration_is_served_and_changes_arrive_once_it_is_back()
    {
        var target = new NpgsqlConnectionStringBuilder(platform.ConnectionString);
        await using var proxy = new TcpProxy(target.Port);
        proxy.Restore();
        var proxied = new NpgsqlConnectionStringBuilder(platform.ConnectionString) { Port = proxy.Port, Timeout = 3 }.ConnectionString;

        await platform.CreateRunningAsync("pg-away", [("control", 1), ("treatment", 1), ("other", 1)]);
        var (service, http, _) = await platform.StartAssignmentAsync(postgres: proxied);
        using var client = AssignmentPlatform.Client(http);
        await Eventually.TrueAsync(async () => (await VariantsAsync(client, Users[0])).ContainsKey("pg-away"), "the service serves the experiment");
        var before = new Dictionary<string, string>();
        foreach (var user in Users)
        {
            before[user] = (await VariantsAsync(client, user))["pg-away"];
        }

        await proxy.CutAsync();
        // A change made while the service cannot read it.
        await platform.CreateRunningAsync("pg-away-later", [("a", 1), ("b", 1)]);
        await Eventually.TrueAsync(() => Task.FromResult(service.Output.Contains("Configuration reload failed", StringComparison.Ordinal)),
            "the service's periodic reload fails with PostgreSQL away");
        await Eventually.TrueAsync(() => Task.FromResult(CountOf(service.Output, "Configuration reload failed") >= 3),
            "three reloads failed in a row");

        foreach (var user in Users)
        {
            var variants = await VariantsAsync(client, user);
            Assert.Equal(before[user], variants["pg-away"]);
            Assert.False(variants.ContainsKey("pg-away-later"));
        }
        Assert.True(service.IsRunning);

        proxy.Restore();
        await Eventually.TrueAsync(async () => (await VariantsAsync(client, Users[0])).ContainsKey("pg-away-later"),
            "the change made while PostgreSQL was away is served once it is back");
        foreach (var user in Users.Take(20))
        {
            Assert.Equal(before[user], (await VariantsAsync(client, user))["pg-away"]);
        }
    }

    [Fact]
    public async Task Bandit_weights_from_RabbitMQ_steer_new_users_while_sticky_users_keep_their_variant()
    {
        var experiment = await platform.CreateRunningAsync("bandit-steered", [("control", 1), ("treatment", 1)], sticky: true);
        var (_, http, _) = await platform.StartAssignmentAsync(refreshInterval: TimeSpan.FromMinutes(10));
        using var client = AssignmentPlatform.Client(http);
        await Eventually.TrueAsync(async () => (await VariantsAsync(client, "bandit-first-0")).ContainsKey("bandit-steered"), "the service serves the experiment");
        var early = new Dictionary<string, string>();
        for (var i = 0; i < 200; i++)
        {
            early[$"bandit-first-{i}"] = (await VariantsAsync(client, $"bandit-first-{i}"))["bandit-steered"];
        }
        Assert.InRange(early.Values.Count(v => v == "control"), 60, 140);

        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit => rabbit.Host(new Uri(platform.Servers.RabbitMq)));
        await bus.StartAsync();
        try
        {
            await bus.Publish(new BanditWeightsUpdated(Guid.NewGuid(), AssignmentPlatform.Project, experiment, "bandit-steered",
                new Dictionary<string, double> { ["control"] = 1, ["treatment"] = 99 }, DateTimeOffset.UtcNow));
            // The refresh interval is 10 minutes: only the message can bring the weights.
            var probe = 0;
            await Eventually.TrueAsync(async () =>
            {
                var fresh = new List<string>();
                for (var i = 0; i < 20; i++)
                {
                    fresh.Add((await VariantsAsync(client, $"bandit-probe-{probe++}"))["bandit-steered"]);
                }
                return fresh.Count(v => v == "treatment") >= 18;
            }, "new users follow the published weights (1:99)");
        }
        finally
        {
            await bus.StopAsync();
        }

        var newUsers = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            newUsers.Add((await VariantsAsync(client, $"bandit-new-{i}"))["bandit-steered"]);
        }
        Assert.True(newUsers.Count(v => v == "treatment") >= 280, $"{newUsers.Count(v => v == "treatment")} of 300 new users in treatment at 1:99");
        foreach (var (user, variant) in early)
        {
            Assert.Equal(variant, (await VariantsAsync(client, user))["bandit-steered"]);
        }
    }

    private static int CountOf(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    private static async Task<Dictionary<string, string>> VariantsAsync(HttpClient client, string userId)
    {
        var body = await client.PostAsJsonAsync("/v1/evaluate", new { user_id = userId }).ExpectAsync(HttpStatusCode.OK);
        return body["variants"]!.AsObject()
            .Where(v => v.Value?["key"] is not null)
            .ToDictionary(v => v.Key, v => v.Value!["key"]!.GetValue<string>());
    }
}
