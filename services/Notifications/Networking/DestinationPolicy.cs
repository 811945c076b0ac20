using System.Net;
using System.Net.Sockets;

namespace Experiments.Notifications.Networking;

/// <summary>A delivery was refused because its URL or the addresses it resolves to are not allowed.</summary>
public sealed class DestinationRefusedException(string message) : Exception(message);

/// <summary>
/// Which destinations deliveries may reach: http(s) only, and (unless <c>Notifications:AllowPrivateNetworks</c>)
/// no private, loopback, link-local, unspecified or multicast address. The check runs on the addresses the
/// connection actually uses (<see cref="ConnectAsync"/> is the handler's ConnectCallback), so a name that
/// resolved to a public address when the subscription was made and to 127.0.0.1 now (DNS rebinding) is refused.
/// </summary>
public sealed class DestinationPolicy(bool allowPrivateNetworks)
{
    public bool AllowPrivateNetworks { get; } = allowPrivateNetworks;

    /// <summary>The URL as an absolute http(s) URI without credentials, or a refusal.</summary>
    public static Uri ParseUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new DestinationRefusedException("Only absolute http and https URLs are delivered to.");
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            throw new DestinationRefusedException("URLs with credentials are not delivered to.");
        }
        return uri;
    }

    /// <summary>Connects to the first allowed address of the host; refuses when any resolved address is not allowed.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new DestinationRefusedException($"'{host}' resolves to no address.");
        }
        if (!AllowPrivateNetworks && addresses.FirstOrDefault(a => !IsPublic(a)) is { } refused)
        {
            throw new DestinationRefusedException(
                $"'{host}' resolves to {refused}, a private, loopback or link-local address; deliveries there are refused (Notifications:AllowPrivateNetworks).");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>True for globally routable unicast addresses.</summary>
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
