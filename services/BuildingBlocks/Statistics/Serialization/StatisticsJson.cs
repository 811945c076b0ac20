using System.Text.Json;
using System.Text.Json.Serialization;

namespace Experiments.Statistics.Serialization;

/// <summary>
/// The wire format of requests and results: snake_case names exactly as STATISTICS.md, enums as
/// snake_case strings, and unknown request fields rejected (a misspelt optional field would
/// otherwise be silently ignored).
/// </summary>
public static class StatisticsJson
{
    public static JsonSerializerOptions Options { get; } = Create(writeIndented: false);

    public static JsonSerializerOptions Indented { get; } = Create(writeIndented: true);

    private static JsonSerializerOptions Create(bool writeIndented)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            WriteIndented = writeIndented,
        };
        options.Converters.Add(new SnakeCaseEnumConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
