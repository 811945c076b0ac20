namespace Experiments.AppHost.Infrastructure;

/// <summary>Where things are in the checkout the AppHost was built from.</summary>
public sealed class RepositoryLayout(string root)
{
    public string Root { get; } = root;

    public string ServersScript => Path.Combine(Root, "deploy", "local", "servers.sh");

    public static RepositoryLayout Locate()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Experiments.sln")))
                {
                    return new RepositoryLayout(dir.FullName);
                }
            }
        }
        throw new InvalidOperationException("Cannot find the repository (Experiments.sln) above the AppHost.");
    }

    /// <summary>The built assembly of a service, in the same configuration as the AppHost.</summary>
    public string ServiceAssembly(string project, string configuration)
        => Path.Combine(Root, "services", project, "bin", configuration, "net10.0", $"Experiments.{project}.dll");
}
