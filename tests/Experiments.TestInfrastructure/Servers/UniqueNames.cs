using System.Text;

namespace Experiments.TestInfrastructure.Servers;

/// <summary>Unique, lower-case, identifier-safe database names, so test classes never share data.</summary>
public static class UniqueNames
{
    /// <summary>
    /// <c>t_{prefix}_{12 hex}</c>: letters, digits and underscores only, at most 63 characters
    /// (PostgreSQL's limit), valid unquoted in PostgreSQL and ClickHouse.
    /// </summary>
    public static string Database(string? prefix = null)
    {
        var clean = new StringBuilder();
        foreach (var c in (prefix ?? "test").ToLowerInvariant())
        {
            clean.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        }

        var head = clean.Length > 40 ? clean.ToString(0, 40) : clean.ToString();
        return $"t_{head}_{Guid.NewGuid():N}"[..(2 + head.Length + 1 + 12)];
    }

    /// <summary>A unique ClickHouse database name for a test class (create it with the ClickHouse client).</summary>
    public static string ClickHouseDatabase<TTestClass>() => Database(typeof(TTestClass).Name);
}
