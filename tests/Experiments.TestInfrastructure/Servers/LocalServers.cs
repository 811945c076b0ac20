using System.Diagnostics;
using System.Text;

namespace Experiments.TestInfrastructure.Servers;

/// <summary>
/// The real PostgreSQL, RabbitMQ and ClickHouse of this machine, started (once per process) by
/// <c>deploy/local/servers.sh start</c>. A <c>ConnectionStrings__name</c> variable already set
/// wins: the script leaves that server alone and its value is used as is. On the script's RabbitMQ each test
/// process gets a virtual host of its own (<c>tests-&lt;pid&gt;-&lt;hex&gt;</c>, deleted when the process exits;
/// <c>servers.sh rabbitmq-prune</c> deletes those of processes that were killed), so that its queues and exchanges
/// never meet the platform's (<c>/</c>) or those of a test project running beside it.
/// </summary>
public static class LocalServers
{
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromMinutes(10);
    private static readonly Lazy<Task<ServerConnections>> Started = new(StartAsync);

    public static string ScriptPath => RepositoryRoot.Combine("deploy", "local", "servers.sh");

    /// <summary>Starts the servers if needed (the first call in a process) and returns their connection strings.</summary>
    public static Task<ServerConnections> EnsureStartedAsync() => Started.Value;

    private static async Task<ServerConnections> StartAsync()
    {
        var fromEnvironment = ReadEnvironment();
        if (fromEnvironment.Count < 3)
        {
            await RunScriptAsync("start");
        }

        var printed = ParseExports(await RunScriptAsync("env"));
        string Get(string name) =>
            fromEnvironment.GetValueOrDefault(name)
            ?? printed.GetValueOrDefault(name)
            ?? throw new InvalidOperationException($"servers.sh env printed no ConnectionStrings__{name}.");

        var rabbitMq = Get("rabbitmq");
        if (!fromEnvironment.ContainsKey("rabbitmq") && Environment.IsPrivilegedProcess)
        {
            rabbitMq = await OwnVirtualHostAsync(rabbitMq);
        }
        return new ServerConnections(Get("postgres"), rabbitMq, Get("clickhouse"));
    }

    /// <summary>Adds this process' virtual host and returns the connection string to it; deletes it when the process exits.</summary>
    private static async Task<string> OwnVirtualHostAsync(string connectionString)
    {
        var name = $"tests-{Environment.ProcessId}-{Guid.NewGuid():N}"[..28];
        await RunScriptAsync("rabbitmq-vhost", null, "add", name);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                RunScriptAsync("rabbitmq-vhost", null, "delete", name).Wait(TimeSpan.FromSeconds(20));
            }
            catch (Exception)
            {
                // Left for servers.sh rabbitmq-prune.
            }
        };
        return new UriBuilder(connectionString) { Path = "/" + name }.Uri.ToString();
    }

    private static Dictionary<string, string> ReadEnvironment()
    {
        var result = new Dictionary<string, string>();
        foreach (var name in new[] { "postgres", "rabbitmq", "clickhouse" })
        {
            var value = Environment.GetEnvironmentVariable($"ConnectionStrings__{name}");
            if (!string.IsNullOrEmpty(value))
            {
                result[name] = value;
            }
        }

        return result;
    }

    /// <summary>Parses <c>export ConnectionStrings__name='value'</c> lines (single-quoted, ' written as '\'').</summary>
    internal static Dictionary<string, string> ParseExports(string output)
    {
        const string prefix = "export ConnectionStrings__";
        var result = new Dictionary<string, string>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = line.IndexOf('=');
            if (!line.StartsWith(prefix, StringComparison.Ordinal) || eq < 0)
            {
                continue;
            }

            var name = line[prefix.Length..eq];
            var quoted = line[(eq + 1)..];
            result[name] = quoted.Length >= 2 && quoted[0] == '\'' && quoted[^1] == '\''
                ? quoted[1..^1].Replace("'\\''", "'", StringComparison.Ordinal)
                : quoted;
        }

        return result;
    }

    /// <summary>Runs <c>servers.sh</c>; <paramref name="environment"/> sets (a null value removes) variables of its process.</summary>
    internal static async Task<string> RunScriptAsync(string command, IReadOnlyDictionary<string, string?>? environment = null, params string[] servers)
    {
        var startInfo = new ProcessStartInfo("bash")
        {
            ArgumentList = { ScriptPath, command },
            WorkingDirectory = RepositoryRoot.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var server in servers)
        {
            startInfo.ArgumentList.Add(server);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                startInfo.Environment.Remove(name);
            }
            else
            {
                startInfo.Environment[name] = value;
            }
        }
        using var process = Process.Start(startInfo)
            ?? throw new InvalidOperationException("Could not start bash.");
        process.StandardInput.Close();

        var stderr = new StringBuilder();
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
        };
        process.BeginErrorReadLine();
        var stdout = process.StandardOutput.ReadToEndAsync();

        using var timeout = new CancellationTokenSource(ScriptTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"servers.sh {command} did not finish within {ScriptTimeout}.\n{stderr}");
        }

        var output = await stdout;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"servers.sh {command} failed with exit code {process.ExitCode}.\n{stderr}{output}");
        }

        return output;
    }
}
