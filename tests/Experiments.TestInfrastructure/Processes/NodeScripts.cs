using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Experiments.TestInfrastructure.Processes;

/// <summary>
/// Node scripts that tests run against our services (a real npm client library): installs the folder's packages
/// once with <c>npm ci</c> from its committed package-lock.json when node_modules is missing (serialized across
/// test processes by a lock file), then runs a script to completion.
/// </summary>
public sealed class NodeScripts(string directory, string markerPackage)
{
    private static readonly SemaphoreSlim InstallGate = new(1, 1);

    public string Directory { get; } = directory;

    public async Task EnsureInstalledAsync()
    {
        await InstallGate.WaitAsync();
        try
        {
            using var fileLock = await AcquireFileLockAsync(TimeSpan.FromMinutes(5));
            if (File.Exists(Path.Combine(Directory, "node_modules", markerPackage, "package.json")))
            {
                return;
            }
            var (exitCode, output, error) = await RunProcessAsync("npm", ["ci", "--no-audit", "--no-fund"], TimeSpan.FromMinutes(4));
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

    /// <summary>Runs <c>node script args...</c> and returns its standard output; throws when it fails.</summary>
    public async Task<string> RunAsync(string script, IEnumerable<string> arguments, TimeSpan timeout)
    {
        await EnsureInstalledAsync();
        var (exitCode, output, error) = await RunProcessAsync("node", [script, .. arguments], timeout);
        return exitCode == 0 ? output : throw new InvalidOperationException($"node {script} exited with {exitCode}:\n{output}\n{error}");
    }

    /// <summary>Starts <c>node script args...</c> and leaves it running (stdin, stdout and stderr redirected); the caller owns it.</summary>
    public async Task<Process> StartAsync(string script, IEnumerable<string> arguments)
    {
        await EnsureInstalledAsync();
        return StartProcess("node", [script, .. arguments]);
    }

    private async Task<(int ExitCode, string Output, string Error)> RunProcessAsync(string fileName, string[] arguments, TimeSpan timeout)
    {
        using var process = StartProcess(fileName, arguments);
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
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish within {timeout}.");
        }
        return (process.ExitCode, await output, await error);
    }

    private Process StartProcess(string fileName, string[] arguments)
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
            throw new InvalidOperationException($"'{fileName}' is not installed or not on PATH; these tests need node and npm.", ex);
        }
    }

    private async Task<FileStream> AcquireFileLockAsync(TimeSpan timeout)
    {
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Directory)))[..16];
        var path = Path.Combine(Path.GetTempPath(), $"experiments-npm-{hash}.lock");
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
}
