namespace Experiments.Console.Tests.Browser;

/// <summary>Signing in on the console's sign-in page with the launched platform's project and admin key.</summary>
public static class ConsoleSignIn
{
    public static async Task SignInAsync(IPage page)
    {
        await page.GetByLabel("Project").FillAsync(LaunchedPlatform.ProjectId);
        await page.GetByLabel("Admin key").FillAsync(LaunchedPlatform.AdminKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    /// <summary>Opens <paramref name="path"/>, signing in on the way when the console asks for it.</summary>
    public static async Task GotoSignedInAsync(IPage page, string path)
    {
        await page.GotoAsync(path);
        if (page.Url.Contains("/console/sign-in", StringComparison.Ordinal))
        {
            await SignInAsync(page);
            await page.WaitForURLAsync(url => !url.Contains("/console/sign-in", StringComparison.Ordinal));
            if (!page.Url.Contains(path.Split('?')[0], StringComparison.Ordinal))
            {
                await page.GotoAsync(path);
            }
        }
    }
}
