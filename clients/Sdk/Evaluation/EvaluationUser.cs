using System.Globalization;
using System.Text.Json;

namespace Experiments.Sdk.Evaluation;

/// <summary>
/// The user as the evaluation engine sees it (Amplitude's evaluation context <c>{user, groups}</c>):
/// <see cref="Properties"/> are <c>context.user.user_properties</c>, <see cref="Groups"/> group type to group name
/// (<c>context.groups.{type}.group_name</c>), <see cref="Fields"/> the other top-level user fields (country,
/// platform, version, ...). Values are strings: numbers as JavaScript prints them, arrays as their JSON text
/// (which the engine reads back as a set, as Amplitude's does).
/// </summary>
public sealed record EvaluationUser(
    string? UserId,
    string? DeviceId = null,
    IReadOnlyDictionary<string, string>? Properties = null,
    IReadOnlyDictionary<string, string>? Groups = null,
    IReadOnlyDictionary<string, string>? Fields = null)
{
    /// <summary>
    /// Reads an Amplitude Experiment user (the JSON SDKs send in <c>X-Amp-Exp-User</c>): <c>user_id</c>,
    /// <c>device_id</c>, <c>user_properties</c>, <c>groups</c> (<c>{"type": ["name"]}</c> or <c>{"type": "name"}</c>)
    /// and every other scalar field. Throws <see cref="FormatException"/> naming the field when the shape is wrong.
    /// </summary>
    public static EvaluationUser FromAmplitudeJson(JsonElement user)
    {
        if (user.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("The user must be a JSON object.");
        }
        string? userId = null, deviceId = null;
        Dictionary<string, string>? properties = null, groups = null, fields = null;
        foreach (var field in user.EnumerateObject())
        {
            switch (field.Name)
            {
                case "user_id":
                    userId = ScalarOrNull(field.Value, "user_id");
                    break;
                case "device_id":
                    deviceId = ScalarOrNull(field.Value, "device_id");
                    break;
                case "user_properties":
                    if (field.Value.ValueKind == JsonValueKind.Null)
                    {
                        break;
                    }
                    if (field.Value.ValueKind != JsonValueKind.Object)
                    {
                        throw new FormatException("'user_properties' must be an object.");
                    }
                    properties = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach (var property in field.Value.EnumerateObject())
                    {
                        if (Coerce(property.Value) is { } value)
                        {
                            properties[property.Name] = value;
                        }
                    }
                    break;
                case "groups":
                    if (field.Value.ValueKind == JsonValueKind.Null)
                    {
                        break;
                    }
                    if (field.Value.ValueKind != JsonValueKind.Object)
                    {
                        throw new FormatException("'groups' must be an object of group type to group names.");
                    }
                    groups = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach (var group in field.Value.EnumerateObject())
                    {
                        var name = group.Value.ValueKind switch
                        {
                            JsonValueKind.Array => group.Value.GetArrayLength() > 0 ? Coerce(group.Value[0]) : null,
                            JsonValueKind.Null => null,
                            JsonValueKind.Object => throw new FormatException($"'groups.{group.Name}' must be a list of group names."),
                            _ => Coerce(group.Value),
                        };
                        if (!string.IsNullOrEmpty(name))
                        {
                            groups[group.Name] = name;
                        }
                    }
                    break;
                case "group_properties" or "group_cohort_ids" or "cohort_ids":
                    break;
                default:
                    if (field.Value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.Null) && Coerce(field.Value) is { } scalar)
                    {
                        (fields ??= new Dictionary<string, string>(StringComparer.Ordinal))[field.Name] = scalar;
                    }
                    break;
            }
        }
        return new EvaluationUser(userId, deviceId, properties, groups, fields);
    }

    private static string? ScalarOrNull(JsonElement value, string field) => value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String or JsonValueKind.Number => Coerce(value),
        _ => throw new FormatException($"'{field}' must be a string."),
    };

    /// <summary>A JSON value as Amplitude's engine coerces it to a string (null stays null).</summary>
    public static string? Coerce(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => JsNumber.ToJsString(value.GetDouble()),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        _ => value.GetRawText(),
    };
}

/// <summary>JavaScript's <c>Number(string)</c> and <c>String(number)</c>, as far as the engine needs them.</summary>
public static class JsNumber
{
    public static double Parse(ReadOnlySpan<char> text)
    {
        text = text.Trim();
        if (text.Length == 0)
        {
            return 0;
        }
        if (text.Length > 2 && text[0] == '0' && (text[1] | 0x20) is 'x' or 'o' or 'b')
        {
            var radix = (text[1] | 0x20) switch { 'x' => 16, 'o' => 8, _ => 2 };
            double result = 0;
            foreach (var c in text[2..])
            {
                var digit = c is >= '0' and <= '9' ? c - '0' : (c | 0x20) is >= 'a' and <= 'f' ? (c | 0x20) - 'a' + 10 : 99;
                if (digit >= radix)
                {
                    return double.NaN;
                }
                result = result * radix + digit;
            }
            return result;
        }
        switch (text)
        {
            case "Infinity" or "+Infinity":
                return double.PositiveInfinity;
            case "-Infinity":
                return double.NegativeInfinity;
        }
        foreach (var c in text)
        {
            if (c is not ((>= '0' and <= '9') or '.' or 'e' or 'E' or '+' or '-'))
            {
                return double.NaN;
            }
        }
        return double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
            CultureInfo.InvariantCulture, out var parsed) ? parsed : double.NaN;
    }

    public static string ToJsString(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }
        if (double.IsInfinity(value))
        {
            return value > 0 ? "Infinity" : "-Infinity";
        }
        if (value == Math.Floor(value) && Math.Abs(value) < 1e21)
        {
            return value == 0 ? "0" : ((decimal)value).ToString(CultureInfo.InvariantCulture);
        }
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        var e = text.IndexOf('E', StringComparison.Ordinal);
        if (e < 0)
        {
            return text;
        }
        var exponent = int.Parse(text.AsSpan(e + 1), CultureInfo.InvariantCulture);
        return exponent is >= -6 and < 21
            ? ((decimal)value).ToString(CultureInfo.InvariantCulture)
            : string.Concat(text.AsSpan(0, e), exponent > 0 ? "e+" : "e", exponent.ToString(CultureInfo.InvariantCulture).TrimStart('+'));
    }
}
