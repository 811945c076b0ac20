using System.Text.Json;
using System.Text.Json.Serialization;

namespace Experiments.Statistics.Serialization;

/// <summary>Enums as snake_case strings; an unknown value fails with the list of accepted ones.</summary>
public sealed class SnakeCaseEnumConverter : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert))!;

    private sealed class Converter<TEnum> : JsonConverter<TEnum>
        where TEnum : struct, Enum
    {
        private static readonly (TEnum Value, string Name)[] Names =
            [.. Enum.GetValues<TEnum>().Select(value => (value, JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString())))];

        public override TEnum Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                var text = reader.GetString();
                foreach (var (value, name) in Names)
                {
                    if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase))
                    {
                        return value;
                    }
                }
            }

            throw new JsonException($"must be one of {string.Join(", ", Names.Select(n => n.Name))}");
        }

        public override void Write(Utf8JsonWriter writer, TEnum value, JsonSerializerOptions options)
        {
            foreach (var (candidate, name) in Names)
            {
                if (EqualityComparer<TEnum>.Default.Equals(candidate, value))
                {
                    writer.WriteStringValue(name);
                    return;
                }
            }

            throw new JsonException($"{value} is not a defined {typeof(TEnum).Name}");
        }
    }
}
