using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Experiments.Assignment.Tests.Support;

/// <summary>
/// Runs Amplitude's real <c>@amplitude/experiment-node-server</c> (amplitude/, pinned by package-lock.json):
/// <c>npm ci</c> once when node_modules is missing (serialized across processes by a lock file), then evaluate.js.
/// </summary>
public static class AmplitudeNode
{
    private static readonly SemaphoreSlim InstallGate = new(1, 1);

    public static string Directory { get; } = RepositoryRoot.Combine("tests", "Experiments.Assignment.Tests", "amplitude");

    public static async Task<JsonElement> EvaluateAsync(string serverUrl, string deploymentKey, IEnumerable<object> users)
    {
        await EnsureInstalledAsync();
        var usersFile = Path.Combine(Path.GetTempPath(), $"amp-users-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(usersFile, JsonSerializer.Serialize(users));
        try
        {
            var (exitCode, output, error) = await RunAsync("node", ["evaluate.js", serverUrl, deploymentKey, usersFile], TimeSpan.FromSeconds(90));
            if (exitCode != 0)
            {
                throw new InvalidOperationException($"node evaluate.js exited with {exitCode}:\n{output}\n{error}");
            }
            return JsonDocument.Parse(output).RootElement.Clone();
        }
        finally
        {
            File.Delete(usersFile);
        }
    }

    private static async Task EnsureInstalledAsync()
    {
        await InstallGate.WaitAsync();
        try
        {
            var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Directory)))[..16];
            var lockPath = Path.Combine(Path.GetTempPath(), $"experiments-amplitude-npm-{hash}.lock");
            using var fileLock = await AcquireAsync(lockPath, TimeSpan.FromMinutes(5));
            if (File.Exists(Path.Combine(Directory, "node_modules", "@amplitude", "experiment-node-server", "package.json")))
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

    private static async Task<FileStream> AcquireAsync(string path, TimeSpan timeout)
    {
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

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(string fileName, string[] arguments, TimeSpan timeout)
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
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {fileName}.");
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
