namespace Experiments.ClickHouse;

/// <summary>
/// SQL text ready to send. Built by <see cref="Format"/>, which renders every interpolated value as
/// an escaped ClickHouse literal, so values can never change the statement:
/// <code>ClickHouseSql.Format($"SELECT count() FROM {ClickHouseSql.Identifier(table)} WHERE user_id = {userId}")</code>
/// Fixed text with no values can be wrapped by <see cref="Raw"/>.
/// </summary>
public sealed class ClickHouseSql
{
    private ClickHouseSql(string text) => Text = text;

    public string Text { get; }

    /// <summary>Renders an interpolated string; each hole becomes a literal (or an identifier / SQL fragment).</summary>
    public static ClickHouseSql Format(ref ClickHouseSqlHandler sql) => new(sql.ToStringAndClear());

    /// <summary>Trusted SQL text, sent as is. Never build it from input: use <see cref="Format"/>.</summary>
    public static ClickHouseSql Raw(string trustedSql)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(trustedSql);
        return new ClickHouseSql(trustedSql);
    }

    /// <summary>A validated, back-quoted identifier: <c>name</c> or <c>database.table</c>.</summary>
    public static ClickHouseIdentifier Identifier(string name) => ClickHouseIdentifier.Parse(name);

    /// <summary>A value rendered as a ClickHouse literal, e.g. <c>'it\'s'</c>, <c>42</c>, <c>[1, 2]</c>.</summary>
    public static string Literal(object? value) => ClickHouseLiteral.Render(value);

    public override string ToString() => Text;
}
