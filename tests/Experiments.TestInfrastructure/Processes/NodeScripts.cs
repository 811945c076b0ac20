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

    private async Task<(int ExitCode, string Output, string Error)> RunProcessAsync(string fileName, string[] arguments, TimeSpan timeout)
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
        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"'{fileName}' is not installed or not on PATH; these tests need node and npm.", ex);
        }
        using (process)
        {
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
