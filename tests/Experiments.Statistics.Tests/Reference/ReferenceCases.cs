using System.Text.Json;

namespace Experiments.Statistics.Tests.Reference;

/// <summary>
/// shared/reference/stats-cases.json, found beside the repository: walk up from the test binaries
/// to the folder holding Experiments.sln, then ../shared/reference (CI lays shared/ out the same way).
/// </summary>
public static class ReferenceCases
{
    private static readonly Lazy<JsonDocument> Document = new(Load);

    public static JsonElement Root => Document.Value.RootElement;

    public static JsonElement Tolerance => Root.GetProperty("tolerance");

    public static IEnumerable<JsonElement> Analyze => Root.GetProperty("analyze").EnumerateArray();

    public static IEnumerable<JsonElement> SampleSize => Root.GetProperty("sample_size").EnumerateArray();

    public static TheoryData<string> AnalyzeNames => Names("analyze");

    public static TheoryData<string> SampleSizeNames => Names("sample_size");

    public static JsonElement Find(string section, string name) =>
        Root.GetProperty(section).EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    public static string FilePath
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Experiments.sln")))
            {
                directory = directory.Parent;
            }

            if (directory is null)
            {
                throw new InvalidOperationException(
                    $"Could not find Experiments.sln above {AppContext.BaseDirectory}; the reference cases live in ../shared/reference/stats-cases.json beside the repository.");
            }

            return Path.GetFullPath(Path.Combine(directory.FullName, "..", "shared", "reference", "stats-cases.json"));
        }
    }

    private static TheoryData<string> Names(string section)
    {
        var data = new TheoryData<string>();
        foreach (var item in Root.GetProperty(section).EnumerateArray())
        {
            data.Add(item.GetProperty("name").GetString()!);
        }

        return data;
    }

    private static JsonDocument Load()
    {
        var path = FilePath;
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"The statistics reference cases are missing: expected {path} (shared/reference/stats-cases.json beside the repository clone).", path);
        }

        return JsonDocument.Parse(File.ReadAllText(path));
    }
}
