using System.Collections;
using System.Globalization;
using System.Text;

namespace Experiments.ClickHouse;

/// <summary>
/// Renders .NET values as ClickHouse SQL literals that mean exactly that value, on 18.16 and on
/// current servers: strings quoted with backslash escapes, numbers in invariant culture, times as
/// <c>toDateTime('...', 'UTC')</c>, arrays as <c>[...]</c>, <c>NULL</c> for null.
/// </summary>
public static class ClickHouseLiteral
{
    public static string Render(object? value)
    {
        var builder = new StringBuilder();
        Append(builder, value);
        return builder.ToString();
    }

    public static void Append<T>(StringBuilder builder, T value)
    {
        switch (value)
        {
            case null:
                builder.Append("NULL");
                break;
            case string text:
                AppendString(builder, text);
                break;
            case char c:
                AppendString(builder, c.ToString());
                break;
            case bool b:
                builder.Append(b ? '1' : '0');
                break;
            case sbyte or byte or short or ushort or int or uint or long or ulong or Int128 or UInt128 or decimal:
                builder.Append(((IFormattable)value).ToString(null, CultureInfo.InvariantCulture));
                break;
            case double d:
                AppendFloat(builder, d, d.ToString("R", CultureInfo.InvariantCulture));
                break;
            case float f:
                AppendFloat(builder, f, f.ToString("R", CultureInfo.InvariantCulture));
                break;
            case DateTime dateTime:
                AppendDateTime(builder, dateTime);
                break;
            case DateTimeOffset offset:
                AppendDateTime(builder, offset.UtcDateTime);
                break;
            case DateOnly date:
                builder.Append("toDate('").Append(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append("')");
                break;
            case Guid guid:
                builder.Append("toUUID('").Append(guid.ToString("D")).Append("')");
                break;
            case ClickHouseIdentifier identifier:
                identifier.AppendTo(builder);
                break;
            case ClickHouseSql fragment:
                builder.Append(fragment.Text);
                break;
            case Enum:
                throw new ArgumentException(
                    $"Enum {value.GetType().Name}: pass its name (ToString()) or its number explicitly.", nameof(value));
            case IEnumerable items:
                AppendArray(builder, items);
                break;
            default:
                throw new ArgumentException($"No ClickHouse literal for values of type {value.GetType()}.", nameof(value));
        }
    }

    /// <summary>A quoted string literal; every character that could end or alter it is escaped.</summary>
    public static void AppendString(StringBuilder builder, string text)
    {
        builder.Append('\'');
        foreach (var c in text)
        {
            switch (c)
            {
                case '\\': builder.Append(@"\\"); break;
                case '\'': builder.Append(@"\'"); break;
                case '\0': builder.Append(@"\0"); break;
                case '\n': builder.Append(@"\n"); break;
                case '\r': builder.Append(@"\r"); break;
                case '\t': builder.Append(@"\t"); break;
                case '\b': builder.Append(@"\b"); break;
                case '\f': builder.Append(@"\f"); break;
                case < ' ' or '\x7f':
                    builder.Append(@"\x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
                    break;
                default: builder.Append(c); break;
            }
        }

        builder.Append('\'');
    }

    private static void AppendFloat(StringBuilder builder, double value, string text)
    {
        if (double.IsNaN(value))
        {
            builder.Append("nan");
        }
        else if (double.IsInfinity(value))
        {
            builder.Append(value > 0 ? "inf" : "-inf");
        }
        else
        {
            builder.Append(text);
        }
    }

    // Seconds precision, always UTC: an Unspecified kind is taken as UTC, Local is converted.
    private static void AppendDateTime(StringBuilder builder, DateTime value)
    {
        var utc = value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : value;
        builder.Append("toDateTime('")
            .Append(utc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))
            .Append("', 'UTC')");
    }

    private static void AppendArray(StringBuilder builder, IEnumerable items)
    {
        builder.Append('[');
        var first = true;
        foreach (var item in items)
        {
            if (!first)
            {
                builder.Append(", ");
            }

            Append(builder, item);
            first = false;
        }

        builder.Append(']');
    }
}
