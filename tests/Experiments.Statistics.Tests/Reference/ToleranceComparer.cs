using System.Text.Json;

namespace Experiments.Statistics.Tests.Reference;

/// <summary>
/// Compares an expected JSON value with an actual one: every expected field must be present; numbers
/// within |a − e| ≤ abs + rel·|e| (probability_best within its own absolute tolerance); nulls, booleans
/// and strings exactly. Returns every mismatch, with its path, so a failure shows them all at once.
/// </summary>
public sealed class ToleranceComparer(double relative, double absolute, double probabilityBestAbsolute)
{
    public static ToleranceComparer FromReference()
    {
        var tolerance = ReferenceCases.Tolerance;
        return new ToleranceComparer(
            tolerance.GetProperty("relative").GetDouble(),
            tolerance.GetProperty("absolute").GetDouble(),
            tolerance.GetProperty("probability_best_absolute").GetDouble());
    }

    public IReadOnlyList<string> Compare(JsonElement expected, JsonElement actual)
    {
        var mismatches = new List<string>();
        Compare(expected, actual, "$", probabilityBest: false, mismatches);
        return mismatches;
    }

    private void Compare(JsonElement expected, JsonElement actual, string path, bool probabilityBest, List<string> mismatches)
    {
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                if (actual.ValueKind != JsonValueKind.Object)
                {
                    mismatches.Add($"{path}: expected an object, got {actual.ValueKind}");
                    return;
                }

                foreach (var property in expected.EnumerateObject())
                {
                    if (!actual.TryGetProperty(property.Name, out var value))
                    {
                        mismatches.Add($"{path}.{property.Name}: missing");
                        continue;
                    }

                    Compare(property.Value, value, $"{path}.{property.Name}", probabilityBest || property.Name == "probability_best", mismatches);
                }

                break;

            case JsonValueKind.Array:
                if (actual.ValueKind != JsonValueKind.Array || actual.GetArrayLength() != expected.GetArrayLength())
                {
                    mismatches.Add($"{path}: expected an array of {expected.GetArrayLength()}, got {actual}");
                    return;
                }

                for (var i = 0; i < expected.GetArrayLength(); i++)
                {
                    Compare(expected[i], actual[i], $"{path}[{i}]", probabilityBest, mismatches);
                }

                break;

            case JsonValueKind.Number:
                if (actual.ValueKind != JsonValueKind.Number)
                {
                    mismatches.Add($"{path}: expected {expected.GetDouble():R}, got {actual}");
                    return;
                }

                var e = expected.GetDouble();
                var a = actual.GetDouble();
                var limit = probabilityBest ? probabilityBestAbsolute : absolute + relative * Math.Abs(e);
                if (!(Math.Abs(a - e) <= limit))
                {
                    mismatches.Add($"{path}: expected {e:R}, got {a:R} (|diff| {Math.Abs(a - e):E3} > {limit:E3})");
                }

                break;

            default:
                if (expected.ValueKind != actual.ValueKind || expected.ToString() != actual.ToString())
                {
                    mismatches.Add($"{path}: expected {expected}, got {actual}");
                }

                break;
        }
    }
}
