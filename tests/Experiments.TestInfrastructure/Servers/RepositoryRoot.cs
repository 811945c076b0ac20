namespace Experiments.TestInfrastructure.Servers;

/// <summary>Finds the checkout by walking up from the test assembly to <c>Experiments.sln</c>.</summary>
public static class RepositoryRoot
{
    private static readonly Lazy<string> Root = new(Find);

    public static string Path => Root.Value;

    public static string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Experiments.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException(
            $"Experiments.sln not found in {AppContext.BaseDirectory} or any folder above it.");
    }
}
