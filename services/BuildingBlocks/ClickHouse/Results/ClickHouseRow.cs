using System.Globalization;
using System.Text.Json;

namespace Experiments.ClickHouse;

/// <summary>
/// One row of a <c>JSONCompact</c> result, read by position or name. Only valid inside the mapper
/// callback it is given to. 64-bit integers may arrive quoted (ClickHouse's default) or as numbers:
/// both read exactly. DateTime values are read as UTC (the servers run in UTC; declare columns as
/// <c>DateTime('UTC')</c> to be independent of the server's zone). nan and inf arrive as null.
/// </summary>
public readonly struct ClickHouseRow
{
    private readonly JsonElement _values;

    internal ClickHouseRow(IReadOnlyList<ClickHouseColumn> columns, JsonElement values)
    {
        Columns = columns;
        _values = values;
    }

    public IReadOnlyList<ClickHouseColumn> Columns { get; }

    public int FieldCount => Columns.Count;

    public int Ordinal(string name)
    {
        for (var i = 0; i < Columns.Count; i++)
        {
            if (Columns[i].Name == name)
            {
                return i;
            }
        }

        throw new ArgumentException($"The result has no column '{name}'.", nameof(name));
    }

    public bool IsNull(int ordinal) => this[ordinal].ValueKind == JsonValueKind.Null;

    public string GetString(int ordinal) => ReadString(this[ordinal]);

    public string? GetNullableString(int ordinal) => IsNull(ordinal) ? null : GetString(ordinal);

    public bool GetBoolean(int ordinal) => this[ordinal] switch
    {
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        var value => ReadInt64(value) != 0,
    };

    public int GetInt32(int ordinal) => checked((int)ReadInt64(this[ordinal]));

    public long GetInt64(int ordinal) => ReadInt64(this[ordinal]);

    public ulong GetUInt64(int ordinal) => ReadUInt64(this[ordinal]);

    public double GetDouble(int ordinal) => ReadDouble(this[ordinal]);

    public decimal GetDecimal(int ordinal) => this[ordinal] is { ValueKind: JsonValueKind.Number } value
        ? value.GetDecimal()
        : decimal.Parse(ReadString(this[ordinal]), NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>A DateTime (<c>yyyy-MM-dd HH:mm:ss</c>) or Date (<c>yyyy-MM-dd</c>) as a UTC DateTime.</summary>
    public DateTime GetDateTime(int ordinal) => ReadDateTime(this[ordinal]);

    public DateOnly GetDate(int ordinal) => ReadDate(this[ordinal]);

    public Guid GetGuid(int ordinal) => Guid.Parse(ReadString(this[ordinal]));

    /// <summary>An Array column, each item read as <typeparamref name="T"/> (see <see cref="Get{T}(int)"/>).</summary>
    public IReadOnlyList<T> GetArray<T>(int ordinal)
    {
        var array = this[ordinal];
        var items = new List<T>(array.GetArrayLength());
        foreach (var item in array.EnumerateArray())
        {
            items.Add(Read<T>(item));
        }

        return items;
    }

    /// <summary>
    /// The value as string, bool, an integer type, double, float, decimal, DateTime, DateOnly,
    /// Guid, or a Nullable of those (null for NULL).
    /// </summary>
    public T Get<T>(int ordinal) => Read<T>(this[ordinal]);

    public T Get<T>(string name) => Get<T>(Ordinal(name));

    private JsonElement this[int ordinal] => _values[ordinal];

    internal static T Read<T>(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return default(T) is null
                ? default!
                : throw new InvalidCastException($"NULL cannot be read as {typeof(T).Name}.");
        }

        var type = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        object result = type switch
        {
            _ when type == typeof(string) => ReadString(value),
            _ when type == typeof(bool) => value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => ReadInt64(value) != 0,
            },
            _ when type == typeof(byte) => checked((byte)ReadUInt64(value)),
            _ when type == typeof(sbyte) => checked((sbyte)ReadInt64(value)),
            _ when type == typeof(short) => checked((short)ReadInt64(value)),
            _ when type == typeof(ushort) => checked((ushort)ReadUInt64(value)),
            _ when type == typeof(int) => checked((int)ReadInt64(value)),
            _ when type == typeof(uint) => checked((uint)ReadUInt64(value)),
            _ when type == typeof(long) => ReadInt64(value),
            _ when type == typeof(ulong) => ReadUInt64(value),
            _ when type == typeof(double) => ReadDouble(value),
            _ when type == typeof(float) => (float)ReadDouble(value),
            _ when type == typeof(decimal) => value.ValueKind == JsonValueKind.Number
                ? value.GetDecimal()
                : decimal.Parse(ReadString(value), NumberStyles.Float, CultureInfo.InvariantCulture),
            _ when type == typeof(DateTime) => ReadDateTime(value),
            _ when type == typeof(DateOnly) => ReadDate(value),
            _ when type == typeof(Guid) => Guid.Parse(ReadString(value)),
            _ => throw new InvalidCastException($"Cannot read a ClickHouse value as {typeof(T).Name}."),
        };
        return (T)result;
    }

    private static string ReadString(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();

    private static long ReadInt64(JsonElement value) => value.ValueKind == JsonValueKind.Number
        ? value.GetInt64()
        : long.Parse(ReadString(value), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    private static ulong ReadUInt64(JsonElement value) => value.ValueKind == JsonValueKind.Number
        ? value.GetUInt64()
        : ulong.Parse(ReadString(value), NumberStyles.None, CultureInfo.InvariantCulture);

    private static double ReadDouble(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetDouble(),
        JsonValueKind.Null => double.NaN,
        _ => ReadString(value) switch
        {
            "nan" or "-nan" => double.NaN,
            "inf" or "+inf" => double.PositiveInfinity,
            "-inf" => double.NegativeInfinity,
            var text => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
        },
    };

    // Old servers (18.16) print the epoch, the zero value, as 0000-00-00 (00:00:00).
    private static DateOnly ReadDate(JsonElement value) => ReadString(value) is var text && text == "0000-00-00"
        ? DateOnly.FromDateTime(DateTime.UnixEpoch)
        : DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static DateTime ReadDateTime(JsonElement value)
    {
        var text = ReadString(value);
        if (text.StartsWith("0000-00-00", StringComparison.Ordinal))
        {
            return DateTime.UnixEpoch;
        }

        var format = text.Length == 10 ? "yyyy-MM-dd" : "yyyy-MM-dd HH:mm:ss";
        return DateTime.SpecifyKind(DateTime.ParseExact(text, format, CultureInfo.InvariantCulture), DateTimeKind.Utc);
    }
}
