using System.Text.Json;
using System.Text.Json.Serialization;
using Experiments.Statistics.Contracts;

namespace Experiments.Statistics.Serialization;

/// <summary>Writes an interval as the two-element array <c>[lower, upper]</c> (null for an unbounded side).</summary>
public sealed class IntervalJsonConverter : JsonConverter<Interval>
{
    public override Interval Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("an interval must be an array [lower, upper]");
        }

        var lower = ReadBound(ref reader);
        var upper = ReadBound(ref reader);
        if (!reader.Read() || reader.TokenType != JsonTokenType.EndArray)
        {
            throw new JsonException("an interval must have exactly two bounds");
        }

        return new Interval(lower, upper);
    }

    public override void Write(Utf8JsonWriter writer, Interval value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        WriteBound(writer, value.Lower);
        WriteBound(writer, value.Upper);
        writer.WriteEndArray();
    }

    private static double? ReadBound(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException("an interval must have exactly two bounds");
        }

        return reader.TokenType switch
        {
            JsonTokenType.Null => null,
            JsonTokenType.Number => reader.GetDouble(),
            _ => throw new JsonException("an interval bound must be a number or null"),
        };
    }

    private static void WriteBound(Utf8JsonWriter writer, double? bound)
    {
        if (bound is { } value && double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}
