using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Experiments.Console.Tests.Scenarios;

/// <summary>
/// The console in a real browser over the launched platform: sign in, create an experiment with two variants
/// (after a validation error from the page and one from the API), launch it, send traffic through the SDK path,
/// analyze, read the badges, the chart and the table with the right numbers, then stop it. Screenshots of each page.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ExperimentLifecycleTests(ConsolePlatform console, ITestOutputHelper output)
{
    private LaunchedPlatform Platform => console.Platform;

    [Fact]
    public async Task Owner_creates_launches_analyzes_and_stops_an_experiment_in_the_console()
    {
        var page = await console.NewPageAsync();
        var name = $"Checkout Button Color {Guid.NewGuid():N}"[..30];


        // Sign in (after a wrong key, which the page refuses with the API's reason).
        await page.GotoAsync("/console/experiments");
        await Expect(page).ToHaveURLAsync(new Regex("/console/sign-in"));
        await Screenshots.TakeAsync(page, "01-sign-in");
        await page.GetByLabel("Admin key").FillAsync("not-a-key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.Locator(".field-error[data-field=admin_key]")).ToBeVisibleAsync();
        await ConsoleSignIn.SignInAsync(page);
        await Expect(page).ToHaveURLAsync(new Regex("/console/experiments$"));

        var cookie = (await page.Context.CookiesAsync()).Single(c => c.Name == "experiments_console");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.DoesNotContain(LaunchedPlatform.AdminKey, cookie.Value, StringComparison.Ordinal);

        // New experiment: the page's own validation first (a weight that is not a number, a missing variant name).
        await page.GetByRole(AriaRole.Link, new() { Name = "New experiment" }).First.ClickAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await page.GetByLabel("Hypothesis").FillAsync("A green checkout button makes more people buy, because it stands out from the page.");
        await page.GetByLabel("Primary metric").FillAsync("purchase");
        await page.Locator("input[name='Form.Variants[1].Weight']").FillAsync("lots");
        await page.Locator("input[name='Form.Variants[1].Name']").FillAsync("");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create experiment" }).ClickAsync();
        await Expect(page.Locator(".field-error[data-field='variants[1].traffic_weight']")).ToContainTextAsync("number");
        await Expect(page.Locator(".field-error[data-field='variants[1].name']")).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Name", new() { Exact = true })).ToHaveValueAsync(name);
        await Screenshots.TakeAsync(page, "03-new-experiment-validation");

        await page.Locator("input[name='Form.Variants[1].Name']").FillAsync("treatment");
        await page.Locator("input[name='Form.Variants[1].Weight']").FillAsync("50");
        await Screenshots.TakeAsync(page, "02-new-experiment");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create experiment" }).ClickAsync();

        // Created as a draft: the drawer shows it with its variants and a Launch button.
        await Expect(page.Locator(".alert-success")).ToContainTextAsync("Created");
        var drawer = page.Locator("[data-drawer]");
        await Expect(drawer).ToContainTextAsync(name);
        await Expect(drawer.Locator(".badge", new() { HasText = "Draft" })).ToBeVisibleAsync();
        await Expect(drawer.Locator("tr[data-variant]")).ToHaveCountAsync(2);
        await Expect(drawer.Locator("tr[data-variant=treatment]")).ToContainTextAsync("50%");

        // The API's own validation, shown next to the field: the same name makes the same key.
        await page.GotoAsync("/console/experiments/new");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create experiment" }).ClickAsync();
        await Expect(page.Locator(".field-error[data-field=key]")).ToContainTextAsync("already");
        await Screenshots.TakeAsync(page, "04-new-experiment-api-error");

        // Launch from the drawer.
        var (id, key) = await ExperimentAsync(name);
        await page.GotoAsync($"/console/experiments?view={id}");
        await Screenshots.TakeAsync(page, "05-detail-drawer-draft");
        await page.Locator("[data-drawer]").GetByRole(AriaRole.Button, new() { Name = "Launch" }).ClickAsync();
        await Expect(page.Locator(".alert-success")).ToContainTextAsync("Launched");
        var row = page.Locator($"tr[data-experiment='{key}']");
        await Expect(row.Locator(".badge", new() { HasText = "Running" })).ToBeVisibleAsync();

        // Traffic through the SDK path: 2,400 users assigned, exposed; control converts 1 in 4, treatment 1 in 2.
        var expected = await SdkTraffic.SendAsync(Platform, key, 2400, (variant, i) => variant == "control" ? i % 4 == 0 : i % 2 == 0, "purchase");
        await SdkTraffic.WaitForAnalysisAsync(Platform, id, expected, output);

        // The analysis page: the summary's badges, the charts, and the table with the right numbers.
        await page.GotoAsync($"/console/experiments/{id}/analysis");
        var table = page.Locator("[data-variant-table]").First;
        foreach (var (variant, counts) in expected)
        {
            var cells = table.Locator($"tr[data-variant='{variant}']");
            await Expect(cells.Locator("[data-column=exposures]")).ToHaveTextAsync(counts.Exposures.ToString("N0", CultureInfo.InvariantCulture));
            await Expect(cells.Locator("[data-column=conversions]")).ToHaveTextAsync(counts.Conversions.ToString("N0", CultureInfo.InvariantCulture));
            await Expect(cells.Locator("[data-column=rate]")).ToHaveTextAsync((counts.Rate * 100).ToString("N2", CultureInfo.InvariantCulture) + "%");
        }
        Assert.Contains(",", expected["control"].Exposures.ToString("N0", CultureInfo.InvariantCulture));
        var summary = page.Locator("[data-comparison=treatment]");
        await Expect(summary.Locator(".badge", new() { HasText = "Significant" }).First).ToBeVisibleAsync();
        await Expect(summary.Locator(".badge", new() { HasText = "Above control" })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-recommendation]")).Not.ToBeEmptyAsync();
        await Expect(page.Locator(".analysis-card canvas[data-chart-drawn=true]").First).ToBeVisibleAsync();
        Assert.True(await page.Locator(".analysis-card canvas[data-chart-drawn=true]").CountAsync() >= 2);
        await Expect(page.Locator("[data-card='Data quality']")).ToContainTextAsync("sample ratio mismatch");
        await AssertFitsTheScreenAsync(page);
        await Screenshots.TakeAsync(page, "07-analysis");

        // The settings change the analysis: a t-test at 99%.
        await page.Locator("select[name=confidence]").SelectOptionAsync("99");
        await page.Locator("select[name=test]").SelectOptionAsync("ttest");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(page.Locator(".subtitle")).ToContainTextAsync("99% confidence · t-test test");

        // The list and the drawer once it runs (winner and stat cards), then stop it.
        await page.GotoAsync($"/console/experiments?view={id}");
        await Expect(page.Locator(".stat-card", new() { HasText = "Running" }).Locator(".stat-value")).Not.ToHaveTextAsync("0");
        await AssertFitsTheScreenAsync(page);
        await Screenshots.TakeAsync(page, "06-detail-drawer-running");
        await page.GotoAsync("/console/experiments");
        await Screenshots.TakeAsync(page, "00-experiments");
        await row.GetByRole(AriaRole.Button, new() { Name = "Stop" }).ClickAsync();
        await Expect(page.Locator(".alert-success")).ToContainTextAsync("Stopped");
        await Expect(row.Locator(".badge", new() { HasText = "Stopped" })).ToBeVisibleAsync();
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Stop" })).ToHaveCountAsync(0);

        using var admin = Platform.AdminClient();
        var stopped = await admin.GetAsync($"/v1/admin/experiments/{id}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("stopped", (string?)stopped["status"]);

        // "Winners found" counts stored results only (no analysis per page load): the stop makes the analysis service
        // store the final analysis, and then the card, the row and the drawer show the winner and when it was computed.
        await Eventually.TrueAsync(async () =>
        {
            var stored = await admin.GetAsync($"/v1/admin/experiments/results?experiment_id={id}").ExpectAsync(HttpStatusCode.OK);
            return stored["results"]!.AsArray().Any(r => (string?)r!["winner"] == "treatment");
        }, "the final analysis is stored with the treatment as winner", TimeSpan.FromSeconds(90));
        await page.GotoAsync($"/console/experiments?view={id}");
        var winners = page.Locator(".stat-card", new() { HasText = "Winners found" });
        await Expect(winners.Locator(".stat-value")).Not.ToHaveTextAsync("0");
        await Expect(winners.Locator(".stat-note")).ToContainTextAsync("as of");
        await Expect(row.Locator(".badge", new() { HasText = "Winner: treatment" })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-drawer] .badge", new() { HasText = "Winner: treatment" })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-drawer] [data-result-as-of]")).ToContainTextAsync("as of");

        // Notifications, then sign out: the console is closed again.
        await page.GotoAsync("/console/notifications", new() { Timeout = 45_000 });
        await Expect(page.Locator("h1")).ToHaveTextAsync("Notifications");
        await Screenshots.TakeAsync(page, "08-notifications");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/console/sign-in"));
        await page.GotoAsync("/console/experiments");
        await Expect(page).ToHaveURLAsync(new Regex("/console/sign-in"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Console_forms_refuse_posts_without_the_antiforgery_token_and_pages_need_a_sign_in()
    {
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Platform.Gateway };
        using var page = await anonymous.GetAsync("/console/experiments");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/console/sign-in", page.Headers.Location?.OriginalString, StringComparison.Ordinal);

        using var forged = await anonymous.PostAsync("/console/sign-in", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "sign-in", ["Form.ProjectId"] = LaunchedPlatform.ProjectId, ["Form.AdminKey"] = LaunchedPlatform.AdminKey,
        }));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.DoesNotContain(forged.Headers, h => h.Key == "Set-Cookie" && h.Value.Any(v => v.StartsWith("experiments_console", StringComparison.Ordinal)));
    }

    private async Task<(string Id, string Key)> ExperimentAsync(string name)
    {
        using var admin = Platform.AdminClient();
        var list = await admin.GetAsync($"/v1/admin/experiments?project_id={LaunchedPlatform.ProjectId}").ExpectAsync(HttpStatusCode.OK);
        var experiment = list.AsArray().Single(e => (string?)e!["name"] == name)!;
        return ((string)experiment["id"]!, (string)experiment["key"]!);
    }

    /// <summary>Nothing wider than a laptop screen: no horizontal scrolling of the page.</summary>
    internal static async Task AssertFitsTheScreenAsync(IPage page)
    {
        var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
        Assert.True(overflow <= 0, $"The page is {overflow}px wider than the {ConsolePlatform.Laptop.Width}px screen.");
    }
}
