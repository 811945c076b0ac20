namespace Experiments.ClickHouse;

/// <summary>A result column: its name and ClickHouse type (e.g. <c>Nullable(UInt64)</c>).</summary>
public sealed record ClickHouseColumn(string Name, string Type);
