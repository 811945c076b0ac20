using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Experiments.Gateway.Console.Services;

/// <summary>
/// Where the console reaches the gateway's own admin API: <c>Console:ApiBaseAddress</c> when set, else the gateway's
/// own entry in Aspire's service discovery (<c>services:gateway:http:0</c>), else the first address Kestrel listens on.
/// </summary>
public sealed class GatewayAddress(IConfiguration configuration, IServer server)
{
    public Uri Resolve()
    {
        var configured = configuration["Console:ApiBaseAddress"] ?? configuration["services:gateway:http:0"];
        if (!string.IsNullOrEmpty(configured))
        {
            return new Uri(configured);
        }
        var listening = server.Features.Get<IServerAddressesFeature>()?.Addresses
            .OrderBy(a => a.StartsWith("https", StringComparison.OrdinalIgnoreCase) ? 1 : 0)
            .FirstOrDefault()
            ?? throw new InvalidOperationException("The gateway listens on no address the console could call; set Console:ApiBaseAddress.");
        var uri = new UriBuilder(listening.Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal));
        if (uri.Host is "0.0.0.0" or "[::]" or "::")
        {
            uri.Host = "127.0.0.1";
        }
        return uri.Uri;
    }
}
