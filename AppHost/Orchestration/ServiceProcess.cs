using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Experiments.AppHost.Orchestration;

/// <summary>One service running as a child process, its output prefixed by its name.</summary>
public sealed partial class ServiceProcess(string name, string assemblyPath, IReadOnlyDictionary<string, string> environment) : IAsyncDisposable
{
    private Process? _process;

    public string Name { get; } = name;

    public bool HasExited => _process is { HasExited: true };

    public int? ExitCode => _process is { HasExited: true } p ? p.ExitCode : null;

    public void Start()
    {
        if (!File.Exists(assemblyPath))
        {
            throw new FileNotFoundException($"{Name}: {assemblyPath} is not built; build the AppHost (dotnet build AppHost).", assemblyPath);
        }

        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(assemblyPath)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(assemblyPath);
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException($"Cannot start {Name}.");
        _process.OutputDataReceived += (_, e) => Forward(e.Data);
        _process.ErrorDataReceived += (_, e) => Forward(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    private void Forward(string? line)
    {
        if (line is not null)
        {
            ConsoleLog.Write(Name, line);
        }
    }

    /// <summary>SIGTERM for a graceful stop, then SIGKILL to the whole tree if it takes too long.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }
        _ = SendSigterm(_process.Id, 15);
        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(10));
        _process?.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSigterm(int pid, int signal);
}
