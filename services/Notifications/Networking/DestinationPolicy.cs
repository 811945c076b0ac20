using System.Net;
using System.Net.Sockets;
using Experiments.Messaging.Webhooks;

namespace Experiments.Notifications.Networking;

/// <summary>A delivery was refused because its URL or the addresses it resolves to are not allowed.</summary>
public sealed class DestinationRefusedException(string message) : Exception(message);

/// <summary>
/// Which destinations deliveries may reach: http(s) only, and (unless <c>Notifications:AllowPrivateNetworks</c>)
/// no private, loopback, link-local, unspecified or multicast address. The check runs on the addresses the
/// connection actually uses (<see cref="ConnectAsync"/> is the handler's ConnectCallback), so a name that
/// resolved to a public address when the subscription was made and to 127.0.0.1 now (DNS rebinding) is refused.
/// The URL rule and the address classification are <see cref="WebhookDestinations"/>, shared with the gateway's
/// subscription-time check.
/// </summary>
public sealed class DestinationPolicy(bool allowPrivateNetworks)
{
    public bool AllowPrivateNetworks { get; } = allowPrivateNetworks;

    /// <summary>The URL as an absolute http(s) URI without credentials, or a refusal.</summary>
    public static Uri ParseUrl(string url) => WebhookDestinations.CheckUrl(url, out var uri) switch
    {
        WebhookUrlProblem.None => uri!,
        WebhookUrlProblem.Credentials => throw new DestinationRefusedException("URLs with credentials are not delivered to."),
        _ => throw new DestinationRefusedException("Only absolute http and https URLs are delivered to."),
    };

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

    /// <summary>True for globally routable unicast addresses (<see cref="WebhookDestinations.IsPublic"/>).</summary>
    public static bool IsPublic(IPAddress address) => WebhookDestinations.IsPublic(address);
}
