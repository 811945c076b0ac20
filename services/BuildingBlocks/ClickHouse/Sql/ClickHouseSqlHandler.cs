using System.Runtime.CompilerServices;
using System.Text;

namespace Experiments.ClickHouse;

/// <summary>
/// Interpolated string handler of <see cref="ClickHouseSql.Format"/>: literal parts are SQL,
/// holes are values rendered by <see cref="ClickHouseLiteral"/>, except <see cref="ClickHouseIdentifier"/>
/// (back-quoted name) and <see cref="ClickHouseSql"/> (an already safe fragment).
/// </summary>
[InterpolatedStringHandler]
public ref struct ClickHouseSqlHandler
{
    private StringBuilder? _builder;

    public ClickHouseSqlHandler(int literalLength, int formattedCount)
    {
        _builder = new StringBuilder(literalLength + (formattedCount * 16));
    }

    public readonly void AppendLiteral(string value) => Builder.Append(value);

    public readonly void AppendFormatted(ClickHouseIdentifier identifier) => identifier.AppendTo(Builder);

    public readonly void AppendFormatted(ClickHouseSql? fragment)
    {
        ArgumentNullException.ThrowIfNull(fragment);
        Builder.Append(fragment.Text);
    }

    public readonly void AppendFormatted<T>(T value) => ClickHouseLiteral.Append(Builder, value);

    /// <summary>Formats are not applied: the value's literal form is fixed so that it stays exact.</summary>
    public readonly void AppendFormatted<T>(T value, string? format)
    {
        if (!string.IsNullOrEmpty(format))
        {
            throw new FormatException($"ClickHouseSql does not take format strings ('{format}'): values are rendered as exact literals.");
        }

        ClickHouseLiteral.Append(Builder, value);
    }

    internal string ToStringAndClear()
    {
        var text = Builder.ToString();
        _builder = null;
        return text;
    }

    private readonly StringBuilder Builder =>
        _builder ?? throw new InvalidOperationException("The handler was already used.");
}
