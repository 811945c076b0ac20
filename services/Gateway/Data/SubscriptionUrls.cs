using System.Net;
using System.Net.Sockets;

namespace Experiments.Gateway.Data;

/// <summary>
/// The subscription-time check of a delivery URL: absolute http(s), no credentials, and (unless
/// <c>Notifications:AllowPrivateNetworks</c>) not a private, loopback or link-local host. It looks at IP literals,
/// <c>localhost</c> and what the name resolves to now; the notifications service checks the addresses again when
/// it connects (DNS may change), which is the check that counts.
/// </summary>
public static class SubscriptionUrls
{
    public static async Task<string?> ProblemAsync(string url, bool allowPrivateNetworks, CancellationToken cancellationToken)
    {
        if (url.Length > 2048)
        {
            return "'url' must be at most 2048 characters.";
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return "'url' must be an absolute http or https URL.";
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "'url' must not carry credentials; use 'secret' to authenticate webhooks.";
        }
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
        return addresses.FirstOrDefault(a => !IsPublic(a)) is { } refused
            ? $"'url' points to {refused}, a private, loopback or link-local address; this deployment doesn't deliver there."
            : null;
    }

    private static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return false;
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.IsIPv6Multicast);
        }
        var b = address.GetAddressBytes();
        return !(b[0] is 0 or 10 or 127 || b[0] >= 224 || (b[0] == 169 && b[1] == 254) || (b[0] == 172 && (b[1] & 0xF0) == 16)
            || (b[0] == 192 && b[1] == 168) || (b[0] == 100 && (b[1] & 0xC0) == 64));
    }
}
