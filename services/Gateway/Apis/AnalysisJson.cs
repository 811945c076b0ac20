using System.Globalization;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;

namespace Experiments.Gateway.Apis;

/// <summary>
/// The analysis' typed proto messages as the admin API's snake_case JSON: proto field names, int64 counts as JSON
/// numbers (not the strings of the proto JSON mapping), intervals as <c>[lower, upper]</c> (null for an unbounded
/// side), unset optional fields as null, timestamps as ISO 8601.
/// </summary>
public static class AnalysisJson
{
    public static JsonNode? From(IMessage? message)
    {
        if (message is null)
        {
            return null;
        }
        if (message is Timestamp timestamp)
        {
            return JsonValue.Create(timestamp.ToDateTimeOffset().ToString("O", CultureInfo.InvariantCulture));
        }
        if (message is Contracts.Analysis.V1.Interval interval)
        {
            return new JsonArray(Number(interval.Lower), Number(interval.Upper));
        }
        var json = new JsonObject();
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            var value = field.Accessor.GetValue(message);
            if (field.IsMap)
            {
                var map = new JsonObject();
                foreach (System.Collections.DictionaryEntry entry in (System.Collections.IDictionary)value)
                {
                    map[Convert.ToString(entry.Key, CultureInfo.InvariantCulture)!] = Scalar(field.MessageType.FindFieldByNumber(2), entry.Value);
                }
                json[field.Name] = map;
            }
            else if (field.IsRepeated)
            {
                var array = new JsonArray();
                foreach (var item in (System.Collections.IEnumerable)value)
                {
                    array.Add(Scalar(field, item));
                }
                json[field.Name] = array;
            }
            else if (field.HasPresence && !field.Accessor.HasValue(message))
            {
                json[field.Name] = null;
            }
            else
            {
                json[field.Name] = Scalar(field, value);
            }
        }
        return json;
    }

    private static JsonNode? Scalar(FieldDescriptor field, object? value) => field.FieldType switch
    {
        FieldType.Message => From(value as IMessage),
        FieldType.Double or FieldType.Float => Number(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
        FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 or FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32
            => JsonValue.Create(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
        FieldType.UInt64 or FieldType.Fixed64 or FieldType.UInt32 or FieldType.Fixed32 => JsonValue.Create(Convert.ToUInt64(value, CultureInfo.InvariantCulture)),
        FieldType.Bool => JsonValue.Create((bool)value!),
        FieldType.Enum => JsonValue.Create(value?.ToString()),
        _ => JsonValue.Create(value?.ToString()),
    };

    /// <summary>Infinite or NaN figures have no JSON number: null (an unbounded side of an interval).</summary>
    private static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
}
