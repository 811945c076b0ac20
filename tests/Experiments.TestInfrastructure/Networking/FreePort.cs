using System.Net;
using System.Net.Sockets;

namespace Experiments.TestInfrastructure.Networking;

/// <summary>Free TCP ports on the loopback interface, for services started by a test.</summary>
public static class FreePort
{
    /// <summary>
    /// A port the OS just handed out on 127.0.0.1. Another process could take it before the caller
    /// binds it, so bind it soon.
    /// </summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
