using System.Net;
using System.Net.Http.Json;

namespace Experiments.Console.Tests.Scenarios;

/// <summary>
/// The Notifications page in a real browser: a new subscription limited to one experiment with the "Experiment"
/// select is stored with that experiment (the API says so) and listed under its name; one for all experiments is
/// listed as such.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class NotificationsPageTests(ConsolePlatform console)
{
    private LaunchedPlatform Platform => console.Platform;

    [Fact]
    public async Task A_subscription_limited_to_one_experiment_is_stored_and_listed_with_it()
    {
        using var admin = Platform.AdminClient();
        var experimentName = $"Scoped {Guid.NewGuid():N}"[..20];
        var created = await admin.PostAsJsonAsync("/v1/admin/experiments", new { name = experimentName, project_id = LaunchedPlatform.ProjectId })
            .ExpectAsync(HttpStatusCode.Created);
        var experimentId = (string)created["id"]!;
        var scopedName = $"Only {experimentName}";
        var allName = $"Everything {Guid.NewGuid():N}"[..20];

        var page = await console.NewPageAsync();
        await ConsoleSignIn.GotoSignedInAsync(page, "/console/notifications");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Notifications");

        // One experiment, chosen by its name in the select.
        await AddSubscriptionAsync(page, scopedName, experimentName);
        await Expect(page.Locator(".alert-success")).ToBeVisibleAsync();
        var scoped = await SubscriptionAsync(admin, scopedName);
        Assert.Equal(experimentId, (string?)scoped["experiment_id"]);
        var row = page.Locator($"tr[data-subscription='{(string)scoped["id"]!}']");
        await Expect(row).ToContainTextAsync(experimentName);
        var filtered = await admin.GetAsync($"/v1/admin/subscriptions?experiment_id={experimentId}").ExpectAsync(HttpStatusCode.OK);
        Assert.Contains(filtered.AsArray(), s => (string?)s!["name"] == scopedName);

        // All experiments: the select's default.
        await AddSubscriptionAsync(page, allName, null);
        var everything = await SubscriptionAsync(admin, allName);
        Assert.Null((string?)everything["experiment_id"]);
        await Expect(page.Locator($"tr[data-subscription='{(string)everything["id"]!}']")).ToContainTextAsync("All experiments");
        await Screenshots.TakeAsync(page, "11-notifications-subscriptions");

        // Cleaned up through the page.
        foreach (var id in new[] { (string)scoped["id"]!, (string)everything["id"]! })
        {
            await page.Locator($"tr[data-subscription='{id}']").GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
            await Expect(page.Locator($"tr[data-subscription='{id}']")).ToHaveCountAsync(0);
        }
        await page.Context.CloseAsync();
    }

    private static async Task AddSubscriptionAsync(IPage page, string name, string? experimentName)
    {
        var form = page.Locator("[data-card='New subscription']");
        await form.Locator("input[name='Form.Name']").FillAsync(name);
        await form.Locator("select[name='Form.Kind']").SelectOptionAsync("webhook");
        if (experimentName is not null)
        {
            await form.Locator("select[name='Form.ExperimentId']").SelectOptionAsync(new SelectOptionValue { Label = experimentName });
        }
        // A public address (never called: a draft experiment does not end), signed with a secret.
        await form.Locator("input[name='Form.Url']").FillAsync("https://93.184.215.14/hooks/console-test");
        await form.Locator("input[name='Form.Secret']").FillAsync("console-test-secret-0123456789");
        await form.GetByLabel("Ended", new() { Exact = true }).CheckAsync();
        await form.GetByRole(AriaRole.Button, new() { Name = "Add subscription" }).ClickAsync();
        await Expect(page.Locator("tr[data-subscription]", new() { HasText = name })).ToBeVisibleAsync();
    }

    private static async Task<System.Text.Json.Nodes.JsonNode> SubscriptionAsync(HttpClient admin, string name)
    {
        var list = await admin.GetAsync("/v1/admin/subscriptions").ExpectAsync(HttpStatusCode.OK);
        return list.AsArray().Single(s => (string?)s!["name"] == name)!;
    }
}
