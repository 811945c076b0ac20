using System.Net;
using System.Net.Sockets;
using Experiments.Messaging.Webhooks;

namespace Experiments.Gateway.Data;

/// <summary>
/// The subscription-time check of a delivery URL: absolute http(s), no credentials, and (unless
/// <c>Notifications:AllowPrivateNetworks</c>) not a private, loopback or link-local host. It looks at IP literals,
/// <c>localhost</c> and what the name resolves to now; the notifications service checks the addresses again when
/// it connects (DNS may change), which is the check that counts. Both use <see cref="WebhookDestinations"/>.
/// </summary>
public static class SubscriptionUrls
{
    public static async Task<string?> ProblemAsync(string url, bool allowPrivateNetworks, CancellationToken cancellationToken)
    {
        if (url.Length > 2048)
        {
            return "'url' must be at most 2048 characters.";
        }
        switch (WebhookDestinations.CheckUrl(url, out var checkedUri))
        {
            case WebhookUrlProblem.NotHttp:
                return "'url' must be an absolute http or https URL.";
            case WebhookUrlProblem.Credentials:
                return "'url' must not carry credentials; use 'secret' to authenticate webhooks.";
        }
        var uri = checkedUri!;
        if (allowPrivateNetworks)
        {
            return null;
        }
        IPAddress[] addresses;
        if (IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else if (uri.IsLoopback)
        {
            addresses = [IPAddress.Loopback];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(uri.IdnHost, cancellationToken);
            }
            catch (SocketException)
            {
                return null; // unresolvable now: checked again at send time
            }
        }
        return addresses.FirstOrDefault(a => !WebhookDestinations.IsPublic(a)) is { } refused
            ? $"'url' points to {refused}, a private, loopback or link-local address; this deployment doesn't deliver there."
            : null;
    }

}
