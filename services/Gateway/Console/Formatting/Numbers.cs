using System.Globalization;

namespace Experiments.Gateway.Console.Formatting;

/// <summary>Numbers as people read them: thousands separators, percentages, signed lifts, intervals, p-values.</summary>
public static class Numbers
{
    private static readonly CultureInfo Culture = CultureInfo.InvariantCulture;

    /// <summary>12345 → "12,345".</summary>
    public static string Count(long value) => value.ToString("N0", Culture);

    /// <summary>0.12345 → "12.35%"; null or not finite → "–".</summary>
    public static string Percent(double? fraction, int decimals = 2)
        => fraction is { } f && double.IsFinite(f) ? (f * 100).ToString("N" + decimals, Culture) + "%" : "–";

    /// <summary>A lift: 0.05 → "+5.00%", −0.012 → "−1.20%".</summary>
    public static string SignedPercent(double? fraction, int decimals = 2)
    {
        if (fraction is not { } f || !double.IsFinite(f))
        {
            return "–";
        }
        var text = Math.Abs(f * 100).ToString("N" + decimals, Culture) + "%";
        return f > 0 ? "+" + text : f < 0 ? "\u2212" + text : text;
    }

    /// <summary>An interval of fractions: "[−1.20%, +5.00%]".</summary>
    public static string PercentInterval(IReadOnlyList<double>? interval, int decimals = 2)
        => interval is { Count: 2 } i ? $"[{SignedPercent(i[0], decimals)}, {SignedPercent(i[1], decimals)}]" : "–";

    /// <summary>A p-value: "0.0123", "&lt; 0.0001"; null → "–".</summary>
    public static string PValue(double? p)
        => p is not { } v || !double.IsFinite(v) ? "–" : v < 0.0001 ? "< 0.0001" : v.ToString("0.0000", Culture);

    /// <summary>A plain decimal: 1234.5678 → "1,234.57".</summary>
    public static string Decimal(double? value, int decimals = 2)
        => value is { } v && double.IsFinite(v) ? v.ToString("N" + decimals, Culture) : "–";

    /// <summary>A confidence level: 0.95 → "95%".</summary>
    public static string Confidence(double level) => (level * 100).ToString("0.##", Culture) + "%";

    public static string Date(DateTimeOffset? value) => value is { } v ? v.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", Culture) : "–";

    public static string Day(DateTimeOffset? value) => value is { } v ? v.UtcDateTime.ToString("MMM d, yyyy", Culture) : "–";

    /// <summary>Cuts text at a word boundary near <paramref name="max"/> characters, with an ellipsis.</summary>
    public static string Truncate(string? text, int max)
    {
        if (string.IsNullOrEmpty(text) || text.Length <= max)
        {
            return text ?? "";
        }
        var cut = text.LastIndexOf(' ', max);
        return text[..(cut > max / 2 ? cut : max)].TrimEnd() + "\u2026";
    }
}
