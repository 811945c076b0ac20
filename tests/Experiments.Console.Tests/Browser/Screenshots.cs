using Experiments.TestInfrastructure.Servers;
using Microsoft.Playwright;

namespace Experiments.Console.Tests.Browser;

/// <summary>
/// Full-page screenshots of each console page, written under the test output (<c>screenshots/</c>) and, when
/// <c>CONSOLE_SCREENSHOTS=docs</c>, into <c>docs/console/</c> (the current set kept in the repository).
/// </summary>
public static class Screenshots
{
    public static string OutputFolder { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public static async Task TakeAsync(IPage page, string name)
    {
        await page.EvaluateAsync("() => document.fonts.ready");
        var bytes = await page.ScreenshotAsync(new PageScreenshotOptions { FullPage = true });
        Directory.CreateDirectory(OutputFolder);
        await File.WriteAllBytesAsync(Path.Combine(OutputFolder, name + ".png"), bytes);
        if (Environment.GetEnvironmentVariable("CONSOLE_SCREENSHOTS") == "docs")
        {
            var docs = RepositoryRoot.Combine("docs", "console");
            Directory.CreateDirectory(docs);
            await File.WriteAllBytesAsync(Path.Combine(docs, name + ".png"), bytes);
        }
    }
}
