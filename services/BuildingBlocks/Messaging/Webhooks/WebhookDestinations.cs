using System.Net;
using System.Net.Sockets;

namespace Experiments.Messaging.Webhooks;

/// <summary>Why a webhook URL is not one deliveries go to (see <see cref="WebhookDestinations.CheckUrl"/>).</summary>
public enum WebhookUrlProblem
{
    None,

    /// <summary>Not an absolute http or https URL.</summary>
    NotHttp,

    /// <summary>The URL carries credentials (user info).</summary>
    Credentials,
}

/// <summary>
/// Where Slack and webhook deliveries may go, in one place for both checks: the gateway's when a subscription is
/// made or changed (input validation, so the admin hears about it at once) and the notifications service's when it
/// connects (the one that counts: it runs on the addresses actually used, so DNS rebinding is caught).
/// </summary>
public static class WebhookDestinations
{
    /// <summary>The URL rule: an absolute http(s) URL without credentials.</summary>
    public static WebhookUrlProblem CheckUrl(string url, out Uri? uri)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return WebhookUrlProblem.NotHttp;
        }
        return string.IsNullOrEmpty(uri.UserInfo) ? WebhookUrlProblem.None : WebhookUrlProblem.Credentials;
    }

    /// <summary>
    /// True for globally routable unicast addresses; false for private, loopback, link-local, unspecified, multicast,
    /// carrier-grade NAT and reserved ranges (IPv4-mapped and NAT64 addresses judged by the IPv4 address inside).
    /// </summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (IPAddress.IsLoopback(address))
        {
            return false;
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] == 0                                   // "this" network
                || b[0] == 10                                    // private
                || b[0] == 127                                   // loopback
                || (b[0] == 100 && (b[1] & 0xC0) == 64)          // carrier-grade NAT 100.64/10
                || (b[0] == 169 && b[1] == 254)                  // link-local (cloud metadata)
                || (b[0] == 172 && (b[1] & 0xF0) == 16)          // private 172.16/12
                || (b[0] == 192 && b[1] == 0 && b[2] == 0)       // IETF protocol assignments
                || (b[0] == 192 && b[1] == 168)                  // private
                || (b[0] == 198 && (b[1] & 0xFE) == 18)          // benchmarking 198.18/15
                || b[0] >= 224);                                 // multicast, reserved, broadcast
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(IPAddress.IPv6Any) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal
                || address.IsIPv6Multicast || address.IsIPv6UniqueLocal)
            {
                return false;
            }
            var b = address.GetAddressBytes();
            // NAT64 64:ff9b::/96 embeds an IPv4 address.
            if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0)
            {
                return IsPublic(new IPAddress(b.AsSpan(12, 4)));
            }
            return true;
        }
        return false;
    }
}
