using System.Diagnostics;
using System.Text.Json;
using Experiments.TestInfrastructure.Processes;

namespace Experiments.Contracts.Tests.Support;

/// <summary>
/// Runs the grpc-js scripts under interop/ through <see cref="NodeScripts"/> (<c>npm ci</c> once, serialized across
/// processes): the client to completion, or the server, whose port it reads.
/// </summary>
public static class NodeInterop
{
    private static readonly NodeScripts Scripts = new(FindInteropDirectory(), "@grpc/proto-loader");

    /// <summary>Runs <c>node client.js port</c> and parses the one JSON object it prints.</summary>
    public static async Task<JsonElement> RunClientAsync(int port)
    {
        var output = await Scripts.RunAsync("client.js", [port.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(45));
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    /// <summary>Starts <c>node server.js</c>; it exits when the returned handle closes its stdin, or on its own after a while.</summary>
    public static async Task<NodeServer> StartServerAsync()
    {
        var process = await Scripts.StartAsync("server.js", ["90"]);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
                ?? throw new InvalidOperationException($"node server.js exited early: {await process.StandardError.ReadToEndAsync(timeout.Token)}");
            var port = JsonDocument.Parse(line).RootElement.GetProperty("port").GetInt32();
            return new NodeServer(process, port);
        }
        catch
        {
            Kill(process);
            process.Dispose();
            throw;
        }
    }

    internal static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static string FindInteropDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Experiments.Contracts.Tests.csproj")))
            {
                return Path.Combine(directory.FullName, "interop");
            }
        }

        throw new InvalidOperationException($"Could not find the test project's interop/ folder above {AppContext.BaseDirectory}.");
    }
}

/// <summary>A running <c>node server.js</c>; disposing closes its stdin and kills it if it lingers.</summary>
public sealed class NodeServer(Process process, int port) : IAsyncDisposable
{
    public int Port { get; } = port;

    public async ValueTask DisposeAsync()
    {
        try
        {
            process.StandardInput.Close();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            await process.WaitForExitAsync(cts.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            NodeInterop.Kill(process);
        }
        finally
        {
            process.Dispose();
        }
    }
}
