using System.Reflection;
using System.Text.RegularExpressions;

namespace Experiments.Postgres;

/// <summary>One versioned migration: <c>Migrations/0001_create_experiments.sql</c> embedded in a service.</summary>
public sealed partial record MigrationScript(int Version, string Name, string Sql)
{
    [GeneratedRegex(@"(?:^|\.)Migrations\.(?<version>\d{4})_(?<name>[A-Za-z0-9_]+)\.sql$")]
    private static partial Regex ResourceName();

    public static IReadOnlyList<MigrationScript> LoadEmbedded(Assembly assembly)
    {
        var scripts = new List<MigrationScript>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var match = ResourceName().Match(resource);
            if (!match.Success)
            {
                continue;
            }
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            scripts.Add(new MigrationScript(int.Parse(match.Groups["version"].Value, System.Globalization.CultureInfo.InvariantCulture),
                match.Groups["name"].Value, reader.ReadToEnd()));
        }

        var duplicate = scripts.GroupBy(s => s.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two migrations share version {duplicate.Key} in {assembly.GetName().Name}.");
        }
        return scripts.OrderBy(s => s.Version).ToList();
    }
}
