using System.Net;
using System.Text;
using Experiments.Contracts.Messages;
using Experiments.Contracts.Notifications.V1;
using Experiments.Notifications.Deliveries;
using Experiments.Notifications.Events;
using Experiments.Notifications.Networking;
using Experiments.Notifications.Tests.Support;
using Experiments.TestInfrastructure.Http;

namespace Experiments.Notifications.Tests;

/// <summary>The default deployment: private, loopback and link-local destinations refused at send time.</summary>
public sealed class PrivateNetworkTests(StrictNotificationsHost host) : IClassFixture<StrictNotificationsHost>
{
    [Fact]
    public async Task A_private_address_url_is_refused_by_default_and_nothing_is_sent()
    {
        var project = await host.NewProjectAsync();
        await using var receiver = await Receiver.StartAsync();
        var byIp = await host.SubscribeAsync(project, "webhook", receiver.Url, "whsec-0123456789abcdef", [NotificationEventTypes.Started]);
        // A name that resolves to loopback: refused on the resolved address, as a rebinding name would be.
        var byName = await host.SubscribeAsync(project, "slack", receiver.Url.Replace("127.0.0.1", "localhost"), null, [NotificationEventTypes.Started]);

        await host.Bus.Publish(new ExperimentStarted(Guid.NewGuid(), project, Guid.NewGuid(), "checkout", "Checkout test", DateTimeOffset.UtcNow));
        foreach (var subscription in new[] { byIp, byName })
        {
            await Eventually.TrueAsync(async () => (await host.DeliveriesAsync(subscription)) is [{ Status: "failed" }], "the delivery was refused", TimeSpan.FromSeconds(30));
            var (_, attempts, error) = Assert.Single(await host.DeliveriesAsync(subscription));
            Assert.Equal(1, attempts); // refused for good, not retried
            Assert.Contains("private, loopback or link-local", error);
        }

        var test = await host.Grpc.SendTestAsync(new SendTestRequest { ProjectId = project, SubscriptionId = byIp.ToString() });
        Assert.Equal(DeliveryStatuses.Failed, test.Status);
        Assert.Contains("Notifications:AllowPrivateNetworks", test.LastError);
        Assert.Empty(receiver.Requests);
    }
}

public sealed class DestinationPolicyTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fe80::1")]
    [InlineData("fd00::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    public void Private_loopback_and_link_local_addresses_are_not_public(string address)
        => Assert.False(DestinationPolicy.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("1.1.1.1")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    public void Routable_addresses_are_public(string address) => Assert.True(DestinationPolicy.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("ftp://example.com/hook")]
    [InlineData("file:///etc/passwd")]
    [InlineData("/relative")]
    [InlineData("https://user:pass@example.com/hook")]
    public void Only_http_and_https_urls_without_credentials_are_accepted(string url)
        => Assert.Throws<DestinationRefusedException>(() => DestinationPolicy.ParseUrl(url));
}

public sealed class WebhookSignatureTests
{
    private const string Secret = "whsec-0123456789abcdef";

    [Fact]
    public void A_signature_verifies_only_for_its_body_secret_and_recent_timestamp()
    {
        var body = Encoding.UTF8.GetBytes("""{"id":"1","type":"experiment.started","time":"2030-01-01T00:00:00.000Z","payload":{}}""");
        var now = DateTimeOffset.FromUnixTimeSeconds(1_900_000_000);
        var header = WebhookSignature.Create(Secret, now.ToUnixTimeSeconds(), body);

        Assert.Matches("^t=1900000000,v1=[0-9a-f]{64}$", header);
        Assert.True(WebhookSignature.Verify(Secret, header, body, now.AddSeconds(30), TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify(Secret, header, [.. body, (byte)' '], now, TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify("whsec-another-secret-000", header, body, now, TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify(Secret, header, body, now.AddMinutes(10), TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify(Secret, header.Replace("t=1900000000", "t=1900000300"), body, now.AddMinutes(5), TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void The_documented_scheme_is_hmac_sha256_over_timestamp_dot_body()
    {
        var body = Encoding.UTF8.GetBytes("{}");
        using var hmac = new System.Security.Cryptography.HMACSHA256(Encoding.UTF8.GetBytes(Secret));
        var expected = Convert.ToHexStringLower(hmac.ComputeHash(Encoding.UTF8.GetBytes("1700000000.{}")));
        Assert.Equal($"t=1700000000,v1={expected}", WebhookSignature.Create(Secret, 1_700_000_000, body));
    }
}
