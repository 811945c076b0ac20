using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Xunit.Abstractions;

namespace Experiments.Console.Tests.Scenarios;

/// <summary>
/// The analysis page's filter card in a real browser: a group-by property adds a section per value whose numbers are
/// exactly those of its users, a property filter with a numeric operator narrows every number to the users it
/// names, and a value of the wrong kind is refused next to the filter.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class AnalysisFiltersTests(ConsolePlatform console, ITestOutputHelper output)
{
    private const int Users = 900;

    private LaunchedPlatform Platform => console.Platform;

    private static string Plan(int i) => i % 3 == 0 ? "pro" : "free";

    private static int Age(int i) => 18 + (i % 40);

    [Fact]
    public async Task Group_by_and_a_property_filter_chosen_in_the_page_change_the_numbers_exactly()
    {
        var (id, key) = await LaunchedExperimentAsync($"Filters {Guid.NewGuid():N}"[..20]);
        var sent = new List<(string Variant, bool Converted)>();
        var all = await SdkTraffic.SendAsync(Platform, key, Users, (variant, i) => variant == "control" ? i % 4 == 0 : i % 2 == 0, "purchase",
            i => new Dictionary<string, string> { ["plan"] = Plan(i), ["age"] = Age(i).ToString(CultureInfo.InvariantCulture) }, sent);
        await SdkTraffic.WaitForAnalysisAsync(Platform, id, all, output);

        var page = await console.NewPageAsync();
        await ConsoleSignIn.GotoSignedInAsync(page, $"/console/experiments/{id}/analysis");
        await Expect(page.Locator("[data-card=Filter]")).ToBeVisibleAsync();

        // Group by plan: a row and a section per plan, each with its own users' numbers.
        await page.Locator("input[name=group_by]").FillAsync("plan");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(page.Locator("[data-card='Results by plan']")).ToBeVisibleAsync();
        foreach (var plan in new[] { "pro", "free" })
        {
            var users = SdkTraffic.Count(sent, i => Plan(i) == plan);
            await Expect(page.Locator($"[data-group-summary] tr[data-group='{plan}'] [data-column=exposures]"))
                .ToHaveTextAsync(Count(users.Values.Sum(u => u.Exposures)));
            await AssertTableAsync(page.Locator($"section[data-group='{plan}'] [data-variant-table]").First, users);
        }
        // The overall cards stay those of every user.
        await AssertTableAsync(page.Locator(".analysis-card [data-variant-table]").First, all);
        await ExperimentLifecycleTests.AssertFitsTheScreenAsync(page);
        await Screenshots.TakeAsync(page, "09-analysis-group-by");

        // A numeric filter: age less than 30 (users 18-29), without the group-by.
        await page.Locator("input[name=group_by]").FillAsync("");
        await page.Locator("input[name=property]").FillAsync("age");
        await page.Locator("select[name=op]").SelectOptionAsync("less");
        await page.Locator("input[name=values]").FillAsync("30");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(page.Locator("select[name=op]")).ToHaveValueAsync("less");
        var young = SdkTraffic.Count(sent, i => Age(i) < 30);
        await AssertTableAsync(page.Locator(".analysis-card [data-variant-table]").First, young);
        await Expect(page.Locator("[data-card='Results by plan']")).ToHaveCountAsync(0);
        await Screenshots.TakeAsync(page, "10-analysis-property-filter");

        // Both: pro users only (starts with), grouped by plan: one group.
        await page.Locator("input[name=property]").FillAsync("plan");
        await page.Locator("select[name=op]").SelectOptionAsync("starts with");
        await page.Locator("input[name=values]").FillAsync("pr");
        await page.Locator("input[name=group_by]").FillAsync("plan");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        var pro = SdkTraffic.Count(sent, i => Plan(i) == "pro");
        await AssertTableAsync(page.Locator(".analysis-card [data-variant-table]").First, pro);
        await Expect(page.Locator("[data-group-summary] tr[data-group='pro'] [data-column=exposures]")).ToHaveTextAsync(Count(pro.Values.Sum(u => u.Exposures)));
        await AssertTableAsync(page.Locator("section[data-group='pro'] [data-variant-table]").First, pro);
        // The analysis may list the filtered-out plan as a group without users: the page gives it no section.
        await Expect(page.Locator("section[data-group='free']")).ToHaveCountAsync(0);

        // A value of the wrong kind for the operator is refused next to the filter, before any analysis.
        await page.Locator("input[name=group_by]").FillAsync("");
        await page.Locator("input[name=property]").FillAsync("age");
        await page.Locator("select[name=op]").SelectOptionAsync("greater or equal");
        await page.Locator("input[name=values]").FillAsync("thirty");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(page.Locator("[data-card=Filter] .field-error")).ToContainTextAsync("not a number");
        await Expect(page.Locator(".analysis-card")).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    private static async Task AssertTableAsync(ILocator table, IReadOnlyDictionary<string, SdkTraffic.Expected> expected)
    {
        await Expect(table.Locator("tbody tr[data-variant]")).ToHaveCountAsync(expected.Count);
        foreach (var (variant, counts) in expected)
        {
            var row = table.Locator($"tr[data-variant='{variant}']");
            await Expect(row.Locator("[data-column=exposures]")).ToHaveTextAsync(Count(counts.Exposures));
            await Expect(row.Locator("[data-column=conversions]")).ToHaveTextAsync(Count(counts.Conversions));
            await Expect(row.Locator("[data-column=rate]")).ToHaveTextAsync((counts.Rate * 100).ToString("N2", CultureInfo.InvariantCulture) + "%");
        }
    }

    private static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private async Task<(string Id, string Key)> LaunchedExperimentAsync(string name)
    {
        using var admin = Platform.AdminClient();
        var created = await admin.PostAsJsonAsync("/v1/admin/experiments",
            new { name, project_id = LaunchedPlatform.ProjectId, primary_metric = new { event_type = "purchase" } }).ExpectAsync(HttpStatusCode.Created);
        var id = (string)created["id"]!;
        foreach (var variant in new[] { "control", "treatment" })
        {
            await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/variants", new { name = variant, key = variant, traffic_weight = 1 }).ExpectAsync(HttpStatusCode.Created);
        }
        await admin.PostAsync($"/v1/admin/experiments/{id}/launch", null).ExpectAsync(HttpStatusCode.OK);
        return (id, (string)created["key"]!);
    }
}
