using Experiments.ClickHouse;
using Experiments.Postgres.Configuration;

namespace Experiments.Analysis.Queries;

/// <summary>A user-property filter of the filter card as a ClickHouse condition on the property's value.</summary>
public static class PropertyFilterSql
{
    /// <summary>The condition <paramref name="filter"/> puts on <paramref name="value"/> (the property's value as a string).</summary>
    public static ClickHouseSql Condition(PropertyFilter filter, ClickHouseSql value)
    {
        var values = filter.Values.ToArray();
        return filter.Operator == PropertyFilter.IsNot
            ? ClickHouseSql.Format($"NOT has({values}, {value})")
            : ClickHouseSql.Format($"has({values}, {value})");
    }
}
