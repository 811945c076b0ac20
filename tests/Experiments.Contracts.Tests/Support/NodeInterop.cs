using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Experiments.Contracts.Tests.Support;

/// <summary>
/// Runs the grpc-js scripts under interop/: installs their packages once with <c>npm ci</c> (serialized across
/// processes by a lock file), runs the client to completion, or starts the server and reads its port.
/// </summary>
public static class NodeInterop
{
    private static readonly SemaphoreSlim InstallGate = new(1, 1);

    public static string Directory { get; } = FindInteropDirectory();

    public static async Task EnsureInstalledAsync()
    {
        await InstallGate.WaitAsync();
        try
        {
            using var fileLock = await AcquireFileLockAsync(TimeSpan.FromMinutes(5));
            if (File.Exists(Path.Combine(Directory, "node_modules", "@grpc", "grpc-js", "package.json"))
                && File.Exists(Path.Combine(Directory, "node_modules", "@grpc", "proto-loader", "package.json")))
            {
                return;
            }

            var (exitCode, output, error) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], TimeSpan.FromMinutes(4));
            if (exitCode != 0)
            {
                throw new InvalidOperationException($"npm ci failed in {Directory} ({exitCode}):\n{output}\n{error}");
            }
        }
        finally
        {
            InstallGate.Release();
        }
    }

    /// <summary>Runs <c>node client.js port</c> and parses the one JSON object it prints.</summary>
    public static async Task<JsonElement> RunClientAsync(int port)
    {
        await EnsureInstalledAsync();
        var (exitCode, output, error) = await RunAsync("node", ["client.js", port.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(45));
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"node client.js exited with {exitCode}:\n{output}\n{error}");
        }

        return JsonDocument.Parse(output).RootElement.Clone();
    }

    /// <summary>Starts <c>node server.js</c>; it exits when the returned handle closes its stdin, or on its own after a while.</summary>
    public static async Task<NodeServer> StartServerAsync()
    {
        await EnsureInstalledAsync();
        var process = Start("node", ["server.js", "90"]);
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

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(string fileName, string[] arguments, TimeSpan timeout)
    {
        using var process = Start(fileName, arguments);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish within {timeout}.");
        }

        return (process.ExitCode, await output, await error);
    }

    private static Process Start(string fileName, string[] arguments)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = Directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        try
        {
            return Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"'{fileName}' is not installed or not on PATH; the grpc-js interop tests need node and npm.", ex);
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

    private static async Task<FileStream> AcquireFileLockAsync(TimeSpan timeout)
    {
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Directory)))[..16];
        var path = Path.Combine(Path.GetTempPath(), $"experiments-grpc-interop-npm-{hash}.lock");
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (stopwatch.Elapsed < timeout)
            {
                await Task.Delay(200);
            }
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
