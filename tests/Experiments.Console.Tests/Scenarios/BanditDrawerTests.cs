using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Xunit.Abstractions;

namespace Experiments.Console.Tests.Scenarios;

/// <summary>
/// The Experiments page's drawer of a bandit in a real browser: Thompson α = 1 + conversions and β = 1 + exposures −
/// conversions come from the stored latest result's per-variant figures (the final analysis stored at the stop), not
/// from an analysis run for the page.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class BanditDrawerTests(ConsolePlatform console, ITestOutputHelper output)
{
    private LaunchedPlatform Platform => console.Platform;

    [Fact]
    public async Task A_bandits_drawer_shows_alpha_and_beta_from_the_stored_result()
    {
        using var admin = Platform.AdminClient();
        var created = await admin.PostAsJsonAsync("/v1/admin/experiments", new
        {
            name = $"Bandit drawer {Guid.NewGuid():N}"[..24], project_id = LaunchedPlatform.ProjectId, bandit_enabled = true,
            primary_metric = new { event_type = "purchase" },
        }).ExpectAsync(HttpStatusCode.Created);
        var id = (string)created["id"]!;
        var key = (string)created["key"]!;
        Assert.True((bool)created["bandit_enabled"]!);
        foreach (var variant in new[] { "control", "treatment" })
        {
            await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/variants", new { name = variant, key = variant, traffic_weight = 1 }).ExpectAsync(HttpStatusCode.Created);
        }
        await admin.PostAsync($"/v1/admin/experiments/{id}/launch", null).ExpectAsync(HttpStatusCode.OK);
        var expected = await SdkTraffic.SendAsync(Platform, key, 600, (variant, i) => variant == "control" ? i % 5 == 0 : i % 3 == 0, "purchase");
        await SdkTraffic.WaitForAnalysisAsync(Platform, id, expected, output);

        // The stop makes the analysis service store the final analysis with the primary metric's per-variant figures.
        await admin.PostAsync($"/v1/admin/experiments/{id}/stop", null).ExpectAsync(HttpStatusCode.OK);
        await Eventually.TrueAsync(async () =>
        {
            var stored = await admin.GetAsync($"/v1/admin/experiments/results?experiment_id={id}").ExpectAsync(HttpStatusCode.OK);
            return stored["results"]!.AsArray().SingleOrDefault() is { } result && (bool)result["verdict_stored"]!
                && result["variants"]!.AsArray().All(v => expected.TryGetValue((string)v!["key"]!, out var e)
                    && (long)v["exposures"]! == e.Exposures && (long)v["conversions"]! == e.Conversions);
        }, "the final analysis is stored with every variant's exposures and conversions", TimeSpan.FromSeconds(90));

        var page = await console.NewPageAsync();
        await ConsoleSignIn.GotoSignedInAsync(page, $"/console/experiments?view={id}");
        var drawer = page.Locator("[data-drawer]");
        await Expect(drawer.Locator(".badge", new() { HasText = "Bandit" })).ToBeVisibleAsync();
        foreach (var (variant, counts) in expected)
        {
            var cells = drawer.Locator($"tr[data-variant='{variant}'] td.num");
            await Expect(cells.Nth(1)).ToHaveTextAsync(Count(1 + counts.Conversions));
            await Expect(cells.Nth(2)).ToHaveTextAsync(Count(1 + counts.Exposures - counts.Conversions));
        }
        await Expect(drawer.Locator("[data-thompson-source]")).ToContainTextAsync("from the latest stored analysis (as of");
        await Screenshots.TakeAsync(page, "12-bandit-drawer");
        await page.Context.CloseAsync();
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
