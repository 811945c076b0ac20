using Experiments.Gateway.Data;

namespace Experiments.Gateway.Tests;

/// <summary>
/// The gateway's subscription-time URL check refuses exactly the addresses the notifications service refuses at
/// send time (one classification, <c>WebhookDestinations</c>), including the ranges the gateway used to let through.
/// </summary>
public sealed class SubscriptionUrlsTests
{
    [Theory]
    [InlineData("http://127.0.0.1/hook")]
    [InlineData("http://10.1.2.3/hook")]
    [InlineData("http://172.16.0.1/hook")]
    [InlineData("http://192.168.1.1/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://100.64.0.1/hook")]
    [InlineData("http://0.0.0.0/hook")]
    [InlineData("http://192.0.0.8/hook")]          // IETF protocol assignments: refused at send time, now at input too
    [InlineData("http://198.18.0.1/hook")]         // benchmarking 198.18/15: likewise
    [InlineData("http://[::1]/hook")]
    [InlineData("http://[fd00::1]/hook")]
    [InlineData("http://[::ffff:10.0.0.1]/hook")]
    [InlineData("http://[64:ff9b::a9fe:a9fe]/hook")] // NAT64 of 169.254.169.254: likewise
    [InlineData("http://localhost:8080/hook")]
    public async Task Private_addresses_are_refused_naming_the_url(string url)
    {
        var problem = await SubscriptionUrls.ProblemAsync(url, allowPrivateNetworks: false, CancellationToken.None);
        Assert.NotNull(problem);
        Assert.StartsWith("'url' points to ", problem);
        Assert.Null(await SubscriptionUrls.ProblemAsync(url, allowPrivateNetworks: true, CancellationToken.None));
    }

    [Theory]
    [InlineData("https://8.8.8.8/hook")]
    [InlineData("https://172.32.0.1/hook")]
    [InlineData("https://[2606:4700:4700::1111]/hook")]
    public async Task Public_addresses_are_accepted(string url)
        => Assert.Null(await SubscriptionUrls.ProblemAsync(url, allowPrivateNetworks: false, CancellationToken.None));

    [Theory]
    [InlineData("ftp://example.com/hook", "'url' must be an absolute http or https URL.")]
    [InlineData("/relative", "'url' must be an absolute http or https URL.")]
    [InlineData("https://user:pass@example.com/hook", "'url' must not carry credentials; use 'secret' to authenticate webhooks.")]
    public async Task Urls_that_are_not_http_or_carry_credentials_are_refused_whatever_the_network_setting(string url, string expected)
    {
        Assert.Equal(expected, await SubscriptionUrls.ProblemAsync(url, allowPrivateNetworks: false, CancellationToken.None));
        Assert.Equal(expected, await SubscriptionUrls.ProblemAsync(url, allowPrivateNetworks: true, CancellationToken.None));
    }
}
