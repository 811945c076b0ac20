using Experiments.TestInfrastructure.Platform;
using Microsoft.Playwright;

namespace Experiments.Console.Tests.Browser;

/// <summary>The launched platform (AppHost, real servers, fresh databases) and one headless chromium, shared by the console tests.</summary>
public sealed class ConsolePlatform : IAsyncLifetime
{
    /// <summary>A laptop screen: the console must work down to it.</summary>
    public static readonly ViewportSize Laptop = new() { Width = 1366, Height = 768 };

    private IPlaywright? _playwright;

    public LaunchedPlatform Platform { get; } = new();

    public IBrowser Browser { get; private set; } = null!;

    public Uri Console => new(Platform.Gateway, "/console/");

    public async Task InitializeAsync()
    {
        var chromium = DebianChromium.EnsureInstalledAsync();
        await Platform.InitializeAsync();
        await chromium;
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = DebianChromium.ExecutablePath,
            Args = DebianChromium.Arguments,
            Headless = true,
        });
    }

    /// <summary>A fresh browser context (its own cookies) on a laptop-sized viewport.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = Laptop, BaseURL = Platform.Gateway.ToString() });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        _playwright?.Dispose();
        await Platform.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsolePlatform>
{
    public const string Name = "console over the launched platform";
}
