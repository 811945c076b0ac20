using System.Diagnostics;

namespace Experiments.Console.Tests.Browser;

/// <summary>
/// Debian's chromium at <c>/usr/bin/chromium</c>, installed with apt-get when missing (serialized across test
/// processes with a lock file). Playwright drives it; it never downloads a browser of its own.
/// </summary>
public static class DebianChromium
{
    public const string ExecutablePath = "/usr/bin/chromium";

    public static readonly string[] Arguments =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run",
    ];

    private static readonly SemaphoreSlim InProcess = new(1, 1);

    public static async Task EnsureInstalledAsync()
    {
        if (File.Exists(ExecutablePath))
        {
            return;
        }
        await InProcess.WaitAsync();
        try
        {
            using var crossProcess = await AcquireLockAsync(Path.Combine(Path.GetTempPath(), "experiments-chromium-install.lock"));
            if (File.Exists(ExecutablePath))
            {
                return;
            }
            if (await AptGetAsync("install", "-y", "--no-install-recommends", "chromium") != 0)
            {
                await AptGetAsync("update");
                var code = await AptGetAsync("install", "-y", "--no-install-recommends", "chromium");
                if (code != 0 || !File.Exists(ExecutablePath))
                {
                    throw new InvalidOperationException($"apt-get install chromium exited with {code}; install it with 'apt-get install -y chromium'.");
                }
            }
        }
        finally
        {
            InProcess.Release();
        }
    }

    private static async Task<FileStream> AcquireLockAsync(string path)
    {
        var deadline = DateTime.UtcNow.AddMinutes(10);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(1000);
            }
        }
    }

    private static async Task<int> AptGetAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("apt-get") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        await Task.WhenAll(output, error);
        return process.ExitCode;
    }
}
