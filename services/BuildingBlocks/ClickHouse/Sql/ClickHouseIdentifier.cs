using System.Text;

namespace Experiments.ClickHouse;

/// <summary>
/// A database, table or column name, checked to be a plain identifier (letters, digits, underscores,
/// not starting with a digit) and rendered back-quoted: <c>`events`</c>, <c>`db`.`events`</c>.
/// </summary>
public readonly record struct ClickHouseIdentifier
{
    private readonly string[] _parts;

    private ClickHouseIdentifier(string[] parts) => _parts = parts;

    public static ClickHouseIdentifier Parse(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var parts = name.Split('.');
        if (parts.Length > 2 || !parts.All(IsPlain))
        {
            throw new ArgumentException(
                $"'{name}' is not a valid ClickHouse identifier: use letters, digits and underscores, optionally 'database.table'.",
                nameof(name));
        }

        return new ClickHouseIdentifier(parts);
    }

    internal void AppendTo(StringBuilder builder)
    {
        for (var i = 0; i < _parts.Length; i++)
        {
            if (i > 0)
            {
                builder.Append('.');
            }

            builder.Append('`').Append(_parts[i]).Append('`');
        }
    }

    public override string ToString()
    {
        var builder = new StringBuilder();
        AppendTo(builder);
        return builder.ToString();
    }

    private static bool IsPlain(string part) =>
        part.Length is > 0 and <= 128
        && (char.IsAsciiLetter(part[0]) || part[0] == '_')
        && part.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
