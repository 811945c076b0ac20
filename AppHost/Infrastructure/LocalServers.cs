using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Experiments.AppHost.Infrastructure;

/// <summary>
/// PostgreSQL, RabbitMQ and ClickHouse through <c>deploy/local/servers.sh</c>: servers named by a
/// <c>ConnectionStrings__x</c> variable are the user's own and left alone; the others are installed if
/// missing and started; those this run started are stopped when it ends, those it found running are reused.
/// </summary>
public sealed partial class LocalServers(RepositoryLayout layout)
{
    public static readonly string[] All = ["postgres", "rabbitmq", "clickhouse"];

    private readonly List<string> _startedHere = [];

    public IReadOnlyDictionary<string, string> ConnectionStrings { get; private set; } = new Dictionary<string, string>();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var external = All.Where(n => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable($"ConnectionStrings__{n}"))).ToHashSet();
        var wanted = All.Where(n => !external.Contains(n)).ToArray();
        if (wanted.Length > 0)
        {
            var status = await RunAsync(["status"], cancellationToken);
            var running = StatusLine().Matches(status).Where(m => m.Groups["state"].Value == "running").Select(m => m.Groups["name"].Value).ToHashSet();
            _startedHere.AddRange(wanted.Where(n => !running.Contains(n)));
            await RunAsync(["start", .. wanted], cancellationToken, echo: true);
        }

        var env = await RunAsync(["env"], cancellationToken);
        ConnectionStrings = EnvLine().Matches(env).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["value"].Value.Replace("'\\''", "'", StringComparison.Ordinal));
    }

    public async Task StopWhatWeStartedAsync()
    {
        if (_startedHere.Count > 0)
        {
            await RunAsync(["stop", .. _startedHere], CancellationToken.None, echo: true);
        }
    }

    private async Task<string> RunAsync(string[] args, CancellationToken cancellationToken, bool echo = false)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(layout.ServersScript);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Cannot run bash.");
        var stderr = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
            if (echo)
            {
                ConsoleLog.Write("servers", e.Data);
            }
        };
        process.BeginErrorReadLine();
        var stdout = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"servers.sh {string.Join(' ', args)} failed ({process.ExitCode}):\n{stderr}");
        }
        return stdout;
    }

    [GeneratedRegex(@"^(?<name>\w+)\s+\S+\s+(?<state>\w+)", RegexOptions.Multiline)]
    private static partial Regex StatusLine();

    [GeneratedRegex(@"^export ConnectionStrings__(?<name>\w+)='(?<value>(?:[^']|'\\'')*)'$", RegexOptions.Multiline)]
    private static partial Regex EnvLine();
}
