using System.Globalization;

namespace Experiments.Contracts.Grpc;

/// <summary>
/// The <c>grpc-timeout</c> header: <c>TimeoutValue TimeoutUnit</c>, at most 8 ASCII digits followed by
/// one of H, M, S, m, u, n.
/// </summary>
public static class GrpcTimeout
{
    private const long MaxValue = 99_999_999;

    private static readonly (char Unit, long TicksPerUnit)[] Units =
    [
        ('u', TimeSpan.TicksPerMicrosecond),
        ('m', TimeSpan.TicksPerMillisecond),
        ('S', TimeSpan.TicksPerSecond),
        ('M', TimeSpan.TicksPerMinute),
        ('H', TimeSpan.TicksPerHour),
    ];

    /// <summary>
    /// Encodes a positive timeout, rounding up so the server never sees a shorter deadline than the client.
    /// Milliseconds are preferred (<c>100m</c>); microseconds for sub-millisecond values; coarser units
    /// when the value would need more than 8 digits.
    /// </summary>
    public static string Encode(TimeSpan timeout)
    {
        var ticks = Math.Max(timeout.Ticks, 1);
        if (ticks < TimeSpan.TicksPerMillisecond)
        {
            return Format(CeilingDivide(ticks, TimeSpan.TicksPerMicrosecond), 'u');
        }

        foreach (var (unit, ticksPerUnit) in Units.AsSpan(1))
        {
            var value = CeilingDivide(ticks, ticksPerUnit);
            if (value <= MaxValue)
            {
                return Format(value, unit);
            }
        }

        return Format(MaxValue, 'H');
    }

    public static bool TryParse(string? value, out TimeSpan timeout)
    {
        timeout = default;
        if (string.IsNullOrEmpty(value) || value.Length < 2 || value.Length > 9)
        {
            return false;
        }

        var digits = value.AsSpan(0, value.Length - 1);
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        var amount = long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        var ticksPerUnit = value[^1] switch
        {
            'H' => TimeSpan.TicksPerHour,
            'M' => TimeSpan.TicksPerMinute,
            'S' => TimeSpan.TicksPerSecond,
            'm' => TimeSpan.TicksPerMillisecond,
            'u' => TimeSpan.TicksPerMicrosecond,
            'n' => 0,
            _ => -1,
        };

        switch (ticksPerUnit)
        {
            case < 0:
                return false;
            case 0:
                timeout = TimeSpan.FromTicks(CeilingDivide(amount, 100));
                return true;
            default:
                timeout = TimeSpan.FromTicks(amount * ticksPerUnit);
                return true;
        }
    }

    private static long CeilingDivide(long value, long divisor) => (value / divisor) + (value % divisor == 0 ? 0 : 1);

    private static string Format(long value, char unit) =>
        value.ToString(CultureInfo.InvariantCulture) + unit;
}
